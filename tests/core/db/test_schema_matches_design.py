"""The migrated database implements the seed design (docs/schema.md, a copy of the design kept in the
repository so a standalone clone tests the same thing), read at test time.

Deliberate deviations, each asserted rather than skipped:
- every TIMESTAMP is `timestamp with time zone` (Recast stores UTC instants);
- engagement_metrics is partitioned by collected_at, so its primary key is (id, collected_at) and
  collected_at is NOT NULL;
- analytics_snapshots_archive (`LIKE analytics_snapshots INCLUDING ALL`) also gets the source's
  foreign keys, which LIKE does not copy, so a deleted user's archived snapshots go too;
- subscriptions.paypal_subscription_id (unique) sits next to the design's razorpay/stripe/cashfree ids,
  so PayPal subscription events can find their subscription;
- platform_connections carries why it stopped working (status, status_reason), when its owner was told,
  and whether it is a member or an organization account (publishing needs all four), and when analytics
  found its token lacks the insights permission (insights_blocked_at);
- content_assets carries the creator's stated hours and cost of the original, roi_calculations the currency
  of its money and the basis of its figures, seo_metrics a blog draft's on-page checks and when they were
  made (analytics: ROI and SEO);
- calendar_entries carries the creator's decision on a suggested slot (status, decided_at) and the post
  it became (scheduled_post_id), which the seed kept nowhere;
- audit_logs carries the channel an action came through (telegram, slack, web, gateway, platform,
  worker, operator).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMA_MD = REPO_ROOT / "docs" / "schema.md"

PK_OVERRIDES = {"engagement_metrics": {"id", "collected_at"}}
NOT_NULL_OVERRIDES = {("engagement_metrics", "collected_at")}
# Columns Recast adds to a designed table: (table, column) -> (type, NOT NULL).
EXTRA_COLUMNS = {
    ("subscriptions", "paypal_subscription_id"): ("character varying(255)", False),
    ("platform_connections", "status"): ("character varying(20)", True),
    ("platform_connections", "status_reason"): ("text", False),
    ("platform_connections", "owner_told_at"): ("timestamp with time zone", False),
    ("platform_connections", "account_kind"): ("character varying(20)", False),
    ("platform_connections", "insights_blocked_at"): ("timestamp with time zone", False),
    ("scheduled_posts", "metrics_stage"): ("smallint", True),
    ("scheduled_posts", "metrics_due_at"): ("timestamp with time zone", False),
    ("analytics_snapshots", "client_account_id"): ("uuid", False),
    ("analytics_snapshots_archive", "client_account_id"): ("uuid", False),
    ("content_assets", "creator_hours"): ("numeric(5,2)", False),
    ("content_assets", "creator_cost"): ("numeric(10,2)", False),
    ("content_assets", "creator_cost_currency"): ("character varying(3)", False),
    ("roi_calculations", "currency"): ("character varying(3)", False),
    ("roi_calculations", "basis"): ("jsonb", False),
    ("seo_metrics", "on_page_checks"): ("jsonb", False),
    ("seo_metrics", "checked_at"): ("timestamp with time zone", False),
    ("calendar_entries", "status"): ("character varying(20)", True),
    ("calendar_entries", "scheduled_post_id"): ("uuid", False),
    ("calendar_entries", "decided_at"): ("timestamp with time zone", False),
    ("audit_logs", "channel"): ("character varying(20)", False),
}

# Foreign keys Recast adds on a designed table (a snapshot can belong to a client account).
EXTRA_FOREIGN_KEYS = {
    ("analytics_snapshots", "client_account_id"): ("client_accounts", "id", "c"),
    ("analytics_snapshots_archive", "client_account_id"): ("client_accounts", "id", "c"),
    ("calendar_entries", "scheduled_post_id"): ("scheduled_posts", "id", "n"),
}

_DELETE_RULES = {"CASCADE": "c", "SET NULL": "n", "SET DEFAULT": "d", "RESTRICT": "r", "NO ACTION": "a"}


@dataclass
class SeedColumn:
    name: str
    pg_type: str
    not_null: bool
    primary_key: bool
    unique: bool
    default: str | None
    references: tuple[str, str, str] | None  # (table, column, confdeltype)


@dataclass
class SeedTable:
    name: str
    columns: dict[str, SeedColumn] = field(default_factory=dict)
    uniques: list[frozenset[str]] = field(default_factory=list)
    like: str | None = None


@dataclass
class SeedIndex:
    name: str
    table: str
    definition: str


def _pg_type(seed_type: str) -> str:
    t = re.sub(r"\s+", "", seed_type.upper())
    array = t.endswith("[]")
    t = t.removesuffix("[]")
    m = re.fullmatch(r"(\w+)(?:\((\d+)(?:,(\d+))?\))?", t)
    assert m, f"unparsed type {seed_type!r}"
    base, n, s = m.groups()
    mapped = {
        "UUID": "uuid",
        "TEXT": "text",
        "BOOLEAN": "boolean",
        "INTEGER": "integer",
        "INT": "integer",
        "BIGINT": "bigint",
        "DATE": "date",
        "TIME": "time without time zone",
        "TIMESTAMP": "timestamp with time zone",  # deliberate: timestamptz everywhere
        "JSONB": "jsonb",
    }
    if base == "VARCHAR":
        out = f"character varying({n})"
    elif base in ("DECIMAL", "NUMERIC"):
        out = f"numeric({n},{s or 0})"
    else:
        out = mapped[base]
    return out + ("[]" if array else "")


def _split_top_level(body: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


_COLUMN = re.compile(r"^(?P<name>\w+)\s+(?P<type>\w+(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\[\])?)(?P<rest>.*)$", re.S)
_REFERENCES = re.compile(
    r"REFERENCES\s+(\w+)\s*\((\w+)\)(?:\s+ON\s+DELETE\s+(CASCADE|SET NULL|SET DEFAULT|RESTRICT|NO ACTION))?",
    re.I,
)
_DEFAULT = re.compile(r"DEFAULT\s+('[^']*'|\w+\(\)|[\w.]+)", re.I)


def parse_schema(markdown: str) -> tuple[dict[str, SeedTable], list[SeedIndex]]:
    tables: dict[str, SeedTable] = {}
    indexes: list[SeedIndex] = []
    for block in re.findall(r"```sql\n(.*?)```", markdown, re.S):
        sql = re.sub(r"--[^\n]*", "", block)
        for statement in (s.strip() for s in sql.split(";")):
            if not statement:
                continue
            if re.match(r"CREATE TABLE \w+ PARTITION OF", statement, re.I):
                continue  # our SQL function makes the partitions (tested in test_model_behaviour)
            if m := re.match(r"CREATE TABLE (\w+)\s*\((.*)\)\s*$", statement, re.S | re.I):
                table = SeedTable(m.group(1))
                for raw_item in _split_top_level(m.group(2)):
                    item = " ".join(raw_item.split())
                    if like := re.match(r"LIKE (\w+)", item, re.I):
                        table.like = like.group(1)
                    elif uq := re.match(r"UNIQUE\s*\((.*)\)$", item, re.I):
                        table.uniques.append(frozenset(c.strip() for c in uq.group(1).split(",")))
                    else:
                        col = _COLUMN.match(item)
                        assert col, f"unparsed column {item!r} in {table.name}"
                        rest = col.group("rest").upper()
                        ref = _REFERENCES.search(col.group("rest"))
                        default = _DEFAULT.search(col.group("rest"))
                        table.columns[col.group("name")] = SeedColumn(
                            name=col.group("name"),
                            pg_type=_pg_type(col.group("type")),
                            not_null="NOT NULL" in rest,
                            primary_key="PRIMARY KEY" in rest,
                            unique=bool(re.search(r"\bUNIQUE\b", rest)),
                            default=default.group(1) if default else None,
                            references=(
                                (
                                    ref.group(1),
                                    ref.group(2),
                                    _DELETE_RULES[(ref.group(3) or "NO ACTION").upper()],
                                )
                                if ref
                                else None
                            ),
                        )
                tables[table.name] = table
            elif m := re.match(r"CREATE INDEX (\w+) ON (\w+)\s*(.*)$", statement, re.S | re.I):
                indexes.append(SeedIndex(m.group(1), m.group(2), " ".join(m.group(3).split())))
    for table in tables.values():  # LIKE ... INCLUDING ALL: same columns and constraints
        if table.like:
            source = tables[table.like]
            table.columns = dict(source.columns)
            table.uniques = list(source.uniques)
    return tables, indexes


@pytest.fixture(scope="module")
def seed() -> tuple[dict[str, SeedTable], list[SeedIndex]]:
    assert SCHEMA_MD.is_file(), f"design file missing: {SCHEMA_MD}"
    return parse_schema(SCHEMA_MD.read_text(encoding="utf-8"))


def test_parser_reads_the_whole_design(seed: tuple[dict[str, SeedTable], list[SeedIndex]]) -> None:
    tables, indexes = seed
    # A parser that silently dropped statements would make every other test here pass vacuously.
    text = SCHEMA_MD.read_text(encoding="utf-8")
    assert len(tables) == text.count("CREATE TABLE") - text.count("PARTITION OF") == 40
    assert len(indexes) == text.count("CREATE INDEX") == 59
    assert tables["analytics_snapshots_archive"].columns.keys() == tables["analytics_snapshots"].columns.keys()
    assert tables["team_members"].uniques == [frozenset({"organization_id", "user_id"})]
    assert tables["users"].columns["email"].unique
    assert tables["content_analysis"].columns["transcript_confidence"].pg_type == "numeric(5,2)"
    assert tables["sessions"].columns["user_id"].references == ("users", "id", "c")
    assert tables["team_members"].columns["invited_by"].references == ("users", "id", "a")


async def _columns(conn: AsyncConnection) -> dict[str, dict[str, tuple[str, bool, str | None]]]:
    rows: Sequence[Any] = (
        await conn.exec_driver_sql(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
            "pg_get_expr(d.adbin, d.adrelid) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped"
        )
    ).all()
    out: dict[str, dict[str, tuple[str, bool, str | None]]] = {}
    for table, column, type_, not_null, default in rows:
        out.setdefault(table, {})[column] = (type_, not_null, default)
    return out


def _normalize_default(value: str) -> str:
    value = re.sub(r"::[a-z ]+(\(\d+(,\d+)?\))?", "", value.lower())
    return {"current_timestamp": "now()"}.get(value, value)


async def test_every_table_and_column_exists_with_a_compatible_type(
    seed: tuple[dict[str, SeedTable], list[SeedIndex]], connection: AsyncConnection
) -> None:
    tables, _ = seed
    db = await _columns(connection)
    missing_tables = set(tables) - set(db)
    assert not missing_tables
    problems = []
    for table in tables.values():
        extra = {c for t, c in EXTRA_COLUMNS if t == table.name}
        assert set(db[table.name]) == set(table.columns) | extra, table.name
        for name in extra:
            assert db[table.name][name][:2] == EXTRA_COLUMNS[(table.name, name)], name
        for col in table.columns.values():
            type_, not_null, default = db[table.name][col.name]
            if type_ != col.pg_type:
                problems.append(f"{table.name}.{col.name}: {type_} != {col.pg_type}")
            want_not_null = col.not_null or col.primary_key or (table.name, col.name) in NOT_NULL_OVERRIDES
            if not_null != want_not_null:
                problems.append(f"{table.name}.{col.name}: NOT NULL is {not_null}")
            got = None if default is None else _normalize_default(default)
            want = None if col.default is None else _normalize_default(col.default)
            if got != want:
                problems.append(f"{table.name}.{col.name}: default {default!r} vs seed {col.default!r}")
    assert problems == []


async def test_every_foreign_key_has_the_designed_on_delete_rule(
    seed: tuple[dict[str, SeedTable], list[SeedIndex]], connection: AsyncConnection
) -> None:
    tables, _ = seed
    rows: Sequence[Any] = (
        await connection.exec_driver_sql(
            "SELECT c.relname, a.attname, rc.relname, ra.attname, k.confdeltype::text "
            "FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class rc ON rc.oid = k.confrelid "
            "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] "
            "JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1] "
            "WHERE k.contype = 'f' AND array_length(k.conkey, 1) = 1 AND NOT c.relispartition"
        )
    ).all()
    actual = {(t, c): (rt, rc, rule) for t, c, rt, rc, rule in rows}
    expected = {
        (table.name, col.name): col.references
        for table in tables.values()
        for col in table.columns.values()
        if col.references
    }
    assert len(expected) == SCHEMA_MD.read_text(encoding="utf-8").count("REFERENCES") + 2  # + archive
    assert {k: actual.get(k) for k in expected} == expected
    # No foreign key the design does not have, on the design's tables.
    extra = {k: actual[k] for k in actual if k[0] in tables and k not in expected}
    assert extra == EXTRA_FOREIGN_KEYS


async def test_every_unique_and_primary_key_exists(
    seed: tuple[dict[str, SeedTable], list[SeedIndex]], connection: AsyncConnection
) -> None:
    tables, _ = seed
    rows: Sequence[Any] = (
        await connection.exec_driver_sql(
            "SELECT c.relname, k.contype::text, array_agg(a.attname::text) FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid "
            "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey) "
            "WHERE k.contype IN ('u', 'p') AND NOT c.relispartition "
            "GROUP BY c.relname, k.conname, k.contype"
        )
    ).all()
    uniques: dict[str, set[frozenset[str]]] = {}
    pks: dict[str, set[str]] = {}
    for table, kind, cols in rows:
        if kind == "p":
            pks[table] = set(cols)
        else:
            uniques.setdefault(table, set()).add(frozenset(cols))
    for table in tables.values():
        want_pk = PK_OVERRIDES.get(table.name) or {c.name for c in table.columns.values() if c.primary_key}
        assert pks.get(table.name) == want_pk, table.name
        want = set(table.uniques) | {frozenset({c.name}) for c in table.columns.values() if c.unique}
        assert want <= uniques.get(table.name, set()), table.name


def _normalize_index(definition: str) -> str:
    d = re.sub(r"::[a-z ]+", "", definition.lower())
    d = d.replace("using btree", "")
    return re.sub(r"[\s()]", "", d)


async def test_every_designed_index_exists_on_its_table_with_its_definition(
    seed: tuple[dict[str, SeedTable], list[SeedIndex]], connection: AsyncConnection
) -> None:
    _, indexes = seed
    rows: Sequence[Any] = (
        await connection.exec_driver_sql(
            "SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        )
    ).all()
    db = {name: (table, definition) for name, table, definition in rows}
    problems = []
    for index in indexes:
        if index.name not in db:
            problems.append(f"missing {index.name}")
            continue
        table, definition = db[index.name]
        if table != index.table:
            problems.append(f"{index.name} is on {table}, not {index.table}")
        # pg_indexes: "CREATE INDEX name ON public.t USING btree (a, b DESC) WHERE (...)"
        body = re.split(rf" ON (?:ONLY )?public\.{table} ", definition, maxsplit=1)[1]
        if _normalize_index(body) != _normalize_index(index.definition):
            problems.append(f"{index.name}: {body!r} vs seed {index.definition!r}")
    assert problems == []
