"""Operators can see work: /metrics (Prometheus text) and /readyz on the web app."""

from __future__ import annotations

from typing import Any

import webhook_signing as signing
from aiohttp.test_utils import TestClient, TestServer

from core.system.metrics import Metrics
from webhooks.app import make_web_app


async def test_metrics_show_units_by_state_and_webhook_latency_and_readyz_checks_servers(make_settings, make_deps):
    deps = make_deps(make_settings())
    deps.metrics = Metrics()
    client: TestClient[Any, Any] = TestClient(TestServer(make_web_app(deps), host="127.0.0.1"))
    await client.start_server()
    try:
        raw = signing.body({"entity": "event", "event": "payment.captured", "payload": {"payment": {"entity": {}}}})
        assert (await client.post("/webhooks/razorpay", data=raw, headers=signing.razorpay(raw))).status == 200
        text = await (await client.get("/metrics")).text()
        assert 'recast_work_units{kind="billing.process_gateway_event",state="queued"}' in text
        assert 'recast_webhook_latency_seconds_count{gateway="razorpay",status="200"} 1.0' in text
        assert "recast_work_oldest_waiting_seconds" in text and "recast_work_queue_depth 1.0" in text
        ready = await client.get("/readyz")
        assert ready.status == 200 and (await ready.json()) == {"ok": True, "database": "ok", "redis": "ok"}
    finally:
        await client.close()
