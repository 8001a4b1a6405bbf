""" "Why N?": the reasons behind a draft's quality score, for the button under a draft and for /why."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ai.writing.quality import explain_quality
from core.repurposing.formats import FORMATS
from core.repurposing.models import GeneratedContent

CLIP = "short_video"


def quality_checks(draft: GeneratedContent) -> tuple[dict[str, float], list[str]] | None:
    """The checks and reasons stored with the draft (`metadata["quality_checks"]`/`["quality_reasons"]`), or
    None when it has none that can be shown (rows written before the checks, a clip scored only by its moment)."""
    meta: dict[str, Any] = draft.metadata_ or {}
    checks, reasons = meta.get("quality_checks"), meta.get("quality_reasons", [])
    if not isinstance(checks, dict) or not checks or not isinstance(reasons, list):
        return None
    try:
        parsed = {str(name): float(points) for name, points in checks.items()}
    except (TypeError, ValueError):
        return None
    return parsed, [str(r) for r in reasons]


def explained_score(draft: GeneratedContent) -> int | None:
    """The score a draft may show: only one its stored checks can explain."""
    if draft.quality_score is None or quality_checks(draft) is None:
        return None
    return round(float(draft.quality_score))


def draft_name(draft: GeneratedContent) -> str:
    """How /why names the draft it explains: '📝 LinkedIn post “Scope creep”'."""
    fmt = FORMATS.get(str((draft.metadata_ or {}).get("output_format", "")))
    label = fmt.label if fmt else (draft.content_type or "Draft").replace("_", " ").title()
    return f"📝 {label}" + (f" “{draft.title}”" if draft.title else "")


def explain_draft(draft: GeneratedContent) -> str:
    """The answer to "why N?" for this draft, true also when there is nothing to explain."""
    found = quality_checks(draft)
    if found is None or draft.quality_score is None:
        if draft.content_type == CLIP:
            return (
                "This clip has no quality breakdown: its score only ranked the moment against the rest of the "
                "video when it was picked, so I don't show it as a quality score."
            )
        return (
            "This draft has no quality breakdown: it was written before drafts were checked one by one, so I "
            "don't show a score for it. A new version (Regenerate or Revise) comes with its checks."
        )
    checks, reasons = found
    return explain_quality(float(draft.quality_score), checks, reasons)


async def recent_draft(*, session: AsyncSession, user_id: uuid.UUID, place: int = 1) -> GeneratedContent | None:
    """The creator's `place`-th newest draft (1 = the newest), or None when there are fewer."""
    if place < 1:
        return None
    return await session.scalar(
        select(GeneratedContent)
        .where(GeneratedContent.user_id == user_id, GeneratedContent.deleted_at.is_(None))
        .order_by(GeneratedContent.created_at.desc(), GeneratedContent.id.desc())
        .offset(place - 1)
        .limit(1)
    )
