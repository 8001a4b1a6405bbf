"""The webhook hot path with the real Redis stream broker: one autocommitted INSERT, pipelined XADDs."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from typing import Any

import webhook_signing as signing
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from taskiq import InMemoryBroker

from core.db.session import make_sessionmaker
from core.inbox.models import GatewayEvent
from tasks.broker import bind, make_broker
from webhooks.app import PROCESS_TASK, make_web_app
from webhooks.enqueue import PipelinedEnqueue


def rzp(event_id: str) -> tuple[bytes, dict[str, str]]:
    raw = signing.body({"entity": "event", "event": "payment.captured", "payload": {"payment": {"entity": {}}}})
    return raw, signing.razorpay(raw, event_id=event_id)


async def test_concurrent_events_and_duplicates_become_one_row_and_one_stream_message_each(
    make_settings, make_deps, engine, redis, redis_url, run_id
):
    queue = f"recast-test-hot-{run_id}-{uuid.uuid4().hex[:6]}"
    broker = make_broker(redis_url, queue_name=queue)
    deps = make_deps(make_settings())
    bind(broker, deps)
    client: TestClient[Any, Any] = TestClient(TestServer(make_web_app(deps, broker=broker), host="127.0.0.1"))
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
        assert len(rows) == 20 and all(r.status == "received" for r in rows)
        # Each stream entry is a message the broker's workers read: the task and the stored event's id.
        entries = await redis.xrange(queue)
        messages = [broker.formatter.loads(fields[b"data"]) for _, fields in entries]
        assert sorted(m.kwargs["event_id"] for m in messages) == sorted(str(r.id) for r in rows)
        assert {m.task_name for m in messages} == {PROCESS_TASK}
        assert deps.enqueue == []  # the app used the broker's pipelined path, not deps.enqueue
    finally:
        await client.close()
        await redis.delete(queue)


async def test_queue_down_still_stores_before_acknowledging(make_settings, make_deps, engine, caplog):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    broker = make_broker(f"redis://127.0.0.1:{dead}/0", queue_name="recast-test-dead")
    deps = make_deps(make_settings())
    bind(broker, deps)
    client: TestClient[Any, Any] = TestClient(TestServer(make_web_app(deps, broker=broker), host="127.0.0.1"))
    await client.start_server()
    try:
        raw, headers = rzp("evt_" + uuid.uuid4().hex[:14])
        with caplog.at_level(logging.ERROR, logger="webhooks.app"):
            resp = await client.post("/webhooks/razorpay", data=raw, headers=headers)
        assert resp.status == 200
        assert "could not enqueue" in caplog.text
        async with make_sessionmaker(engine)() as s:
            row = await s.scalar(
                select(GatewayEvent).where(GatewayEvent.sender_event_id == headers["x-razorpay-event-id"])
            )
        # Stored as 'received': billing.requeue_stale_events enqueues it once the queue is back.
        assert row is not None and row.status == "received"
    finally:
        await client.close()


async def test_pipelined_enqueue_falls_back_to_kiq_for_other_brokers(make_settings, make_deps):
    broker = InMemoryBroker()
    seen: list[str] = []

    async def probe(event_id: str) -> None:
        seen.append(event_id)

    broker.register_task(probe, task_name="test.probe")
    await broker.startup()
    enqueue = PipelinedEnqueue(broker)
    await enqueue("test.probe", event_id="e1")
    await broker.wait_all()
    assert seen == ["e1"]
    await enqueue.close()
    await broker.shutdown()
