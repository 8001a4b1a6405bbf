"""`/stats <source>`: everything one source (a talk, an upload: a `content_assets` row) produced and how each
piece did.

A piece is a draft on one platform. A published piece's figures are its newest `engagement_metrics` row
(the platforms' counters are cumulative, so the newest row is the total so far); a published draft with no
row yet falls back to the latest figures `generated_content` holds; a draft that was never published has
none. Views are the platform's views, else its impressions; engagement is likes + comments + shares + saves,
the same definitions as `core.analytics.figures`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.content.models import ContentAsset
from core.content.service import recent_assets
from core.distribution.models import PostStatus, ScheduledPost
from core.repurposing.formats import FORMATS
from core.repurposing.models import GeneratedContent

HISTORY_SIZE = 10  # what /history lists, so "/stats 2" is the second line of /history

_LATEST = text(
    """
    SELECT DISTINCT ON (m.generated_content_id, m.platform)
           m.generated_content_id, m.platform,
           coalesce(nullif(m.views, 0), m.impressions, 0) AS views,
           coalesce(m.likes, 0) + coalesce(m.comments, 0) + coalesce(m.shares, 0) + coalesce(m.saves, 0) AS acts
    FROM engagement_metrics m
    WHERE m.generated_content_id = ANY(:drafts)
    ORDER BY m.generated_content_id, m.platform, m.collected_at DESC
    """
)


@dataclass(frozen=True)
class SourcePiece:
    draft_id: uuid.UUID
    title: str
    content_type: str  # the format's label: "LinkedIn post"
    platform: str | None
    published: bool
    url: str | None
    views: int | None  # None: no figures (not published, or not collected yet)
    engagement: int | None


@dataclass
class SourceStats:
    asset_id: uuid.UUID
    title: str
    drafts: int
    pieces: list[SourcePiece] = field(default_factory=list)

    @property
    def published(self) -> list[SourcePiece]:
        return [p for p in self.pieces if p.published]

    @property
    def views(self) -> int:
        return sum(p.views or 0 for p in self.pieces)

    @property
    def engagement(self) -> int:
        return sum(p.engagement or 0 for p in self.pieces)

    @property
    def measured(self) -> list[SourcePiece]:
        return [p for p in self.pieces if p.views is not None]


async def find_source(session: AsyncSession, user_id: uuid.UUID, query: str) -> ContentAsset | None:
    """The creator's source by its position in /history ("2") or by words of its title (newest match)."""
    query = query.strip()
    if query.isdigit():
        assets = await recent_assets(session=session, user_id=user_id, limit=HISTORY_SIZE)
        n = int(query)
        return assets[n - 1] if 1 <= n <= len(assets) else None
    words = [w for w in query.split() if w]
    if not words:
        return None
    stmt = select(ContentAsset).where(ContentAsset.user_id == user_id)
    for word in words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(ContentAsset.title.ilike(f"%{escaped}%", escape="\\"))
    return await session.scalar(stmt.order_by(ContentAsset.created_at.desc()).limit(1))


def piece_format(draft: GeneratedContent) -> str:
    """ "LinkedIn post", "X thread", ... from the format the draft was written in, else its content type."""
    fmt = FORMATS.get(str((draft.metadata_ or {}).get("output_format")))
    return fmt.label if fmt else (draft.content_type or "draft").replace("_", " ")


def piece_title(draft: GeneratedContent) -> str:
    words = draft.title or (draft.content_text or "").strip().split("\n", 1)[0]
    return words if len(words) <= 60 else words[:57].rstrip() + "…"


async def source_stats(session: AsyncSession, asset: ContentAsset) -> SourceStats:
    """Every draft of `asset`, each published piece with its link and latest figures."""
    drafts = list(
        await session.scalars(
            select(GeneratedContent)
            .where(GeneratedContent.content_asset_id == asset.id)
            .order_by(GeneratedContent.created_at, GeneratedContent.id)
        )
    )
    result = SourceStats(asset.id, asset.title, len(drafts))
    if not drafts:
        return result
    ids = [d.id for d in drafts]
    posts = list(
        await session.scalars(
            select(ScheduledPost)
            .where(ScheduledPost.generated_content_id.in_(ids), ScheduledPost.status == PostStatus.PUBLISHED)
            .order_by(ScheduledPost.published_at)
        )
    )
    latest = {
        (draft, platform): (int(views), int(acts))
        for draft, platform, views, acts in (await session.execute(_LATEST, {"drafts": ids})).all()
    }
    for draft in drafts:
        mine = [p for p in posts if p.generated_content_id == draft.id]
        title, kind = piece_title(draft), piece_format(draft)
        if not mine:
            result.pieces.append(SourcePiece(draft.id, title, kind, draft.target_platform, False, None, None, None))
            continue
        for post in mine:
            figures = latest.get((draft.id, post.platform))
            if figures is None and len(mine) == 1 and (draft.views or draft.likes or draft.comments or draft.shares):
                # No engagement_metrics row: the draft's own latest figures (one platform, so they are its).
                figures = (draft.views or 0, (draft.likes or 0) + (draft.comments or 0) + (draft.shares or 0))
            result.pieces.append(
                SourcePiece(
                    draft_id=draft.id,
                    title=title,
                    content_type=kind,
                    platform=post.platform,
                    published=True,
                    url=post.platform_post_url,
                    views=figures[0] if figures else None,
                    engagement=figures[1] if figures else None,
                )
            )
    return result
