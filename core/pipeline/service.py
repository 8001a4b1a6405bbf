"""The creator pipeline: extract → transcribe → analyse → plan → jobs → drafts → deliver.

Each step checks what is already stored and skips itself, so a redelivered task (a worker killed
mid-run) resumes where the last commit left off and never duplicates rows. Progress lives in Redis
at `job:{asset_id}:status` and is mirrored into the creator's status message.
"""

from __future__ import annotations

import json
import logging
import tempfile
import uuid
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ai.transcription import Transcript
from core.brand import service as brand_service
from core.brand.models import BrandProfile
from core.clips import service as clips
from core.clips.service import rerender_clip
from core.common.clock import utcnow
from core.common.errors import RecastError
from core.content import service as content
from core.content.address_policy import FetchPolicy
from core.content.models import ContentAnalysis, ContentAsset
from core.db.session import session_scope
from core.deps import CoreDeps
from core.media.audio import extract_audio
from core.media.errors import MediaError
from core.notify import outbox
from core.notify.ports import ChatRef, OutgoingMessage
from core.pipeline.chat import bind_to_chat, chat_of
from core.pipeline.delivery import deliver_draft, finish_if_done, tell_about_draft
from core.pipeline.progress import QUEUED, is_cancelled, report, show_cancelled
from core.pipeline.stored_transcript import timed_sentences, transcript_key, transcript_words
from core.repurposing import service as repurposing
from core.repurposing.errors import NoNewAngle, NothingToRevise
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.workflow import service as workflow_service

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
                )
                asset.metadata_ = {**(asset.metadata_ or {}), "link_request": request}
                bind_to_chat(asset, chat, status_message_id)
                asset_id, title = asset.id, asset.title
        except (RecastError, MediaError) as exc:
            await deps.notifier.edit_text(chat, status_message_id, f"⚠️ {exc.user_message}")
            return None
    await deps.notifier.edit_text(chat, status_message_id, f"⏳ {title}\n{QUEUED}")
    return asset_id


async def _transcribe(deps: CoreDeps, asset: ContentAsset) -> Transcript:
    src = deps.store.local_path(asset.file_url)
    with tempfile.TemporaryDirectory(prefix="recast-") as tmp:
        await report(deps, asset, "extracting")
        wav = await extract_audio(src, Path(tmp) / "audio.wav")
        await report(deps, asset, "transcribing")
        return await deps.require_ai().transcriber.transcribe(wav)


async def process_asset(deps: CoreDeps, asset_id: uuid.UUID) -> list[uuid.UUID]:
    """Run the pipeline for one asset up to the creation of its jobs; return the job ids to run.
    Safe to call again at any point: finished steps are skipped."""
    ai = deps.require_ai()
    async with session_scope(deps.sessionmaker) as session:
        # Locked: a /cancel committed meanwhile is seen here, and never overwritten with "processing".
        asset = await session.scalar(select(ContentAsset).where(ContentAsset.id == asset_id).with_for_update())
        if asset is None or asset.upload_status == "cancelled":
            return []
        if asset.upload_status in ("pending", "failed"):
            asset.upload_status, asset.processing_started_at = "processing", utcnow()
            asset.processing_error = None
        analysis = await session.scalar(
            select(ContentAnalysis).where(ContentAnalysis.content_asset_id == asset.id).limit(1)
        )
    try:
        if analysis is None or analysis.transcript is None:
            transcript = await _transcribe(deps, asset)
            await _stop_if_cancelled(deps, asset.id)
            if not transcript.text.strip():
                raise MediaError("I couldn't hear any speech in this recording. Send one with someone talking.")
            deps.store.put_bytes(
                json.dumps(
                    {
                        "language": transcript.language,
                        "model": transcript.model,
                        "segments": [asdict(s) for s in transcript.segments],
                    }
                ).encode(),
                transcript_key(asset.id),
            )
            async with session_scope(deps.sessionmaker) as session:
                analysis = ContentAnalysis(
                    content_asset_id=asset.id,
                    transcript=transcript.text.strip(),
                    transcript_language=transcript.language[:10],
                    transcript_confidence=Decimal(str(round(transcript.confidence, 2))),
                )
                session.add(analysis)
                fresh = await session.get_one(ContentAsset, asset.id)
                fresh.metadata_ = {
                    **(fresh.metadata_ or {}),
                    "transcript_url": deps.store.url_for(transcript_key(asset.id)),
                    "transcript_model": transcript.model,
                }
        if analysis.topics is None:
            await _stop_if_cancelled(deps, asset.id)
            await report(deps, asset, "analysing")
            sentences = timed_sentences(deps, asset)
            result = await ai.analyser.analyse(analysis.transcript or "", sentences)
            async with session_scope(deps.sessionmaker) as session:
                row = await session.get_one(ContentAnalysis, analysis.id)
                repurposing.store_analysis(row, result)
                analysis = row
                fresh = await session.get_one(ContentAsset, asset.id)
                if content.retitle_from_topics(fresh, result.topics):
                    asset.title = fresh.title  # "⏳ voice" becomes "⏳ <its topics>" in the progress message
        await _stop_if_cancelled(deps, asset.id)
        await report(deps, asset, "planning")
        async with session_scope(deps.sessionmaker) as session:
            # Locked like /cancel locks it: either the jobs exist before a cancel (which then stops them)
            # or the cancel came first and no job is created.
            locked = await session.scalar(select(ContentAsset).where(ContentAsset.id == asset.id).with_for_update())
            if locked is None or locked.upload_status == "cancelled":
                raise _Cancelled()
            row = await session.get_one(ContentAnalysis, analysis.id)
            brand = await _brand(session, locked)
            strategy = await repurposing.plan_strategy(session=session, asset=locked, analysis=row, brand=brand)
            jobs = await repurposing.create_jobs(session=session, asset=locked, strategy=strategy)
            pending = [j.id for j in jobs if j.status in ("queued", "processing")]
        await report(deps, asset, "generating", detail=repurposing.plan_summary(jobs))
        return pending
    except _Cancelled:
        log.info("asset %s was cancelled: its pipeline stops here", asset.id)
        await show_cancelled(deps, asset)  # a progress edit already under way may have landed after /cancel's
        return []
    except (RecastError, MediaError) as exc:
        if await is_cancelled(deps, asset.id):
            return []  # a failure after /cancel is nobody's news
        await fail_asset(deps, asset.id, getattr(exc, "user_message", str(exc)))
        return []


class _Cancelled(Exception):
    """The creator cancelled this asset: the pipeline stops at the step it is on."""


async def _stop_if_cancelled(deps: CoreDeps, asset_id: uuid.UUID) -> None:
    """Checked between the pipeline's steps, so a cancelled upload stops at its next step."""
    if await is_cancelled(deps, asset_id):
        raise _Cancelled()


async def _brand(session: AsyncSession, asset: ContentAsset) -> BrandProfile | None:

    if asset.brand_profile_id:
        return await session.get(BrandProfile, asset.brand_profile_id)
    return await brand_service.brand_for_user(session=session, user_id=asset.user_id) if asset.user_id else None


async def fail_asset(deps: CoreDeps, asset_id: uuid.UUID, message: str) -> None:
    """Mark the asset failed and tell its chat, the message recorded with the state change (outbox)."""
    async with session_scope(deps.sessionmaker) as session:
        asset = await session.get_one(ContentAsset, asset_id)
        if asset.upload_status in ("failed", "cancelled"):
            return
        asset.upload_status, asset.processing_error = "failed", message
        target = chat_of(asset)
        told = []
        if target is not None:
            note = OutgoingMessage(text=f"⚠️ {message}")
            told.append(await outbox.record(session, target[0], note, key=f"asset-failed:{asset_id}"))
    await report(deps, asset, "failed", status="failed", detail=message, progress=0)
    await outbox.flush(deps, told)


async def _render_clips(deps: CoreDeps, job_id: uuid.UUID) -> list[GeneratedContent]:
    """Plan (short transaction), render (no transaction: minutes of ffmpeg), store (short transaction)."""

    async with session_scope(deps.sessionmaker) as session:
        job = await session.get_one(RepurposingJob, job_id)
        asset = await session.get_one(ContentAsset, job.content_asset_id)
        analysis_row = await session.scalar(
            select(ContentAnalysis).where(ContentAnalysis.content_asset_id == asset.id).limit(1)
        )
        analysis = (
            repurposing.analysis_result(analysis_row) if analysis_row and analysis_row.topics is not None else None
        )
        plan = await clips.plan_clip_job(session=session, store=deps.store, job_id=job_id)
        if plan is None:
            return await clips.job_clips(session, job_id)
    with tempfile.TemporaryDirectory(prefix="recast-clips-") as tmp:
        rendered = await clips.render_clip_plan(
            plan,
            transcript_words=transcript_words(deps, asset),
            analysis=analysis,
            media_path=deps.store.local_path(asset.file_url),
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
                draft = await repurposing.generate_for_job(
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
        scope = await workflow_service.draft_scope(session=session, draft=draft)
        workflow = await workflow_service.workflow_for(
            session=session, organization_id=scope.organization_id, client_account_id=scope.client_account_id
        )
    if workflow is not None:
        await deps.enqueue("slack.post_approval", draft_id=str(draft.id), requested_by=str(draft.user_id))


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
            await repurposing.rewrite_draft(
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
            media_path=deps.store.local_path(asset.file_url),
            transcript_words=transcript_words(deps, asset),
            requested_by=requested_by,
        )
