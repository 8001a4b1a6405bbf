"""Rows the analytics tests start from: an upload with drafts, some published, some with collected figures
(`engagement_metrics` rows, as the collector writes them, and the latest counters on `generated_content`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.models import EngagementMetric
from core.common.clock import utcnow
from core.content.models import ContentAnalysis, ContentAsset
from core.repurposing.models import GeneratedContent


@dataclass(frozen=True)
class Piece:
    """One draft: published or not, its latest counters, and the saves of each collection (oldest first;
    empty = never collected)."""

    published: bool = False
    views: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    collected_saves: list[int] = field(default_factory=list)
    platform: str = "linkedin"
    content_type: str = "social_post"


async def upload_with_drafts(
    session: AsyncSession,
    user_id: uuid.UUID,
    pieces: list[Piece],
    *,
    title: str = "Consistency beats talent",
    keywords: list[str] | None = None,
    created_ago: timedelta = timedelta(0),
) -> tuple[ContentAsset, list[GeneratedContent]]:
    now = utcnow()
    asset = ContentAsset(
        user_id=user_id,
        title=title,
        content_type="document",
        file_url="file:///nowhere",
        upload_status="completed",
        created_at=now - created_ago,
    )
    session.add(asset)
    await session.flush()
    session.add(ContentAnalysis(content_asset_id=asset.id, transcript="a talk", keywords=keywords or [], topics=[]))
    drafts = []
    for i, p in enumerate(pieces):
        draft = GeneratedContent(
            content_asset_id=asset.id,
            user_id=user_id,
            title=f"{title} · piece {i + 1}",
            content_type=p.content_type,
            target_platform=p.platform,
            content_text="text",
            is_published=p.published,
            published_at=now - timedelta(days=2) if p.published else None,
            views=p.views,
            likes=p.likes,
            comments=p.comments,
            shares=p.shares,
            created_at=now - created_ago + timedelta(seconds=i),
        )
        session.add(draft)
        await session.flush()
        for n, saves in enumerate(p.collected_saves):
            session.add(
                EngagementMetric(
                    generated_content_id=draft.id,
                    platform=p.platform,
                    views=p.views,
                    likes=p.likes,
                    comments=p.comments,
                    shares=p.shares,
                    saves=saves,
                    collected_at=now - timedelta(days=1) + timedelta(hours=n),
                )
            )
        drafts.append(draft)
    await session.flush()
    return asset, drafts
