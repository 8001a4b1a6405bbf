"""What a webhook asked workers to do: the unit ids it pushed, read back as (task, payload)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.session import make_sessionmaker
from core.deps import CoreDeps
from core.work.models import WorkUnit


class PushedIds(list[str]):
    """The work queue as a list: the unit ids a webhook woke workers for."""

    async def push(self, unit_ids: list[str]) -> None:
        self.extend(unit_ids)

    async def pop(self, timeout_s: float) -> str | None:
        return self.pop(0) if self else None

    async def depth(self) -> int:
        return len(self)


async def woken(engine: AsyncEngine, deps: CoreDeps) -> list[tuple[str, dict[str, Any]]]:
    """(task, payload) of every unit the app pushed, in order: what workers were asked to do."""
    ids = list(deps.work_queue or [])  # type: ignore[call-overload]
    if not ids:
        return []
    async with make_sessionmaker(engine)() as s:
        rows = {str(u.id): u for u in (await s.scalars(select(WorkUnit).where(WorkUnit.id.in_(ids)))).all()}
    return [(rows[i].kind, dict(rows[i].payload)) for i in ids]
