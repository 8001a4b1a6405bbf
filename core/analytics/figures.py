"""What a period earned: every number is a difference of the platforms' own cumulative counters.

A post's counters only grow, so what it earned in [start, end) is its newest `engagement_metrics` row before
`end` minus its newest row before `start` (zero before its first collection). Summing those per platform
gives the period's views, reach and engagement (likes + comments + shares + saves) for a user, an
organization or a client account, and the same per-post gains rank the period's top pieces. Only posts
with a row inside the period can have earned anything, so the query starts from those (partition pruning
on `collected_at`) instead of the whole table.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


class Scope(StrEnum):
    USER = "user"
    ORGANIZATION = "organization"
    CLIENT = "client"


# Which drafts belong to an owner: a user's own, or through their source asset an organization's or a
# client account's.
_OWNER = {
    Scope.USER: ("g.user_id", ""),
    Scope.ORGANIZATION: ("a.organization_id", "JOIN content_assets a ON a.id = g.content_asset_id"),
    Scope.CLIENT: ("a.client_account_id", "JOIN content_assets a ON a.id = g.content_asset_id"),
}

_GAINS = """
WITH active AS ({active}), at_end AS (
    SELECT DISTINCT ON (m.generated_content_id, m.platform)
           m.generated_content_id AS draft, m.platform,
           coalesce(nullif(m.views, 0), m.impressions, 0) AS views, coalesce(m.reach, 0) AS reach,
           coalesce(m.likes, 0) + coalesce(m.comments, 0) + coalesce(m.shares, 0) + coalesce(m.saves, 0) AS acts
    FROM engagement_metrics m JOIN active ON active.draft = m.generated_content_id
    WHERE m.collected_at < :end
    ORDER BY m.generated_content_id, m.platform, m.collected_at DESC
), at_start AS (
    SELECT DISTINCT ON (m.generated_content_id, m.platform)
           m.generated_content_id AS draft, m.platform,
           coalesce(nullif(m.views, 0), m.impressions, 0) AS views, coalesce(m.reach, 0) AS reach,
           coalesce(m.likes, 0) + coalesce(m.comments, 0) + coalesce(m.shares, 0) + coalesce(m.saves, 0) AS acts
    FROM engagement_metrics m JOIN active ON active.draft = m.generated_content_id
    WHERE m.collected_at < :start
    ORDER BY m.generated_content_id, m.platform, m.collected_at DESC
)
SELECT {owner} AS owner, e.draft, e.platform,
       e.views - coalesce(s.views, 0) AS views,
       e.reach - coalesce(s.reach, 0) AS reach,
       e.acts - coalesce(s.acts, 0) AS acts
FROM at_end e
LEFT JOIN at_start s ON s.draft = e.draft AND s.platform = e.platform
JOIN generated_content g ON g.id = e.draft {join}
WHERE {owner_filter}
"""


# Drafts that can have earned something in the period: those with a row inside it. For one owner, start
# from the owner's drafts and probe each (index on generated_content_id); for everyone (the nightly rollup),
# scan the period's rows (partition pruning on collected_at).
_ACTIVE_ALL = """
    SELECT DISTINCT m.generated_content_id AS draft FROM engagement_metrics m
    WHERE m.collected_at >= :start AND m.collected_at < :end
"""
_ACTIVE_ONE = """
    SELECT g.id AS draft FROM generated_content g {join}
    WHERE {owner} = :owner AND EXISTS (
        SELECT 1 FROM engagement_metrics m
        WHERE m.generated_content_id = g.id AND m.collected_at >= :start AND m.collected_at < :end)
"""


def gains_sql(scope: Scope, *, one_owner: bool) -> str:
    owner, join = _OWNER[scope]
    active = (_ACTIVE_ONE if one_owner else _ACTIVE_ALL).format(owner=owner, join=join)
    owner_filter = f"{owner} = :owner" if one_owner else f"{owner} IS NOT NULL"
    return _GAINS.format(active=active, owner=owner, join=join, owner_filter=owner_filter)


@dataclass
class Figures:
    views: int = 0
    reach: int = 0  # summed per post: one person reached by two posts counts twice
    engagement: int = 0

    def add(self, views: int, reach: int, acts: int) -> None:
        self.views += views
        self.reach += reach
        self.engagement += acts


@dataclass(frozen=True)
class PieceGain:
    draft_id: uuid.UUID
    platform: str
    views: int
    engagement: int


@dataclass
class PeriodFigures:
    start: datetime
    end: datetime
    total: Figures = field(default_factory=Figures)
    by_platform: dict[str, Figures] = field(default_factory=dict)
    pieces: list[PieceGain] = field(default_factory=list)  # best first
    counted: int | None = None  # posts with figures, when the pieces aren't kept (a cached summary)

    @property
    def posts_counted(self) -> int:
        return self.counted if self.counted is not None else len({p.draft_id for p in self.pieces})


async def period_figures(
    session: AsyncSession, scope: Scope, owner_id: uuid.UUID, start: datetime, end: datetime
) -> PeriodFigures:
    rows = await session.execute(
        text(gains_sql(scope, one_owner=True)), {"owner": owner_id, "start": start, "end": end}
    )
    result = PeriodFigures(start, end)
    for _, draft, platform, views, reach, acts in rows.all():
        result.total.add(int(views), int(reach), int(acts))
        result.by_platform.setdefault(platform, Figures()).add(int(views), int(reach), int(acts))
        result.pieces.append(PieceGain(draft, platform, int(views), int(acts)))
    result.pieces.sort(key=lambda p: (p.engagement, p.views), reverse=True)
    return result
