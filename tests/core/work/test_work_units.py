"""Durable work units against the real database: claims, leases, retries, dead letters, sweeping."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, update

from core.db.session import make_sessionmaker
from core.work import leases
from core.work.admin import counts_by_state, purge_finished, stuck_or_failed
from core.work.errors import is_transient
from core.work.models import UnitState, WorkUnit
from core.work.registry import unit_handler
from core.work.runner import Outcome, run_unit
from core.work.submit import WorkEnqueue
from core.work.sweeper import sweep

RUNS: dict[str, list[str]] = {}
GIVEN_UP: dict[str, list[str]] = {}


def _record(name: str, marker: str) -> None:
    RUNS.setdefault(name, []).append(marker)


@unit_handler("test.ok", key=lambda p: p.get("key"))
async def _ok(deps: Any, marker: str, key: str | None = None) -> dict[str, str]:
    _record("test.ok", marker)
    return {"seen": marker}


async def _gave_up(deps: Any, payload: dict[str, Any], error: str) -> None:
    GIVEN_UP.setdefault(payload["marker"], []).append(error)


@unit_handler("test.flaky", on_give_up=_gave_up, max_attempts=2)
async def _flaky(deps: Any, marker: str) -> None:
    _record("test.flaky", marker)
    raise ConnectionRefusedError("database went away")


@unit_handler("test.broken", on_give_up=_gave_up)
async def _broken(deps: Any, marker: str) -> None:
    _record("test.broken", marker)
    raise ValueError("a bug, not a blip")


@unit_handler("test.slow", on_give_up=_gave_up)
async def _slow(deps: Any, marker: str, seconds: float) -> None:
    _record("test.slow", marker)
    await asyncio.sleep(seconds)


class ListQueue:
    """An in-memory stand-in for the wake-up list (the queue is only a hint; the database is the truth)."""

    def __init__(self) -> None:
        self.items: list[str] = []

    async def push(self, unit_ids: list[str]) -> None:
        self.items.extend(unit_ids)

    async def pop(self, timeout_s: float) -> str | None:
        return self.items.pop(0) if self.items else None

    async def depth(self) -> int:
        return len(self.items)


@pytest.fixture
def deps(live_deps):
    return live_deps


async def _unit(deps, unit_id: uuid.UUID) -> WorkUnit:
    async with deps.sessionmaker() as session:
        return await session.get_one(WorkUnit, unit_id)


async def _make_due(deps, unit_id: uuid.UUID) -> None:
    async with deps.sessionmaker() as session:
        await session.execute(update(WorkUnit).where(WorkUnit.id == unit_id).values(run_after=func.now()))
        await session.commit()


async def test_the_same_work_submitted_twice_is_one_unit_and_runs_once(deps):
    queue = ListQueue()
    enqueue = WorkEnqueue(deps.sessionmaker, queue)
    key = uuid.uuid4().hex
    first = await enqueue.submit("test.ok", {"marker": key, "key": key})
    second = await enqueue.submit("test.ok", {"marker": key, "key": key})
    assert first == second and queue.items == [str(first)]  # the duplicate wakes nobody
    assert await run_unit(deps, first, worker="w1") == Outcome.SUCCEEDED
    assert await run_unit(deps, first, worker="w2") == Outcome.SKIPPED  # a redelivered message
    unit = await _unit(deps, first)
    assert unit.state == UnitState.SUCCEEDED and unit.attempts == 1 and unit.result == {"seen": key}
    assert RUNS["test.ok"].count(key) == 1


async def test_a_live_lease_cannot_be_claimed_by_a_second_worker(deps):
    unit_id = await WorkEnqueue(deps.sessionmaker, None).submit("test.ok", {"marker": "lease"})
    assert await leases.claim(deps.sessionmaker, unit_id, worker="w1", lease_s=30) is not None
    assert await leases.claim(deps.sessionmaker, unit_id, worker="w2", lease_s=30) is None
    async with deps.sessionmaker() as session:  # the lease runs out (the holder died)
        await session.execute(
            update(WorkUnit).where(WorkUnit.id == unit_id).values(leased_until=func.now() - timedelta(seconds=1))
        )
        await session.commit()
    again = await leases.claim(deps.sessionmaker, unit_id, worker="w2", lease_s=30)
    assert again is not None and again.attempts == 2


async def test_transient_errors_back_off_then_dead_letter_and_tell_the_owner_once(deps):
    marker = uuid.uuid4().hex
    unit_id = await WorkEnqueue(deps.sessionmaker, None).submit("test.flaky", {"marker": marker})
    assert await run_unit(deps, unit_id, worker="w1") == Outcome.RETRYING
    unit = await _unit(deps, unit_id)
    assert unit.state == UnitState.QUEUED and unit.attempts == 1 and "database went away" in (unit.last_error or "")
    assert unit.run_after > unit.updated_at  # backoff: not due at once
    assert await run_unit(deps, unit_id, worker="w1") == Outcome.SKIPPED  # not due yet
    await _make_due(deps, unit_id)
    assert await run_unit(deps, unit_id, worker="w1") == Outcome.DEAD
    unit = await _unit(deps, unit_id)
    assert unit.state == UnitState.DEAD and unit.finished_at is not None
    assert len(GIVEN_UP[marker]) == 1 and "database went away" in GIVEN_UP[marker][0]
    assert RUNS["test.flaky"].count(marker) == 2


async def test_a_permanent_error_fails_the_unit_at_once_with_its_traceback(deps):
    marker = uuid.uuid4().hex
    unit_id = await WorkEnqueue(deps.sessionmaker, None).submit("test.broken", {"marker": marker})
    assert await run_unit(deps, unit_id, worker="w1") == Outcome.FAILED
    unit = await _unit(deps, unit_id)
    assert unit.state == UnitState.FAILED and "ValueError: a bug, not a blip" in (unit.last_error or "")
    assert len(GIVEN_UP[marker]) == 1


async def test_a_unit_that_outlives_its_lease_while_heartbeating_runs_once(deps):
    marker = uuid.uuid4().hex
    unit_id = await WorkEnqueue(deps.sessionmaker, None).submit("test.slow", {"marker": marker, "seconds": 3.0})
    running = asyncio.create_task(run_unit(deps, unit_id, worker="w1", lease_s=0.9))
    stolen = []
    for _ in range(30):  # another worker keeps trying, well past three lease lengths
        await asyncio.sleep(0.1)
        if await leases.claim(deps.sessionmaker, unit_id, worker="w2", lease_s=0.9) is not None:
            stolen.append(True)
        await sweep(deps, None)
    assert await running == Outcome.SUCCEEDED
    assert stolen == [] and RUNS["test.slow"].count(marker) == 1


async def test_a_unit_cancelled_at_shutdown_is_released_without_spending_an_attempt(deps):
    marker = uuid.uuid4().hex
    queue = ListQueue()
    unit_id = await WorkEnqueue(deps.sessionmaker, None).submit("test.slow", {"marker": marker, "seconds": 30})
    running = asyncio.create_task(run_unit(deps, unit_id, worker="w1"))
    await asyncio.sleep(0.5)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    unit = await _unit(deps, unit_id)
    assert (unit.state, unit.attempts, unit.leased_by, unit.enqueued_at) == (UnitState.QUEUED, 0, None, None)
    await sweep(deps, queue)
    assert str(unit_id) in queue.items  # pushed again at once for another worker
    async with deps.sessionmaker() as session:  # don't leave a 30 s unit for other tests' workers
        await session.execute(delete(WorkUnit).where(WorkUnit.id == unit_id))
        await session.commit()


async def test_the_sweeper_re_drives_an_expired_lease_and_a_lost_message(deps):
    queue = ListQueue()
    lost = await WorkEnqueue(deps.sessionmaker, None).submit("test.ok", {"marker": "lost"})
    crashed = await WorkEnqueue(deps.sessionmaker, None).submit("test.ok", {"marker": "crashed"})
    assert await leases.claim(deps.sessionmaker, crashed, worker="dead-worker", lease_s=0.2) is not None
    async with deps.sessionmaker() as session:  # the message for `lost` went with a Redis restart
        await session.execute(
            update(WorkUnit).where(WorkUnit.id == lost).values(enqueued_at=func.now() - timedelta(minutes=5))
        )
        await session.commit()
    await asyncio.sleep(0.4)
    report = await sweep(deps, queue)
    assert report.expired >= 1 and {str(lost), str(crashed)} <= set(queue.items)
    crashed_row = await _unit(deps, crashed)
    assert crashed_row.state == UnitState.QUEUED and "stopped" in (crashed_row.last_error or "")
    assert await run_unit(deps, crashed, worker="w2") == Outcome.SUCCEEDED


async def test_units_delayed_until_now_are_pushed_in_one_sweep_however_many_are_due(deps):
    """Delayed units are not pushed when added (nothing could run them); once due, one sweep pushes all
    of them, batch after batch, not one batch per sweep interval."""
    from core.db.session import session_scope
    from core.work.submit import add

    async with session_scope(deps.sessionmaker) as session:
        ids = [(await add(session, "test.ok", {"marker": f"due-{i}"}, delay_s=0.2))[0] for i in range(7)]
        rows = [await session.get(WorkUnit, i) for i in ids]
        assert all(row is not None and row.enqueued_at is None for row in rows)
    await asyncio.sleep(0.4)
    queue = ListQueue()
    report = await sweep(deps, queue, limit=3)
    assert {str(i) for i in ids} <= set(queue.items) and report.pushed >= 7


async def test_a_unit_whose_worker_keeps_dying_is_dead_lettered_and_its_owner_told(deps):
    marker = uuid.uuid4().hex
    unit_id = await WorkEnqueue(deps.sessionmaker, None).submit("test.flaky", {"marker": marker})
    for _ in range(2):  # two workers die holding it (max_attempts is 2)
        assert await leases.claim(deps.sessionmaker, unit_id, worker="doomed", lease_s=0.1) is not None
        await asyncio.sleep(0.2)
        await sweep(deps, None)
    unit = await _unit(deps, unit_id)
    assert unit.state == UnitState.DEAD and len(GIVEN_UP[marker]) == 1


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (ConnectionResetError(), True),
        (OSError(111, "Connect call failed"), True),
        (FileNotFoundError(2, "No such file"), False),
        (ExceptionGroup("render", [ConnectionResetError(), TimeoutError()]), True),
        (ExceptionGroup("render", [ConnectionResetError(), ValueError()]), False),
        (ValueError("bad input"), False),
    ],
)
def test_only_infrastructure_errors_count_as_transient(exc, transient):
    assert is_transient(exc) is transient


async def test_units_by_state_and_the_operator_listing(engine):
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        counts = await counts_by_state(session)
        listed = await stuck_or_failed(session)
    assert all(isinstance(n, int) for n in counts.values())
    assert all(u.state in (UnitState.DEAD, UnitState.FAILED, UnitState.QUEUED, UnitState.RUNNING) for u in listed)


async def test_succeeded_units_are_purged_after_they_age_but_failed_ones_stay(deps):
    old = await WorkEnqueue(deps.sessionmaker, None).submit("test.ok", {"marker": "old"})
    assert await run_unit(deps, old, worker="w1") == Outcome.SUCCEEDED
    broken = await WorkEnqueue(deps.sessionmaker, None).submit("test.broken", {"marker": uuid.uuid4().hex})
    assert await run_unit(deps, broken, worker="w1") == Outcome.FAILED
    async with deps.sessionmaker() as session:
        await session.execute(
            update(WorkUnit).where(WorkUnit.id.in_([old, broken])).values(finished_at=func.now() - timedelta(days=40))
        )
        assert await purge_finished(session, older_than=timedelta(days=30)) >= 1
        await session.commit()
        assert await session.get(WorkUnit, old) is None
        assert await session.get(WorkUnit, broken) is not None
