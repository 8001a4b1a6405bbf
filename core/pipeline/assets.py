"""The creator pipeline: extract → transcribe → analyse → plan → jobs → drafts → deliver.

Each step checks what is already stored and skips itself, so a redelivered task (a worker killed
mid-run) resumes where the last commit left off and never duplicates rows. Progress lives in Redis
at `job:{asset_id}:status` and is mirrored into the creator's status message.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from decimal import Decimal
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import User
from core.ai.transcription import Transcript, unclear_words
from core.brand import service as brand_service
from core.brand.models import BrandProfile
from core.common.clock import utcnow
from core.common.errors import RecastError
from core.content import service as content
from core.content.models import ContentAnalysis, ContentAsset
from core.db.session import session_scope
from core.deps import CoreDeps
from core.media.audio import extract_audio
from core.media.errors import MediaError
from core.notify import outbox
from core.notify.ports import OutgoingMessage
from core.pipeline.chat import chat_of
from core.pipeline.progress import is_cancelled, report, show_cancelled
from core.pipeline.stored_transcript import store_transcript, timed_sentences
from core.repurposing import analysis_rows, planning
from core.repurposing.models import RepurposingJob
from core.storage.files import off_loop

log = logging.getLogger(__name__)


async def _spoken_language(deps: CoreDeps, asset: ContentAsset) -> str | None:
    """The language the creator set with /settings: the transcriber's hint when the speech is a close call."""
    if asset.user_id is None:
        return None
    async with session_scope(deps.sessionmaker) as session:
        return await session.scalar(select(User.language).where(User.id == asset.user_id))


async def _transcribe(deps: CoreDeps, asset: ContentAsset) -> Transcript:
    # In a thread: with S3 storage this may download the source, and the lease heartbeat must keep beating.
    src = await off_loop(partial(deps.store.local_path, asset.file_url))
    hint = await _spoken_language(deps, asset)
    with tempfile.TemporaryDirectory(prefix="recast-") as tmp:
        await report(deps, asset, "extracting")
        wav = await extract_audio(src, Path(tmp) / "audio.wav")
        await report(deps, asset, "transcribing")
        return await deps.require_ai().transcriber.transcribe(wav, language_hint=hint)


async def process_asset(deps: CoreDeps, asset_id: uuid.UUID) -> list[uuid.UUID]:
    """Run the pipeline for one asset up to the creation of its jobs; return the job ids to run.
    Safe to call again at any point: finished steps are skipped."""
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
            analysis = await _transcribed(deps, asset)
        if analysis.topics is None:
            analysis = await _analysed(deps, asset, analysis)
        await _stop_if_cancelled(deps, asset.id)
        await report(deps, asset, "planning")
        jobs = await _planned(deps, asset.id, analysis.id)
        await report(deps, asset, "generating", detail=planning.plan_summary(jobs))
        return [j.id for j in jobs if j.status in ("queued", "processing")]
    except _Cancelled:
        log.info("asset %s was cancelled: its pipeline stops here", asset.id)
        await show_cancelled(deps, asset)  # a progress edit already under way may have landed after /cancel's
        return []
    except (RecastError, MediaError) as exc:
        if await is_cancelled(deps, asset.id):
            return []  # a failure after /cancel is nobody's news
        await fail_asset(deps, asset.id, getattr(exc, "user_message", str(exc)))
        return []


async def _transcribed(deps: CoreDeps, asset: ContentAsset) -> ContentAnalysis:
    """Transcribe the recording; keep the timed segments in storage and the text as the asset's analysis."""
    transcript = await _transcribe(deps, asset)
    await _stop_if_cancelled(deps, asset.id)
    if not transcript.text.strip():
        raise MediaError("I couldn't hear any speech in this recording. Send one with someone talking.")
    url = store_transcript(deps, asset.id, transcript)
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
            "transcript_url": url,
            "transcript_model": transcript.model,
            "unclear_words": unclear_words(transcript),
        }
    return analysis


async def _analysed(deps: CoreDeps, asset: ContentAsset, analysis: ContentAnalysis) -> ContentAnalysis:
    """Analyse the transcript (topics, moments) and title the asset from its topics if it had no real title."""
    await _stop_if_cancelled(deps, asset.id)
    await report(deps, asset, "analysing")
    result = await deps.require_ai().analyser.analyse(
        analysis.transcript or "", timed_sentences(deps, asset), heard_language=analysis.transcript_language
    )
    async with session_scope(deps.sessionmaker) as session:
        row = await session.get_one(ContentAnalysis, analysis.id)
        analysis_rows.store_analysis(row, result)
        fresh = await session.get_one(ContentAsset, asset.id)
        if content.retitle_from_topics(fresh, result.topics):
            asset.title = fresh.title  # "⏳ voice" becomes "⏳ <its topics>" in the progress message
    return row


async def _planned(deps: CoreDeps, asset_id: uuid.UUID, analysis_id: uuid.UUID) -> list[RepurposingJob]:
    """Plan the formats and create their jobs."""
    async with session_scope(deps.sessionmaker) as session:
        # Locked like /cancel locks it: either the jobs exist before a cancel (which then stops them)
        # or the cancel came first and no job is created.
        locked = await session.scalar(select(ContentAsset).where(ContentAsset.id == asset_id).with_for_update())
        if locked is None or locked.upload_status == "cancelled":
            raise _Cancelled()
        row = await session.get_one(ContentAnalysis, analysis_id)
        brand = await _brand(session, locked)
        strategy = await planning.plan_strategy(session=session, asset=locked, analysis=row, brand=brand)
        return await planning.create_jobs(session=session, asset=locked, strategy=strategy)


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
