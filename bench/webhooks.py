"""Webhook throughput: Recast's verified gateway endpoints vs a bare aiohttp + asyncpg INSERT baseline.

Both servers run as subprocesses started here (same machine, same PostgreSQL); a load generator with an
aiohttp client keeps N requests in flight. Then a duplicate storm sends every event 5 times at once and
checks one stored row and one enqueued task per event. Uses DATABASE_URL's server (or 127.0.0.1:5432)
with a bench database of its own, dropped at the end; REDIS_URL (or 127.0.0.1:6379) for the broker.

    python bench/webhooks.py [--events 3000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RZP_SECRET, STRIPE_SECRET = "bench_rzp_secret", "whsec_bench"


def admin_url() -> str:
    from core.infra.embedded import with_database

    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    return with_database(url.replace("postgresql+asyncpg://", "postgresql://"), "postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- servers (subprocess mode)


async def serve_baseline(db_url: str, port: int) -> None:
    from aiohttp import web

    pool = await asyncpg.create_pool(db_url, min_size=4, max_size=10)

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        await pool.execute(
            "INSERT INTO bench_baseline (id, body) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            request.headers.get("x-event-id", ""),
            body,
        )
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hook", handle)
    await web._run_app(app, host="127.0.0.1", port=port, print=None)


async def _unwired(task_name: str, /, **kwargs: object) -> None:
    raise RuntimeError("replaced by tasks.worker.attach")


async def serve_recast(db_url: str, redis_url: str, queue: str, port: int) -> None:
    from aiohttp import web
    from pydantic import SecretStr
    from redis.asyncio import Redis

    from core.config import Settings
    from core.db.session import make_engine, make_sessionmaker
    from core.deps import CoreDeps
    from core.notify.ports import RecordingNotifier
    from core.storage.files import LocalFileStore
    from core.work.queue import RedisWorkQueue
    from tasks.worker import attach
    from webhooks.app import make_web_app

    settings = Settings(
        _env_file=None,
        razorpay_webhook_secret=SecretStr(RZP_SECRET),  # type: ignore[call-arg]
        stripe_webhook_secret=SecretStr(STRIPE_SECRET),
        recast_data_dir=Path("/tmp/recast-bench"),
    )
    engine = make_engine(db_url, pool_size=10)
    redis = Redis.from_url(redis_url)
    deps = CoreDeps(
        settings=settings,
        sessionmaker=make_sessionmaker(engine),
        redis=redis,
        store=LocalFileStore(Path("/tmp/recast-bench/media")),
        notifier=RecordingNotifier(),
        enqueue=_unwired,
    )
    attach(deps, RedisWorkQueue(redis, queue))
    await web._run_app(make_web_app(deps), host="127.0.0.1", port=port, print=None)


# ---------------------------------------------------------------- load generator


def razorpay_request(event_id: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "entity": "event",
            "event": "payment.captured",
            "created_at": int(time.time()),
            "payload": {
                "payment": {"entity": {"id": "pay_" + event_id[:14], "amount": 79900, "currency": "INR", "notes": {}}}
            },
        }
    ).encode()
    sig = hmac.new(RZP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "X-Razorpay-Signature": sig,
        "x-razorpay-event-id": event_id,
        "x-event-id": event_id,
        "Content-Type": "application/json",
    }


def stripe_request(event_id: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {
                "object": {"id": "pi_" + event_id[:14], "amount_received": 1200, "currency": "usd", "metadata": {}}
            },
        }
    ).encode()
    ts = int(time.time())
    sig = hmac.new(STRIPE_SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={ts},v1={sig}", "x-event-id": event_id, "Content-Type": "application/json"}


async def load(url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            while not queue.empty():
                body, headers = queue.get_nowait()
                t0 = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    ok = statuses.get(200, 0)
    return {
        "rps": ok / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "ok": ok,
        "errors": len(requests) - ok,
    }


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as resp:
                    if resp.status < 500:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"server at {url} did not start")


async def main(events: int, concurrency: int) -> None:
    from core.db import migrate
    from core.infra.embedded import with_database

    admin = admin_url()
    name = f"recast_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    db_url = with_database(admin, name)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    queue = f"bench-{name}"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        await asyncio.to_thread(migrate.upgrade, db_url)
        conn = await asyncpg.connect(db_url)
        await conn.execute("CREATE TABLE bench_baseline (id text PRIMARY KEY, body bytea NOT NULL)")
        await conn.close()
        ports = {"baseline": free_port(), "recast": free_port()}
        for role, port in ports.items():
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--serve",
                        role,
                        "--port",
                        str(port),
                        "--db",
                        db_url,
                        "--redis",
                        redis_url,
                        "--queue",
                        queue,
                    ],
                    cwd=ROOT,
                )
            )
        await wait_up(f"http://127.0.0.1:{ports['baseline']}/hook")
        await wait_up(f"http://127.0.0.1:{ports['recast']}/healthz")
        base_url = f"http://127.0.0.1:{ports['baseline']}/hook"
        rows = []
        for sender, make in (("razorpay", razorpay_request), ("stripe", stripe_request)):
            warm = [make(uuid.uuid4().hex) for _ in range(200)]
            await load(f"http://127.0.0.1:{ports['recast']}/webhooks/{sender}", warm, concurrency)
            await load(base_url, warm, concurrency)
            reqs = [make("evt_" + uuid.uuid4().hex) for _ in range(events)]
            base_reqs = [make("evt_" + uuid.uuid4().hex) for _ in range(events)]
            # Interleave the order of the two runs so neither always goes first on a warm cache.
            recast = await load(f"http://127.0.0.1:{ports['recast']}/webhooks/{sender}", reqs, concurrency)
            base = await load(base_url, base_reqs, concurrency)
            rows.append((sender, recast, base))

        print(
            f"\nWebhooks: {events} events per run, {concurrency} in flight, "
            f"{os.cpu_count()} CPUs, servers and load generator on this machine\n"
        )
        print(f"{'endpoint':<22}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
        for sender, recast, base in rows:
            print(
                f"{'recast ' + sender:<22}{recast['rps']:>10.0f}{recast['p50']:>9.1f}{recast['p99']:>9.1f}"
                f"{recast['errors']:>8.0f}"
            )
            print(
                f"{'baseline insert':<22}{base['rps']:>10.0f}{base['p50']:>9.1f}{base['p99']:>9.1f}"
                f"{base['errors']:>8.0f}"
            )
            print(
                f"{'  ratio recast/base':<22}{recast['rps'] / base['rps']:>10.2f}"
                f"{recast['p50'] / base['p50']:>9.2f}{recast['p99'] / base['p99']:>9.2f}"
            )

        # Duplicate storm: every event 5 times at once → one row and one enqueued task each.
        from redis.asyncio import Redis

        redis = Redis.from_url(redis_url)
        before = await redis.llen(queue)
        storm_ids = ["evt_" + uuid.uuid4().hex for _ in range(min(events, 1000))]
        storm = [razorpay_request(i) for i in storm_ids for _ in range(5)]
        result = await load(f"http://127.0.0.1:{ports['recast']}/webhooks/razorpay", storm, concurrency)
        enqueued = await redis.llen(queue) - before
        conn = await asyncpg.connect(db_url)
        stored = await conn.fetchval(
            "SELECT count(*) FROM gateway_events WHERE sender = 'razorpay' AND sender_event_id = ANY($1)", storm_ids
        )
        await conn.close()
        await redis.delete(queue)
        await redis.aclose()
        print(
            f"\nDuplicate storm: {len(storm_ids)} events x 5 concurrent = {len(storm)} requests, "
            f"{result['ok']:.0f} answered 200, {result['rps']:.0f} req/s"
        )
        verdict = "ONE EFFECT EACH" if stored == enqueued == len(storm_ids) else "MISMATCH"
        print(
            f"  stored rows: {stored} (expected {len(storm_ids)}), enqueued tasks: {enqueued} "
            f"(expected {len(storm_ids)}) -> {verdict}"
        )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--serve", choices=["baseline", "recast"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--db")
    parser.add_argument("--redis")
    parser.add_argument("--queue")
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    if args.serve == "baseline":
        asyncio.run(serve_baseline(args.db, args.port))
    elif args.serve == "recast":
        from core.db.session import async_database_url

        asyncio.run(serve_recast(async_database_url(args.db), args.redis, args.queue, args.port))
    else:
        asyncio.run(main(args.events, args.concurrency))
