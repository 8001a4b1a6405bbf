"""`recast jobs`: operators see dead-lettered, failed and retrying units with their last error, and re-drive one."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from core.config import Settings
from core.db.session import make_sessionmaker
from core.work.models import UnitState, WorkUnit
from core.work.submit import WorkEnqueue
from recast import commands
from tasks.registry import load_all


async def test_jobs_lists_a_dead_unit_with_its_error_and_redrive_queues_it_again(
    database_url, engine, capsys, tmp_path
):
    load_all()
    sessionmaker = make_sessionmaker(engine)
    unit_id = await WorkEnqueue(sessionmaker, None).submit("pipeline.rewrite_draft", {"draft_id": str(uuid.uuid4())})
    async with sessionmaker() as session:
        await session.execute(
            update(WorkUnit)
            .where(WorkUnit.id == unit_id)
            .values(state=UnitState.DEAD, attempts=5, last_error="Traceback...\nConnectionRefusedError: db down")
        )
        await session.commit()
    settings = Settings(_env_file=None, database_url=database_url, recast_data_dir=tmp_path)
    assert await commands.jobs(settings, "list", None) == 0
    listed = capsys.readouterr().out
    assert str(unit_id) in listed and "dead" in listed and "ConnectionRefusedError: db down" in listed

    assert await commands.jobs(settings, "redrive", str(unit_id)) == 0
    async with sessionmaker() as session:
        unit = await session.get_one(WorkUnit, unit_id)
    assert (unit.state, unit.attempts, unit.enqueued_at) == (UnitState.QUEUED, 0, None)
    assert await commands.jobs(settings, "redrive", "not-a-uuid") == 2
    assert await commands.jobs(settings, "redrive", str(uuid.uuid4())) == 1
    # A queued unit picked up again must not be re-driven twice into two runs: it's the same row.
    async with sessionmaker() as session:
        await session.execute(update(WorkUnit).where(WorkUnit.id == unit_id).values(state=UnitState.SUCCEEDED))
        await session.commit()
