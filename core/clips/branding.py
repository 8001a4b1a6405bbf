"""How a brand dresses its clips: the caption style (template and brand customisation), logo, intro and outro."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clips.captions import CaptionStyle
from core.clips.errors import ClipError
from core.clips.render import Bumpers
from core.content.models import ContentAsset
from core.repurposing.models import BrandTemplate, Template
from core.storage.files import FileStore


async def caption_template(session: AsyncSession, ref: Any) -> Template | None:
    """A caption_style template by id or name; by default the first public one (by name)."""
    query = select(Template).where(Template.template_type == "caption_style")
    if ref:
        try:
            template_id = ref if isinstance(ref, uuid.UUID) else uuid.UUID(str(ref))
        except ValueError:
            found = await session.scalar(query.where(Template.name.ilike(str(ref))).limit(1))
        else:
            found = await session.scalar(query.where(Template.id == template_id))
        if found is None:
            raise ClipError("That caption style doesn't exist any more.", detail=f"caption_style={ref!r}")
        return found
    return await session.scalar(
        query.where(Template.is_public.is_(True)).order_by(Template.created_at, Template.name).limit(1)
    )


async def brand_template(
    session: AsyncSession, asset: ContentAsset | None, template: Template | None
) -> BrandTemplate | None:
    """The brand's customisation of this caption style, else its general brand template (no template)."""
    if asset is None or asset.brand_profile_id is None:
        return None
    rows = list(
        await session.scalars(
            select(BrandTemplate)
            .where(BrandTemplate.brand_profile_id == asset.brand_profile_id)
            .order_by(BrandTemplate.created_at)
        )
    )
    exact = [r for r in rows if template is not None and r.template_id == template.id]
    general = [r for r in rows if r.template_id is None]
    candidates = exact or general
    return candidates[0] if candidates else None


def caption_style(template: Template | None, brand: BrandTemplate | None) -> CaptionStyle:
    return CaptionStyle.from_config(
        template.config if template else {},
        name=template.name if template else None,
        brand_colors=brand.brand_colors if brand else None,
        fonts=brand.fonts if brand else None,
        customization=brand.customization if brand else None,
    )


async def brand_by_id(session: AsyncSession, brand_template_id: Any) -> BrandTemplate | None:
    if not brand_template_id:
        return None
    return await session.get(BrandTemplate, uuid.UUID(str(brand_template_id)))


async def dressing(session: AsyncSession, brand: BrandTemplate | None) -> tuple[str | None, str | None, str | None]:
    """The logo, intro and outro for clips with this brand template: its own, else those of the brand's
    general template (where /brand logo, intro and outro keep them), so a brand's customisation of one
    caption style doesn't drop its logo, intro and outro."""
    if brand is None:
        return None, None, None
    general = brand
    if brand.template_id is not None:
        general = (
            await session.scalar(
                select(BrandTemplate)
                .where(BrandTemplate.brand_profile_id == brand.brand_profile_id, BrandTemplate.template_id.is_(None))
                .order_by(BrandTemplate.created_at)
                .limit(1)
            )
            or brand
        )
    return (
        brand.logo_url or general.logo_url,
        brand.intro_video_url or general.intro_video_url,
        brand.outro_video_url or general.outro_video_url,
    )


def bumpers(store: FileStore, intro: str | None, outro: str | None) -> Bumpers | None:
    if not intro and not outro:
        return None
    return Bumpers(intro=local_file(store, intro), outro=local_file(store, outro))


def local_file(store: FileStore, url: str | None) -> Path | None:
    """A brand file (logo, intro, outro) the store holds locally; one elsewhere (http, s3) is not fetched here."""
    if not url:
        return None
    try:
        path = store.local_path(url)
    except ValueError:
        return None
    return path if path.is_file() else None
