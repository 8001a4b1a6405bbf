"""Writing a job's draft: the request (analysis, brand voice, library hashtags, call to action), the writer's
draft with the brand's checkable guidelines applied, stored once per job."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ai.writing.hashtags import LibraryTag, library_hashtags
from core.ai.writing.ports import BrandVoice, Draft, DraftRequest, Writer
from core.analytics import seo
from core.billing import usage as billing_usage
from core.brand import service as brand_service
from core.brand.models import BrandProfile
from core.common.clock import utcnow
from core.content.models import ContentAnalysis, ContentAsset
from core.repurposing import guidelines
from core.repurposing.analysis_rows import analysis_result
from core.repurposing.errors import DraftNotFound, DraftNotReady
from core.repurposing.formats import FORMATS
from core.repurposing.models import (
    CallToAction,
    GeneratedContent,
    Hashtag,
    RepurposingJob,
)
from core.vectors.brand_voice import BrandVoiceIndex


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


async def draft_context(session: AsyncSession, asset_id: uuid.UUID | None) -> DraftContext:
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


async def write_draft(
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
        unclear_words=[str(w) for w in (ctx.asset.metadata_ or {}).get("unclear_words", [])],
    )
    draft = await writer.write(request)
    # Whatever wrote it, the brand's checkable guidelines (sign-off, words to avoid) are kept.
    rules = guidelines.parse_guidelines(ctx.brand.custom_guidelines if ctx.brand else None)
    return guidelines.apply_rules(
        draft,
        output_format=request.output_format,
        rules=rules,
        analysis=result,
        transcript=transcript,
        unclear_words=request.unclear_words,
    )


def apply_draft(row: GeneratedContent, draft: Draft, analysis: ContentAnalysis) -> None:
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
    ctx = await draft_context(session, job.content_asset_id)
    fmt = FORMATS[job.output_format]
    variant = int((job.config or {}).get("variant", 0))
    draft = await write_draft(
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
    apply_draft(row, draft, ctx.analysis)
    session.add(row)
    job.status, job.progress, job.completed_at, job.credits_used = "completed", 100, utcnow(), fmt.credits
    await session.flush()
    await seo.check_blog_draft(session=session, draft=row)  # a blog draft's on-page checks, with the draft
    return row


async def drafts_for_asset(*, session: AsyncSession, asset_id: uuid.UUID) -> list[GeneratedContent]:
    rows = await session.scalars(
        select(GeneratedContent)
        .where(GeneratedContent.content_asset_id == asset_id)
        .order_by(GeneratedContent.created_at)
    )
    return list(rows)
