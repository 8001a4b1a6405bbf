"""The creator pipeline: extract → transcribe → analyse → plan → jobs → drafts → deliver.

Each step checks what is already stored and skips itself, so a redelivered task (a worker killed
mid-run) resumes where the last commit left off and never duplicates rows. Progress lives in Redis
at `job:{asset_id}:status` and is mirrored into the creator's status message.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import uuid
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.ai.transcription import Transcript, Word
from core.cache.job_status import JobStatus, get_status, render_progress, set_status
from core.common.clock import utcnow
from core.common.errors import RecastError
from core.content import service as content
from core.content.address_policy import FetchPolicy
from core.content.models import ContentAnalysis, ContentAsset
from core.db.session import session_scope
from core.deps import CoreDeps
from core.media.audio import extract_audio
from core.media.errors import MediaError
from core.notify.ports import ChatRef
from core.repurposing import service as repurposing
from core.repurposing.formats import FORMATS
from core.repurposing.models import GeneratedContent, RepurposingJob

log = logging.getLogger(__name__)

STAGE_PROGRESS = {
    "received": 2,
    "extracting": 10,
    "transcribing": 25,
    "analysing": 55,
    "planning": 65,
    "generating": 70,
    "delivering": 95,
    "completed": 100,
}


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
                    session=session, store=deps.store, user_id=user_id, organization_id=organization_id, url=url,
                    work_dir=Path(tmp), max_download_bytes=max_bytes, policy=policy,
                )  # fmt: skip
                asset.metadata_ = {**(asset.metadata_ or {}), "link_request": request}
                bind_to_chat(asset, chat, status_message_id)
                asset_id, title = asset.id, asset.title
        except (RecastError, MediaError) as exc:
            await deps.notifier.edit_text(chat, status_message_id, f"⚠️ {exc.user_message}")
            return None
    await deps.notifier.edit_text(chat, status_message_id, f"⏳ {title}\n{QUEUED}")
    return asset_id


QUEUED = "░░░░░░░░░░░░ 0% · Queued"


def bind_to_chat(asset: ContentAsset, chat: ChatRef, status_message_id: str) -> None:
    """Send this asset's progress and drafts to `chat`, editing `status_message_id` (read by `chat_of`)."""
    asset.metadata_ = {
        **(asset.metadata_ or {}),
        "chat": {"provider": chat.provider, "chat_id": chat.chat_id, "status_message_id": status_message_id},
    }


def chat_of(asset: ContentAsset) -> tuple[ChatRef, str | None] | None:
    """Where this asset's progress and drafts go: stored at ingest by the adapter that received it."""
    meta = asset.metadata_ or {}
    chat = meta.get("chat")
    if not chat:
        return None
    return ChatRef(chat["provider"], str(chat["chat_id"])), chat.get("status_message_id")


async def report(
    deps: CoreDeps,
    asset: ContentAsset,
    stage: str,
    *,
    status: str = "processing",
    detail: str = "",
    progress: int | None = None,
) -> None:
    value = JobStatus(
        status=status,
        stage=stage,
        progress=progress if progress is not None else STAGE_PROGRESS.get(stage, 0),
        detail=detail,
    )
    previous = await get_status(deps.redis, asset.id)
    await set_status(deps.redis, asset.id, value)
    target = chat_of(asset)
    if target is None or target[1] is None or previous == value:
        return
    with contextlib.suppress(Exception):  # a progress edit must never fail the pipeline
        await deps.notifier.edit_text(target[0], target[1], f"⏳ {asset.title}\n{render_progress(value)}")


def transcript_key(asset_id: uuid.UUID) -> str:
    return f"assets/{asset_id}/transcript.json"


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
        asset = await session.get(ContentAsset, asset_id)
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
            await report(deps, asset, "analysing")
            sentences = _timed_sentences(deps, asset)
            result = await ai.analyser.analyse(analysis.transcript or "", sentences)
            async with session_scope(deps.sessionmaker) as session:
                row = await session.get_one(ContentAnalysis, analysis.id)
                repurposing.store_analysis(row, result)
                analysis = row
                fresh = await session.get_one(ContentAsset, asset.id)
                if content.retitle_from_topics(fresh, result.topics):
                    asset.title = fresh.title  # "⏳ voice" becomes "⏳ <its topics>" in the progress message
        await report(deps, asset, "planning")
        async with session_scope(deps.sessionmaker) as session:
            fresh = await session.get_one(ContentAsset, asset.id)
            row = await session.get_one(ContentAnalysis, analysis.id)
            brand = await _brand(session, fresh)
            strategy = await repurposing.plan_strategy(session=session, asset=fresh, analysis=row, brand=brand)
            jobs = await repurposing.create_jobs(session=session, asset=fresh, strategy=strategy)
            pending = [j.id for j in jobs if j.status in ("queued", "processing")]
        await report(deps, asset, "generating", detail=f"{len(jobs)} drafts planned")
        return pending
    except (RecastError, MediaError) as exc:
        await fail_asset(deps, asset.id, getattr(exc, "user_message", str(exc)))
        return []


async def _brand(session: Any, asset: ContentAsset) -> Any:
    from core.brand import service as brand_service
    from core.brand.models import BrandProfile

    if asset.brand_profile_id:
        return await session.get(BrandProfile, asset.brand_profile_id)
    return await brand_service.brand_for_user(session=session, user_id=asset.user_id) if asset.user_id else None


def stored_segments(deps: CoreDeps, asset_id: uuid.UUID) -> list[dict[str, Any]]:
    """The timed segments saved at transcription (empty for text sources). Read from the fixed storage
    key rather than the asset row, so a caller holding a row loaded before transcription still finds them."""
    try:
        data = json.loads(deps.store.local_path(deps.store.url_for(transcript_key(asset_id))).read_text())
    except (OSError, ValueError):
        return []
    segments: list[dict[str, Any]] = data.get("segments", [])
    return segments


def _timed_sentences(deps: CoreDeps, asset: ContentAsset) -> list[tuple[str, float, float]] | None:
    sentences = [
        (s["text"].strip(), float(s["start"]), float(s["end"]))
        for s in stored_segments(deps, asset.id)
        if s.get("text", "").strip()
    ]
    return sentences or None


async def fail_asset(deps: CoreDeps, asset_id: uuid.UUID, message: str) -> None:
    async with session_scope(deps.sessionmaker) as session:
        asset = await session.get_one(ContentAsset, asset_id)
        asset.upload_status, asset.processing_error = "failed", message
    await report(deps, asset, "failed", status="failed", detail=message, progress=0)
    target = chat_of(asset)
    if target is not None:
        from core.notify.ports import OutgoingMessage

        await deps.notifier.send(target[0], OutgoingMessage(text=f"⚠️ {message}"))


def transcript_words(deps: CoreDeps, asset: ContentAsset) -> list[Word]:
    """The word timings stored at transcription (empty for text sources)."""
    return [Word(**w) for s in stored_segments(deps, asset.id) for w in s.get("words", [])]


async def _render_clips(deps: CoreDeps, job_id: uuid.UUID) -> list[GeneratedContent]:
    from core.clips.service import generate_clips_for_job

    async with session_scope(deps.sessionmaker) as session:
        job = await session.get_one(RepurposingJob, job_id)
        asset = await session.get_one(ContentAsset, job.content_asset_id)
        analysis = await session.scalar(
            select(ContentAnalysis).where(ContentAnalysis.content_asset_id == asset.id).limit(1)
        )
        return await generate_clips_for_job(
            session=session,
            store=deps.store,
            job_id=job_id,
            transcript_words=transcript_words(deps, asset),
            analysis=repurposing.analysis_result(analysis) if analysis and analysis.topics is not None else None,
            media_path=deps.store.local_path(asset.file_url),
        )


async def run_job(deps: CoreDeps, job_id: uuid.UUID) -> uuid.UUID | None:
    """Generate one job's draft(s) exactly once, then deliver them (once) and update overall progress."""
    ai = deps.require_ai()
    try:
        async with deps.sessionmaker() as session:
            job_type = await session.scalar(select(RepurposingJob.job_type).where(RepurposingJob.id == job_id))
        if job_type == "video_to_shorts":
            clips = await _render_clips(deps, job_id)
            for clip in clips:
                await deliver_draft(deps, clip.id)
                await _hand_to_team_workflow(deps, clip)
            if clips and clips[0].content_asset_id:
                await finish_if_done(deps, clips[0].content_asset_id)
            return clips[0].id if clips else None
        async with session_scope(deps.sessionmaker) as session:
            draft = await repurposing.generate_for_job(
                session=session, writer=ai.writer, index=deps.brand_index, job_id=job_id
            )
    except (RecastError, MediaError) as exc:
        async with session_scope(deps.sessionmaker) as session:
            job = await session.get_one(RepurposingJob, job_id)
            job.status, job.failed_at, job.error_message = "failed", utcnow(), exc.user_message
        draft = None
        asset_id = job.content_asset_id
        async with session_scope(deps.sessionmaker) as session:
            asset = await session.get_one(ContentAsset, asset_id)
        target = chat_of(asset)
        if target is not None:
            from core.notify.ports import OutgoingMessage

            await deps.notifier.send(target[0], OutgoingMessage(text=f"⚠️ {exc.user_message}"))
        await finish_if_done(deps, asset_id)  # type: ignore[arg-type]
        return None
    if draft is None:
        return None
    await deliver_draft(deps, draft.id)
    await _hand_to_team_workflow(deps, draft)
    if draft.content_asset_id:
        await finish_if_done(deps, draft.content_asset_id)
    return draft.id


async def _hand_to_team_workflow(deps: CoreDeps, draft: GeneratedContent) -> None:
    """Drafts of an organization (or client account) with an approval workflow go to its Slack channel."""
    from core.workflow import service as workflow_service

    async with deps.sessionmaker() as session:
        scope = await workflow_service.draft_scope(session=session, draft=draft)
        workflow = await workflow_service.workflow_for(
            session=session, organization_id=scope.organization_id, client_account_id=scope.client_account_id
        )
    if workflow is not None:
        await deps.enqueue("slack.post_approval", draft_id=str(draft.id), requested_by=str(draft.user_id))


async def deliver_draft(deps: CoreDeps, draft_id: uuid.UUID, *, force: bool = False) -> None:
    """Send a draft to its creator's chat once (its message id is recorded on the draft)."""
    from core.pipeline.render import draft_message

    async with session_scope(deps.sessionmaker) as session:
        draft = await session.scalar(select(GeneratedContent).where(GeneratedContent.id == draft_id).with_for_update())
        if draft is None or draft.content_asset_id is None:
            return
        meta = dict(draft.metadata_ or {})
        if meta.get("delivered_message_id") and not force:
            return
        asset = await session.get_one(ContentAsset, draft.content_asset_id)
        target = chat_of(asset)
        if target is None:
            return
        message = draft_message(draft, deps.store)
        message_id = await deps.notifier.send(target[0], message)
        draft.metadata_ = {**meta, "delivered_message_id": message_id, "delivered_at": utcnow().isoformat()}


async def finish_if_done(deps: CoreDeps, asset_id: uuid.UUID) -> bool:
    async with session_scope(deps.sessionmaker) as session:
        jobs = await repurposing.jobs_for_asset(session=session, asset_id=asset_id)
        asset = await session.get_one(ContentAsset, asset_id)
        done = [j for j in jobs if j.status in ("completed", "failed", "cancelled")]
        if jobs and len(done) == len(jobs):
            if asset.upload_status != "completed":
                asset.upload_status, asset.processing_completed_at = "completed", utcnow()
            finished = True
        else:
            finished = False
    ok = sum(1 for j in jobs if j.status == "completed")
    if finished:
        await report(deps, asset, "completed", status="completed", detail=f"{ok} of {len(jobs)} drafts ready")
    else:
        progress = 70 + round(25 * len(done) / max(1, len(jobs)))
        await report(deps, asset, "generating", detail=f"{len(done)} of {len(jobs)} drafts ready", progress=progress)
    return finished


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
    except (RecastError, MediaError) as exc:
        async with session_scope(deps.sessionmaker) as session:
            draft = await session.get(GeneratedContent, draft_id)
            asset = (
                await session.get(ContentAsset, draft.content_asset_id) if draft and draft.content_asset_id else None
            )
        target = chat_of(asset) if asset else None
        if target is not None:
            from core.notify.ports import OutgoingMessage

            await deps.notifier.send(target[0], OutgoingMessage(text=f"⚠️ {exc.user_message}"))
        return draft_id
    await deliver_draft(deps, draft_id, force=True)
    return draft_id


async def _recut_clip(
    deps: CoreDeps, draft_id: uuid.UUID, feedback: str | None, requested_by: uuid.UUID | None
) -> None:
    from core.clips.service import rerender_clip
    from core.repurposing.errors import NothingToRevise

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


def format_label(output_format: str) -> str:
    fmt = FORMATS.get(output_format)
    return fmt.label if fmt else output_format.replace("_", " ").title()


async def cancel_latest(*, session: Any, user_id: uuid.UUID) -> ContentAsset | None:
    """Cancel the user's most recent asset still in progress, and its unfinished jobs."""
    asset = await session.scalar(
        select(ContentAsset)
        .where(ContentAsset.user_id == user_id, ContentAsset.upload_status.in_(("pending", "processing")))
        .order_by(ContentAsset.created_at.desc())
        .limit(1)
    )
    if asset is None:
        return None
    asset.upload_status = "cancelled"
    for job in await repurposing.jobs_for_asset(session=session, asset_id=asset.id):
        if job.status in ("queued", "processing"):
            job.status = "cancelled"
    await session.flush()
    return asset  # type: ignore[no-any-return]


async def status_lines(deps: CoreDeps, *, session: Any, user_id: uuid.UUID, limit: int = 5) -> list[str]:
    """One line per recent asset: its title and live progress (from the cache when it is running)."""
    from core.content import service as content_service

    lines = []
    for asset in await content_service.recent_assets(session=session, user_id=user_id, limit=limit):
        live = await get_status(deps.redis, asset.id)
        if asset.upload_status in ("pending", "processing") and live is not None:
            state = render_progress(live).split("\n")[0]
        else:
            state = {
                "completed": "✅ done",
                "failed": f"⚠️ failed: {asset.processing_error or ''}",
                "cancelled": "✖️ cancelled",
                "pending": "⏳ queued",
            }.get(asset.upload_status or "", "⏳")
        lines.append(f"• {asset.title[:60]} — {state}")
    return lines
