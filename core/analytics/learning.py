"""How well Recast's predictions matched what happened: the virality score each draft was written with
against the engagement rate it really got, as a rank correlation over the creator's published drafts.

Spearman's rho on ranks (ties get their mean rank): 1 means the predicted order was the real order, 0 no
relation, -1 the reverse. Shown only with enough drafts for the figure to mean something, with the count.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.repurposing.models import GeneratedContent

MIN_PIECES = 5


@dataclass(frozen=True)
class Agreement:
    pieces: int
    rho: float

    @property
    def words(self) -> str:
        strength = "closely" if self.rho >= 0.6 else "somewhat" if self.rho >= 0.3 else "poorly"
        if self.rho < 0:
            strength = "not at all (the order was reversed more than not)"
        return (
            f"Predicted ranking matched your results {strength}: rank correlation {self.rho:+.2f} "
            f"over {self.pieces} posts."
        )


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mean = (i + j) / 2 + 1
        for k in range(i, j + 1):
            out[order[k]] = mean
        i = j + 1
    return out


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's correlation of the ranks; None when either side has no spread."""
    rx, ry = ranks(xs), ranks(ys)
    n = len(xs)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    if vx == 0 or vy == 0:
        return None
    return float(cov / (vx * vy) ** 0.5)


async def prediction_agreement(session: AsyncSession, user_id: uuid.UUID) -> Agreement | None:
    """Predicted virality vs real engagement rate over the user's published drafts that have both."""
    rows = (
        await session.execute(
            select(GeneratedContent.virality_prediction, GeneratedContent.engagement_rate).where(
                GeneratedContent.user_id == user_id,
                GeneratedContent.is_published.is_(True),
                GeneratedContent.virality_prediction.is_not(None),
                GeneratedContent.engagement_rate.is_not(None),
            )
        )
    ).all()
    if len(rows) < MIN_PIECES:
        return None
    rho = spearman([float(p or 0) for p, _ in rows], [float(r or 0) for _, r in rows])
    return Agreement(len(rows), round(rho, 2)) if rho is not None else None
