"""Gateway webhooks over real HTTP into the aiohttp app, stored in the real database."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import webhook_signing as signing
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from woken_units import woken

from core.db.session import make_sessionmaker
from core.inbox.models import GatewayEvent


async def stored(engine: AsyncEngine, sender: str, event_id: str) -> list[GatewayEvent]:
    async with make_sessionmaker(engine)() as s:
        return list(
            (
                await s.scalars(
                    select(GatewayEvent).where(GatewayEvent.sender == sender, GatewayEvent.sender_event_id == event_id)
                )
            ).all()
        )


async def count_sender(engine: AsyncEngine, sender: str) -> int:
    async with make_sessionmaker(engine)() as s:
        return int(
            await s.scalar(select(func.count()).select_from(GatewayEvent).where(GatewayEvent.sender == sender)) or 0
        )


def rzp_payload(event: str = "payment.captured") -> dict[str, Any]:
    return {
        "entity": "event",
        "event": event,
        "created_at": int(time.time()),
        "payload": {
            "payment": {
                "entity": {
                    "id": "pay_" + uuid.uuid4().hex[:14],
                    "amount": 79900,
                    "currency": "INR",
                    "status": "captured",
                    # As on a payment-link payment: no notes of its own, only its order.
                    "order_id": "order_" + uuid.uuid4().hex[:14],
                    "notes": [],
                }
            }
        },
    }


def stripe_payload(event_type: str = "payment_intent.succeeded") -> dict[str, Any]:
    return {
        "id": "evt_" + uuid.uuid4().hex,
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "pi_" + uuid.uuid4().hex[:14],
                "object": "payment_intent",
                "amount_received": 1200,
                "currency": "usd",
                "metadata": {},
            }
        },
    }


# ---------------------------------------------------------------- Razorpay


async def test_razorpay_valid_is_stored_acknowledged_and_enqueued_once(make_settings, make_deps, make_client, engine):
    deps = make_deps(make_settings())
    client = await make_client(deps)
    raw = signing.body(rzp_payload())
    headers = signing.razorpay(raw)
    resp = await client.post("/webhooks/razorpay", data=raw, headers=headers)
    assert resp.status == 200
    rows = await stored(engine, "razorpay", headers["x-razorpay-event-id"])
    assert len(rows) == 1 and rows[0].raw_body == raw and rows[0].event_type == "payment.captured"
    assert rows[0].status == "received" and rows[0].headers["x-razorpay-signature"]
    assert rows[0].raw_headers is not None
    assert b"X-Razorpay-Signature: " + headers["X-Razorpay-Signature"].encode() + b"\r\n" in rows[0].raw_headers
    assert await woken(engine, deps) == [("billing.process_gateway_event", {"event_id": str(rows[0].id)})]

    again = await client.post("/webhooks/razorpay", data=raw, headers=headers)
    assert again.status == 200 and (await again.json())["duplicate"] is True
    assert len(await stored(engine, "razorpay", headers["x-razorpay-event-id"])) == 1
    assert len(await woken(engine, deps)) == 1


async def test_razorpay_tampered_body_and_wrong_secret_are_refused_without_detail(
    make_settings, make_deps, make_client, engine
):
    deps = make_deps(make_settings())
    client = await make_client(deps)
    raw = signing.body(rzp_payload())
    headers = signing.razorpay(raw)
    tampered = raw.replace(b"79900", b"99")
    resp = await client.post("/webhooks/razorpay", data=tampered, headers=headers)
    assert resp.status == 400 and await resp.read() == b""
    wrong = signing.razorpay(raw, secret="not-the-secret")
    resp = await client.post("/webhooks/razorpay", data=raw, headers=wrong)
    assert resp.status == 400 and await resp.read() == b""
    unsigned = await client.post("/webhooks/razorpay", data=raw)
    assert unsigned.status == 400
    assert await stored(engine, "razorpay", headers["x-razorpay-event-id"]) == []
    assert await stored(engine, "razorpay", wrong["x-razorpay-event-id"]) == []
    assert await woken(engine, deps) == []


async def test_concurrent_duplicates_store_and_enqueue_once(make_settings, make_deps, make_client, engine):
    deps = make_deps(make_settings())
    client = await make_client(deps)
    raw = signing.body(rzp_payload())
    headers = signing.razorpay(raw)
    responses = await asyncio.gather(*(client.post("/webhooks/razorpay", data=raw, headers=headers) for _ in range(8)))
    assert [r.status for r in responses] == [200] * 8
    assert len(await stored(engine, "razorpay", headers["x-razorpay-event-id"])) == 1
    assert len(await woken(engine, deps)) == 1


async def test_huge_body_is_rejected_with_413(make_settings, make_deps, make_client, engine):
    deps = make_deps(make_settings(webhook_max_body_bytes=4096))
    client = await make_client(deps)
    before = await count_sender(engine, "razorpay")
    raw = signing.body({"event": "payment.captured", "padding": "x" * 10_000})
    resp = await client.post("/webhooks/razorpay", data=raw, headers=signing.razorpay(raw))
    assert resp.status == 413
    assert await count_sender(engine, "razorpay") == before
    assert await woken(engine, deps) == []


async def test_unknown_event_type_is_stored_and_acknowledged(make_settings, make_deps, make_client, engine):
    deps = make_deps(make_settings())
    client = await make_client(deps)
    raw = signing.body({"entity": "event", "event": "fund_account.validation.completed", "payload": {}})
    headers = signing.razorpay(raw)
    resp = await client.post("/webhooks/razorpay", data=raw, headers=headers)
    assert resp.status == 200
    rows = await stored(engine, "razorpay", headers["x-razorpay-event-id"])
    assert rows[0].event_type == "fund_account.validation.completed"
    assert len(await woken(engine, deps)) == 1


# ---------------------------------------------------------------- Stripe


async def test_stripe_valid_stale_future_tampered(make_settings, make_deps, make_client, engine):
    deps = make_deps(make_settings())
    client = await make_client(deps)
    payload = stripe_payload()
    raw = signing.body(payload)
    now = int(time.time())
    for ts in (now - 301, now + 301):
        resp = await client.post("/webhooks/stripe", data=raw, headers=signing.stripe(raw, ts=ts))
        assert resp.status == 400 and await resp.read() == b""
    tampered = raw.replace(b"1200", b"1")
    resp = await client.post("/webhooks/stripe", data=tampered, headers=signing.stripe(raw))
    assert resp.status == 400
    wrong = await client.post("/webhooks/stripe", data=raw, headers=signing.stripe(raw, secrets=("whsec_other",)))
    assert wrong.status == 400
    assert await stored(engine, "stripe", payload["id"]) == []
    # Inside the window on either side is fine.
    ok = await client.post("/webhooks/stripe", data=raw, headers=signing.stripe(raw, ts=now + 120))
    assert ok.status == 200
    assert len(await stored(engine, "stripe", payload["id"])) == 1
    dup = await client.post("/webhooks/stripe", data=raw, headers=signing.stripe(raw, ts=now - 60))
    assert dup.status == 200 and (await dup.json())["duplicate"] is True
    assert len(await woken(engine, deps)) == 1


async def test_stripe_rolling_secret_two_v1_values(make_settings, make_deps, make_client, engine):
    deps = make_deps(make_settings())
    client = await make_client(deps)
    payload = stripe_payload("invoice.paid")
    raw = signing.body(payload)
    # While a secret rolls Stripe signs with both; either matching ours is enough.
    headers = signing.stripe(raw, secrets=(signing.STRIPE_OLD_SECRET, signing.STRIPE_SECRET))
    assert (await client.post("/webhooks/stripe", data=raw, headers=headers)).status == 200
    # And our side accepts a rotated pair "new,old" of endpoint secrets.
    deps2 = make_deps(make_settings(stripe_webhook_secret=f"{signing.STRIPE_SECRET},{signing.STRIPE_OLD_SECRET}"))
    client2 = await make_client(deps2)
    payload2 = stripe_payload()
    raw2 = signing.body(payload2)
    old_only = signing.stripe(raw2, secrets=(signing.STRIPE_OLD_SECRET,))
    assert (await client2.post("/webhooks/stripe", data=raw2, headers=old_only)).status == 200
    assert len(await stored(engine, "stripe", payload["id"])) == 1
    assert len(await stored(engine, "stripe", payload2["id"])) == 1


# ---------------------------------------------------------------- Cashfree


def cashfree_payload() -> dict[str, Any]:
    return {
        "type": "PAYMENT_SUCCESS_WEBHOOK",
        "event_time": "2026-11-25T10:00:00+05:30",
        "data": {
            "order": {
                "order_id": "order_" + uuid.uuid4().hex[:10],
                "order_amount": 799,
                "order_currency": "INR",
                "order_tags": None,
            },
            "payment": {
                "cf_payment_id": str(uuid.uuid4().int)[:12],
                "payment_status": "SUCCESS",
                "payment_amount": 799,
                "payment_currency": "INR",
            },
        },
    }


async def test_cashfree_valid_stale_future_wrong_secret_duplicate(make_settings, make_deps, make_client, engine):
    deps = make_deps(make_settings())
    client = await make_client(deps)
    payload = cashfree_payload()
    raw = signing.body(payload)
    now_ms = int(time.time() * 1000)
    for ts in (now_ms - 301_000, now_ms + 301_000):
        resp = await client.post("/webhooks/cashfree", data=raw, headers=signing.cashfree(raw, ts_ms=ts))
        assert resp.status == 400 and await resp.read() == b""
    assert (
        await client.post("/webhooks/cashfree", data=raw, headers=signing.cashfree(raw, secret="wrong"))
    ).status == 400
    assert (await client.post("/webhooks/cashfree", data=raw + b" ", headers=signing.cashfree(raw))).status == 400
    payment_id = payload["data"]["payment"]["cf_payment_id"]
    async with make_sessionmaker(engine)() as s:
        refused = await s.scalar(
            select(func.count())
            .select_from(GatewayEvent)
            .where(GatewayEvent.sender == "cashfree", GatewayEvent.sender_event_id.contains(payment_id))
        )
    assert refused == 0 and await woken(engine, deps) == []
    headers = signing.cashfree(raw)
    assert (await client.post("/webhooks/cashfree", data=raw, headers=headers)).status == 200
    # A retry is signed again with a new timestamp: still the same event.
    assert (await client.post("/webhooks/cashfree", data=raw, headers=signing.cashfree(raw))).status == 200
    async with make_sessionmaker(engine)() as s:
        rows = (
            await s.scalars(
                select(GatewayEvent).where(
                    GatewayEvent.sender == "cashfree", GatewayEvent.sender_event_id.contains(payment_id)
                )
            )
        ).all()
    assert len(rows) == 1
    assert len(await woken(engine, deps)) == 1


# ---------------------------------------------------------------- PayPal


def paypal_payload() -> dict[str, Any]:
    return {
        "id": "WH-" + uuid.uuid4().hex[:20].upper(),
        "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "create_time": "2026-11-25T10:00:00Z",
        "resource_type": "capture",
        "resource": {
            "id": "CAP" + uuid.uuid4().hex[:10],
            "status": "COMPLETED",
            "amount": {"value": "12.00", "currency_code": "USD"},
        },
    }


async def test_paypal_verified_by_api_then_offline_with_cached_cert(
    make_settings, make_deps, make_client, engine, paypal_api
):
    fake, base = paypal_api
    deps = make_deps(make_settings(paypal_api_base=base))
    client = await make_client(deps)
    cert_url = f"{base}/certs/paypal.pem"
    first = paypal_payload()
    raw = signing.body(first)
    assert (await client.post("/webhooks/paypal", data=raw, headers=fake.signer.headers(raw, cert_url))).status == 200
    assert fake.verify_calls == 1 and fake.cert_fetches == 1
    second = paypal_payload()
    raw2 = signing.body(second)
    assert (await client.post("/webhooks/paypal", data=raw2, headers=fake.signer.headers(raw2, cert_url))).status == 200
    assert fake.verify_calls == 1 and fake.cert_fetches == 1  # offline: CRC32 + cached certificate
    # Tampered body fails offline verification; a wrong webhook id too.
    headers = fake.signer.headers(raw2, cert_url)
    assert (await client.post("/webhooks/paypal", data=raw2.replace(b"12.00", b"1.00"), headers=headers)).status == 400
    wrong_id = fake.signer.headers(raw2, cert_url, webhook_id="WH-OTHER")
    assert (await client.post("/webhooks/paypal", data=raw2, headers=wrong_id)).status == 400
    assert len(await stored(engine, "paypal", first["id"])) == 1
    assert len(await stored(engine, "paypal", second["id"])) == 1
    assert len(await woken(engine, deps)) == 2


async def test_paypal_refuses_certificates_off_the_allow_list_and_api_failure(
    make_settings, make_deps, make_client, engine, paypal_api
):
    fake, base = paypal_api
    deps = make_deps(make_settings(paypal_api_base=base))
    client = await make_client(deps)
    payload = paypal_payload()
    raw = signing.body(payload)
    evil = fake.signer.headers(raw, "https://evil.example.com/cert.pem")
    assert (await client.post("/webhooks/paypal", data=raw, headers=evil)).status == 400
    assert fake.verify_calls == 0 and fake.cert_fetches == 0
    # Signed by a key PayPal does not have: the API answers FAILURE.
    forger = signing.PayPalSigner()
    forged = forger.headers(raw, f"{base}/certs/paypal.pem")
    assert (await client.post("/webhooks/paypal", data=raw, headers=forged)).status == 400
    assert fake.verify_calls == 1
    assert await stored(engine, "paypal", payload["id"]) == []


async def test_paypal_offline_path_when_api_unreachable(make_settings, make_deps, make_client, engine, paypal_api):
    fake, base = paypal_api
    # No API credentials: the certificate path alone decides.
    deps = make_deps(make_settings(paypal_api_base=base, paypal_client_id=None, paypal_client_secret=None))
    client = await make_client(deps)
    payload = paypal_payload()
    raw = signing.body(payload)
    headers = fake.signer.headers(raw, f"{base}/certs/paypal.pem")
    assert (await client.post("/webhooks/paypal", data=raw, headers=headers)).status == 200
    assert fake.verify_calls == 0 and fake.cert_fetches == 1
    forged = signing.PayPalSigner().headers(raw, f"{base}/certs/paypal.pem")
    assert (await client.post("/webhooks/paypal", data=raw, headers=forged)).status == 400


async def test_healthz_checks_database_and_redis(make_settings, make_deps, make_client):
    client = await make_client(make_deps(make_settings()))
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"ok": True, "database": "ok", "redis": "ok"}
