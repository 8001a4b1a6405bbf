"""Submitting work: a unit is recorded in the caller's transaction (deduplicated by its kind's key), then
its id is pushed to the queue as a wake-up call. Losing or duplicating a message loses or repeats
nothing: the database, not the queue, says what work exists."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.common.redaction import refuse_secrets
from core.db.session import session_scope
from core.db.tenancy import tenant_of
from core.work import registry
from core.work.models import WorkUnit
from core.work.queue import WorkQueue

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


async def add(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    key: str | None = None,
    delay_s: float = 0.0,
) -> tuple[uuid.UUID, bool]:
    """Record a unit in the caller's transaction; (id, True) if new, (existing id, False) for a duplicate
    (kind, key). The caller pushes new ids after its commit (`push`); if it never does, the sweeper will.
    A payload holding a secret (a secret-named key, a known secret value) is refused: payloads are stored
    and logged, so a task takes ids and looks its secrets up."""
    handler = registry.handler_for(kind)
    refuse_secrets(kind, payload)
    if key is None and handler.key is not None:
        key = handler.key(payload)
    values: dict[str, Any] = {
        "kind": kind,
        "dedupe_key": key,
        "payload": payload,
        "max_attempts": handler.max_attempts,
        "enqueued_at": func.now(),
        "organization_id": tenant_of(session),
    }
    if delay_s:
        # Not pushed now (a worker would only skip it): the first sweep after it falls due pushes it.
        values["run_after"] = func.now() + timedelta(seconds=delay_s)
        values["enqueued_at"] = None
    stmt = (
        pg_insert(WorkUnit)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["kind", "dedupe_key"])
        .returning(WorkUnit.id)
    )
    new_id = await session.scalar(stmt)
    if new_id is not None:
        return new_id, True
    existing = await session.scalar(select(WorkUnit.id).where(WorkUnit.kind == kind, WorkUnit.dedupe_key == key))
    if existing is None:  # pragma: no cover - a conflict implies the row exists
        raise RuntimeError(f"work unit {kind}/{key} conflicted but is missing")
    return existing, False


async def push(
    queue: WorkQueue | None, sessionmaker: async_sessionmaker[AsyncSession], ids: Sequence[uuid.UUID]
) -> bool:
    """Wake workers for `ids`. A failed push is not an error: the units are stored, and the sweeper pushes
    them again (sooner when we could mark them as not enqueued)."""
    if not ids or queue is None:
        return True
    try:
        await queue.push([str(i) for i in ids])
        return True
    except Exception as exc:
        log.warning("could not push %d unit(s) to the queue (%s); the sweeper will", len(ids), exc)
        with contextlib.suppress(Exception):
            async with session_scope(sessionmaker) as session:
                await session.execute(update(WorkUnit).where(WorkUnit.id.in_(ids)).values(enqueued_at=None))
        return False


class WorkEnqueue:
    """The `Enqueue` port (see `core.deps`): `await enqueue("pipeline.run_job", job_id=...)` stores a unit
    (deduplicated by its kind's key) and wakes a worker."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], queue: WorkQueue | None) -> None:
        self.sessionmaker = sessionmaker
        self.queue = queue

    async def __call__(self, kind: str, /, **payload: Any) -> None:
        await self.submit(kind, payload)

    async def submit(self, kind: str, payload: dict[str, Any], *, key: str | None = None) -> uuid.UUID:
        async with session_scope(self.sessionmaker) as session:
            unit_id, created = await add(session, kind, payload, key=key)
        if created:
            await push(self.queue, self.sessionmaker, [unit_id])
        return unit_id
