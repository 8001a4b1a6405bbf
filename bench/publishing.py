"""Publishing at scale: N posts due in the same minute across M LinkedIn connections, published by two
`recast worker` processes against a local server speaking LinkedIn's Posts API, side by side with a
baseline that makes the same HTTP calls from a bare aiohttp loop (no database, no queue, no records).

Reports the time from the due minute until every post is published, p50/p99 lateness against the due time,
duplicates and lost posts (counted on the platform side), and 429s met when a per-account limit is on.
Uses DATABASE_URL's server (or 127.0.0.1:5432) with a bench database of its own, dropped at the end, and
REDIS_URL (or 127.0.0.1:6379).

    python bench/publishing.py [--posts 10000] [--connections 1000] [--concurrency 16] [--limit-per-10s 0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.common.clock import utcnow  # noqa: E402
from core.db import migrate  # noqa: E402
from core.infra.embedded import with_database  # noqa: E402
from tests.fakes.linkedin_api import FakeLinkedIn  # noqa: E402


def admin_url() -> str:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    return with_database(url.replace("postgresql+asyncpg://", "postgresql://"), "postgres")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


async def seed(db_url: str, fake: FakeLinkedIn, posts: int, connections: int, due_in_s: float) -> float:
    """Connections, approved drafts and scheduled posts through the product's own `schedule`; then every
    post and its unit is moved to the same due instant (so inserting 10,000 rows doesn't eat the lead)."""
    from pydantic import SecretStr

    from core.accounts.models import User
    from core.config import Settings
    from core.db.session import make_engine, make_sessionmaker
    from core.distribution import connections as conns
    from core.distribution import publishing
    from core.distribution.connections import Owner
    from core.distribution.ports import Account, TokenSet
    from core.repurposing.models import GeneratedContent
    from tasks.registry import load_all

    load_all()
    settings = Settings(
        database_url=db_url, recast_secret_key=SecretStr("bench-secret-key-" + "x" * 32), _env_file=None
    )
    engine = make_engine(db_url, pool_size=5)
    sessionmaker = make_sessionmaker(engine)
    later = utcnow() + timedelta(hours=1)
    async with sessionmaker() as session:
        user = User(email=f"bench-{uuid.uuid4().hex[:6]}@example.com", password_hash="!x", full_name="Bench")
        session.add(user)
        await session.flush()
        rows = []
        for i in range(connections):
            member = f"m{i:05d}"
            token = fake.issue_token()
            fake.tokens[token] = member
            rows.append(
                await conns.save_connection(
                    session,
                    settings,
                    platform="linkedin",
                    owner=Owner(user.id),
                    account=Account(member, f"Member {i}"),
                    tokens=TokenSet(token, None, utcnow() + timedelta(days=60), ["w_member_social"]),
                )
            )
        await session.commit()
        for i in range(posts):
            draft = GeneratedContent(
                user_id=user.id,
                content_type="social_post",
                content_text=f"Bench post {i}: consistency beats talent.",
                metadata_={"output_format": "linkedin_post"},
            )
            session.add(draft)
            await session.flush()
            await publishing.schedule(
                session, draft=draft, connection=rows[i % connections], when=later, timezone="Asia/Kolkata"
            )
            if i % 500 == 499:
                await session.commit()
        await session.commit()
    await engine.dispose()
    conn = await asyncpg.connect(db_url)
    try:
        due = await conn.fetchval("SELECT now() + make_interval(secs => $1)", due_in_s)
        await conn.execute("UPDATE scheduled_posts SET scheduled_for = $1", due)
        await conn.execute(
            "UPDATE work_units SET run_after = $1, enqueued_at = NULL WHERE kind = 'distribution.publish_post'", due
        )
    finally:
        await conn.close()
    return due.timestamp()


async def run_recast(args: argparse.Namespace) -> dict[str, float]:
    name = f"recast_bench_pub_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    db_url = with_database(admin_url(), name)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        await asyncio.to_thread(migrate.upgrade, db_url)  # alembic runs its own event loop
        async with FakeLinkedIn(member_limit_per_10s=args.limit_per_10s) as fake:
            due = await seed(db_url, fake, args.posts, args.connections, due_in_s=20.0)
            env = {
                **os.environ,
                "DATABASE_URL": db_url,
                "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                "TASK_QUEUE": f"bench-pub-{name}",
                "RECAST_SECRET_KEY": "bench-secret-key-" + "x" * 32,
                "LINKEDIN_CLIENT_ID": fake.client_id,
                "LINKEDIN_CLIENT_SECRET": fake.client_secret,
                "LINKEDIN_API_BASE": fake.base_url,
                "LINKEDIN_OAUTH_BASE": f"{fake.base_url}/oauth/v2",
                "WORK_SWEEP_INTERVAL_S": "1",
                "LOG_LEVEL": "WARNING",
            }
            recast = str(Path(sys.executable).parent / "recast")
            for i in range(2):
                # Each worker its own data dir: local-mode Qdrant (brand voice, unused here) is one process's.
                data_dir = {"RECAST_DATA_DIR": str(ROOT / ".recast" / f"bench-publishing-{name}-{i}")}
                workers.append(
                    subprocess.Popen(
                        [recast, "worker", "--concurrency", str(args.concurrency)], env={**env, **data_dir}, cwd=ROOT
                    )
                )
            conn = await asyncpg.connect(db_url)
            try:
                deadline = time.monotonic() + args.timeout
                while time.monotonic() < deadline:
                    left = await conn.fetchval("SELECT count(*) FROM scheduled_posts WHERE status <> 'published'")
                    if left == 0:
                        break
                    await asyncio.sleep(0.5)
                rows = await conn.fetch(
                    "SELECT extract(epoch FROM published_at - scheduled_for) AS late, "
                    "extract(epoch FROM published_at) AS at FROM scheduled_posts WHERE status = 'published'"
                )
                attempts = await conn.fetchval("SELECT count(*) FROM publish_attempts")
            finally:
                await conn.close()
            late = [float(r["late"]) for r in rows]
            created = len(fake.posts)
            distinct = len({(p["author"], p["commentary"]) for p in fake.posts})
            return {
                "published": float(len(rows)),
                "lost": float(args.posts - len(rows)),
                "duplicates": float(created - distinct),
                "all_done_s": max(float(r["at"]) for r in rows) - due if rows else float("nan"),
                "p50_late_s": pct(late, 50),
                "p99_late_s": pct(late, 99),
                "attempts": float(attempts),
                "throttled": float(fake.throttled),
            }
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                w.wait(timeout=30)
        admin = await asyncpg.connect(admin_url())
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def run_baseline(args: argparse.Namespace) -> dict[str, float]:
    """The same POST /rest/posts calls, `2 x concurrency` in flight, from a bare loop."""
    async with FakeLinkedIn() as fake:
        tokens = []
        for i in range(args.connections):
            token = fake.issue_token()
            fake.tokens[token] = f"m{i:05d}"
            tokens.append((token, f"m{i:05d}"))
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(args.posts):
            queue.put_nowait(i)
        headers = {"LinkedIn-Version": "202611", "X-Restli-Protocol-Version": "2.0.0"}
        started = time.monotonic()
        done_at: list[float] = []

        async def client(session: aiohttp.ClientSession) -> None:
            while not queue.empty():
                i = queue.get_nowait()
                token, member = tokens[i % len(tokens)]
                body = {"author": f"urn:li:person:{member}", "commentary": f"Bench post {i}", "visibility": "PUBLIC"}
                async with session.post(
                    f"{fake.base_url}/rest/posts", json=body, headers={**headers, "Authorization": f"Bearer {token}"}
                ) as response:
                    assert response.status == 201, response.status
                done_at.append(time.monotonic() - started)

        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(client(session) for _ in range(2 * args.concurrency)))
        return {
            "published": float(len(fake.posts)),
            "all_done_s": max(done_at),
            "p50_late_s": statistics.median(done_at),
            "p99_late_s": pct(done_at, 99),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=16, help="per worker (the baseline keeps 2x in flight)")
    parser.add_argument("--limit-per-10s", type=int, default=0, help="per-account creations per 10 s (0: none)")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    baseline = asyncio.run(run_baseline(args))
    recast = asyncio.run(run_recast(args))
    print(
        f"\n{args.posts:,} posts due at once across {args.connections:,} LinkedIn connections, 2 workers x "
        f"{args.concurrency}, per-account limit {args.limit_per_10s or 'off'}\n"
    )
    print("| run | published | lost | duplicates | all done after due (s) | p50 late (s) | p99 late (s) | 429s |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| bare aiohttp loop (no DB) | {baseline['published']:.0f} | - | - | {baseline['all_done_s']:.1f} | "
        f"{baseline['p50_late_s']:.1f} | {baseline['p99_late_s']:.1f} | - |"
    )
    print(
        f"| recast (2 workers) | {recast['published']:.0f} | {recast['lost']:.0f} | {recast['duplicates']:.0f} | "
        f"{recast['all_done_s']:.1f} | {recast['p50_late_s']:.1f} | {recast['p99_late_s']:.1f} | "
        f"{recast['throttled']:.0f} |"
    )
    ratio = recast["all_done_s"] / baseline["all_done_s"] if baseline["all_done_s"] else float("nan")
    print(f"\nrecast / baseline time to publish everything: {ratio:.1f}x ({recast['attempts']:.0f} attempts recorded)")


if __name__ == "__main__":
    main()
