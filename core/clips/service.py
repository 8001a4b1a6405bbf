"""The `video_to_shorts` job: choose moments, render captioned clips, store them as drafts; re-cut on feedback."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ai.analysis.results import ContentAnalysisResult
from core.ai.transcription import Word
from core.analytics.learning import ClipLearning, clip_learning
from core.billing import usage as billing_usage
from core.clips import branding
from core.clips import envelope as clip_envelope
from core.clips import moments as clip_moments
from core.clips.captions import CaptionStyle
from core.clips.errors import ClipError
from core.clips.feedback import parse_clip_edit
from core.clips.moments import ClipMoment
from core.clips.reasons import explain
from core.clips.render import FRAME_SIZES, REFRAMES, Bumpers, RenderedClip, render_clip, render_clips
from core.common.clock import utcnow
from core.content.models import ContentAsset
from core.media.audio import extract_audio
from core.media.probe import probe_media
from core.repurposing.errors import DraftNotFound, NothingToRevise
from core.repurposing.formats import FORMATS
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.repurposing.rewriting import open_revision
from core.storage.files import FileStore, off_loop

JOB_TYPE = "video_to_shorts"
OUTPUT_FORMAT = "short_video"
CONTENT_TYPE = "short_video"
DEFAULT_PLATFORM = "instagram"
MAX_VERSIONS = 10
JOB_CREDITS = FORMATS[OUTPUT_FORMAT].credits
"""AI credits for one `video_to_shorts` job, whatever the number of clips."""
RECUT_CREDITS = 1
"""AI credits for re-rendering one clip from revise feedback."""


@dataclass
class ClipPlan:
    """What a `video_to_shorts` job will render, read from the database in one short transaction."""

    job_id: uuid.UUID
    content_asset_id: uuid.UUID | None
    user_id: uuid.UUID | None
    platform: str
    aspect_ratio: str
    reframe: str
    style: CaptionStyle
    template_id: uuid.UUID | None
    brand_template_id: uuid.UUID | None
    watermark: Path | None
    bumpers: Bumpers | None
    count: int
    min_seconds: float
    max_seconds: float
    learning: ClipLearning | None = None
    """The creator's own clip results; their weights score the moments once they count."""

    @property
    def weights(self) -> dict[str, float] | None:
        return self.learning.weights if self.learning is not None and self.learning.counts else None


async def plan_clip_job(*, session: AsyncSession, store: FileStore, job_id: uuid.UUID) -> ClipPlan | None:
    """Start a clip job: None when there is nothing to render (missing, cancelled or already completed —
    `job_clips` gives the rows of a completed one). Checks credits before minutes of rendering."""
    job = await session.scalar(select(RepurposingJob).where(RepurposingJob.id == job_id).with_for_update())
    if job is None or job.status in ("cancelled", "completed", "failed"):
        return None
    if job.job_type != JOB_TYPE:
        raise ClipError(detail=f"job {job.id} is {job.job_type!r}, not {JOB_TYPE!r}")
    if job.user_id is not None:
        # Checked before minutes of rendering; consumed atomically with the drafts in `store_clip_job`.
        await billing_usage.check_available(session=session, user_id=job.user_id, credits=JOB_CREDITS)
    job.status, job.started_at, job.progress = "processing", job.started_at or utcnow(), 10
    config = dict(job.config or {})
    aspect_ratio = str(config.get("aspect_ratio", "9:16"))
    reframe = str(config.get("reframe", "auto"))
    if aspect_ratio not in FRAME_SIZES or reframe not in REFRAMES:
        raise ClipError(
            "Clips can be 9:16, 1:1 or 4:5, reframed by crop, blur or auto.",
            detail=f"aspect_ratio={aspect_ratio!r} reframe={reframe!r}",
        )
    asset = await session.get(ContentAsset, job.content_asset_id) if job.content_asset_id else None
    template = await branding.caption_template(session, config.get("caption_style") or job.template_id)
    brand = await branding.brand_template(session, asset, template)
    logo, intro, outro = await branding.dressing(session, brand)
    return ClipPlan(
        job_id=job.id,
        content_asset_id=job.content_asset_id,
        user_id=job.user_id,
        platform=(job.target_platforms or [DEFAULT_PLATFORM])[0],
        aspect_ratio=aspect_ratio,
        reframe=reframe,
        style=branding.caption_style(template, brand),
        template_id=template.id if template else None,
        brand_template_id=brand.id if brand else None,
        watermark=branding.local_file(store, logo),
        bumpers=branding.bumpers(store, intro, outro),
        count=int(config.get("count", clip_moments.DEFAULT_COUNT)),
        min_seconds=float(config.get("min_seconds", clip_moments.DEFAULT_MIN_SECONDS)),
        max_seconds=float(config.get("max_seconds", clip_moments.DEFAULT_MAX_SECONDS)),
        learning=await clip_learning(session, job.user_id, clip_moments.WEIGHTS) if job.user_id else None,
    )


async def render_clip_plan(
    plan: ClipPlan,
    *,
    transcript_words: Sequence[Word],
    analysis: ContentAnalysisResult | None,
    media_path: Path,
    out_dir: Path,
) -> list[tuple[ClipMoment, RenderedClip]]:
    """Choose the moments and render them: minutes of ffmpeg, with no database connection held."""
    info = await asyncio.to_thread(probe_media, media_path)
    envelope = await _envelope(media_path)
    chosen = clip_moments.choose_moments(
        transcript_words,
        analysis,
        count=plan.count,
        min_seconds=plan.min_seconds,
        max_seconds=plan.max_seconds,
        media_duration=info.duration_s,
        envelope=envelope,
        weights=plan.weights,
    )
    rendered = await render_clips(
        media_path,
        chosen,
        style=plan.style,
        aspect_ratio=plan.aspect_ratio,
        reframe=plan.reframe,
        out_dir=out_dir,
        watermark_path=plan.watermark,
        bumpers=plan.bumpers,
        names=[f"clip-{rank}" for rank in range(1, len(chosen) + 1)],
    )
    return list(zip(chosen, rendered, strict=True))


async def store_clip_job(
    *,
    session: AsyncSession,
    store: FileStore,
    plan: ClipPlan,
    clips: Sequence[tuple[ClipMoment, RenderedClip]],
    analysis: ContentAnalysisResult | None,
) -> list[GeneratedContent]:
    """Write the rendered clips as drafts, charge the job's credits and complete it, all in one short
    transaction. A job completed meanwhile (a second run) keeps its rows: this run's are discarded,
    so the credits are charged once. Files go to keys derived from the job id."""
    job = await session.scalar(select(RepurposingJob).where(RepurposingJob.id == plan.job_id).with_for_update())
    if job is None or job.status == "cancelled":
        return []
    if job.status == "completed":
        return await job_clips(session, job.id)
    rows = []
    for rank, (moment, clip) in enumerate(clips, start=1):
        row = GeneratedContent(
            repurposing_job_id=job.id,
            content_asset_id=job.content_asset_id,
            user_id=job.user_id,
            content_type=CONTENT_TYPE,
            target_platform=plan.platform,
            virality_prediction=Decimal(str(analysis.virality_score)) if analysis else None,
            metadata_={
                "output_format": OUTPUT_FORMAT,
                "rank": rank,
                "caption_style": {
                    "id": str(plan.template_id) if plan.template_id else None,
                    "name": plan.style.name,
                    "config": plan.style.to_config(),
                },
                "brand_template_id": str(plan.brand_template_id) if plan.brand_template_id else None,
                "versions": [],
            },
        )
        _apply(row, moment, clip, await _upload(store, clip, key=f"clips/{job.id}/{rank}"), plan.learning)
        rows.append(row)
    if job.user_id is not None and rows:
        await billing_usage.consume(session=session, user_id=job.user_id, credits=JOB_CREDITS)
    session.add_all(rows)
    job.status, job.progress, job.completed_at = "completed", 100, utcnow()
    job.credits_used = JOB_CREDITS if rows else 0
    await session.flush()
    return rows


async def generate_clips_for_job(
    *,
    session: AsyncSession,
    store: FileStore,
    job_id: uuid.UUID,
    transcript_words: Sequence[Word],
    analysis: ContentAnalysisResult | None,
    media_path: Path,
) -> list[GeneratedContent]:
    """Render the clips of one `video_to_shorts` job exactly once, best first, in the caller's session.
    (The pipeline runs the same three steps in three short transactions: see `core.pipeline.jobs`.)"""
    plan = await plan_clip_job(session=session, store=store, job_id=job_id)
    if plan is None:
        return await job_clips(session, job_id)
    with tempfile.TemporaryDirectory(prefix="recast-clips-") as tmp:
        clips = await render_clip_plan(
            plan, transcript_words=transcript_words, analysis=analysis, media_path=media_path, out_dir=Path(tmp)
        )
        return await store_clip_job(session=session, store=store, plan=plan, clips=clips, analysis=analysis)


async def rerender_clip(
    *,
    session: AsyncSession,
    store: FileStore,
    draft_id: uuid.UUID,
    feedback: str,
    media_path: Path,
    transcript_words: Sequence[Word],
    requested_by: uuid.UUID | None = None,
    approval_request_id: uuid.UUID | None = None,
) -> GeneratedContent:
    """Re-cut and re-render one clip from revise feedback, still on word boundaries; the previous
    version is kept in `metadata.versions` (its files stay in storage) and the feedback in a
    completed `revisions` row."""
    row = await session.scalar(select(GeneratedContent).where(GeneratedContent.id == draft_id).with_for_update())
    meta = dict(row.metadata_ or {}) if row is not None else {}
    if row is None or meta.get("output_format") != OUTPUT_FORMAT:
        raise DraftNotFound()
    if not feedback.strip():
        raise NothingToRevise()
    if row.user_id is not None:
        await billing_usage.check_available(session=session, user_id=row.user_id, credits=RECUT_CREDITS)
    edit = parse_clip_edit(feedback)
    info = await asyncio.to_thread(probe_media, media_path)
    envelope = await _envelope(media_path)
    kept = meta.get("weights")
    weights = {str(k): float(v) for k, v in kept.items()} if isinstance(kept, dict) else None
    current = clip_moments.moment_for_words(
        transcript_words,
        int(meta["first_word"]),
        int(meta["last_word"]),
        media_duration=info.duration_s,
        envelope=envelope,
        weights=weights,  # re-cut and re-scored as it was chosen
    )
    moment = current
    if edit.recuts:
        moment = clip_moments.adjust_moment(
            transcript_words,
            current,
            start_shift=edit.start_shift,
            end_shift=edit.end_shift,
            scale=edit.scale,
            media_duration=info.duration_s,
            envelope=envelope,
        )
    style_meta = dict(meta.get("caption_style") or {})
    style = CaptionStyle.from_config(style_meta.get("config") or {}, name=style_meta.get("name"))
    aspect_ratio = edit.aspect_ratio or str(meta.get("aspect_ratio", "9:16"))
    # Keep the framing the creator saw unless they asked for another one.
    reframe = edit.reframe or str(meta.get("reframe", "auto"))
    version = len(meta.get("versions", [])) + 1
    brand = await branding.brand_by_id(session, meta.get("brand_template_id"))
    logo, intro, outro = await branding.dressing(session, brand)
    watermark = branding.local_file(store, logo)
    with tempfile.TemporaryDirectory(prefix="recast-clip-") as tmp:
        clip = await render_clip(
            media_path,
            moment,
            style=style,
            aspect_ratio=aspect_ratio,
            reframe=reframe,
            out_dir=tmp,
            watermark_path=watermark,
            bumpers=branding.bumpers(store, intro, outro),
            name="clip",
        )
        previous = {key: meta.get(key) for key in _MOMENT_KEYS} | {
            "file_url": row.file_url,
            "thumbnail_url": row.thumbnail_url,
            "duration": row.duration,
            "file_size": row.file_size,
            "replaced_at": utcnow().isoformat(),
        }
        row.metadata_ = {
            **meta,
            "versions": [*meta.get("versions", []), previous][-MAX_VERSIONS:],
            "last_feedback": feedback.strip(),
        }
        key = f"clips/{row.repurposing_job_id or 'drafts'}/{row.id}-v{version}"
        _apply(row, moment, clip, await _upload(store, clip, key=key), ClipLearning.from_json(meta.get("learning")))
    if row.user_id is not None:
        await billing_usage.consume(session=session, user_id=row.user_id, credits=RECUT_CREDITS)
    revision = await open_revision(
        session=session,
        draft=row,
        feedback=feedback,
        requested_by=requested_by,
        approval_request_id=approval_request_id,
    )
    revision.status, revision.completed_at = "completed", utcnow()
    await session.flush()
    return row


# ----------------------------------------------------------------------------------------- internals


async def _envelope(media_path: Path) -> clip_envelope.SpeechEnvelope:
    """The speech loudness, so cuts land in real silence (16 kHz audio: a second or so for an hour)."""
    with tempfile.TemporaryDirectory(prefix="recast-envelope-") as tmp:
        wav = await extract_audio(media_path, Path(tmp) / "speech.wav")
        return await asyncio.to_thread(clip_envelope.load_envelope, wav)


_MOMENT_KEYS = (
    "start",
    "end",
    "score",
    "components",
    "first_word",
    "last_word",
    "aspect_ratio",
    "reframe",
    "quality_checks",
    "quality_reasons",
)


async def _upload(store: FileStore, clip: RenderedClip, *, key: str) -> tuple[str, str]:
    """The clip and its thumbnail stored, in a thread: with S3 storage this is an upload (multipart for a
    large render), and the event loop keeps the unit's lease beating meanwhile."""

    def put() -> tuple[str, str]:
        return store.put_path(clip.path, f"{key}.mp4"), store.put_path(clip.thumbnail_path, f"{key}.jpg")

    return await off_loop(put)


def _apply(
    row: GeneratedContent,
    moment: ClipMoment,
    clip: RenderedClip,
    urls: tuple[str, str],
    learning: ClipLearning | None = None,
) -> None:
    row.file_url, row.thumbnail_url = urls
    row.title = _title(moment.text)
    row.content_text = moment.text
    row.duration = max(1, round(clip.duration))
    row.file_size = clip.size_bytes
    row.word_count = len(moment.words)
    row.quality_score = Decimal(str(round(moment.score, 2)))
    meta = dict(row.metadata_ or {})
    meta.update(moment.to_metadata())
    checks, reasons = explain(moment, learning)
    meta.update(
        {
            "quality_checks": checks,
            "quality_reasons": reasons,
            "learning": learning.to_json() if learning is not None else None,
            "aspect_ratio": clip.aspect_ratio,
            "reframe": clip.reframe,
            "width": clip.width,
            "height": clip.height,
            "rendered_duration": clip.duration,
            "intro_seconds": clip.intro_seconds,
            "outro_seconds": clip.outro_seconds,
        }
    )
    row.metadata_ = meta


def _title(text: str, limit: int = 100) -> str:
    first = text.split(". ", maxsplit=1)[0].strip()
    return first if len(first) <= limit else first[: limit - 1].rsplit(" ", 1)[0] + "…"


async def job_clips(session: AsyncSession, job_id: uuid.UUID) -> list[GeneratedContent]:
    rows = list(
        await session.scalars(
            select(GeneratedContent).where(
                GeneratedContent.repurposing_job_id == job_id, GeneratedContent.content_type == CONTENT_TYPE
            )
        )
    )
    rows.sort(key=lambda r: int((r.metadata_ or {}).get("rank", 0)))
    return rows
