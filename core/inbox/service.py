"""The inbox: every inbound event (gateways now, platforms next, Telegram updates in webhook mode) is a
`gateway_events` row stored before it is acknowledged. One owner for its life after that:

    received ──claim──▶ (processing) ──▶ processed | ignored | malformed      (final)
                                    └──▶ failed (traceback kept; the work unit retries or gives up)

The hot path's INSERT lives in `core.inbox.store` (one statement, asyncpg); everything else is here.
"""

from __future__ import annotations

import traceback
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.common.clock import utcnow
from core.inbox.models import EventStatus, GatewayEvent

FINAL = (EventStatus.PROCESSED, EventStatus.IGNORED, EventStatus.MALFORMED)
_ERROR_LIMIT = 8000


async def record_update(
    session: AsyncSession, *, sender: str, event_id: str, event_type: str | None, body: bytes
) -> uuid.UUID | None:
    """Store an update that this process will handle at once (status `processing`, `processed_at` as its
    lease); None if (sender, event id) was stored before: a retry, never handled twice."""
    new_id: uuid.UUID | None = (
        await session.execute(
            insert(GatewayEvent)
            .values(
                sender=sender,
                sender_event_id=event_id,
                event_type=event_type,
                raw_body=body,
                headers={},
                status=EventStatus.PROCESSING,
                processed_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["sender", "sender_event_id"])
            .returning(GatewayEvent.id)
        )
    ).scalar_one_or_none()
    return new_id


async def claim(session: AsyncSession, event_id: uuid.UUID) -> GatewayEvent | None:
    """Lock the event for processing in this transaction; None if another worker holds it (SKIP LOCKED)."""
    event: GatewayEvent | None = await session.scalar(
        select(GatewayEvent).where(GatewayEvent.id == event_id).with_for_update(skip_locked=True)
    )
    return event


def mark_done(event: GatewayEvent, status: EventStatus, note: str | None) -> None:
    """A final outcome: processed, ignored or malformed (with why)."""
    event.status, event.attempts, event.last_error = status, event.attempts + 1, note
    event.processed_at = utcnow()


def mark_failed(event: GatewayEvent, error: BaseException | str | None = None) -> None:
    """Processing raised: keep the traceback (or the given reason) on the row, where operators look."""
    reason = error if isinstance(error, str) else traceback.format_exc()
    event.status, event.attempts, event.last_error = EventStatus.FAILED, event.attempts + 1, reason[-_ERROR_LIMIT:]


async def give_up(session: AsyncSession, event_id: uuid.UUID, error: str) -> None:
    """The unit processing this event gave up: mark it failed unless it reached a final state."""
    event = await session.get(GatewayEvent, event_id)
    if event is not None and event.status not in FINAL:
        event.status, event.last_error = EventStatus.FAILED, error[-_ERROR_LIMIT:]


async def finish_update(session: AsyncSession, event_id: uuid.UUID, *, error: str | None) -> None:
    """An update handled in this process: processed, or failed with what went wrong."""
    await session.execute(
        update(GatewayEvent)
        .where(GatewayEvent.id == event_id)
        .values(
            status=EventStatus.FAILED if error else EventStatus.PROCESSED,
            processed_at=utcnow(),
            attempts=GatewayEvent.attempts + 1,
            last_error=error,
        )
    )


async def renew_lease(session: AsyncSession, event_id: uuid.UUID) -> None:
    """Still handling it: move the lease (`processed_at` while `processing`) forward."""
    await session.execute(
        update(GatewayEvent)
        .where(GatewayEvent.id == event_id, GatewayEvent.status == EventStatus.PROCESSING)
        .values(processed_at=utcnow())
    )


_CLAIM_STALE = text(
    """
    UPDATE gateway_events SET processed_at = now(), attempts = attempts + 1
     WHERE id IN (SELECT id FROM gateway_events
                   WHERE sender = :sender AND status = 'processing' AND attempts < :max_attempts
                     AND coalesce(processed_at, received_at) < now() - make_interval(secs => :lease)
                   LIMIT 50 FOR UPDATE SKIP LOCKED)
    RETURNING id, raw_body
    """
)
_GIVE_UP_STALE = text(
    """
    UPDATE gateway_events SET status = 'failed',
           last_error = 'the process handling it stopped, ' || attempts || ' times'
     WHERE sender = :sender AND status = 'processing' AND attempts >= :max_attempts
       AND coalesce(processed_at, received_at) < now() - make_interval(secs => :lease)
    """
)


async def claim_stale_updates(
    session: AsyncSession, *, sender: str, lease: timedelta, max_attempts: int
) -> list[tuple[uuid.UUID, bytes]]:
    """Updates whose handler stopped renewing its lease (the process died): claimed for handling again,
    at most `max_attempts` times; past that they are failed with the reason."""
    params: dict[str, Any] = {"sender": sender, "lease": lease.total_seconds(), "max_attempts": max_attempts}
    await session.execute(_GIVE_UP_STALE, params)
    rows = (await session.execute(_CLAIM_STALE, params)).all()
    return [(row.id, bytes(row.raw_body)) for row in rows]


_ADOPT = text(
    """
    INSERT INTO work_units (kind, dedupe_key, payload, max_attempts)
    SELECT :kind, e.id::text, jsonb_build_object('event_id', e.id::text), :max_attempts
      FROM gateway_events e
     WHERE e.status = 'received' AND e.received_at < now() - make_interval(secs => :after)
       AND e.sender = ANY(:senders)
    ON CONFLICT (kind, dedupe_key) DO NOTHING
    """
)


async def adopt_unqueued(
    session: AsyncSession, *, senders: list[str], kind: str, after: timedelta, max_attempts: int
) -> int:
    """Stored events that never got a work unit (the process died between the two, or a unit was lost)
    get one, keyed by the event so it is never two."""
    params = {"kind": kind, "senders": senders, "after": after.total_seconds(), "max_attempts": max_attempts}
    result = await session.execute(_ADOPT, params)
    return int(getattr(result, "rowcount", 0) or 0)
