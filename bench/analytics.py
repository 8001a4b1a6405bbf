"""Analytics at the seed's year-one volume: 10,000 users, 100,000 source assets, 500,000 drafts, 5,000,000
`engagement_metrics` rows (ten collections per published draft over the year) and 500,000 snapshots.

Reports the load time, the nightly rollup (a day's, a Monday's and a 1st's snapshots for every user,
organization and client account), and p50/p99 of the `/stats` query (this week vs the same days of last
week) for the heaviest creator and the heaviest agency, side by side with the same aggregate computed by a
plain SQL query over the raw table (every row of the owner's drafts, newest per period by window function,
no pruning) as the baseline. Prints the query plan of the `/stats` query.

Uses DATABASE_URL's server (or 127.0.0.1:5432) with a bench database of its own, dropped at the end.

    python bench/analytics.py [--drafts 500000] [--rows-per-draft 10] [--runs 20] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.publishing import admin_url, pct  # noqa: E402
from core.db import migrate  # noqa: E402
from core.infra.embedded import with_database  # noqa: E402

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # a Wednesday: a partial week to compare
STAGES_H = (1, 6, 24, 72, 168, 720)
CHUNK = 100_000

BASELINE = """
WITH mine AS (
    SELECT m.*, row_number() OVER (PARTITION BY m.generated_content_id, m.platform ORDER BY m.collected_at DESC) AS n
    FROM engagement_metrics m JOIN generated_content g ON g.id = m.generated_content_id {join}
    WHERE {owner} = $1 AND m.collected_at < $3
), before AS (
    SELECT m.*, row_number() OVER (PARTITION BY m.generated_content_id, m.platform ORDER BY m.collected_at DESC) AS n
    FROM engagement_metrics m JOIN generated_content g ON g.id = m.generated_content_id {join}
    WHERE {owner} = $1 AND m.collected_at < $2
)
SELECT e.platform,
       sum(coalesce(nullif(e.views, 0), e.impressions, 0) - coalesce(nullif(s.views, 0), s.impressions, 0)),
       sum(e.likes + e.comments + e.shares + e.saves - coalesce(s.likes + s.comments + s.shares + s.saves, 0))
FROM mine e LEFT JOIN before s ON s.generated_content_id = e.generated_content_id AND s.platform = e.platform
     AND s.n = 1
WHERE e.n = 1
GROUP BY e.platform
"""


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


async def load(conn: asyncpg.Connection, drafts: int, rows_per_draft: int) -> dict[str, object]:
    """Rows straight in by COPY (the product's write path is measured elsewhere); returns who is heavy."""
    rng = random.Random(7)
    users = [_uuid(rng) for _ in range(drafts // 50)]
    await conn.copy_records_to_table(
        "users",
        records=[(u, f"u{i}@bench.example", "!x", f"User {i}") for i, u in enumerate(users)],
        columns=["id", "email", "password_hash", "full_name"],
    )
    orgs = [_uuid(rng) for _ in range(len(users) // 50)]
    await conn.copy_records_to_table(
        "organizations",
        records=[(o, f"Agency {i}", f"agency-{i}", users[i]) for i, o in enumerate(orgs)],
        columns=["id", "name", "slug", "owner_id"],
    )
    clients = [(_uuid(rng), orgs[i // 5]) for i in range(len(orgs) * 5)]
    await conn.copy_records_to_table(
        "client_accounts",
        records=[(c, o, f"Client {i}", f"client-{i}") for i, (c, o) in enumerate(clients)],
        columns=["id", "organization_id", "name", "slug"],
    )
    heavy_user, heavy_client = users[1], clients[0]
    assets: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID | None, uuid.UUID | None]] = []
    for _ in range(drafts // 5):
        # 2% of assets are the heavy creator's, 5% the heavy agency's first client's, 30% some agency's.
        roll = rng.random()
        if roll < 0.02:
            assets.append((_uuid(rng), heavy_user, None, None))
        elif roll < 0.07:
            assets.append((_uuid(rng), users[0], heavy_client[1], heavy_client[0]))
        elif roll < 0.37:
            client, org = clients[rng.randrange(len(clients))]
            assets.append((_uuid(rng), users[rng.randrange(len(users))], org, client))
        else:
            assets.append((_uuid(rng), users[rng.randrange(len(users))], None, None))
    await conn.copy_records_to_table(
        "content_assets",
        records=[(a, u, o, c, f"Talk {i}", "text", "local:x") for i, (a, u, o, c) in enumerate(assets)],
        columns=["id", "user_id", "organization_id", "client_account_id", "title", "content_type", "file_url"],
    )
    platforms = ("linkedin", "x", "instagram", "youtube", "tiktok")
    draft_rows, metric_rows = [], 0
    started = time.perf_counter()
    batch: list[tuple[object, ...]] = []
    for d in range(drafts):
        asset, user, _, _ = assets[d // 5]
        draft_id = _uuid(rng)
        published = NOW - timedelta(hours=rng.uniform(1, 365 * 24))
        draft_rows.append((draft_id, asset, user, "social_post", published - timedelta(hours=2), True, published))
        platform = platforms[d % len(platforms)]
        views = 0
        likes = 0
        # The six collections, then daily updates (comment and status webhooks) up to the row budget.
        hours = [*STAGES_H, *(720 + 24 * k for k in range(1, rows_per_draft - len(STAGES_H) + 1))][:rows_per_draft]
        for h in hours:
            at = published + timedelta(hours=h)
            if at >= NOW:
                break
            views += rng.randrange(20, 400)
            likes += rng.randrange(0, 20)
            batch.append((draft_id, platform, views, views, likes, likes // 5, likes // 8, likes // 10, at))
        if len(batch) >= CHUNK:
            await _flush_metrics(conn, draft_rows, batch)
            metric_rows += len(batch)
            draft_rows, batch = [], []
    await _flush_metrics(conn, draft_rows, batch)
    metric_rows += len(batch)
    load_s = time.perf_counter() - started
    snapshot_rows = []
    for i in range(500_000 if drafts >= 500_000 else drafts):
        user = users[i % len(users)]
        snapshot_rows.append((user, date(2026, 12, 1) - timedelta(days=i // len(users)), "daily", 10, 1))
    started = time.perf_counter()
    await conn.copy_records_to_table(
        "analytics_snapshots",
        records=snapshot_rows,
        columns=["user_id", "snapshot_date", "snapshot_type", "total_views", "total_engagement"],
    )
    load_s += time.perf_counter() - started
    await conn.execute("ANALYZE")
    return {
        "heavy_user": heavy_user,
        "heavy_org": heavy_client[1],
        "metric_rows": metric_rows,
        "load_s": load_s,
        "snapshots": len(snapshot_rows),
    }


async def _flush_metrics(
    conn: asyncpg.Connection, drafts: list[tuple[object, ...]], rows: list[tuple[object, ...]]
) -> None:
    if drafts:
        await conn.copy_records_to_table(
            "generated_content",
            records=drafts,
            columns=["id", "content_asset_id", "user_id", "content_type", "created_at", "is_published", "published_at"],
        )
    if rows:
        await conn.copy_records_to_table(
            "engagement_metrics",
            records=rows,
            columns=[
                "generated_content_id",
                "platform",
                "views",
                "impressions",
                "likes",
                "comments",
                "shares",
                "saves",
                "collected_at",
            ],
        )


async def timed_stats(db_url: str, scope: str, owner: uuid.UUID, runs: int) -> tuple[list[float], list[float], str]:
    from sqlalchemy import text

    from core.analytics.figures import Scope, gains_sql, period_figures
    from core.analytics.stats import week_start
    from core.db.session import make_engine, make_sessionmaker

    engine = make_engine(db_url, pool_size=2)
    sessionmaker = make_sessionmaker(engine)
    start = week_start(NOW, "Asia/Kolkata")
    ours, base = [], []
    kind = Scope(scope)
    owner_sql, join = (
        ("g.user_id", "")
        if kind == Scope.USER
        else ("a.organization_id", "JOIN content_assets a ON a.id = g.content_asset_id")
    )
    baseline = BASELINE.format(owner=owner_sql, join=join)
    conn = await asyncpg.connect(db_url)
    try:
        for _ in range(runs):
            t = time.perf_counter()
            async with sessionmaker() as session:
                await period_figures(session, kind, owner, start, NOW)
                await period_figures(session, kind, owner, start - timedelta(days=7), NOW - timedelta(days=7))
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            await conn.fetch(baseline, owner, start, NOW)
            await conn.fetch(baseline, owner, start - timedelta(days=7), NOW - timedelta(days=7))
            base.append(time.perf_counter() - t)
        async with sessionmaker() as session:
            plan = await session.execute(
                text("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + gains_sql(kind, one_owner=True)),
                {"owner": owner, "start": start, "end": NOW},
            )
            lines = [row[0] for row in plan.all()]
    finally:
        await conn.close()
        await engine.dispose()
    return ours, base, "\n".join(lines)


async def timed_rollup(db_url: str) -> dict[str, float]:
    from core.analytics import snapshots
    from core.db.session import make_engine, make_sessionmaker

    engine = make_engine(db_url, pool_size=2)
    sessionmaker = make_sessionmaker(engine)
    times = {}
    try:
        for label, day in (
            ("daily", date(2026, 12, 2)),
            ("daily+weekly", date(2026, 11, 30)),
            ("daily+monthly", date(2026, 12, 1)),
        ):
            t = time.perf_counter()
            async with sessionmaker() as session:
                written = await snapshots.roll_up(session, day)
                await session.commit()
            times[f"{label} ({written:,} rows)"] = time.perf_counter() - t
        t = time.perf_counter()
        async with sessionmaker() as session:
            moved = await snapshots.archive_old(session, date(2026, 12, 2))
            await session.commit()
        times[f"archive ({moved:,} moved)"] = time.perf_counter() - t
    finally:
        await engine.dispose()
    return times


async def run(args: argparse.Namespace) -> None:
    name = f"recast_bench_analytics_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(admin_url())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    db_url = with_database(admin_url(), name)
    try:
        await asyncio.to_thread(migrate.upgrade, db_url)
        conn = await asyncpg.connect(db_url)
        await conn.execute("SELECT recast_ensure_engagement_partitions(2025, 2027)")
        loaded = await load(conn, args.drafts, args.rows_per_draft)
        size = await conn.fetchval(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits "
            "WHERE inhparent = 'engagement_metrics'::regclass"
        )
        parts = await conn.fetchval(
            "SELECT string_agg(c.relname || ' ' || c.reltuples::bigint, ', ') FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'engagement_metrics'::regclass"
        )
        heavy = await conn.fetchval(
            "SELECT count(*) FROM engagement_metrics m JOIN generated_content g ON g.id = m.generated_content_id "
            "WHERE g.user_id = $1",
            loaded["heavy_user"],
        )
        agency = await conn.fetchval(
            "SELECT count(*) FROM engagement_metrics m JOIN generated_content g ON g.id = m.generated_content_id "
            "JOIN content_assets a ON a.id = g.content_asset_id WHERE a.organization_id = $1",
            loaded["heavy_org"],
        )
        await conn.close()
        print(
            f"loaded {loaded['metric_rows']:,} engagement_metrics rows ({size}; {parts}), {args.drafts:,} drafts, "
            f"{loaded['snapshots']:,} snapshots in {loaded['load_s']:.1f} s"
        )
        print(f"heavy creator: {heavy:,} metric rows; heavy agency: {agency:,} metric rows")
        for label, scope, owner in (
            ("heavy creator", "user", loaded["heavy_user"]),
            ("heavy agency", "organization", loaded["heavy_org"]),
        ):
            ours, base, plan = await timed_stats(db_url, scope, owner, args.runs)  # type: ignore[arg-type]
            print(
                f"/stats {label}: p50 {statistics.median(ours) * 1000:.1f} ms, p99 {pct(ours, 99) * 1000:.1f} ms | "
                f"baseline p50 {statistics.median(base) * 1000:.1f} ms, p99 {pct(base, 99) * 1000:.1f} ms | "
                f"{statistics.median(base) / statistics.median(ours):.1f}x"
            )
            if label == "heavy agency" or args.plans:
                print(f"plan ({label}):\n{plan}")
        for label, seconds in (await timed_rollup(db_url)).items():
            print(f"nightly rollup {label}: {seconds:.1f} s")
    finally:
        if not args.keep:
            admin = await asyncpg.connect(admin_url())
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drafts", type=int, default=500_000)
    parser.add_argument("--rows-per-draft", type=int, default=11)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--plans", action="store_true", help="print both query plans")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
