"""Flood figures for the web doors (issue 16), over real HTTP into the real app, PostgreSQL and Redis.

Each signed route: one address floods it with forged deliveries while the gateway itself (another address,
through a trusted proxy) sends a storm of validly signed duplicates of one event. The forged ones are
refused (400, then 429 once the address is over its refusals) with nothing stored or queued; the storm is
always acknowledged and becomes one stored event with one work unit. Each link people open (OAuth
callbacks, media links, calendar feeds, the checkout return page): one address past its per-minute count
gets 429 without the handler running. Nothing of any flood is charged to anyone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import webhook_signing as signing
from floods import Figures, work_units_mentioning
from pydantic import SecretStr
from sqlalchemy import func, select

from core.billing.models import UsageTracking
from core.common.clock import utcnow
from core.db.session import make_sessionmaker
from core.inbox.models import GatewayEvent
from core.storage.factory import media_links
from core.storage.files import LocalFileStore

PLATFORM_SECRET = "platform-flood-secret"
FORGED, GATEWAY = "203.0.113.66", "198.51.100.7"
FORGED_SENT, VALID_SENT, REFUSALS = 20, 10, 5


def _hex(data: bytes, algo: Any = hashlib.sha256) -> str:
    return hmac.new(PLATFORM_SECRET.encode(), data, algo).hexdigest()


def _deauthorize(tag: str) -> bytes:
    encoded = base64.urlsafe_b64encode(
        json.dumps({"algorithm": "HMAC-SHA256", "user_id": tag, "issued_at": 1}).encode()
    ).rstrip(b"=")
    sig = base64.urlsafe_b64encode(hmac.new(PLATFORM_SECRET.encode(), encoded, hashlib.sha256).digest()).rstrip(b"=")
    return urllib.parse.urlencode({"signed_request": (sig + b"." + encoded).decode()}).encode()


def _tiktok(raw: bytes) -> dict[str, str]:
    t = str(int(time.time()))
    return {"TikTok-Signature": f"t={t},s={_hex(t.encode() + b'.' + raw)}"}


# sender → (path, body for a unique tag, signer)
DOORS: dict[str, tuple[str, Callable[[str], bytes], Callable[..., dict[str, str]]]] = {
    "razorpay": (
        "/webhooks/razorpay",
        lambda tag: signing.body({"event": "payment.captured", "payload": {"payment": {"entity": {"id": tag}}}}),
        lambda raw, tag: signing.razorpay(raw, event_id=tag),
    ),
    "stripe": (
        "/webhooks/stripe",
        lambda tag: signing.body({"id": tag, "type": "payment_intent.succeeded", "data": {"object": {}}}),
        lambda raw, tag: signing.stripe(raw),
    ),
    "cashfree": (
        "/webhooks/cashfree",
        lambda tag: signing.body({"type": "PAYMENT_SUCCESS_WEBHOOK", "data": {"order": {"order_id": tag}}}),
        lambda raw, tag: signing.cashfree(raw),
    ),
    "paypal": (
        "/webhooks/paypal",
        lambda tag: signing.body({"id": tag, "event_type": "PAYMENT.SALE.COMPLETED", "resource": {}}),
        None,  # signed by the PayPal stand-in's certificate (the `paypal_api` fixture)
    ),
    "meta": (
        "/webhooks/meta",
        lambda tag: signing.body({"object": "instagram", "entry": [{"id": tag, "changes": []}]}),
        lambda raw, tag: {"X-Hub-Signature-256": "sha256=" + _hex(raw)},
    ),
    "meta/deauthorize": ("/webhooks/meta/deauthorize", _deauthorize, lambda raw, tag: {}),
    "linkedin": (
        "/webhooks/linkedin",
        lambda tag: signing.body({"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notificationId": tag}),
        lambda raw, tag: {"X-LI-Signature": _hex(raw)},
    ),
    "tiktok": (
        "/webhooks/tiktok",
        lambda tag: signing.body({"event": "post.publish.complete", "user_openid": tag}),
        lambda raw, tag: _tiktok(raw),
    ),
    "youtube": (
        "/webhooks/youtube",
        lambda tag: (
            "<feed xmlns='http://www.w3.org/2005/Atom' xmlns:yt='http://www.youtube.com/xml/schemas/2015'>"
            f"<entry><yt:videoId>{tag[:11]}</yt:videoId><yt:channelId>UC{tag}</yt:channelId></entry></feed>"
        ).encode(),
        lambda raw, tag: {"X-Hub-Signature": "sha1=" + _hex(raw, hashlib.sha1), "Content-Type": "application/atom+xml"},
    ),
}


def _forge(headers: dict[str, str]) -> dict[str, str]:
    return {k: (v[:-6] + "000000" if "sig" in k.lower() else v) for k, v in headers.items()}


async def _charged_total(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    async with make_sessionmaker(engine)() as s:
        row = (
            await s.execute(
                select(
                    func.coalesce(func.sum(UsageTracking.content_uploads), 0),
                    func.coalesce(func.sum(UsageTracking.ai_credits_used), 0),
                )
            )
        ).one()
    return int(row[0]), int(row[1])


@pytest.mark.parametrize("door", list(DOORS))
async def test_a_flood_of_forged_deliveries_is_refused_and_a_storm_of_duplicates_is_one_unit_of_work(
    door, make_settings, make_deps, make_client, engine, paypal_api
):
    fake_paypal, paypal_base = paypal_api
    settings = make_settings(
        web_refusals_per_minute=REFUSALS,
        trusted_proxies="127.0.0.1",
        paypal_api_base=paypal_base,
        meta_app_secret=SecretStr(PLATFORM_SECRET),
        linkedin_client_secret=SecretStr(PLATFORM_SECRET),
        tiktok_client_secret=SecretStr(PLATFORM_SECRET),
        youtube_websub_secret=SecretStr(PLATFORM_SECRET),
    )
    deps = make_deps(settings)
    client = await make_client(deps)
    since, charged_before = utcnow(), await _charged_total(engine)
    path, make_body, sign = DOORS[door]
    tag = f"flood{uuid.uuid4().hex[:12]}"
    raw = make_body(tag)
    if sign is None:
        headers = fake_paypal.signer.headers(raw, f"{paypal_base}/certs/paypal.pem")
    else:
        headers = {"Content-Type": "application/json", **sign(raw, tag)}
    if door == "meta/deauthorize":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        forged_body = _deauthorize(tag).replace(b"signed_request=", b"signed_request=AAAA")
        forged_headers = headers
    else:
        forged_body, forged_headers = raw, _forge(headers)
    forged = [
        (await client.post(path, data=forged_body, headers={**forged_headers, "X-Forwarded-For": FORGED})).status
        for _ in range(FORGED_SENT)
    ]
    valid = [
        (await client.post(path, data=raw, headers={**headers, "X-Forwarded-For": GATEWAY})).status
        for _ in range(VALID_SENT)
    ]
    assert forged == [400] * REFUSALS + [429] * (FORGED_SENT - REFUSALS), forged
    assert valid == [200] * VALID_SENT, valid
    async with make_sessionmaker(engine)() as s:
        stored = list((await s.scalars(select(GatewayEvent.id).where(GatewayEvent.raw_body == raw))).all())
        forged_stored = await s.scalar(
            select(func.count()).select_from(GatewayEvent).where(GatewayEvent.raw_body == forged_body)
        )
        units = await work_units_mentioning(s, [str(i) for i in stored], since)
    assert len(stored) == 1 and (forged_stored == 0 or forged_body == raw) and units == 1
    uploads, credits = (a - b for a, b in zip(await _charged_total(engine), charged_before, strict=True))
    sent = FORGED_SENT + VALID_SENT
    refused = sum(s >= 400 for s in forged + valid)
    figures = Figures(f"webhook {path} (forged + duplicates)", sent, refused, sent - refused, units, uploads, credits)
    print(figures.line())
    assert (figures.refused, figures.admitted, uploads, credits) == (FORGED_SENT, VALID_SENT, 0, 0)


LINKS: dict[str, Callable[[Any], str]] = {
    "oauth callback": lambda deps: "/oauth/linkedin/callback?state=forged.state&code=c",
    "media link": lambda deps: "/media/" + deps.store.links.token("flood/clip.mp4", expires_s=600),
    "calendar feed": lambda deps: f"/calendar/{uuid.uuid4().hex}.ics",
    "billing return": lambda deps: f"/billing/return?payment={uuid.uuid4()}",
}
LINK_LIMIT, LINK_SENT = 5, 20


@pytest.mark.parametrize("door", list(LINKS))
async def test_a_flood_of_one_link_is_cut_off_per_address(
    door, make_settings, make_deps, make_client, engine, tmp_path
):
    settings = make_settings(web_requests_per_minute=LINK_LIMIT, public_base_url="http://127.0.0.1")
    deps = make_deps(settings)
    deps.store = LocalFileStore(tmp_path / "media", links=media_links(settings))
    (tmp_path / "media" / "flood").mkdir(parents=True)
    (tmp_path / "media" / "flood" / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    client = await make_client(deps)
    since, charged_before = utcnow(), await _charged_total(engine)
    path = LINKS[door](deps)
    statuses = [(await client.get(path)).status for _ in range(LINK_SENT)]
    assert 429 not in statuses[:LINK_LIMIT] and statuses[LINK_LIMIT:] == [429] * (LINK_SENT - LINK_LIMIT)
    async with make_sessionmaker(engine)() as s:
        units = await work_units_mentioning(s, ["forged.state", path.rsplit("/", 1)[-1]], since)
    uploads, credits = (a - b for a, b in zip(await _charged_total(engine), charged_before, strict=True))
    refused = statuses.count(429)
    print(Figures(f"{door} (one address)", LINK_SENT, refused, LINK_SENT - refused, units, uploads, credits).line())
    assert (units, uploads, credits) == (0, 0, 0)
