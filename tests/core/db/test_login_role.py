"""The database reached as production reaches it: an RLS-bound login role (`recast db login-role`), not the
tables' owner. A session that forgets to say who acts sees no tenant's rows; the cross-tenant work asks for
the maintenance role by name."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.accounts.service import register_chat_user
from core.analytics import snapshots
from core.analytics.partitions import ensure_engagement_partitions
from core.common.clock import utcnow
from core.db.session import as_maintenance, maintenance_scope, make_engine, make_sessionmaker, session_scope
from core.db.tenancy import tenant_session
from core.work.models import WorkUnit
from tests.analytics_rows import Piece, upload_with_drafts
from tests.workers import drain, running_worker

TENANT_TABLES = ("content_assets", "generated_content", "engagement_metrics", "brand_profiles", "usage_tracking")


async def _creator_with_upload(session: AsyncSession, name: str) -> tuple[uuid.UUID, uuid.UUID]:
    reg = await register_chat_user(
        session=session,
        provider="telegram",
        external_user_id=f"login-{uuid.uuid4().hex[:12]}",
        chat_id=f"login-{uuid.uuid4().hex[:8]}",
        full_name=name,
    )
    asset, _ = await upload_with_drafts(session, reg.user.id, [Piece(published=True, views=5, collected_saves=[1])])
    return reg.organization.id, asset.id


@pytest.fixture
async def login_sessionmaker(login_database_url: str):
    engine = make_engine(login_database_url, pool_size=2)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def two_uploads(engine: AsyncEngine) -> dict[str, tuple[uuid.UUID, uuid.UUID]]:
    async with session_scope(make_sessionmaker(engine)) as session:  # the tables' owner: the fixture's rows
        asha = await _creator_with_upload(session, "Asha")
        return {"asha": asha, "bilal": await _creator_with_upload(session, "Bilal")}


async def test_the_login_role_holds_no_privilege_until_a_transaction_takes_a_role(login_database_url: str) -> None:
    connection = await asyncpg.connect(login_database_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.fetchval("SELECT count(*) FROM content_assets")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.fetchval("SELECT count(*) FROM users")
        flags = await connection.fetchrow(
            "SELECT rolsuper, rolbypassrls, rolinherit FROM pg_roles WHERE rolname = session_user"
        )
        assert tuple(flags) == (False, False, False)
    finally:
        await connection.close()


async def test_a_session_that_names_no_organization_sees_no_tenants_rows(
    login_sessionmaker: async_sessionmaker[AsyncSession], two_uploads: dict[str, tuple[uuid.UUID, uuid.UUID]]
) -> None:
    async with login_sessionmaker() as session:
        assert await session.scalar(text("SELECT current_user")) == "recast_app"
        for table in TENANT_TABLES:  # deliberately unfiltered
            assert (await session.scalar(text(f"SELECT count(*) FROM {table}"))) == 0, table
        # The shared identity tables are readable: a door finds who is acting before anyone acts.
        assert (await session.scalar(text("SELECT count(*) FROM users"))) >= 2
        changed = await session.execute(text("UPDATE content_assets SET title = 'taken'"))
        assert changed.rowcount == 0  # type: ignore[attr-defined]


async def test_acting_for_an_organization_under_the_login_role_sees_only_its_rows(
    login_sessionmaker: async_sessionmaker[AsyncSession], two_uploads: dict[str, tuple[uuid.UUID, uuid.UUID]]
) -> None:
    asha_org, asha_upload = two_uploads["asha"]
    _, bilal_upload = two_uploads["bilal"]
    async with tenant_session(login_sessionmaker, asha_org) as session:
        visible = set(await session.scalars(text("SELECT id FROM content_assets")))
        assert asha_upload in visible and bilal_upload not in visible
        with pytest.raises(DBAPIError, match="row-level security"):
            async with session.begin_nested():  # handing one's own upload to another organization
                await session.execute(
                    text("UPDATE content_assets SET organization_id = gen_random_uuid() WHERE id = :id"),
                    {"id": asha_upload},
                )


async def test_maintenance_named_explicitly_spans_every_organization(
    login_sessionmaker: async_sessionmaker[AsyncSession], two_uploads: dict[str, tuple[uuid.UUID, uuid.UUID]]
) -> None:
    with as_maintenance():
        async with login_sessionmaker() as session:
            assert await session.scalar(text("SELECT current_user")) == "recast_maintenance"
            visible = set(await session.scalars(text("SELECT id FROM content_assets")))
    assert {two_uploads["asha"][1], two_uploads["bilal"][1]} <= visible
    async with login_sessionmaker() as session:  # and only inside it
        assert (await session.scalar(text("SELECT count(*) FROM content_assets"))) == 0


async def test_the_partitions_of_engagement_metrics_are_not_a_way_round_the_policy(
    login_sessionmaker: async_sessionmaker[AsyncSession], two_uploads: dict[str, tuple[uuid.UUID, uuid.UUID]]
) -> None:
    async with login_sessionmaker() as session:
        partitions = list(
            await session.scalars(
                text(
                    "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'engagement_metrics'::regclass"
                )
            )
        )
    assert partitions
    for partition in partitions:
        async with login_sessionmaker() as session:
            with pytest.raises(DBAPIError, match="permission denied"):
                await session.execute(text(f"SELECT count(*) FROM {partition}"))


async def test_a_periodic_unit_runs_as_maintenance_and_sees_every_organization(
    login_deps, engine: AsyncEngine, two_uploads: dict[str, tuple[uuid.UUID, uuid.UUID]], run_id: str
) -> None:
    today = utcnow().date()
    async with make_sessionmaker(engine)() as owner:  # what the roll-up writes as the tables' owner
        expected = await snapshots.roll_up(owner, today)
        await owner.rollback()
    async with login_deps.sessionmaker() as forgetful:  # the same code naming no one sees no one
        assert await snapshots.roll_up(forgetful, today) == 0
        await forgetful.rollback()
    assert expected >= 2
    async with running_worker(login_deps, f"recast-test-{run_id}-{uuid.uuid4().hex[:6]}") as worker:
        await login_deps.enqueue("analytics.roll_up")  # as the scheduler submits it: nobody's session
        await drain(worker)
    async with make_sessionmaker(engine)() as owner:
        unit = await owner.scalar(
            select(WorkUnit).where(WorkUnit.kind == "analytics.roll_up").order_by(WorkUnit.created_at.desc())
        )
    assert unit is not None and unit.organization_id is None and unit.state == "succeeded"
    assert unit.result is not None and unit.result["written"] == expected


async def test_the_schedulers_partition_upkeep_runs_as_maintenance_under_the_login_role(
    login_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    year = utcnow().year + 4
    async with maintenance_scope(login_sessionmaker) as session:
        await ensure_engagement_partitions(session=session, years_ahead=4)
    async with login_sessionmaker() as session:
        names = set(
            await session.scalars(
                text(
                    "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'engagement_metrics'::regclass"
                )
            )
        )
        assert any(str(year) in name for name in names), names
        with pytest.raises(DBAPIError, match="permission denied"):
            await session.execute(text(f"SELECT count(*) FROM {next(n for n in names if str(year) in n)}"))
