"""Regenerate or revise a draft on the creator's request (a clip is re-cut from feedback) and send it again."""

from __future__ import annotations

import logging
import uuid
from functools import partial

from sqlalchemy import select

from core.clips.service import rerender_clip
from core.common.errors import RecastError
from core.content.models import ContentAsset
from core.db.session import session_scope
from core.deps import CoreDeps
from core.media.errors import MediaError
from core.pipeline.delivery import deliver_draft, tell_about_draft
from core.pipeline.stored_transcript import transcript_words
from core.repurposing import rewriting
from core.repurposing.errors import NoNewAngle, NothingToRevise
from core.repurposing.models import GeneratedContent
from core.storage.files import off_loop

log = logging.getLogger(__name__)


async def rewrite_and_deliver(
    deps: CoreDeps, draft_id: uuid.UUID, *, requested_by: uuid.UUID | None, feedback: str | None
) -> uuid.UUID:
    """Regenerate or revise a draft and send the new version to the chat."""
    ai = deps.require_ai()
    try:
        async with deps.sessionmaker() as session:
            kind = await session.scalar(select(GeneratedContent.content_type).where(GeneratedContent.id == draft_id))
        if kind == "short_video":
            await _recut_clip(deps, draft_id, feedback, requested_by)
            await deliver_draft(deps, draft_id, force=True)
            return draft_id
        async with session_scope(deps.sessionmaker) as session:
            await rewriting.rewrite_draft(
                session=session,
                writer=ai.writer,
                index=deps.brand_index,
                draft_id=draft_id,
                requested_by=requested_by,
                feedback=feedback,
            )
    except NoNewAngle as exc:
        # Nothing was charged (the transaction rolled back); the next press goes on after these variants.
        async with session_scope(deps.sessionmaker) as session:
            row = await session.scalar(
                select(GeneratedContent).where(GeneratedContent.id == draft_id).with_for_update()
            )
            if row is not None:
                row.metadata_ = {**(row.metadata_ or {}), "variants_tried": exc.tried_through}
        await tell_about_draft(deps, draft_id, exc.user_message, icon="💡")
        return draft_id
    except (RecastError, MediaError) as exc:
        await tell_about_draft(deps, draft_id, exc.user_message)
        return draft_id
    await deliver_draft(deps, draft_id, force=True)
    return draft_id


async def _recut_clip(
    deps: CoreDeps, draft_id: uuid.UUID, feedback: str | None, requested_by: uuid.UUID | None
) -> None:

    if not feedback:
        raise NothingToRevise(
            "For clips, tap Revise and tell me what to change, e.g. 'shorter' or 'start 3 seconds later'."
        )
    async with session_scope(deps.sessionmaker) as session:
        draft = await session.get_one(GeneratedContent, draft_id)
        asset = await session.get_one(ContentAsset, draft.content_asset_id)
        await rerender_clip(
            session=session,
            store=deps.store,
            draft_id=draft_id,
            feedback=feedback,
            media_path=await off_loop(partial(deps.store.local_path, asset.file_url)),  # may download (S3)
            transcript_words=transcript_words(deps, asset),
            requested_by=requested_by,
        )
