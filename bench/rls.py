"""The cost of row-level security on the hot paths, side by side in the same run: each path timed as the
tables' owner (no policy applies: RLS off), as the owner acting for one organization (`core.db.tenancy`:
every policy applies; development's shape) and as the RLS-bound login role acting for it (production's
shape, `recast db login-role`), alternating run by run over the same rows.

- `/stats`: this week vs last for the heaviest creator and the heaviest agency (`period_figures`), over the
  data set of bench/analytics.py (default 100,000 drafts, about 1 M engagement_metrics rows);
- draft delivery: one draft written per transaction (`generated_content`, whose policy checks its upload);
- webhook ingest: one `gateway_events` row per transaction (a shared table: no policy; the figure shows
  what the tenant switch alone costs).

Uses DATABASE_URL's server (or 127.0.0.1:5432) with a bench database of its own, dropped at the end.

    python bench/rls.py [--drafts 100000] [--runs 20] [--writes 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.analytics import NOW, load  # noqa: E402
from bench.publishing import admin_url, pct  # noqa: E402
from core.db import migrate  # noqa: E402
from core.db.tenancy import ensure_login_role  # noqa: E402
from core.infra.embedded import with_database  # noqa: E402

LOGIN_ROLE = "recast_bench_login"


def _line(label: str, off: list[float], on: list[float], login: list[float], unit: float = 1000) -> str:
    def cell(xs: list[float]) -> str:
        return f"{statistics.median(xs) * unit:.2f} / {pct(xs, 99) * unit:.2f}"

    base = statistics.median(off)
    return (
        f"| {label} | {cell(off)} | {cell(on)} | {cell(login)} | "
        f"{statistics.median(on) / base:.2f}x | {statistics.median(login) / base:.2f}x |"
    )


async def run(args: argparse.Namespace) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.analytics.figures import Scope, period_figures
    from core.analytics.stats import week_start
    from core.db import tenancy
    from core.db.session import make_engine, make_sessionmaker, session_scope

    name = f"recast_bench_rls_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(admin_url())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    db_url = with_database(admin_url(), name)
    engine = make_engine(db_url, pool_size=2)
    sessionmaker = make_sessionmaker(engine)
    login_engine = None
    try:
        await asyncio.to_thread(migrate.upgrade, db_url)
        await ensure_login_role(db_url, LOGIN_ROLE, password=None)
        parts = urlsplit(db_url)
        login_url = urlunsplit(parts._replace(netloc=f"{LOGIN_ROLE}@{parts.netloc.rsplit('@', 1)[-1]}"))
        login_engine = make_engine(login_url, pool_size=2)
        login_sessionmaker = make_sessionmaker(login_engine)
        conn = await asyncpg.connect(db_url)
        await conn.execute("SELECT recast_ensure_engagement_partitions(2025, 2027)")
        loaded = await load(conn, args.drafts, 11)
        # The heavy creator acts in their personal organization (owned by them); the agency in its own.
        heavy_user_org = await conn.fetchval("SELECT id FROM organizations WHERE owner_id = $1", loaded["heavy_user"])
        asset = await conn.fetchval(
            "SELECT id FROM content_assets WHERE organization_id = $1 LIMIT 1", loaded["heavy_org"]
        )
        await conn.close()
        print(f"loaded {loaded['metric_rows']:,} engagement_metrics rows, {args.drafts:,} drafts")
        start = week_start(NOW, "Asia/Kolkata")

        async def stats(session: AsyncSession, scope: Scope, owner: uuid.UUID) -> None:
            await period_figures(session, scope, owner, start, NOW)
            await period_figures(session, scope, owner, start - timedelta(days=7), NOW - timedelta(days=7))

        async def timed(
            work: Callable[[AsyncSession], Awaitable[None]], org: uuid.UUID | None, *, login: bool = False
        ) -> float:
            t = time.perf_counter()
            if org is None:
                async with session_scope(sessionmaker) as session:
                    await work(session)
            else:
                async with tenancy.tenant_session(login_sessionmaker if login else sessionmaker, org) as session:
                    await work(session)
            return time.perf_counter() - t

        async def side_by_side(
            work: Callable[[AsyncSession], Awaitable[None]], org: uuid.UUID, runs: int
        ) -> tuple[list[float], list[float], list[float]]:
            off, on, login = [], [], []
            for _ in range(runs):
                off.append(await timed(work, None))
                on.append(await timed(work, org))
                login.append(await timed(work, org, login=True))
            return off, on, login

        print(
            "| path | RLS off p50 / p99 ms | owner acting p50 / p99 | login role acting p50 / p99"
            " | on/off | login/off |"
        )
        print("|---|---|---|---|---|---|")

        for label, scope, owner, org in (
            ("/stats heavy creator", Scope.USER, loaded["heavy_user"], heavy_user_org),
            ("/stats heavy agency", Scope.ORGANIZATION, loaded["heavy_org"], loaded["heavy_org"]),
        ):
            off, on, login = await side_by_side(lambda s, sc=scope, ow=owner: stats(s, sc, ow), org, args.runs)  # type: ignore[misc]
            print(_line(label, off, on, login))

        async def deliver_draft(session: AsyncSession) -> None:
            await session.execute(
                text(
                    "INSERT INTO generated_content (content_asset_id, content_type, content_text)"
                    " VALUES (:asset, 'social_post', 'A draft')"
                ),
                {"asset": asset},
            )

        off, on, login = await side_by_side(deliver_draft, loaded["heavy_org"], args.writes)
        print(_line("draft delivery (one INSERT a transaction)", off, on, login))

        async def ingest(session: AsyncSession) -> None:
            await session.execute(
                text(
                    "INSERT INTO gateway_events (sender, sender_event_id, raw_body)"
                    " VALUES ('razorpay', :id, '\\x7b7d') ON CONFLICT DO NOTHING"
                ),
                {"id": uuid.uuid4().hex},
            )

        off, on, login = await side_by_side(ingest, loaded["heavy_org"], args.writes)
        print(_line("webhook ingest (one INSERT a transaction)", off, on, login))
    finally:
        await engine.dispose()
        if login_engine is not None:
            await login_engine.dispose()
        admin = await asyncpg.connect(admin_url())
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drafts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--writes", type=int, default=2000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
