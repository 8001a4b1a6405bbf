"""The scheduler: fails fast on a task name nobody registered, and submits each periodic task once per period."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.work.models import WorkUnit
from core.work.registry import HANDLERS
from tasks.scheduler import PERIODIC, Periodic, check_periodic, submit_due
from tasks.slack import qa_reminders


def test_every_periodic_task_is_registered():
    check_periodic()  # would raise SystemExit naming the missing task
    assert {p.task for p in PERIODIC} >= {"billing.send_trial_reminders", "slack.send_qa_reminders"}


def test_qa_reminders_run_often_enough_to_come_before_the_due_time():
    check_periodic()
    (qa,) = [p for p in PERIODIC if p.task == "slack.send_qa_reminders"]
    # A request is reminded once it is due within 2 hours: a run at least every hour gets there in time.
    assert HANDLERS["slack.send_qa_reminders"].run is qa_reminders and qa.every_s <= 3600


def test_an_unregistered_periodic_task_stops_the_scheduler_at_start():
    with pytest.raises(SystemExit, match=r"slack\.qa_reminders_typo"):
        check_periodic((Periodic("slack.qa_reminders_typo", 60),))


async def test_periodic_tasks_are_submitted_once_per_period_however_often_the_scheduler_ticks(live_deps):
    periodic = (Periodic("billing.send_trial_reminders", 3600),)
    for _ in range(3):
        await submit_due(live_deps, None, periodic)
    async with live_deps.sessionmaker() as session:
        n = await session.scalar(
            select(func.count())
            .select_from(WorkUnit)
            .where(
                WorkUnit.kind == "billing.send_trial_reminders",
                WorkUnit.dedupe_key.like("billing.send_trial_reminders@%"),
            )
        )
    assert n == 1
