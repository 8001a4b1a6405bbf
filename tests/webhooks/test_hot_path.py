"""The webhook hot path: one statement stores the event and its work unit, then a worker is woken."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from typing import Any

import webhook_signing as signing
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from sqlalchemy import select

from core.db.session import make_sessionmaker
from core.inbox.models import GatewayEvent
from core.inbox.store import PROCESS_TASK
from core.work.models import UnitState, WorkUnit
from core.work.queue import RedisWorkQueue
from webhooks.app import INBOX_KEY, make_web_app


def rzp(event_id: str) -> tuple[bytes, dict[str, str]]:
    raw = signing.body({"entity": "event", "event": "payment.captured", "payload": {"payment": {"entity": {}}}})
    return raw, signing.razorpay(raw, event_id=event_id)


async def test_concurrent_events_and_duplicates_become_one_row_one_unit_and_one_wake_up_each(
    make_settings, make_deps, engine, redis, run_id
):
    queue = f"recast-test-hot-{run_id}-{uuid.uuid4().hex[:6]}"
    deps = make_deps(make_settings())
    deps.work_queue = RedisWorkQueue(redis, queue)
    client: TestClient[Any, Any] = TestClient(TestServer(make_web_app(deps), host="127.0.0.1"))
    await client.start_server()
    try:
        ids = ["evt_" + uuid.uuid4().hex[:14] for _ in range(20)]
        requests = [rzp(i) for i in ids for _ in range(3)]

        async def post(raw: bytes, headers: dict[str, str]) -> int:
            resp = await client.post("/webhooks/razorpay", data=raw, headers=headers)
            return resp.status

        assert await asyncio.gather(*(post(*r) for r in requests)) == [200] * 60
        async with make_sessionmaker(engine)() as s:
            rows = (await s.scalars(select(GatewayEvent).where(GatewayEvent.sender_event_id.in_(ids)))).all()
            units = (await s.scalars(select(WorkUnit).where(WorkUnit.dedupe_key.in_([str(r.id) for r in rows])))).all()
        assert len(rows) == 20 and all(r.status == "received" for r in rows)
        assert len(units) == 20 and {u.kind for u in units} == {PROCESS_TASK}
        assert {u.payload["event_id"] for u in units} == {str(r.id) for r in rows}
        pushed = [v.decode() for v in await redis.lrange(queue, 0, -1)]
        assert sorted(pushed) == sorted(str(u.id) for u in units)
    finally:
        await client.close()
        await redis.delete(queue)


async def test_queue_down_still_stores_the_event_and_its_unit_before_acknowledging(
    make_settings, make_deps, engine, caplog
):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    dead_redis = Redis.from_url(f"redis://127.0.0.1:{dead}/0")
    deps = make_deps(make_settings())
    deps.work_queue = RedisWorkQueue(dead_redis, "recast-test-dead")
    client: TestClient[Any, Any] = TestClient(TestServer(make_web_app(deps), host="127.0.0.1"))
    await client.start_server()
    try:
        raw, headers = rzp("evt_" + uuid.uuid4().hex[:14])
        with caplog.at_level(logging.WARNING, logger="core.work.submit"):
            resp = await client.post("/webhooks/razorpay", data=raw, headers=headers)
        assert resp.status == 200
        assert "could not push 1 unit(s) to the queue" in caplog.text
        async with make_sessionmaker(engine)() as s:
            row = await s.scalar(
                select(GatewayEvent).where(GatewayEvent.sender_event_id == headers["x-razorpay-event-id"])
            )
            unit = await s.scalar(select(WorkUnit).where(WorkUnit.dedupe_key == str(row.id))) if row else None
        # Stored with its queued unit, marked as not enqueued: the next sweep pushes it once the queue is back.
        assert row is not None and row.status == "received"
        assert unit is not None and unit.state == UnitState.QUEUED and unit.enqueued_at is None
    finally:
        await client.close()
        await dead_redis.aclose()


async def test_storage_down_answers_503_so_the_gateway_retries(make_settings, make_deps, engine):
    deps = make_deps(make_settings())
    client: TestClient[Any, Any] = TestClient(TestServer(make_web_app(deps), host="127.0.0.1"))
    await client.start_server()
    try:
        pool = client.server.app[INBOX_KEY]
        await pool.close()  # the inbox's connections are gone, as in a database outage
        pool._dsn = "postgresql://postgres@127.0.0.1:1/none"  # noqa: SLF001 - reconnecting fails too
        raw, headers = rzp("evt_" + uuid.uuid4().hex[:14])
        resp = await client.post("/webhooks/razorpay", data=raw, headers=headers)
        assert resp.status == 503
    finally:
        await client.close()
