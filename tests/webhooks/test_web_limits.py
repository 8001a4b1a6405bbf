"""Per-source limits on the web doors: a source that keeps sending forged deliveries gets 429 with
`Retry-After`, a storm of validly signed (duplicate) events is always acknowledged, and links people open
are limited per address (through a trusted proxy, per forwarded address)."""

from __future__ import annotations

import webhook_signing as signing
from test_gateway_webhooks import rzp_payload, stored

from webhooks.limits import source_of


async def test_a_source_sending_forged_deliveries_gets_429_with_retry_after_and_nothing_is_stored(
    make_settings, make_deps, make_client, engine
):
    client = await make_client(make_deps(make_settings(web_refusals_per_minute=3)))
    raw = signing.body(rzp_payload())
    forged = signing.razorpay(raw, secret="not-the-secret")
    statuses = [(await client.post("/webhooks/razorpay", data=raw, headers=forged)).status for _ in range(5)]
    assert statuses == [400, 400, 400, 429, 429]
    limited = await client.post("/webhooks/razorpay", data=raw, headers=forged)
    assert limited.status == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert (await limited.json())["retry_after_s"] >= 1
    assert await stored(engine, "razorpay", forged["x-razorpay-event-id"]) == []
    # Another gateway's route counts apart: the same address still reaches Stripe.
    stripe_raw = signing.body({"id": "evt_limits_1", "type": "payment_intent.succeeded", "data": {"object": {}}})
    assert (await client.post("/webhooks/stripe", data=stripe_raw, headers=signing.stripe(stripe_raw))).status == 200


async def test_a_storm_of_valid_duplicate_events_is_always_acknowledged(make_settings, make_deps, make_client, engine):
    client = await make_client(make_deps(make_settings(web_refusals_per_minute=3)))
    raw = signing.body(rzp_payload())
    headers = signing.razorpay(raw)
    statuses = [(await client.post("/webhooks/razorpay", data=raw, headers=headers)).status for _ in range(25)]
    assert statuses == [200] * 25
    assert len(await stored(engine, "razorpay", headers["x-razorpay-event-id"])) == 1


async def test_links_people_open_are_limited_per_address(make_settings, make_deps, make_client):
    client = await make_client(make_deps(make_settings(web_requests_per_minute=3)))
    statuses = [(await client.get("/media/not-a-token")).status for _ in range(5)]
    assert statuses[:3] != [429] * 3 and 429 not in statuses[:3] and statuses[3:] == [429, 429]
    # The OAuth callback is another door with its own count.
    assert (await client.get("/oauth/linkedin/callback?state=x&code=y")).status != 429


async def test_forwarded_addresses_count_apart_only_behind_a_trusted_proxy(make_settings, make_deps, make_client):
    trusting = await make_client(make_deps(make_settings(web_requests_per_minute=2, trusted_proxies="127.0.0.1")))
    spread = [(await trusting.get("/media/x", headers={"X-Forwarded-For": f"203.0.113.{i}"})).status for i in range(6)]
    assert 429 not in spread
    doubting = await make_client(make_deps(make_settings(web_requests_per_minute=2)))
    spoofed = [(await doubting.get("/media/x", headers={"X-Forwarded-For": f"203.0.113.{i}"})).status for i in range(4)]
    assert spoofed[2:] == [429, 429]  # without a trusted proxy the header is not believed


def test_the_source_is_the_right_most_untrusted_forwarded_address():
    class Req:
        def __init__(self, remote: str, xff: str) -> None:
            self.remote, self.headers = remote, {"X-Forwarded-For": xff}

    trusted = frozenset({"10.0.0.1", "10.0.0.2"})
    assert source_of(Req("10.0.0.1", "198.51.100.7, 203.0.113.9, 10.0.0.2"), trusted) == "203.0.113.9"  # type: ignore[arg-type]
    assert source_of(Req("192.0.2.1", "203.0.113.9"), trusted) == "192.0.2.1"  # type: ignore[arg-type]
    assert source_of(Req("10.0.0.1", ""), trusted) == "10.0.0.1"  # type: ignore[arg-type]
