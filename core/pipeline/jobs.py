"""Running one repurposing job: its draft written (or its clips rendered), delivered, or the job failed."""

from __future__ import annotations

import logging
import tempfile
import uuid
from functools import partial
from pathlib import Path

from sqlalchemy import select

from core.clips import service as clips
from core.common.clock import utcnow
from core.common.errors import RecastError
from core.content.models import ContentAnalysis, ContentAsset
from core.db.session import session_scope
from core.deps import CoreDeps
from core.media.errors import MediaError
from core.notify import outbox
from core.notify.ports import OutgoingMessage
from core.pipeline.chat import chat_of
from core.pipeline.delivery import deliver_draft, finish_if_done
from core.pipeline.progress import is_cancelled
from core.pipeline.stored_transcript import transcript_words
from core.repurposing import analysis_rows, drafting
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.storage.files import off_loop
from core.workflow import workflows

log = logging.getLogger(__name__)


async def _render_clips(deps: CoreDeps, job_id: uuid.UUID) -> list[GeneratedContent]:
    """Plan (short transaction), render (no transaction: minutes of ffmpeg), store (short transaction)."""

    async with session_scope(deps.sessionmaker) as session:
        job = await session.get_one(RepurposingJob, job_id)
        asset = await session.get_one(ContentAsset, job.content_asset_id)
        analysis_row = await session.scalar(
            select(ContentAnalysis).where(ContentAnalysis.content_asset_id == asset.id).limit(1)
        )
        analysis = (
            analysis_rows.analysis_result(analysis_row) if analysis_row and analysis_row.topics is not None else None
        )
        plan = await clips.plan_clip_job(session=session, store=deps.store, job_id=job_id)
        if plan is None:
            return await clips.job_clips(session, job_id)
    with tempfile.TemporaryDirectory(prefix="recast-clips-") as tmp:
        rendered = await clips.render_clip_plan(
            plan,
            transcript_words=transcript_words(deps, asset),
            analysis=analysis,
            media_path=await off_loop(partial(deps.store.local_path, asset.file_url)),  # may download (S3)
            out_dir=Path(tmp),
        )
        if await is_cancelled(deps, asset.id):
            return []  # cancelled while rendering: nothing stored, nothing charged (the job is cancelled too)
        async with session_scope(deps.sessionmaker) as session:
            return await clips.store_clip_job(
                session=session, store=deps.store, plan=plan, clips=rendered, analysis=analysis
            )


async def run_job(deps: CoreDeps, job_id: uuid.UUID) -> uuid.UUID | None:
    """Generate one job's draft(s) exactly once, then deliver them (once each, through the outbox).
    A domain error (out of credits, unreadable media) fails the job and tells the creator; anything
    else propagates, so the work unit retries it or gives up through `fail_job`."""
    ai = deps.require_ai()
    try:
        async with deps.sessionmaker() as session:
            job_type, job_status = (
                await session.execute(
                    select(RepurposingJob.job_type, RepurposingJob.status).where(RepurposingJob.id == job_id)
                )
            ).one_or_none() or (None, None)
        if job_status == "cancelled":
            return None  # cancelled before its turn: nothing written, nothing charged
        if job_type == "video_to_shorts":
            drafts = await _render_clips(deps, job_id)
        else:
            async with session_scope(deps.sessionmaker) as session:
                draft = await drafting.generate_for_job(
                    session=session, writer=ai.writer, index=deps.brand_index, job_id=job_id
                )
            drafts = [draft] if draft is not None else []
    except (RecastError, MediaError) as exc:
        await fail_job(deps, job_id, exc.user_message)
        return None
    except BaseExceptionGroup as group:
        # Renders run in a TaskGroup: a damaged video raises a group of domain errors. Only a group made
        # entirely of domain errors fails the job; anything else is for the work unit to retry.
        domain, rest = group.split((RecastError, MediaError))
        if domain is None or rest is not None:
            raise
        first = _leaves(domain)[0]
        await fail_job(deps, job_id, getattr(first, "user_message", str(first)))
        return None
    for draft in drafts:
        await deliver_draft(deps, draft.id)
        await _hand_to_team_workflow(deps, draft)
    async with deps.sessionmaker() as session:
        asset_id = await session.scalar(select(RepurposingJob.content_asset_id).where(RepurposingJob.id == job_id))
    if asset_id is not None:
        await finish_if_done(deps, asset_id)
    return drafts[0].id if drafts else None


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    leaves: list[BaseException] = []
    for exc in group.exceptions:
        leaves.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return leaves


async def fail_job(deps: CoreDeps, job_id: uuid.UUID, message: str) -> None:
    """Fail a job that cannot be done, tell the creator once, and finish the asset if it was the last."""
    async with session_scope(deps.sessionmaker) as session:
        job = await session.scalar(select(RepurposingJob).where(RepurposingJob.id == job_id).with_for_update())
        if job is None:
            return
        told: list[uuid.UUID] = []
        if job.status not in ("completed", "failed", "cancelled"):
            job.status, job.failed_at, job.error_message = "failed", utcnow(), message[:2000]
            asset = await session.get(ContentAsset, job.content_asset_id) if job.content_asset_id else None
            target = chat_of(asset) if asset is not None else None
            if target is not None and asset is not None and asset.upload_status != "cancelled":
                note = OutgoingMessage(text=f"⚠️ {message}")
                told.append(await outbox.record(session, target[0], note, key=f"job-failed:{job_id}"))
        asset_id = job.content_asset_id
    await outbox.flush(deps, told)
    if asset_id is not None:
        await finish_if_done(deps, asset_id)


async def _hand_to_team_workflow(deps: CoreDeps, draft: GeneratedContent) -> None:
    """Drafts of an organization (or client account) with an approval workflow go to its Slack channel."""

    async with deps.sessionmaker() as session:
        scope = await workflows.draft_scope(session=session, draft=draft)
        workflow = await workflows.workflow_for(
            session=session, organization_id=scope.organization_id, client_account_id=scope.client_account_id
        )
    if workflow is not None:
        await deps.enqueue("slack.post_approval", draft_id=str(draft.id), requested_by=str(draft.user_id))
