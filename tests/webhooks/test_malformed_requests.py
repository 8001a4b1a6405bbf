"""Validly signed requests no gateway documents: stored byte for byte as `malformed`, never 5xx, never
processed. Sent over a raw socket where the bytes matter (a Latin-1 header byte), real PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import socket
import time
import uuid
from typing import Any

import webhook_signing as signing
from aiohttp.test_utils import TestClient, TestServer
from fuzzing import raw_request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from woken_units import woken

from core.billing.models import Payment
from core.db.session import make_engine, make_sessionmaker
from core.deps import CoreDeps
from core.inbox.models import GatewayEvent
from tasks.billing import process_gateway_event
from webhooks.app import INBOX_KEY, make_web_app


async def post_raw(
    client: TestClient[Any, Any], path: str, body: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[int, Any]:
    """One HTTP/1.1 request written byte for byte (aiohttp's client would re-encode header values)."""
    assert client.server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    head = b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\nConnection: close\r\n" % (
        path.encode(),
        len(body),
    )
    writer.write(head + b"".join(b"%s: %s\r\n" % kv for kv in headers) + b"\r\n" + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = answer.partition(b"\r\n")
    _, _, content = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), json.loads(content) if content else None


def rzp_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode()) for k, v in signing.razorpay(body).items()]


def captured(note: str = "ok") -> dict[str, Any]:
    """A payment.captured as Razorpay sends it for a payment-link payment, with `note` in a string."""
    return {
        "entity": "event",
        "event": "payment.captured",
        "created_at": int(time.time()),
        "payload": {
            "payment": {
                "entity": {
                    "id": "pay_" + uuid.uuid4().hex[:14],
                    "amount": 79900,
                    "currency": "INR",
                    "status": "captured",
                    "order_id": "order_" + uuid.uuid4().hex[:14],
                    "notes": [],
                    "description": note,
                }
            }
        },
    }


async def only_row(engine: AsyncEngine, sender: str, event_id: str) -> GatewayEvent:
    async with make_sessionmaker(engine)() as s:
        rows = (
            await s.scalars(
                select(GatewayEvent).where(GatewayEvent.sender == sender, GatewayEvent.sender_event_id == event_id)
            )
        ).all()
    assert len(rows) == 1
    return rows[0]


async def assert_stored_malformed_and_never_processed(
    engine: AsyncEngine, deps: CoreDeps, event_id: str, body: bytes, reason: str, sender: str = "razorpay"
) -> GatewayEvent:
    row = await only_row(engine, sender, event_id)
    assert row.raw_body == body
    assert row.status == "malformed" and reason in (row.last_error or "")
    assert await woken(engine, deps) == []  # nothing to process, so no worker woken
    # Even when a worker gets the id (a redelivery, an operator's replay), it is never processed.
    assert await process_gateway_event(str(row.id), deps) == "malformed"
    again = await only_row(engine, sender, event_id)
    assert again.status == "malformed" and again.attempts == 0 and again.processed_at is None
    if b'"pay_' in body:
        payment_ref = body.split(b'"pay_', 1)[1][:14].decode()
        async with make_sessionmaker(engine)() as s:
            payments = await s.scalar(
                select(func.count()).select_from(Payment).where(Payment.gateway_payment_id == "pay_" + payment_ref)
            )
        assert payments == 0
    return row


async def signed_body_is_stored_as_malformed(
    body: bytes, reason: str, make_settings, make_deps, make_client, engine, caplog
) -> GatewayEvent:
    deps = make_deps(make_settings())
    client = await make_client(deps)
    headers = rzp_headers(body)
    with caplog.at_level(logging.WARNING, logger="webhooks.app"):
        status, answer = await post_raw(client, "/webhooks/razorpay", body, headers)
    assert status == 202 and answer["ok"] is False and reason in answer["malformed"]
    assert "stored as malformed" in caplog.text and reason in caplog.text
    event_id = dict(headers)[b"x-razorpay-event-id"].decode()
    row = await assert_stored_malformed_and_never_processed(engine, deps, event_id, body, reason)
    assert row.raw_headers is not None and b"X-Razorpay-Signature: " + dict(headers)[b"X-Razorpay-Signature"] in (
        row.raw_headers
    )
    # Razorpay's retry of the same delivery is a duplicate of the stored row, still 2xx.
    status, answer = await post_raw(client, "/webhooks/razorpay", body, headers)
    assert status == 202 and answer["duplicate"] is True
    await only_row(engine, "razorpay", event_id)
    return row


async def test_signed_body_with_an_escaped_nul_is_stored_byte_for_byte_as_malformed(
    make_settings, make_deps, make_client, engine, caplog
):
    body = signing.body(captured("a\u0000b"))
    assert b'"a\\u0000b"' in body
    await signed_body_is_stored_as_malformed(body, "NUL", make_settings, make_deps, make_client, engine, caplog)


async def test_signed_body_with_an_escaped_nul_in_the_event_type_is_stored_as_malformed(
    make_settings, make_deps, make_client, engine, caplog
):
    # Not just a note: the event type is a text column, which cannot hold a NUL either.
    body = signing.body({**captured(), "event": "payment.captured\u0000"})
    row = await signed_body_is_stored_as_malformed(body, "NUL", make_settings, make_deps, make_client, engine, caplog)
    assert row.event_type is None


async def test_signed_body_with_a_raw_nul_byte_is_stored_byte_for_byte_as_malformed(
    make_settings, make_deps, make_client, engine, caplog
):
    body = signing.body(captured("aXb")).replace(b"aXb", b"a\x00b")
    assert b"\x00" in body
    await signed_body_is_stored_as_malformed(body, "NUL byte", make_settings, make_deps, make_client, engine, caplog)


async def test_signed_body_with_a_5000_digit_number_is_stored_byte_for_byte_as_malformed(
    make_settings, make_deps, make_client, engine, caplog
):
    body = signing.body(captured()).replace(b'"amount":79900', b'"amount":' + b"7" * 5000)
    assert b"7" * 5000 in body
    await signed_body_is_stored_as_malformed(body, "5000 digits", make_settings, make_deps, make_client, engine, caplog)


async def test_signed_body_nested_20000_deep_is_stored_byte_for_byte_as_malformed(
    make_settings, make_deps, make_client, engine, caplog
):
    body = signing.body(captured())[:-1] + b',"deep":' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    await signed_body_is_stored_as_malformed(
        body, "nested deeper", make_settings, make_deps, make_client, engine, caplog
    )


async def test_signed_truncated_or_non_object_json_is_stored_as_malformed(
    make_settings, make_deps, make_client, engine, caplog
):
    await signed_body_is_stored_as_malformed(
        b'{"event": "payment.captured", "payload": ', "not JSON", make_settings, make_deps, make_client, engine, caplog
    )


async def test_json_array_body_is_stored_as_malformed(make_settings, make_deps, make_client, engine, caplog):
    await signed_body_is_stored_as_malformed(
        b"[1, 2]", "not an object", make_settings, make_deps, make_client, engine, caplog
    )


async def test_latin1_byte_in_a_header_is_stored_as_received_and_marked_malformed(
    make_settings, make_deps, make_client, engine, caplog
):
    deps = make_deps(make_settings())
    client = await make_client(deps)
    body = signing.body(captured())
    headers = [*rzp_headers(body), (b"User-Agent", b"Razorpay-Webhook caf\xe9")]
    with caplog.at_level(logging.WARNING, logger="webhooks.app"):
        status, answer = await post_raw(client, "/webhooks/razorpay", body, headers)
    assert status == 202 and "'User-Agent' is not UTF-8" in answer["malformed"]
    assert "stored as malformed" in caplog.text
    event_id = dict(headers)[b"x-razorpay-event-id"].decode()
    row = await assert_stored_malformed_and_never_processed(engine, deps, event_id, body, "not UTF-8")
    assert row.raw_headers is not None and b"\r\nUser-Agent: Razorpay-Webhook caf\xe9\r\n" in row.raw_headers
    assert row.headers["user-agent"] == "Razorpay-Webhook caf\\xe9"  # the searchable copy, escaped
    assert row.event_type == "payment.captured"


async def test_latin1_byte_in_the_event_id_header_is_stored_as_malformed(make_settings, make_deps, make_client, engine):
    deps = make_deps(make_settings())
    client = await make_client(deps)
    body = signing.body(captured())
    event_id = "evt_" + uuid.uuid4().hex[:10]
    headers = [kv for kv in rzp_headers(body) if kv[0] != b"x-razorpay-event-id"]
    headers.append((b"x-razorpay-event-id", event_id.encode() + b"\xe9"))
    status, answer = await post_raw(client, "/webhooks/razorpay", body, headers)
    assert status == 202 and "not UTF-8" in answer["malformed"]
    row = await assert_stored_malformed_and_never_processed(engine, deps, event_id + "\\xe9", body, "not UTF-8")
    assert row.raw_headers is not None and b"x-razorpay-event-id: " + event_id.encode() + b"\xe9\r\n" in row.raw_headers


async def test_unsigned_or_badly_signed_malformed_requests_are_refused_before_anything_is_written(
    make_settings, make_deps, make_client, engine
):
    deps = make_deps(make_settings())
    client = await make_client(deps)
    async with make_sessionmaker(engine)() as s:
        before = await s.scalar(select(func.count()).select_from(GatewayEvent))
    body = signing.body(captured("a\u0000b"))
    good = rzp_headers(body)
    cases = {
        "unsigned": [kv for kv in good if kv[0] != b"X-Razorpay-Signature"],
        "wrong signature": [(k, b"0" * 64 if k == b"X-Razorpay-Signature" else v) for k, v in good],
        "latin-1 signature": [(k, v[:-1] + b"\xe9" if k == b"X-Razorpay-Signature" else v) for k, v in good],
    }
    for name, headers in cases.items():
        status, _ = await post_raw(client, "/webhooks/razorpay", body, headers)
        assert status == 400, name
    # The other gateways' signature headers with a Latin-1 byte: refused, not a crash.
    for path, headers in {
        "/webhooks/stripe": signing.stripe(body),
        "/webhooks/cashfree": signing.cashfree(body),
    }.items():
        raw = [(k.encode(), v.encode()[:-1] + b"\xe9" if "ignature" in k else v.encode()) for k, v in headers.items()]
        status, _ = await post_raw(client, path, body, raw)
        assert status == 400, path
    async with make_sessionmaker(engine)() as s:
        assert await s.scalar(select(func.count()).select_from(GatewayEvent)) == before
    assert await woken(engine, deps) == []


async def test_stripe_cashfree_and_paypal_store_signed_malformed_bodies_too(
    make_settings, make_deps, make_client, engine, paypal_api
):
    fake, base = paypal_api
    deps = make_deps(make_settings(paypal_api_base=base))
    client = await make_client(deps)
    evt = uuid.uuid4().hex.encode()
    body = b'{"id": "evt_' + evt + b'", "type": "payment_intent.succeeded", "n": ' + b"1" * 5000 + b"}"
    resp = await client.post("/webhooks/stripe", data=body, headers=signing.stripe(body))
    assert resp.status == 202 and "5000 digits" in (await resp.json())["malformed"]
    # Unparsable, so the event id is the body's digest: a retry is still the same row.
    stripe_row = await assert_stored_malformed_and_never_processed(
        engine, deps, signing_digest(body), body, "5000 digits", sender="stripe"
    )
    assert stripe_row.event_type is None

    cf_body = signing.body({"type": "PAYMENT_SUCCESS_WEBHOOK", "data": {"payment": {"cf_payment_id": "1\u0000"}}})
    cf_headers = {**signing.cashfree(cf_body), "x-idempotency-key": "cf_" + uuid.uuid4().hex}
    resp = await client.post("/webhooks/cashfree", data=cf_body, headers=cf_headers)
    assert resp.status == 202
    await assert_stored_malformed_and_never_processed(
        engine, deps, cf_headers["x-idempotency-key"], cf_body, "NUL", sender="cashfree"
    )

    # PayPal: a malformed event cannot be checked by PayPal's API (it takes the parsed event), so the
    # certificate decides; a forged signature is still refused.
    pp_body = (
        b'{"id": "WH-'
        + uuid.uuid4().hex.encode()
        + b'", "event_type": "PAYMENT.CAPTURE.COMPLETED", "a": '
        + (b"[" * 20_000 + b"]" * 20_000)
        + b"}"
    )
    cert_url = f"{base}/certs/paypal.pem"
    forged = signing.PayPalSigner().headers(pp_body, cert_url)
    assert (await client.post("/webhooks/paypal", data=pp_body, headers=forged)).status == 400
    resp = await client.post("/webhooks/paypal", data=pp_body, headers=fake.signer.headers(pp_body, cert_url))
    assert resp.status == 202 and fake.verify_calls == 0
    await assert_stored_malformed_and_never_processed(
        engine, deps, signing_digest(pp_body), pp_body, "nested deeper", sender="paypal"
    )


def signing_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


async def test_storage_outage_answers_503_so_the_gateway_retries(make_settings, make_deps, caplog):
    with socket.socket() as s:  # a port nobody listens on: our PostgreSQL is down
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    dead_engine = make_engine(f"postgresql://postgres@127.0.0.1:{dead}/recast")
    live = make_deps(make_settings())
    deps = CoreDeps(
        settings=live.settings,
        sessionmaker=make_sessionmaker(dead_engine),
        redis=live.redis,
        store=live.store,
        notifier=live.notifier,
        enqueue=live.enqueue,
        work_queue=live.work_queue,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(make_web_app(deps), host="127.0.0.1"))
    try:
        with caplog.at_level(logging.WARNING):
            await client.start_server()  # the web process starts anyway
            assert "database unreachable at startup" in caplog.text
            body = signing.body(captured())
            resp = await client.post("/webhooks/razorpay", data=body, headers=signing.razorpay(body))
            assert resp.status == 503 and (await resp.json())["ok"] is False
            assert "could not store a razorpay webhook" in caplog.text
            # A malformed one too: storing is what failed, so the gateway must retry it.
            bad = signing.body(captured("a\u0000b"))
            assert (await client.post("/webhooks/razorpay", data=bad, headers=signing.razorpay(bad))).status == 503
        assert list(deps.work_queue) == []  # no worker woken
    finally:
        await client.close()
        await dead_engine.dispose()


async def test_stopped_inbox_answers_503_not_200(make_settings, make_deps, make_client):
    deps = make_deps(make_settings())
    client = await make_client(deps)
    await client.app[INBOX_KEY].close()
    body = signing.body(captured())
    resp = await client.post("/webhooks/razorpay", data=body, headers=signing.razorpay(body))
    assert resp.status == 503
    assert list(deps.work_queue) == []  # no worker woken


async def test_a_header_the_http_parser_refuses_is_a_400_and_a_warning_not_an_error_traceback(
    make_settings, make_deps, make_client, caplog
):
    # Found by the route fuzzer: aiohttp answered 400 but logged an ERROR with a traceback for each such
    # request, so one bad header from anyone filled the error log.
    client = await make_client(make_deps(make_settings()))
    with caplog.at_level(logging.INFO):
        status, _ = await raw_request(
            client.server.port, "POST", b"/webhooks/razorpay", [(b"X-Forwarded-For", b"\x01")]
        )
    assert status == 400
    refused = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert refused and all(r.levelno == logging.WARNING and not r.exc_info for r in refused)
    assert "refused by the HTTP parser (400)" in refused[0].getMessage()
