"""`work_units`: the database, not the queue, says what work exists and what is done.

A unit is claimed by a conditional UPDATE (queued and due, or running with an expired lease), so a
queue message delivered twice, late or never can neither run the work twice at once nor lose it.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, Index, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, uuid_pk


class UnitState(enum.StrEnum):
    QUEUED = "queued"  # waiting (possibly until run_after, for a retry's backoff)
    RUNNING = "running"  # claimed by a worker holding the lease
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # a permanent error: retrying cannot help
    DEAD = "dead"  # transient errors (or lost workers) until max_attempts: dead-lettered


TERMINAL_STATES = (UnitState.SUCCEEDED, UnitState.FAILED, UnitState.DEAD)


class WorkUnit(Base):
    __tablename__ = "work_units"
    __table_args__ = (
        # One unit per (kind, dedupe_key): submitting the same work twice finds the first.
        UniqueConstraint("kind", "dedupe_key"),
        # The sweeper's and the claim's working set: only non-terminal rows.
        Index("idx_work_units_active", "state", "run_after", postgresql_where=text("state IN ('queued', 'running')")),
        Index("idx_work_units_kind_state", "kind", "state"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # The task name, e.g. pipeline.run_job; its handler is looked up in core.work.registry.
    kind: Mapped[str] = mapped_column(String(100))
    dedupe_key: Mapped[str | None] = mapped_column(String(255))
    # The organization the submitting session acted for; its handler runs acting for it (None: as owner).
    organization_id: Mapped[uuid.UUID | None]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    state: Mapped[UnitState] = mapped_column(
        Enum(UnitState, name="work_unit_state", values_callable=lambda e: [m.value for m in e]),
        server_default=text("'queued'"),
    )
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    max_attempts: Mapped[int] = mapped_column(server_default=text("5"))
    run_after: Mapped[datetime] = mapped_column(server_default=func.now())
    leased_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(100))
    # When a queue message for this unit was last pushed (NULL: none, the sweeper pushes one).
    enqueued_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
