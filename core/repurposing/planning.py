"""Planning the repurposing of one asset: the strategy (which formats, ranked) and one job per format."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import User
from core.analytics import learning
from core.brand.models import BrandProfile
from core.common.clock import utcnow
from core.content.models import ContentAnalysis, ContentAsset
from core.distribution import calendar
from core.repurposing.formats import FORMATS, PLATFORM_FORMAT, clip_platforms, job_type_for
from core.repurposing.models import (
    RepurposingJob,
    RepurposingStrategy,
)

DEFAULT_PLATFORMS = ("linkedin", "twitter", "instagram", "youtube", "blog")


async def plan_strategy(
    *, session: AsyncSession, asset: ContentAsset, analysis: ContentAnalysis, brand: BrandProfile | None
) -> RepurposingStrategy:
    """Plan the formats once: one per platform the brand chose (all platforms without a brand or a choice),
    ranked by their fit, plus clips for a video when the brand chose Instagram or YouTube.

    A format's fit is the analysis' platform fit until the creator has `learning.MIN_FORMAT_PIECES` published
    drafts of it with figures; from then on it is weighted by how that format did for them
    (`learning.FormatResult.adjust`). Each format keeps the analysis' fit, the creator's figures and the reason
    in words, so "why this format?" is answered from the row."""
    existing = await session.scalar(
        select(RepurposingStrategy).where(RepurposingStrategy.content_asset_id == asset.id).limit(1)
    )
    if existing is not None:
        return existing
    scores: dict[str, Any] = analysis.platform_scores or {}
    preferred = list(brand.preferred_platforms or []) if brand else []
    # The brand's platforms are a choice, not a hint: no X thread for a brand that left X out.
    platforms = preferred or list(DEFAULT_PLATFORMS)
    results = await learning.format_results(session, asset.user_id) if asset.user_id else {}
    formats: list[dict[str, Any]] = []
    for platform in DEFAULT_PLATFORMS:
        if platform not in platforms:
            continue
        key = PLATFORM_FORMAT[platform]
        fit, entry = _fit(key, float(scores.get(platform, 50)), results.get(key))
        formats.append(
            {
                "format": key,
                "platforms": [platform],
                "priority": "high" if fit >= 60 else "medium",
                "fit_score": fit,
                "preferred": True,
                **entry,
            }
        )
    shorts = clip_platforms(preferred)
    if asset.content_type == "video" and (asset.metadata_ or {}).get("has_video", True) and shorts:
        # Clips first: they take longest to render and are what creators compare tools on.
        fit, entry = _fit("short_video", float(scores.get("instagram", 70)), results.get("short_video"))
        formats.append(
            {
                "format": "short_video",
                "platforms": shorts,
                "priority": "high",
                "fit_score": fit,
                "preferred": True,
                **entry,
            }
        )
    rank = {"high": 0, "medium": 1, "low": 2}
    formats.sort(key=lambda f: (rank[str(f["priority"])], -float(str(f["fit_score"]))))
    words = len((analysis.transcript or "").split())
    user = await session.get(User, asset.user_id) if asset.user_id else None
    timezone = (user.timezone if user else None) or "Asia/Kolkata"
    strategy = RepurposingStrategy(
        content_asset_id=asset.id,
        brand_profile_id=brand.id if brand else None,
        recommended_formats=formats,
        # Which format goes out where and when in the coming week, in the creator's timezone.
        content_calendar_suggestions=[s.as_json() for s in calendar.week_suggestions(formats, timezone, utcnow())],
        estimated_output_count=len(formats),
        # No reach estimate: the seed's figure (fit scores x 40) had no basis in any data and would sit next
        # to measured reach. Reach is what the platforms report (`generated_content.views`), see /roi.
        estimated_reach=None,
        estimated_processing_time=10 + len(formats) * 5 + words // 100,
    )
    session.add(strategy)
    await session.flush()
    if asset.user_id is not None:  # the suggestions as entries the creator accepts or dismisses in /calendar
        await calendar.add_suggestions(
            session,
            strategy=strategy,
            user_id=asset.user_id,
            organization_id=asset.organization_id,
            timezone=timezone,
            source_title=(asset.title or "").removeprefix("⏳").strip() or None,
        )
    return strategy


def _fit(key: str, analysis_fit: float, result: learning.FormatResult | None) -> tuple[float, dict[str, Any]]:
    """The format's fit (the analysis', weighted by the creator's own results once they count) and what the
    strategy row keeps about it: the analysis' fit, the creator's figures and the reason in words."""
    fit = round(result.adjust(analysis_fit) if result else analysis_fit, 1)
    own = None
    if result is not None:
        own = {
            "pieces": result.pieces,
            "engagement_rate": round(result.rate, 2),
            "average_rate": round(result.overall, 2),
            "counted": result.counts,
            "weight": round(result.share, 2) if result.counts else 0.0,
            "lift": round(result.lift, 2),
        }
    reason = learning.format_reason(FORMATS[key].label, round(analysis_fit, 1), result)
    return fit, {"analysis_fit": round(analysis_fit, 1), "own_results": own, "reasons": [reason]}


def plan_reasons(strategy: RepurposingStrategy) -> list[str]:
    """Why each planned format got its place, best first, from the strategy row (for `/why` and progress)."""
    return plan_reasons_of(list(strategy.recommended_formats or []))


def plan_reasons_of(formats: list[dict[str, Any]]) -> list[str]:
    return [str(r) for f in formats for r in f.get("reasons") or []]


_PRIORITY_VALUE = {"high": 8, "medium": 5, "low": 3}


CLIPS_PER_JOB = 6  # core.clips.moments.DEFAULT_COUNT: a clip job makes up to this many clips


def plan_summary(jobs: list[RepurposingJob]) -> str:
    """What was planned, as the creator reads it: "3 drafts planned: LinkedIn post, Instagram caption, Short clip",
    and, when the creator's own results moved a format, by how much: ". From your results: LinkedIn posts 1.5×
    your average engagement rate"."""
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
    line = f"{len(jobs)} draft{'s' if len(jobs) != 1 else ''} planned: {', '.join(labels)}"
    learned = [
        f"{_plural(FORMATS[j.output_format].label)} {float(own['lift']):.1f}×"
        for j in jobs
        if j.output_format in FORMATS
        and isinstance(own := (j.config or {}).get("own_results"), dict)
        and own.get("lift") is not None
    ]
    if learned:
        line += f". From your results: {', '.join(learned)} your average engagement rate"
    return line


def _plural(label: str) -> str:
    return label if label.endswith("s") else f"{label}s"


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
                config=({"variant": 0} if fmt.key != "short_video" else {}) | _learned(rec),
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


def _learned(rec: dict[str, Any]) -> dict[str, Any]:
    """What the creator's own results did to this format, kept on its job when they counted."""
    own = rec.get("own_results")
    if not isinstance(own, dict) or not own.get("counted"):
        return {}
    return {"own_results": {"lift": own.get("lift"), "pieces": own.get("pieces"), "fit": rec.get("fit_score")}}


async def jobs_for_asset(*, session: AsyncSession, asset_id: uuid.UUID) -> list[RepurposingJob]:
    rows = await session.scalars(
        select(RepurposingJob)
        .where(RepurposingJob.content_asset_id == asset_id)
        .order_by(RepurposingJob.priority.desc(), RepurposingJob.created_at)
    )
    return list(rows)
