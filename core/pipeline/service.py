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
import zlib
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
from core.notify import outbox
from core.notify.ports import ChatRef, OutgoingMessage
from core.repurposing import service as repurposing
from core.repurposing.errors import NoNewAngle
from core.repurposing.formats import FORMATS
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.work import service as work
from core.work.registry import unit_handler

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
    if status == "processing" and await is_cancelled(deps, asset.id):
        return  # a step that was already under way when /cancel came: the chat says "Cancelled", and stays so
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
            sentences = _timed_sentences(deps, asset)
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


def cancelled_text(title: str) -> str:
    return f"✖️ {title}\nCancelled."


async def show_cancelled(deps: CoreDeps, asset: ContentAsset) -> None:
    """The progress message of a cancelled asset says so (and its live status)."""
    await set_status(deps.redis, asset.id, JobStatus(status="cancelled", stage="cancelled", progress=0))
    target = chat_of(asset)
    if target is None or target[1] is None:
        return
    with contextlib.suppress(Exception):  # cosmetic: the /cancel reply already told the creator
        await deps.notifier.edit_text(target[0], target[1], cancelled_text(asset.title))


async def is_cancelled(deps: CoreDeps, asset_id: uuid.UUID) -> bool:
    async with deps.sessionmaker() as session:
        status = await session.scalar(select(ContentAsset.upload_status).where(ContentAsset.id == asset_id))
    return status in (None, "cancelled")


async def _stop_if_cancelled(deps: CoreDeps, asset_id: uuid.UUID) -> None:
    """Checked between the pipeline's steps, so a cancelled upload stops at its next step."""
    if await is_cancelled(deps, asset_id):
        raise _Cancelled()


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


def transcript_words(deps: CoreDeps, asset: ContentAsset) -> list[Word]:
    """The word timings stored at transcription (empty for text sources)."""
    return [Word(**w) for s in stored_segments(deps, asset.id) for w in s.get("words", [])]


async def _render_clips(deps: CoreDeps, job_id: uuid.UUID) -> list[GeneratedContent]:
    """Plan (short transaction), render (no transaction: minutes of ffmpeg), store (short transaction)."""
    from core.clips import service as clips

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
    from core.workflow import workflows

    async with deps.sessionmaker() as session:
        scope = await workflows.draft_scope(session=session, draft=draft)
        workflow = await workflows.workflow_for(
            session=session, organization_id=scope.organization_id, client_account_id=scope.client_account_id
        )
    if workflow is not None:
        await deps.enqueue("slack.post_approval", draft_id=str(draft.id), requested_by=str(draft.user_id))


DELIVER = "pipeline.deliver_draft"


async def deliver_draft(deps: CoreDeps, draft_id: uuid.UUID, *, force: bool = False) -> None:
    """Send the draft's current version to its creator's chat once: a `pipeline.deliver_draft` unit keyed
    by draft and version, run right away here and retried by workers if the send fails."""
    async with session_scope(deps.sessionmaker) as session:
        draft = await session.get(GeneratedContent, draft_id)
        if draft is None or draft.content_asset_id is None:
            return
        meta = draft.metadata_ or {}
        if meta.get("delivered_message_id") and not force:
            return
        version = len(meta.get("versions", [])) + 1
        # Keyed by what is sent too: the kept versions stop counting at ten, a new text or file never does.
        content = f"{draft.title}\x00{draft.content_text}\x00{draft.caption}\x00{draft.file_url}".encode()
        key = f"{draft_id}:v{version}:{zlib.crc32(content):08x}"
        unit_id, _ = await work.add(session, DELIVER, {"draft_id": str(draft_id)}, key=key)
    await work.run_now(deps, unit_id)


async def send_draft(deps: CoreDeps, draft_id: uuid.UUID) -> str | None:
    """The `pipeline.deliver_draft` unit: render the draft, send it, record the message id on the draft,
    then update the asset's progress (which counts only drafts the creator actually received)."""
    from core.pipeline.render import draft_message

    async with session_scope(deps.sessionmaker) as session:
        # The draft stays locked while it is sent and recorded: a /cancel (which locks the asset's drafts)
        # either waits and counts it as arrived, or comes first and this send does not happen.
        row = await session.scalar(select(GeneratedContent).where(GeneratedContent.id == draft_id).with_for_update())
        asset = await session.get(ContentAsset, row.content_asset_id) if row and row.content_asset_id else None
        if row is None or asset is None:
            return None
        target = chat_of(asset)
        first = not (row.metadata_ or {}).get("delivered_message_id")
        if target is None or (first and asset.upload_status == "cancelled"):
            return None  # a cancelled upload's drafts that had not arrived never do (re-sent versions may)
        message_id = await deps.notifier.send(target[0], draft_message(row, deps.store))
        row.metadata_ = {
            **(row.metadata_ or {}),
            "delivered_message_id": message_id,
            "delivered_at": utcnow().isoformat(),
        }
        asset_id = asset.id
    await finish_if_done(deps, asset_id)
    return message_id


async def draft_undeliverable(deps: CoreDeps, draft_id: uuid.UUID, error: str) -> None:
    """Give-up hook of `pipeline.deliver_draft`: note it on the draft so the asset can finish, and say so."""
    async with session_scope(deps.sessionmaker) as session:
        row = await session.scalar(select(GeneratedContent).where(GeneratedContent.id == draft_id).with_for_update())
        if row is None or row.content_asset_id is None:
            return
        reason = (error.strip().splitlines() or ["unknown error"])[-1][:300]
        row.metadata_ = {**(row.metadata_ or {}), "delivery_failed": reason}
        asset = await session.get_one(ContentAsset, row.content_asset_id)
        target = chat_of(asset)
        label = format_label(str((row.metadata_ or {}).get("output_format", "")))
        told = []
        if target is not None:
            note = OutgoingMessage(
                text=f"⚠️ I couldn't send your {label} draft “{(row.title or '')[:60]}”. "
                "Send /history to find it, or send the content again."
            )
            told.append(await outbox.record(session, target[0], note, key=f"undeliverable:{draft_id}"))
    await outbox.flush(deps, told)
    await finish_if_done(deps, asset.id)


def _received_summary(jobs: list[RepurposingJob], drafts: list[GeneratedContent], bound: bool) -> str:
    """What the creator got, counted as they count it: "5 drafts and 3 clips received", and what not."""
    got = [d for d in drafts if (d.metadata_ or {}).get("delivered_message_id") or not bound]
    clips = sum(1 for d in got if d.content_type == "short_video")
    texts = len(got) - clips
    text = f"{texts} draft{'s' if texts != 1 else ''}"
    if clips:
        text += f" and {clips} clip{'s' if clips != 1 else ''}"
    text += " received"
    missed = sum(1 for j in jobs if j.status == "failed") + sum(
        1 for d in drafts if (d.metadata_ or {}).get("delivery_failed")
    )
    return text + (f" · {missed} couldn't be made or sent" if missed else "")


def _received(draft: GeneratedContent) -> bool:
    meta = draft.metadata_ or {}
    return bool(meta.get("delivered_message_id") or meta.get("delivery_failed"))


async def finish_if_done(deps: CoreDeps, asset_id: uuid.UUID) -> bool:
    """Update the asset's progress; complete it once every job has ended and every draft was sent (or
    could not be). Both the running count and the final line count what the creator actually received."""
    async with session_scope(deps.sessionmaker) as session:
        asset = await session.scalar(select(ContentAsset).where(ContentAsset.id == asset_id).with_for_update())
        if asset is None:
            return False
        jobs = await repurposing.jobs_for_asset(session=session, asset_id=asset_id)
        drafts = list(
            await session.scalars(select(GeneratedContent).where(GeneratedContent.content_asset_id == asset_id))
        )
        bound = chat_of(asset) is not None
        by_job: dict[uuid.UUID | None, list[GeneratedContent]] = {}
        for d in drafts:
            by_job.setdefault(d.repurposing_job_id, []).append(d)

        def ended(job: RepurposingJob) -> bool:
            if job.status in ("failed", "cancelled"):
                return True
            return job.status == "completed" and (not bound or all(_received(d) for d in by_job.get(job.id, [])))

        done = [j for j in jobs if ended(j)]
        ready = sum(1 for j in done if j.status == "completed")
        finished = bool(jobs) and len(done) == len(jobs)
        if finished and asset.upload_status not in ("completed", "cancelled", "failed"):
            asset.upload_status, asset.processing_completed_at = "completed", utcnow()
    if asset.upload_status == "cancelled":
        return finished
    if finished:
        detail = _received_summary(jobs, drafts, bound)
        if asset.content_type in ("audio", "video"):
            detail += "\n/transcript — read the words I heard, and correct them"
        await report(deps, asset, "completed", status="completed", detail=detail)
    else:
        progress = 70 + round(25 * len(done) / max(1, len(jobs)))
        await report(deps, asset, "generating", detail=f"{ready} of {len(jobs)} drafts ready", progress=progress)
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


async def tell_about_draft(deps: CoreDeps, draft_id: uuid.UUID, text: str, *, icon: str = "⚠️") -> None:
    """A note about one draft to the chat its asset came from (through the outbox)."""
    async with session_scope(deps.sessionmaker) as session:
        draft = await session.get(GeneratedContent, draft_id)
        asset = await session.get(ContentAsset, draft.content_asset_id) if draft and draft.content_asset_id else None
        target = chat_of(asset) if asset else None
        told = [await outbox.record(session, target[0], OutgoingMessage(text=f"{icon} {text}"))] if target else []
    await outbox.flush(deps, told)


def format_label(output_format: str) -> str:
    fmt = FORMATS.get(output_format)
    return fmt.label if fmt else output_format.replace("_", " ").title()


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


async def _deliver_unit(deps: CoreDeps, draft_id: str) -> dict[str, str | None]:
    return {"message_id": await send_draft(deps, uuid.UUID(draft_id))}


async def _deliver_given_up(deps: CoreDeps, payload: dict[str, Any], error: str) -> None:
    await draft_undeliverable(deps, uuid.UUID(payload["draft_id"]), error)


unit_handler(DELIVER, on_give_up=_deliver_given_up, max_attempts=8)(_deliver_unit)
