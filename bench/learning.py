"""Learning from results at volume: what a heavy creator's plan and clip job add before they start.

Loads 200,000 published drafts with figures spread over 4,000 creators, and a heavy creator with 5,000
published text drafts (five formats) and 1,000 published clips with their moment features. Times the two
reads the product does per upload through its own code (`learning.format_results` when planning, and
`learning.clip_learning` when a clip job starts: the query plus the rank correlations in Python), p50/p99,
side by side with a baseline: the same figures from one plain SQL aggregate each (`GROUP BY` the format's
mean rate; `corr()` of the ranks in SQL), which moves no rows to Python. Prints the format query's plan.

Uses DATABASE_URL's server (or 127.0.0.1:5432) with a bench database of its own, dropped at the end.

    python bench/learning.py [--others 200000] [--runs 30] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.publishing import admin_url, pct  # noqa: E402
from core.db import migrate  # noqa: E402
from core.infra.embedded import with_database  # noqa: E402

FORMATS = (
    ("linkedin_post", "linkedin"),
    ("twitter_thread", "twitter"),
    ("instagram_caption", "instagram"),
    ("youtube_shorts", "youtube"),
    ("blog_article", "blog"),
)
CHUNK = 50_000

FORMAT_BASELINE = """
SELECT metadata->>'output_format' AS fmt, count(*), avg(engagement_rate)
FROM generated_content
WHERE user_id = $1 AND is_published AND deleted_at IS NULL AND engagement_rate IS NOT NULL
GROUP BY 1
"""
CLIP_BASELINE = """
WITH c AS (
    SELECT engagement_rate AS r,
           (metadata->'components'->>'hook')::float AS hook,
           (metadata->'components'->>'sentiment')::float AS sentiment
    FROM generated_content
    WHERE user_id = $1 AND content_type = 'short_video' AND is_published AND deleted_at IS NULL
      AND engagement_rate IS NOT NULL
), ranked AS (
    SELECT rank() OVER (ORDER BY r) AS rr, rank() OVER (ORDER BY hook) AS rh,
           rank() OVER (ORDER BY sentiment) AS rs FROM c
)
SELECT count(*), corr(rr, rh), corr(rr, rs) FROM ranked
"""


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


async def load(conn: asyncpg.Connection, others: int) -> tuple[uuid.UUID, float]:
    rng = random.Random(11)
    users = [_uuid(rng) for _ in range(max(2, others // 50))]
    await conn.copy_records_to_table(
        "users",
        records=[(u, f"l{i}@bench.example", "!x", f"User {i}") for i, u in enumerate(users)],
        columns=["id", "email", "password_hash", "full_name"],
    )
    heavy = users[0]
    started = time.perf_counter()
    rows: list[tuple[object, ...]] = []

    async def flush() -> None:
        await conn.copy_records_to_table(
            "generated_content",
            records=rows,
            columns=["id", "user_id", "content_type", "target_platform", "is_published", "engagement_rate", "metadata"],
        )
        rows.clear()

    def text_draft(user: uuid.UUID, i: int) -> tuple[object, ...]:
        fmt, platform = FORMATS[i % len(FORMATS)]
        kind = {"blog_article": "blog_article", "youtube_shorts": "short_script"}.get(fmt, "social_post")
        rate = round(rng.uniform(0.5, 3.0) * (1 + (i % len(FORMATS)) / 4), 2)
        return (_uuid(rng), user, kind, platform, True, rate, json.dumps({"output_format": fmt}))

    for i in range(5_000):
        rows.append(text_draft(heavy, i))
    for i in range(1_000):
        hook, sentiment = rng.random(), rng.random()
        meta = {
            "output_format": "short_video",
            "text": "Why? A clip." if i % 3 == 0 else "A clip.",
            "components": {"hook": hook, "keywords": rng.random(), "sentiment": sentiment, "pace": rng.random()},
        }
        rate = round(1 + 4 * sentiment + rng.random(), 2)
        rows.append((_uuid(rng), heavy, "short_video", "instagram", True, rate, json.dumps(meta)))
    for i in range(others):
        rows.append(text_draft(users[1 + i % (len(users) - 1)], i))
        if len(rows) >= CHUNK:
            await flush()
    await flush()
    await conn.execute("ANALYZE")
    return heavy, time.perf_counter() - started


async def timed(db_url: str, heavy: uuid.UUID, runs: int) -> dict[str, list[float]]:
    from core.analytics import learning
    from core.clips.moments import WEIGHTS
    from core.db.session import make_engine, make_sessionmaker

    engine = make_engine(db_url, pool_size=2)
    sessionmaker = make_sessionmaker(engine)
    out: dict[str, list[float]] = {"formats": [], "clips": [], "formats_sql": [], "clips_sql": []}
    conn = await asyncpg.connect(db_url)
    try:
        for n in range(runs + 2):  # the first two warm the caches and are not counted
            async with sessionmaker() as session:
                t0 = time.perf_counter()
                found = await learning.format_results(session, heavy)
                t1 = time.perf_counter()
                clips = await learning.clip_learning(session, heavy, WEIGHTS)
                t2 = time.perf_counter()
            await conn.fetch(FORMAT_BASELINE, heavy)
            t3 = time.perf_counter()
            await conn.fetch(CLIP_BASELINE, heavy)
            t4 = time.perf_counter()
            if n >= 2:
                out["formats"].append(t1 - t0)
                out["clips"].append(t2 - t1)
                out["formats_sql"].append(t3 - t2)
                out["clips_sql"].append(t4 - t3)
        assert len(found) == len(FORMATS) + 1 and clips.clips == 1_000
        print(f"formats learned: {', '.join(f'{k} {v.lift:.2f}x ({v.pieces})' for k, v in found.items())}")
        print(
            f"clip weights learned from {clips.clips} clips: "
            + ", ".join(f"{k} {v:.3f}" for k, v in clips.weights.items())
        )
        plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + FORMAT_BASELINE, heavy)
        print("plan (formats):\n" + "\n".join(r[0] for r in plan))
    finally:
        await conn.close()
        await engine.dispose()
    return out


async def run(args: argparse.Namespace) -> None:
    name = f"recast_bench_learning_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(admin_url())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    db_url = with_database(admin_url(), name)
    try:
        await asyncio.to_thread(migrate.upgrade, db_url)
        conn = await asyncpg.connect(db_url)
        heavy, load_s = await load(conn, args.others)
        total = await conn.fetchval("SELECT count(*) FROM generated_content")
        await conn.close()
        print(f"loaded {total:,} published drafts with figures in {load_s:.1f} s (heavy creator: 6,000)")
        times = await timed(db_url, heavy, args.runs)
        for label, ours, base in (
            ("format results (planning)", times["formats"], times["formats_sql"]),
            ("clip learning (clip job)", times["clips"], times["clips_sql"]),
        ):
            print(
                f"{label}: p50 {statistics.median(ours) * 1000:.1f} ms, p99 {pct(ours, 99) * 1000:.1f} ms | "
                f"baseline SQL p50 {statistics.median(base) * 1000:.1f} ms, p99 {pct(base, 99) * 1000:.1f} ms | "
                f"ours / baseline {statistics.median(ours) / statistics.median(base):.1f}x"
            )
    finally:
        if not args.keep:
            admin = await asyncpg.connect(admin_url())
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--others", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
