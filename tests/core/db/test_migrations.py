"""The Alembic history: a stairway (upgrade/downgrade/upgrade per revision) and no model drift."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import migrate
from core.db.registry import metadata

# Same rule as migrations/env.py: yearly partitions are made by a SQL function, not declared.
_PARTITION = re.compile(r"^engagement_metrics_(\d{4}|default)$")


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "table" and name is not None and _PARTITION.match(name))


async def _fetch(url: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


def _public_objects(url: str) -> dict[str, set[str]]:
    """Everything user-made in schema public: relations, functions, types, triggers."""
    relations = asyncio.run(
        _fetch(
            url,
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
        )
    )
    functions = asyncio.run(
        _fetch(
            url,
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
        )
    )
    types = asyncio.run(
        _fetch(
            url,
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd') ",
        )
    )
    triggers = asyncio.run(_fetch(url, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
    return {
        "relations": {r[0] for r in relations},
        "functions": {r[0] for r in functions},
        "types": {r[0] for r in types},
        "triggers": {r[0] for r in triggers},
    }


def _tables(url: str) -> set[str]:
    rows = asyncio.run(_fetch(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
    return {r[0] for r in rows}


def test_stairway_every_revision_upgrades_downgrades_and_upgrades_again(
    make_database: Callable[[str], str],
) -> None:
    url = make_database("stairway")
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    revisions = list(reversed(list(script.walk_revisions())))  # oldest first
    assert revisions, "no Alembic revisions found"
    for rev in revisions:
        migrate.upgrade(url, rev.revision)
        migrate.downgrade(url, rev.down_revision or "base")  # type: ignore[arg-type]
        migrate.upgrade(url, rev.revision)

    assert set(metadata.tables) <= _tables(url)

    migrate.downgrade(url, "base")
    left = _public_objects(url)
    # alembic_version (and its primary key index) is all that may remain.
    assert left["relations"] <= {"alembic_version", "alembic_version_pkc"}, left["relations"]
    assert left["functions"] == set()
    assert left["types"] == set()
    assert left["triggers"] == set()

    migrate.upgrade(url)
    assert set(metadata.tables) <= _tables(url)


def _compare(sync_conn: Connection) -> list[Any]:
    ctx = MigrationContext.configure(
        sync_conn,
        opts={"compare_type": True, "compare_server_default": True, "include_object": _include_object},
    )
    return list(compare_metadata(ctx, metadata))


async def test_models_and_migrated_database_have_no_drift(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diffs = await conn.run_sync(_compare)
    # Nothing is ignored: tables, columns, types, nullability, server defaults, FKs, uniques and
    # indexes (expression, DESC and partial ones included) all compare equal.
    assert diffs == []


async def test_every_table_with_updated_at_has_the_trigger(engine: AsyncEngine) -> None:
    expected = {t.name for t in metadata.tables.values() if "updated_at" in t.c}
    async with engine.connect() as conn:
        rows: Sequence[Any] = (
            await conn.exec_driver_sql(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE NOT t.tgisinternal AND p.proname = 'recast_set_updated_at'"
            )
        ).all()
    assert {r[0] for r in rows} == expected
    assert len(expected) >= 23


async def test_migration_created_engagement_partitions_around_this_year(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        rows: Sequence[Any] = (
            await conn.exec_driver_sql(
                "SELECT c.relname, now() FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'engagement_metrics'::regclass"
            )
        ).all()
    names = {r[0] for r in rows}
    year = rows[0][1].year
    assert {f"engagement_metrics_{y}" for y in range(year - 1, year + 3)} | {"engagement_metrics_default"} <= names


def _normalize_sql(expr: str) -> str:
    """`((status)::text = 'active'::text)` and `status = 'active'` both become `status='active'`;
    PostgreSQL's `x = ANY (ARRAY[a, b])` becomes the `x IN (a, b)` it was written as."""
    expr = re.sub(r"::[a-z_ ]+(\(\d+(,\d+)?\))?(\[\])?", "", expr.lower())
    expr = re.sub(r"[\s()]", "", expr)
    return re.sub(r"=anyarray\[(.*?)\]", r"in\1", expr)


async def test_partial_index_predicates_match_the_models(engine: AsyncEngine) -> None:
    # Alembic's comparison ignores `postgresql_where`, so predicates are compared here.
    expected = {
        index.name: _normalize_sql(str(index.dialect_options["postgresql"]["where"]))
        for table in metadata.tables.values()
        for index in table.indexes
        if index.dialect_options["postgresql"]["where"] is not None
    }
    assert {"idx_active_users", "idx_active_subs", "idx_scheduled_upcoming", "idx_notif_unread"} <= set(expected)
    async with engine.connect() as conn:
        rows: Sequence[Any] = (
            await conn.exec_driver_sql(
                "SELECT c.relname, pg_get_expr(i.indpred, i.indrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indpred IS NOT NULL"
            )
        ).all()
    actual = {name: _normalize_sql(pred) for name, pred in rows if name in expected}
    assert actual == expected


@pytest.mark.parametrize("scheme", ["postgresql://", "postgresql+asyncpg://"])
def test_the_alembic_command_reads_database_url_in_either_scheme(
    make_database: Callable[[str], str], scheme: str
) -> None:
    url = make_database(f"cli_{scheme.split(':', maxsplit=1)[0].replace('+', '_')}")
    env = {**os.environ, "DATABASE_URL": url.replace("postgresql://", scheme, 1)}
    alembic = [sys.executable, "-m", "alembic", "-c", str(migrate.PROJECT_ROOT / "alembic.ini")]
    subprocess.run([*alembic, "upgrade", "head"], env=env, check=True, capture_output=True)
    assert set(metadata.tables) <= _tables(url)
    subprocess.run([*alembic, "downgrade", "base"], env=env, check=True, capture_output=True)
    assert _tables(url) <= {"alembic_version"}
