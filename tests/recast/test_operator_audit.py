"""A `recast` command's audit rows come through the `operator` channel with the login as actor, and the
command leaves no source behind in the calling context."""

from __future__ import annotations

import asyncio
import getpass
import logging

from sqlalchemy import select

from core.db.session import make_sessionmaker, session_scope
from core.system import audit
from core.system.models import AuditLog
from recast.cli import main
from tests.core.workflow.builders import build_team


async def test_an_operators_invite_is_audited_as_the_operator_channel(database_url, engine, monkeypatch, tmp_path):
    async with session_scope(make_sessionmaker(engine)) as session:
        team = await build_team(session)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("RECAST_DATA_DIR", str(tmp_path))
    factory = logging.getLogRecordFactory()
    try:
        assert await asyncio.to_thread(main, ["org", "invite", team.org.slug]) == 0
    finally:
        logging.setLogRecordFactory(factory)  # `recast` redacts every record from then on, process-wide
    assert audit.current() is None
    async with make_sessionmaker(engine)() as session:
        rows = (
            await session.scalars(
                select(AuditLog).where(
                    AuditLog.action == "slack_invite_created", AuditLog.organization_id == team.org.id
                )
            )
        ).all()
    assert [(r.channel, r.ip_address, r.metadata_.get("actor")) for r in rows] == [
        ("operator", None, f"operator:{getpass.getuser()}")
    ]
