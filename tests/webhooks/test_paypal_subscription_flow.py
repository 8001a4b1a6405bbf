"""A PayPal subscription's life over the real path: signed HTTP requests → the aiohttp app (verified through a
local PayPal API, then offline) → `gateway_events` with their work units → a real worker →
subscriptions, payments, invoices and audit rows in PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import webhook_signing as signing
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from workers import running_worker

from core.accounts.service import register_chat_user
from core.billing.models import Invoice, Payment, Subscription
from core.db.session import make_engine, make_sessionmaker
from core.deps import CoreDeps
from core.inbox.models import GatewayEvent
from core.notify.ports import RecordingNotifier
from core.seed.service import apply_seed
from core.storage.files import LocalFileStore
from core.system.models import AuditLog
from core.work.models import WorkUnit
from webhooks.app import make_web_app


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def subscription_event(event_type: str, sub_id: str, custom: str, at: datetime, **billing: Any) -> dict[str, Any]:
    return {
        "id": "WH-" + uuid.uuid4().hex[:17].upper(),
        "event_type": event_type,
        "resource_type": "subscription",
        "create_time": iso(at),
        "resource": {
            "id": sub_id,
            "custom_id": custom,
            "plan_id": "P-0NJ10521L3680291SOAQIVTQ",
            "billing_info": billing,
        },
    }


def sale(sub_id: str, sale_id: str, custom: str, at: datetime) -> dict[str, Any]:
    return {
        "id": "WH-" + uuid.uuid4().hex[:17].upper(),
        "event_type": "PAYMENT.SALE.COMPLETED",
        "resource_type": "sale",
        "create_time": iso(at),
        "resource": {
            "id": sale_id,
            "state": "completed",
            "amount": {"total": "12.00", "currency": "USD"},
            "billing_agreement_id": sub_id,
            "custom": custom,
            "create_time": iso(at),
        },
    }


@pytest.fixture(params=["tables' owner", "RLS-bound login role"])
async def worker_deps(
    request: pytest.FixtureRequest,
    engine: AsyncEngine,
    redis_url: str,
    run_id: str,
    tmp_path: Path,
    make_settings: Any,
    paypal_api: Any,
    login_database_url: str,
) -> AsyncIterator[tuple[CoreDeps, Any, async_sessionmaker[AsyncSession]]]:
    """Deps with durable work and a real worker running in this process, connected as the tables' owner
    (development) or as production connects (the payer is found as maintenance, then acted for); the
    third item is the owner's sessionmaker, for the test's own rows and checks."""
    _, base = paypal_api
    redis = Redis.from_url(redis_url)
    login = make_engine(login_database_url, pool_size=5) if request.param != "tables' owner" else None
    deps = CoreDeps(
        settings=make_settings(paypal_api_base=base),
        sessionmaker=make_sessionmaker(login or engine),
        redis=redis,
        store=LocalFileStore(tmp_path / "media"),
        notifier=RecordingNotifier(),
        enqueue=_unwired,
    )
    async with running_worker(deps, f"recast-test-paypal-{run_id}-{uuid.uuid4().hex[:6]}") as worker:
        yield deps, worker, make_sessionmaker(engine)
    await redis.aclose()
    if login is not None:
        await login.dispose()


async def _unwired(task_name: str, /, **kwargs: Any) -> None:
    raise AssertionError("replaced by running_worker")


async def settled(owner: async_sessionmaker[AsyncSession], ids: list[str]) -> dict[str, str]:
    """Wait until the worker has processed every stored event (bounded, so a broken queue fails the test)."""
    for _ in range(600):
        async with owner() as s:
            result = await s.execute(
                select(GatewayEvent.sender_event_id, GatewayEvent.status).where(
                    GatewayEvent.sender == "paypal", GatewayEvent.sender_event_id.in_(ids)
                )
            )
            rows = {event_id: status for event_id, status in result.all()}
        if len(rows) == len(ids) and all(v in ("processed", "ignored", "failed") for v in rows.values()):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"events not processed: {rows}")


async def test_paypal_subscription_lifecycle_over_http_queue_and_worker(worker_deps, paypal_api):
    deps, _worker, owner = worker_deps
    fake, base = paypal_api
    cert_url = f"{base}/certs/paypal.pem"
    async with owner() as s:
        await apply_seed(session=s)
        reg = await register_chat_user(
            session=s,
            provider="telegram",
            external_user_id=str(uuid.uuid4().int)[:9],
            chat_id="777001",
            full_name="Pia PayPal",
        )
        await s.commit()
    user_id = reg.user.id
    custom = f"{user_id}:creator-monthly"
    sub_id, sale_id = "I-" + uuid.uuid4().hex[:12].upper(), uuid.uuid4().hex[:17].upper()
    t0 = (datetime.now(UTC) + timedelta(minutes=1)).replace(microsecond=0)
    client: TestClient[Any, Any] = TestClient(TestServer(make_web_app(deps), host="127.0.0.1"))
    await client.start_server()
    try:

        async def post(payload: dict[str, Any]) -> int:
            raw = signing.body(payload)
            resp = await client.post("/webhooks/paypal", data=raw, headers=fake.signer.headers(raw, cert_url))
            return resp.status

        # Out of order: the first payment arrives before the activation, and five times at once.
        paid = sale(sub_id, sale_id, custom, t0 + timedelta(seconds=5))
        assert await asyncio.gather(*(post(paid) for _ in range(5))) == [200] * 5
        # No certificate was cached yet, so those went to PayPal's verify API; from now on, offline.
        api_calls = fake.verify_calls
        assert api_calls >= 1 and fake.cert_fetches >= 1
        activated = subscription_event(
            "BILLING.SUBSCRIPTION.ACTIVATED", sub_id, custom, t0, next_billing_time=iso(t0 + timedelta(days=30))
        )
        assert await post(activated) == 200
        await settled(owner, [paid["id"], activated["id"]])
        async with owner() as s:
            sub = await s.scalar(select(Subscription).where(Subscription.paypal_subscription_id == sub_id))
            assert sub is not None and sub.status == "active" and sub.user_id == user_id
            payments = (await s.scalars(select(Payment).where(Payment.gateway_payment_id == sale_id))).all()
            assert len(payments) == 1 and payments[0].status == "succeeded"
            assert await s.scalar(select(func.count()).select_from(Invoice).where(Invoice.user_id == user_id)) == 1

        cancelled = subscription_event("BILLING.SUBSCRIPTION.CANCELLED", sub_id, custom, t0 + timedelta(minutes=2))
        late = subscription_event("BILLING.SUBSCRIPTION.RE-ACTIVATED", sub_id, custom, t0 + timedelta(minutes=1))
        assert await post(cancelled) == 200 and await post(late) == 200
        await settled(owner, [cancelled["id"], late["id"]])
        async with owner() as s:
            sub = await s.get_one(Subscription, sub.id)
            assert sub.status == "canceled"
            audited = (await s.scalars(select(AuditLog.action).where(AuditLog.resource_id == sub.id))).all()
            assert audited.count("subscription_active") == 1 and audited.count("subscription_canceled") == 1

        assert fake.verify_calls == api_calls
        # One unit per stored event, each run once: the four duplicates were never given work.
        async with owner() as s:
            event_ids = (
                await s.scalars(
                    select(GatewayEvent.id).where(
                        GatewayEvent.sender == "paypal",
                        GatewayEvent.sender_event_id.in_([paid["id"], activated["id"], cancelled["id"], late["id"]]),
                    )
                )
            ).all()
            units = (
                await s.scalars(
                    select(WorkUnit).where(
                        WorkUnit.kind == "billing.process_gateway_event",
                        WorkUnit.dedupe_key.in_([str(i) for i in event_ids]),
                    )
                )
            ).all()
        assert len(event_ids) == 4 and len(units) == 4 and all(u.attempts == 1 for u in units)
        texts = [m.text for _, m in deps.notifier.sent]
        assert sum("Payment received" in t for t in texts) == 1 and sum("canceled" in t for t in texts) == 1
    finally:
        await client.close()
