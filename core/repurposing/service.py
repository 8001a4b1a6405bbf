"""The repurposing engine: strategy → jobs → drafts, and rewriting a draft on request."""

from __future__ import annotations

import re
import uuid
import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ai.analysis.results import ContentAnalysisResult
from core.ai.writing.hashtags import LibraryTag, library_hashtags
from core.ai.writing.ports import BrandVoice, Draft, DraftRequest, Writer
from core.billing import usage as billing_usage
from core.brand import service as brand_service
from core.brand.models import BrandProfile
from core.common.clock import utcnow
from core.content.models import ContentAnalysis, ContentAsset
from core.repurposing import guidelines
from core.repurposing.errors import DraftNotFound, DraftNotReady, NoNewAngle, NothingToRevise
from core.repurposing.formats import FORMATS, PLATFORM_FORMAT, clip_platforms, job_type_for
from core.repurposing.models import (
    CallToAction,
    GeneratedContent,
    Hashtag,
    RepurposingJob,
    RepurposingStrategy,
)
from core.vectors.brand_voice import BrandVoiceIndex
from core.workflow.models import Revision

DEFAULT_PLATFORMS = ("linkedin", "twitter", "instagram", "youtube", "blog")


def analysis_result(row: ContentAnalysis) -> ContentAnalysisResult:
    """Rebuild the analysis value object from its `content_analysis` row."""
    return ContentAnalysisResult.model_validate(
        {
            "topics": row.topics or [],
            "keywords": row.keywords or [],
            "entities": row.entities or {"persons": [], "organizations": [], "locations": []},
            "sentiment_score": round(float(row.sentiment_score or 0)),
            "emotions": row.emotion_analysis or {},
            "hook_moments": row.hook_moments or [],
            "key_insights": row.key_insights or [],
            "quotable_moments": row.quotable_moments or [],
            "virality_score": float(row.virality_score or 0),
            "repurposing_value": float(row.repurposing_value or 0),
            "seo_score": float(row.seo_score or 0),
            "engagement_potential": float(row.engagement_potential or 0),
            "platform_scores": row.platform_scores
            or {"linkedin": 0, "twitter": 0, "instagram": 0, "youtube": 0, "blog": 0},
            "language": row.transcript_language or "en",
            "model": row.analysis_model or "unknown",
        }
    )


def store_analysis(row: ContentAnalysis, result: ContentAnalysisResult) -> None:
    data = result.model_dump(mode="json")
    row.topics = data["topics"]
    row.keywords = data["keywords"]
    row.entities = data["entities"]
    row.sentiment_score = Decimal(str(data["sentiment_score"]))
    row.emotion_analysis = data["emotions"]
    row.hook_moments = data["hook_moments"]
    row.key_insights = data["key_insights"]
    row.quotable_moments = data["quotable_moments"]
    for name in ("virality_score", "repurposing_value", "seo_score", "engagement_potential"):
        setattr(row, name, Decimal(str(round(float(data[name]), 2))))
    row.platform_scores = data["platform_scores"]
    row.analysis_model = result.model[:100]
    row.analyzed_at = utcnow()


# ---------------------------------------------------------------------------------------- strategy


async def plan_strategy(
    *, session: AsyncSession, asset: ContentAsset, analysis: ContentAnalysis, brand: BrandProfile | None
) -> RepurposingStrategy:
    """Plan the formats once: one per platform the brand chose (all platforms without a brand or a choice),
    ranked by the analysis' fit, plus clips for a video when the brand chose Instagram or YouTube."""
    existing = await session.scalar(
        select(RepurposingStrategy).where(RepurposingStrategy.content_asset_id == asset.id).limit(1)
    )
    if existing is not None:
        return existing
    scores: dict[str, Any] = analysis.platform_scores or {}
    preferred = list(brand.preferred_platforms or []) if brand else []
    # The brand's platforms are a choice, not a hint: no X thread for a brand that left X out.
    platforms = preferred or list(DEFAULT_PLATFORMS)
    formats: list[dict[str, Any]] = []
    for platform in DEFAULT_PLATFORMS:
        if platform not in platforms:
            continue
        fit = float(scores.get(platform, 50))
        formats.append(
            {
                "format": PLATFORM_FORMAT[platform],
                "platforms": [platform],
                "priority": "high" if fit >= 60 else "medium",
                "fit_score": round(fit, 1),
                "preferred": True,
            }
        )
    shorts = clip_platforms(preferred)
    if asset.content_type == "video" and (asset.metadata_ or {}).get("has_video", True) and shorts:
        # Clips first: they take longest to render and are what creators compare tools on.
        formats.append(
            {
                "format": "short_video",
                "platforms": shorts,
                "priority": "high",
                "fit_score": float(scores.get("instagram", 70)),
                "preferred": True,
            }
        )
    rank = {"high": 0, "medium": 1, "low": 2}
    formats.sort(key=lambda f: (rank[str(f["priority"])], -float(str(f["fit_score"]))))
    words = len((analysis.transcript or "").split())
    strategy = RepurposingStrategy(
        content_asset_id=asset.id,
        brand_profile_id=brand.id if brand else None,
        recommended_formats=formats,
        content_calendar_suggestions=[
            {"day_offset": i, "format": f["format"], "platform": f["platforms"][0]} for i, f in enumerate(formats)
        ],
        estimated_output_count=len(formats),
        estimated_reach=int(sum(float(str(f["fit_score"])) for f in formats) * 40),
        estimated_processing_time=10 + len(formats) * 5 + words // 100,
    )
    session.add(strategy)
    await session.flush()
    return strategy


_PRIORITY_VALUE = {"high": 8, "medium": 5, "low": 3}


CLIPS_PER_JOB = 6  # core.clips.moments.DEFAULT_COUNT: a clip job makes up to this many clips


def plan_summary(jobs: list[RepurposingJob]) -> str:
    """What was planned, as the creator reads it: "3 drafts planned: LinkedIn post, Instagram caption, Short clip"."""
    labels = [
        f"Short clips (up to {(j.config or {}).get('count', CLIPS_PER_JOB)})"
        if j.output_format == "short_video"
        else FORMATS[j.output_format].label
        if j.output_format in FORMATS
        else str(j.output_format)
        for j in jobs
    ]
    if not labels:
        return "no drafts planned"
    return f"{len(jobs)} draft{'s' if len(jobs) != 1 else ''} planned: {', '.join(labels)}"


async def create_jobs(
    *, session: AsyncSession, asset: ContentAsset, strategy: RepurposingStrategy
) -> list[RepurposingJob]:
    """One `repurposing_jobs` row per recommended format (idempotent: existing jobs are returned)."""
    existing = list(
        await session.scalars(
            select(RepurposingJob)
            .where(RepurposingJob.content_asset_id == asset.id)
            .order_by(RepurposingJob.priority.desc(), RepurposingJob.created_at)
        )
    )
    if existing:
        return existing
    jobs = []
    for rec in strategy.recommended_formats or []:
        fmt = FORMATS[rec["format"]]
        jobs.append(
            RepurposingJob(
                content_asset_id=asset.id,
                user_id=asset.user_id,
                organization_id=asset.organization_id,
                job_type=job_type_for(asset.content_type, fmt.key),
                output_format=fmt.key,
                target_platforms=rec["platforms"],
                config={"variant": 0} if fmt.key != "short_video" else {},
                status="queued",
                priority=4 if fmt.key == "short_video" else _PRIORITY_VALUE[rec["priority"]],
                progress=0,
                credits_used=0,
            )
        )
    session.add_all(jobs)
    await session.flush()
    jobs.sort(key=lambda j: -(j.priority or 0))
    return jobs


# ---------------------------------------------------------------------------------------- drafting


async def select_hashtags(
    *, session: AsyncSession, user_id: uuid.UUID | None, platform: str, keywords: list[str], limit: int = 12
) -> list[str]:
    """The user's and the starter set's library hashtags for the platform, ranked for the content's keywords
    (`library_hashtags`)."""
    rows = await session.scalars(
        select(Hashtag).where(
            or_(Hashtag.user_id == user_id, Hashtag.user_id.is_(None)),
            or_(Hashtag.platform == platform, Hashtag.platform.is_(None)),
        )
    )
    library = [
        LibraryTag(name=r.hashtag, own=r.user_id is not None, performance=float(r.performance_score or 0)) for r in rows
    ]
    return library_hashtags(library, keywords, limit)


async def select_cta(
    *, session: AsyncSession, user_id: uuid.UUID | None, platform: str, variant: int = 0
) -> str | None:
    rows = list(
        await session.scalars(
            select(CallToAction)
            .where(
                or_(CallToAction.user_id == user_id, CallToAction.user_id.is_(None)),
                or_(CallToAction.platform == platform, CallToAction.platform.is_(None)),
            )
            .order_by(
                CallToAction.user_id.is_(None),
                CallToAction.platform.is_(None),
                CallToAction.performance_score.desc().nulls_last(),
                CallToAction.cta_text,
            )
        )
    )
    if not rows:
        return None
    return rows[variant % len(rows)].cta_text


def brand_voice(brand: BrandProfile | None, examples: list[str]) -> BrandVoice:
    if brand is None:
        return BrandVoice(name="", style_examples=examples)
    return BrandVoice.model_validate(
        {
            "name": brand.name,
            "industry": brand.industry or "",
            "target_audience": brand.target_audience or "",
            "tone_preset": brand.tone_preset or "professional",
            "custom_guidelines": brand.custom_guidelines or "",
            "style_examples": examples,
        }
    )


@dataclass
class DraftContext:
    asset: ContentAsset
    analysis: ContentAnalysis
    brand: BrandProfile | None


async def _context(session: AsyncSession, asset_id: uuid.UUID | None) -> DraftContext:
    asset = await session.get(ContentAsset, asset_id) if asset_id else None
    if asset is None:
        raise DraftNotFound()
    analysis = await session.scalar(
        select(ContentAnalysis)
        .where(ContentAnalysis.content_asset_id == asset.id)
        .order_by(ContentAnalysis.analyzed_at.desc())
        .limit(1)
    )
    if analysis is None or analysis.topics is None:
        raise DraftNotReady()
    brand = await session.get(BrandProfile, asset.brand_profile_id) if asset.brand_profile_id else None
    if brand is None and asset.user_id:
        brand = await brand_service.brand_for_user(session=session, user_id=asset.user_id)
    return DraftContext(asset, analysis, brand)


async def _write(
    *,
    session: AsyncSession,
    writer: Writer,
    index: BrandVoiceIndex | None,
    ctx: DraftContext,
    output_format: str,
    variant: int,
    feedback: str | None,
) -> Draft:
    fmt = FORMATS[output_format]
    result = analysis_result(ctx.analysis)
    transcript = ctx.analysis.transcript or ""
    examples = await brand_service.style_examples(
        index=index, brand=ctx.brand, about=" ".join(result.key_insights[:3]) or transcript[:1000]
    )
    request = DraftRequest(
        output_format=output_format,
        transcript=transcript,
        analysis=result,
        brand=brand_voice(ctx.brand, [e.text for e in examples]),
        hashtags=await select_hashtags(
            session=session,
            user_id=ctx.asset.user_id,
            platform=fmt.platform,
            keywords=result.keywords + result.topics,
        ),
        cta=await select_cta(session=session, user_id=ctx.asset.user_id, platform=fmt.platform, variant=variant),
        feedback=feedback,
        variant=variant,
    )
    draft = await writer.write(request)
    # Whatever wrote it, the brand's checkable guidelines (sign-off, words to avoid) are kept.
    rules = guidelines.parse_guidelines(ctx.brand.custom_guidelines if ctx.brand else None)
    return guidelines.apply_rules(draft, output_format=request.output_format, rules=rules, analysis=result)


def _apply_draft(row: GeneratedContent, draft: Draft, analysis: ContentAnalysis) -> None:
    row.title = (draft.title or "")[:500] or None
    row.content_text = draft.content_text
    row.caption = draft.caption
    row.hashtags = list(draft.hashtags)
    row.cta = draft.cta
    row.word_count = draft.word_count
    row.quality_score = Decimal(str(round(draft.quality_score, 2)))
    row.virality_prediction = analysis.virality_score


async def generate_for_job(
    *, session: AsyncSession, writer: Writer, index: BrandVoiceIndex | None, job_id: uuid.UUID
) -> GeneratedContent | None:
    """Write the draft of one job exactly once. The job row is locked for the whole transaction, and the
    draft, the job's completion and the credits are committed together, so a retried or redelivered
    task finds the job completed and returns the existing draft."""
    job = await session.scalar(select(RepurposingJob).where(RepurposingJob.id == job_id).with_for_update())
    if job is None:
        return None
    if job.status == "completed":
        return await session.scalar(
            select(GeneratedContent)
            .where(GeneratedContent.repurposing_job_id == job.id)
            .order_by(GeneratedContent.created_at)
            .limit(1)
        )
    if job.status == "cancelled":
        return None
    job.status, job.started_at, job.progress = "processing", job.started_at or utcnow(), 10
    ctx = await _context(session, job.content_asset_id)
    fmt = FORMATS[job.output_format]
    variant = int((job.config or {}).get("variant", 0))
    draft = await _write(
        session=session,
        writer=writer,
        index=index,
        ctx=ctx,
        output_format=fmt.key,
        variant=variant,
        feedback=None,
    )
    await billing_usage.consume(session=session, user_id=job.user_id, credits=fmt.credits) if job.user_id else None
    row = GeneratedContent(
        repurposing_job_id=job.id,
        content_asset_id=ctx.asset.id,
        user_id=job.user_id,
        content_type=fmt.content_type,
        target_platform=fmt.platform,
        metadata_={**draft.metadata, "output_format": fmt.key, "variant": variant, "versions": []},
    )
    _apply_draft(row, draft, ctx.analysis)
    session.add(row)
    job.status, job.progress, job.completed_at, job.credits_used = "completed", 100, utcnow(), fmt.credits
    await session.flush()
    return row


async def open_revision(
    *,
    session: AsyncSession,
    draft: GeneratedContent,
    feedback: str,
    requested_by: uuid.UUID | None,
    approval_request_id: uuid.UUID | None = None,
) -> Revision:
    """The draft's next numbered `revisions` row, in progress and assigned to its creator."""
    number = await session.scalar(
        select(func.count()).select_from(Revision).where(Revision.generated_content_id == draft.id)
    )
    revision = Revision(
        generated_content_id=draft.id,
        approval_request_id=approval_request_id,
        revision_number=(number or 0) + 1,
        requested_by=requested_by,
        assigned_to=draft.user_id,
        feedback=feedback.strip(),
        status="in_progress",
    )
    session.add(revision)
    await session.flush()
    return revision


TITLE_CHANGE = re.compile(r"\b(?:title|headline|heading)s?\b", re.I)


FRESH_TRIES = 6
"""Variants Regenerate writes per press looking for one unlike every version the creator has seen."""
FRESH_BELOW = 0.55
"""A version is fresh when it shares less than this fraction of its word triples with each earlier one.
Measured on real drafts: another hook and angle shares 35-50%; the same angle with a new opener, closer
or call to action shares 60-80%, which reads as the same post."""
SKETCH_SIZE = 128


def text_sketch(text: str) -> list[int]:
    """A compact fingerprint of a draft's wording: the smallest hashes of its word triples (bottom-k),
    small enough to keep for every version ever shown, not only the last ten kept in full."""
    words = re.findall(r"\w+", text.lower())
    grams = {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))} if words else set()
    return sorted({zlib.crc32(g.encode()) for g in grams})[:SKETCH_SIZE]


def sketch_similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of two texts' word triples from their sketches."""
    if not a or not b:
        return 1.0 if a == b else 0.0
    union = sorted(set(a) | set(b))[:SKETCH_SIZE]
    both = set(a) & set(b)
    return sum(1 for h in union if h in both) / len(union)


def _draft_text(title: str | None, body: str | None) -> str:
    return f"{title or ''}\n{body or ''}"


def _seen_sketches(row: GeneratedContent, meta: dict[str, Any]) -> list[list[int]]:
    seen = [list(s) for s in meta.get("seen_sketches", [])]
    if not seen:  # drafts written before sketches were kept: their stored versions
        seen = [text_sketch(_draft_text(v.get("title"), v.get("content_text"))) for v in meta.get("versions", [])]
    current = text_sketch(_draft_text(row.title, row.content_text))
    return seen if seen and seen[-1] == current else [*seen, current]


async def _fresh_draft(
    *,
    session: AsyncSession,
    writer: Writer,
    index: BrandVoiceIndex | None,
    ctx: DraftContext,
    row: GeneratedContent,
    meta: dict[str, Any],
    output_format: str,
) -> tuple[Draft, int]:
    """Regenerate: the next variant whose text is visibly different from every version seen so far.
    Continues after the variants earlier presses tried; raises `NoNewAngle` (nothing charged) if none is."""
    seen = _seen_sketches(row, meta)
    start = max(int(meta.get("variant", 0)), int(meta.get("variants_tried", 0))) + 1
    for variant in range(start, start + FRESH_TRIES):
        draft = await _write(
            session=session,
            writer=writer,
            index=index,
            ctx=ctx,
            output_format=output_format,
            variant=variant,
            feedback=None,
        )
        sketch = text_sketch(_draft_text(draft.title, draft.content_text))
        if all(sketch_similarity(sketch, s) < FRESH_BELOW for s in seen):
            return draft, variant
    raise NoNewAngle(FORMATS[output_format].label, start + FRESH_TRIES - 1)


async def rewrite_draft(
    *,
    session: AsyncSession,
    writer: Writer,
    index: BrandVoiceIndex | None,
    draft_id: uuid.UUID,
    requested_by: uuid.UUID | None,
    feedback: str | None = None,
    approval_request_id: uuid.UUID | None = None,
    keep_angle: bool = False,
    charge: bool = True,
    extra_metadata: dict[str, Any] | None = None,
) -> GeneratedContent:
    """Regenerate a draft (next variant) or revise it with feedback (a `revisions` row).
    The previous version is kept in `metadata.versions` so nothing a creator saw is lost.
    `keep_angle` rewrites the same variant (e.g. from a corrected transcript); `charge=False` counts no
    credits (for rewrites that fix our mistake)."""
    row = await session.scalar(select(GeneratedContent).where(GeneratedContent.id == draft_id).with_for_update())
    if row is None:
        raise DraftNotFound()
    if feedback is not None and not feedback.strip():
        raise NothingToRevise()
    meta = dict(row.metadata_ or {})
    output_format = str(meta.get("output_format") or "")
    if output_format not in FORMATS:
        raise DraftNotFound("This draft can't be rewritten here.")
    ctx = await _context(session, row.content_asset_id)
    variant = int(meta.get("variant", 0)) + (0 if keep_angle else 1)
    revision: Revision | None = None
    if feedback is not None:
        revision = await open_revision(
            session=session,
            draft=row,
            feedback=feedback,
            requested_by=requested_by,
            approval_request_id=approval_request_id,
        )
    if feedback is None and not keep_angle:
        draft, variant = await _fresh_draft(
            session=session, writer=writer, index=index, ctx=ctx, row=row, meta=meta, output_format=output_format
        )
    else:
        draft = await _write(
            session=session,
            writer=writer,
            index=index,
            ctx=ctx,
            output_format=output_format,
            variant=variant,
            feedback=feedback.strip() if feedback else None,
        )
    if row.user_id and charge:
        await billing_usage.consume(session=session, user_id=row.user_id, credits=FORMATS[output_format].credits)
    versions = list(meta.get("versions", []))
    versions.append(
        {
            "variant": meta.get("variant", 0),
            "title": row.title,
            "content_text": row.content_text,
            "hashtags": row.hashtags,
            "cta": row.cta,
            "replaced_at": utcnow().isoformat(),
        }
    )
    previous_title = row.title
    seen = [*_seen_sketches(row, meta), text_sketch(_draft_text(draft.title, draft.content_text))]
    _apply_draft(row, draft, ctx.analysis)
    if feedback is not None and previous_title and not TITLE_CHANGE.search(feedback):
        row.title = previous_title  # a revision keeps its own draft's title unless the feedback is about it
    row.metadata_ = {
        **meta,
        **draft.metadata,
        "output_format": output_format,
        "variant": variant,
        "versions": versions[-10:],
        "last_feedback": feedback,
        "variants_tried": max(variant, int(meta.get("variants_tried", 0))),
        "seen_sketches": seen[-200:],
        **(extra_metadata or {}),
    }
    if revision is not None:
        revision.status, revision.completed_at = "completed", utcnow()
    await session.flush()
    return row


async def drafts_for_asset(*, session: AsyncSession, asset_id: uuid.UUID) -> list[GeneratedContent]:
    rows = await session.scalars(
        select(GeneratedContent)
        .where(GeneratedContent.content_asset_id == asset_id)
        .order_by(GeneratedContent.created_at)
    )
    return list(rows)


async def jobs_for_asset(*, session: AsyncSession, asset_id: uuid.UUID) -> list[RepurposingJob]:
    rows = await session.scalars(
        select(RepurposingJob)
        .where(RepurposingJob.content_asset_id == asset_id)
        .order_by(RepurposingJob.priority.desc(), RepurposingJob.created_at)
    )
    return list(rows)
