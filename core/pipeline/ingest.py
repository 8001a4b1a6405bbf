"""Chat ingest: a link a creator sent, fetched by a worker into an asset bound to their chat."""

from __future__ import annotations

import logging
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import select

from core.common.errors import RecastError
from core.content import service as content
from core.content.address_policy import FetchPolicy
from core.content.guards import UploadLimits
from core.content.models import ContentAsset
from core.db.session import session_scope
from core.deps import CoreDeps
from core.media.errors import MediaError
from core.notify.ports import ChatRef
from core.pipeline.chat import bind_to_chat
from core.pipeline.progress import queued, refused

log = logging.getLogger(__name__)


async def ingest_link_from_chat(
    deps: CoreDeps,
    *,
    user_id: uuid.UUID,
    organization_id: uuid.UUID | None,
    url: str,
    chat: ChatRef,
    status_message_id: str,
) -> uuid.UUID | None:
    """Fetch a link a creator sent (possibly a long video download, so in a worker, not in the chat
    handler), store it as an asset bound to that chat and return its id for `process_asset`. A refusal
    (expired, private address, too large, over the plan) is told in the status message and gives None.
    Safe to run again: a redelivered task finds the asset it already made for this status message."""
    request = f"{chat.provider}:{chat.chat_id}:{status_message_id}"
    async with session_scope(deps.sessionmaker) as session:
        existing = await session.scalar(
            select(ContentAsset.id).where(
                ContentAsset.user_id == user_id, ContentAsset.metadata_["link_request"].astext == request
            )
        )
    if existing is not None:
        return existing
    max_bytes = deps.settings.link_download_max_mb * 1024 * 1024
    policy = FetchPolicy(allow_private=deps.settings.link_allow_private_networks)
    with tempfile.TemporaryDirectory(prefix="recast-link-") as tmp:
        try:
            async with session_scope(deps.sessionmaker) as session:
                asset = await content.ingest_link(
                    session=session,
                    store=deps.store,
                    user_id=user_id,
                    organization_id=organization_id,
                    url=url,
                    work_dir=Path(tmp),
                    max_download_bytes=max_bytes,
                    policy=policy,
                    limits=UploadLimits.from_settings(deps.settings),
                )
                asset.metadata_ = {**(asset.metadata_ or {}), "link_request": request}
                bind_to_chat(asset, chat, status_message_id)
                asset_id, title = asset.id, asset.title
        except (RecastError, MediaError) as exc:
            await deps.notifier.show_progress(chat, status_message_id, refused(exc.user_message))
            return None
    await deps.notifier.show_progress(chat, status_message_id, queued(title))
    return asset_id
