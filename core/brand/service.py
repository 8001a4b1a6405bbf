"""Brand profiles: the voice drafts are written in (tone preset, guidelines, sample posts)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.brand.errors import PLATFORMS, TONE_PRESETS, InvalidPlatforms, InvalidTone, SampleTooShort
from core.brand.models import BrandProfile, BrandVoiceEmbedding
from core.vectors.brand_voice import BrandVoiceIndex, StyleExample

PLATFORM_ALIASES = {
    "x": "twitter",
    "tweet": "twitter",
    "twitter": "twitter",
    "ig": "instagram",
    "insta": "instagram",
    "yt": "youtube",
    "shorts": "youtube",
    "blog": "blog",
    "linkedin": "linkedin",
    "instagram": "instagram",
    "youtube": "youtube",
}
EDITABLE_FIELDS = (
    "name",
    "industry",
    "target_audience",
    "content_goals",
    "preferred_platforms",
    "tone_preset",
    "custom_guidelines",
    "description",
)


def parse_platforms(text: str) -> list[str]:
    names = [p for p in re.split(r"[,\s/]+", text.lower()) if p]
    platforms: list[str] = []
    for name in names:
        platform = PLATFORM_ALIASES.get(name)
        if platform is None:
            raise InvalidPlatforms()
        if platform not in platforms:
            platforms.append(platform)
    if not platforms:
        raise InvalidPlatforms()
    return platforms


def parse_tone(text: str) -> str:
    tone = text.strip().lower()
    if tone not in TONE_PRESETS:
        raise InvalidTone()
    return tone


async def brand_for_user(*, session: AsyncSession, user_id: uuid.UUID) -> BrandProfile | None:
    return await session.scalar(
        select(BrandProfile)
        .where(BrandProfile.user_id == user_id, BrandProfile.client_account_id.is_(None))
        .order_by(BrandProfile.created_at)
        .limit(1)
    )


async def brand_for_upload(
    *, session: AsyncSession, user_id: uuid.UUID, organization_id: uuid.UUID | None
) -> BrandProfile | None:
    """The brand an upload of this creator into this organization belongs to: the creator's own brand
    when it is of that organization (their personal one). A team's upload (another organization, e.g.
    from Slack) is not claimed by the creator's personal brand."""
    brand = await brand_for_user(session=session, user_id=user_id)
    if brand is None or brand.organization_id not in (None, organization_id):
        return None
    return brand


async def upsert_brand(
    *, session: AsyncSession, user_id: uuid.UUID, organization_id: uuid.UUID | None, **fields: Any
) -> BrandProfile:
    """Create the user's brand profile or update the given fields of it."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not brand fields: {sorted(unknown)}")
    if "tone_preset" in fields and fields["tone_preset"] is not None:
        fields["tone_preset"] = parse_tone(fields["tone_preset"])
    brand = await brand_for_user(session=session, user_id=user_id)
    if brand is None:
        brand = BrandProfile(
            user_id=user_id,
            organization_id=organization_id,
            name=fields.pop("name", None) or "My brand",
            tone_preset="professional",
            preferred_platforms=list(PLATFORMS),
        )
        session.add(brand)
    for key, value in fields.items():
        setattr(brand, key, value)
    await session.flush()
    return brand


async def add_sample(
    *, session: AsyncSession, index: BrandVoiceIndex, brand: BrandProfile, text: str
) -> BrandVoiceEmbedding:
    """Embed a sample post into Qdrant and mirror its metadata in `brand_voice_embeddings`."""
    clean = text.strip()
    if len(clean.split()) < 15:
        raise SampleTooShort()
    [point_id] = await index.add_samples(
        brand_profile_id=brand.id, organization_id=brand.organization_id, user_id=brand.user_id, texts=[clean]
    )
    row = BrandVoiceEmbedding(
        brand_profile_id=brand.id,
        vector_db_id=point_id,
        sample_text=clean,
        embedding_model=index.embedder.model_name,
        metadata_={"collection": index.collection, "words": len(clean.split())},
    )
    session.add(row)
    try:
        await session.flush()
    except BaseException:
        await index.delete_points([point_id])  # keep Qdrant and PostgreSQL in step
        raise
    return row


async def sample_count(*, session: AsyncSession, brand_id: uuid.UUID) -> int:
    rows = await session.scalars(select(BrandVoiceEmbedding.id).where(BrandVoiceEmbedding.brand_profile_id == brand_id))
    return len(list(rows))


async def style_examples(
    *, index: BrandVoiceIndex | None, brand: BrandProfile | None, about: str, limit: int = 3
) -> list[StyleExample]:
    if index is None or brand is None:
        return []
    return await index.nearest(
        brand_profile_id=brand.id,
        organization_id=brand.organization_id,
        user_id=brand.user_id,
        query=about[:2000],
        limit=limit,
    )


def describe_brand(brand: BrandProfile, samples: int) -> str:
    platforms = ", ".join(brand.preferred_platforms or []) or "all"
    goals = ", ".join(brand.content_goals or []) or "—"
    return (
        f"Brand: {brand.name}\n"
        f"Industry: {brand.industry or '—'}\n"
        f"Audience: {brand.target_audience or '—'}\n"
        f"Goals: {goals}\n"
        f"Platforms: {platforms}\n"
        f"Tone: {brand.tone_preset or 'professional'}\n"
        f"Guidelines: {brand.custom_guidelines or '—'}\n"
        f"Sample posts: {samples}"
    )
