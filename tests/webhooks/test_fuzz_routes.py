"""Issue 16: generated requests against every route of the web app, over real HTTP into the real
application (PostgreSQL, Redis, the gateway inbox), asserting no 5xx, no unhandled exception in the logs
and no configured secret in any stored row.

The routes come from `app.router.routes()`: a route added to `make_web_app` without a strategy here fails
`test_every_route_has_a_strategy`, and the fuzz test walks whatever the app has. A signed door gets
deliveries signed with this test's secrets (so they pass verification and reach storage) whose JSON
fields are generated, and garbage, truncated, huge, non-UTF-8 and wrongly typed bodies, signed and not;
a link people open gets generated paths, tokens (forged and validly signed) and query strings.

Why a synchronous test with its own event loop: hypothesis calls the example function synchronously,
once per example; the server, the database engine and the PayPal stand-in live in this loop throughout.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import webhook_signing as signing
from aiohttp import web
from aiohttp.test_utils import TestServer
from fuzzing import ODD_TEXT, examples, fuzz_fields, raw_request, tables_holding, unhandled
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from redis.asyncio import Redis
from woken_units import PushedIds

from core.config import Settings
from core.db.session import make_engine, make_sessionmaker
from core.deps import CoreDeps
from core.distribution.calendar_feed import feed_token
from core.notify.ports import RecordingNotifier
from core.storage.factory import media_links
from core.storage.files import LocalFileStore
from tests.webhooks.conftest import FakePayPal
from webhooks.app import make_web_app
from webhooks.platforms.youtube import TOPIC_PREFIX

RUN = uuid.uuid4().hex[:12]
# Unique to this module: a row holding one of them came from these requests.
SECRETS = {
    "razorpay_webhook_secret": f"rzpwhsec{RUN}",
    "stripe_webhook_secret": f"whsecfuzz{RUN}",
    "cashfree_secret_key": f"cfsecret{RUN}",
    "paypal_client_secret": f"ppsecret{RUN}",
    "meta_app_secret": f"metasecret{RUN}",
    "meta_verify_token": f"metaverify{RUN}",
    "linkedin_client_secret": f"lisecret{RUN}",
    "tiktok_client_secret": f"ttsecret{RUN}",
    "youtube_websub_secret": f"ytsecret{RUN}",
    "recast_secret_key": f"recastkey{RUN}{RUN}",
}
MAX_BODY = 64 * 1024


@dataclass
class Request:
    method: str
    target: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""

    def __repr__(self) -> str:  # hypothesis prints the falsifying example
        return f"Request({self.method} {self.target[:300]!r} headers={self.headers[:12]!r} body={self.body[:300]!r})"


# ------------------------------------------------------------------------------------ signing


def _hmac_hex(secret: str, data: bytes, algo: Any = hashlib.sha256) -> str:
    return hmac.new(secret.encode(), data, algo).hexdigest()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _pairs(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode()) for k, v in headers.items()]


Signer = Callable[[bytes], dict[str, str]]


def signers(paypal: FakePayPal, paypal_base: str) -> dict[str, Signer]:
    s = SECRETS
    now = lambda: str(int(time.time()))  # noqa: E731
    return {
        "razorpay": lambda raw: signing.razorpay(raw, secret=s["razorpay_webhook_secret"]),
        "stripe": lambda raw: signing.stripe(raw, secrets=(s["stripe_webhook_secret"],)),
        "cashfree": lambda raw: signing.cashfree(raw, secret=s["cashfree_secret_key"]),
        "paypal": lambda raw: paypal.signer.headers(raw, f"{paypal_base}/certs/paypal.pem"),
        "meta": lambda raw: {"X-Hub-Signature-256": "sha256=" + _hmac_hex(s["meta_app_secret"], raw)},
        "linkedin": lambda raw: {"X-LI-Signature": _hmac_hex(s["linkedin_client_secret"], raw)},
        "tiktok": lambda raw: {
            "TikTok-Signature": f"t={(t := now())},s={_hmac_hex(s['tiktok_client_secret'], t.encode() + b'.' + raw)}"
        },
        "youtube": lambda raw: {"X-Hub-Signature": "sha1=" + _hmac_hex(s["youtube_websub_secret"], raw, hashlib.sha1)},
    }


def signed_request(payload: dict[str, Any]) -> str:
    encoded = _b64url(json.dumps(payload).encode())
    sig = hmac.new(SECRETS["meta_app_secret"].encode(), encoded.encode(), hashlib.sha256).digest()
    return _b64url(sig) + "." + encoded


TEMPLATES: dict[str, dict[str, Any]] = {
    "razorpay": {
        "entity": "event",
        "event": "payment.captured",
        "created_at": 1764633600,
        "payload": {
            "payment": {
                "entity": {"id": "pay_fuzz", "amount": 79900, "currency": "INR", "order_id": "order_f", "notes": []}
            }
        },
    },
    "stripe": {
        "id": "evt_fuzz",
        "type": "checkout.session.completed",
        "created": 1764633600,
        "data": {"object": {"id": "cs_fuzz", "amount_total": 1200, "currency": "usd", "metadata": {"plan": "pro"}}},
    },
    "cashfree": {
        "type": "PAYMENT_SUCCESS_WEBHOOK",
        "event_time": "2026-12-02T10:00:00+05:30",
        "data": {"order": {"order_id": "o_fuzz", "order_amount": 799}, "payment": {"cf_payment_id": 1}},
    },
    "paypal": {
        "id": "WH-FUZZ",
        "event_type": "BILLING.SUBSCRIPTION.ACTIVATED",
        "resource": {"id": "I-FUZZ", "plan_id": "P-1", "custom_id": "x", "status": "ACTIVE"},
    },
    "meta": {"object": "instagram", "entry": [{"id": "1784", "time": 1, "changes": [{"field": "comments"}]}]},
    "linkedin": {"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notificationId": 42, "organizationalEntity": "x"},
    "tiktok": {"client_key": "ck", "event": "post.publish.complete", "create_time": 1, "user_openid": "act.1"},
}
ATOM = (
    "<?xml version='1.0' encoding='UTF-8'?><feed xmlns:yt=\"http://www.youtube.com/xml/schemas/2015\" "
    'xmlns="http://www.w3.org/2005/Atom"><entry><yt:videoId>{video}</yt:videoId><yt:channelId>{channel}'
    "</yt:channelId><title>{title}</title><published>{when}</published></entry></feed>"
)
XML_NASTIES = [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b"<feed>&lol2;</feed>",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><feed>&e;</feed>',
    b"<feed><entry>" * 2000,
    b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>\xff\xfe</title></entry></feed>",
]


def _text_bytes(s: str) -> bytes:
    return s.encode("utf-8", errors="surrogatepass")


@st.composite
def payload_bodies(draw: st.DrawFn, sender: str) -> bytes:
    """A body as the sender would send it, with generated fields."""
    if sender == "youtube":
        if draw(st.integers(0, 5)) == 0:
            return draw(st.sampled_from(XML_NASTIES))
        fields = {k: draw(ODD_TEXT) for k in ("video", "channel", "title", "when")}
        return _text_bytes(ATOM.format(**fields))
    if sender == "meta_deauthorize":
        data = draw(fuzz_fields({"algorithm": "HMAC-SHA256", "user_id": "1784", "issued_at": 1764633600}))
        value = signed_request(data) if draw(st.integers(0, 3)) else draw(ODD_TEXT)
        return urllib.parse.urlencode({"signed_request": value}).encode()
    payload = draw(fuzz_fields(TEMPLATES[sender]))
    return json.dumps(payload, separators=(",", ":")).encode()


@st.composite
def extra_headers(draw: st.DrawFn) -> list[tuple[bytes, bytes]]:
    names = st.one_of(
        st.sampled_from(
            [b"X-Forwarded-For", b"User-Agent", b"Cookie", b"Authorization", b"Accept", b"X-Webhook-Version"]
        ),
        st.from_regex(rb"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z"),
    )
    values = st.one_of(
        st.from_regex(rb"\A[ -~]{0,60}\Z"),
        st.binary(max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b and b"\x00" not in b),
        st.text(max_size=20).map(lambda t: t.encode("utf-8", "surrogatepass").replace(b"\r", b"").replace(b"\n", b"")),
    )
    return draw(st.lists(st.tuples(names, values), max_size=4))


@st.composite
def signed_deliveries(draw: st.DrawFn, sender: str, path: str, sign: Signer) -> Request:
    raw = draw(payload_bodies(sender))
    kind = draw(
        st.sampled_from(
            [
                "valid",
                "valid",
                "valid",
                "garbage",
                "truncated",
                "non_utf8",
                "huge",
                "content_type",
                "unsigned",
                "forged",
            ]
        )
    )
    if kind == "garbage":
        raw = draw(st.one_of(st.binary(max_size=3000), st.sampled_from([b"", b"null", b"[]", b"{}", b"\x00" * 10])))
    elif kind == "truncated":
        raw = raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
    elif kind == "non_utf8":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80\x80"])) + raw[at:]
    elif kind == "huge":
        raw = raw + b" " * (MAX_BODY + draw(st.integers(1, 4096)))
    headers = {} if kind == "unsigned" else dict(sign(raw))
    if kind == "forged":
        headers = {k: (v[:-4] + "abcd" if "sig" in k.lower() else v) for k, v in headers.items()}
    if sender == "meta_deauthorize":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif sender == "youtube":
        headers["Content-Type"] = "application/atom+xml"
    if kind == "content_type":
        headers["Content-Type"] = draw(
            st.sampled_from(
                ["text/plain", "multipart/form-data; boundary=x", "application/json; charset=latin-1", "", "\x7f/\x7f"]
            )
        )
    query = draw(st.one_of(st.just(b""), queries()))
    return Request("POST", path.encode() + query, _pairs(headers) + draw(extra_headers()), raw)


@st.composite
def queries(draw: st.DrawFn, keys: list[str] | None = None, known: dict[str, str] | None = None) -> bytes:
    names = st.sampled_from(keys) if keys else ODD_TEXT
    params = draw(
        st.lists(
            st.tuples(names, st.one_of(ODD_TEXT, st.sampled_from(list((known or {}).values()) or [""]))), max_size=5
        )
    )
    if draw(st.integers(0, 6)) == 0:  # not even urlencoded: raw bytes, bad escapes
        return b"?" + draw(st.sampled_from([b"%", b"%zz", b"a=%ff%fe", b"&&&==", b"a=b=c", b"%00", b";;"]))
    encoded = urllib.parse.urlencode([(_text_bytes(k), _text_bytes(v)) for k, v in params])
    return ("?" + encoded).encode() if encoded else b""


def path_segment(s: str) -> str:
    return urllib.parse.quote(_text_bytes(s), safe="")


@st.composite
def link_requests(
    draw: st.DrawFn, template: str, fill: Callable[[st.DrawFn], str], keys: list[str], known: dict[str, str]
) -> Request:
    method = draw(st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "DELETE", "OPTIONS"]))
    path = template
    if "{" in template:
        head, _, rest = template.partition("{")
        _, _, tail = rest.partition("}")
        path = head + fill(draw) + tail
    body = draw(st.one_of(st.just(b""), st.binary(max_size=200))) if method == "POST" else b""
    return Request(method, path.encode() + draw(queries(keys, known)), draw(extra_headers()), body)


# ------------------------------------------------------------------------------------- the app


def make_settings(tmp_path: Path, paypal_base: str, run_namespace: str) -> Settings:
    values: dict[str, Any] = {k: SecretStr(v) for k, v in SECRETS.items()}
    values.update(
        cashfree_app_id="cf_app",
        paypal_client_id="pp_client",
        paypal_webhook_id=signing.PAYPAL_WEBHOOK_ID,
        paypal_api_base=paypal_base,
        recast_data_dir=tmp_path,
        webhook_max_body_bytes=MAX_BODY,
        public_base_url="http://127.0.0.1:8080",
        # The fuzzer sends thousands of refused requests from one address: limits are another test's subject.
        web_refusals_per_minute=10**6,
        web_requests_per_minute=10**6,
        rate_limit_namespace=run_namespace,
    )
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def strategies(settings: Settings, paypal: FakePayPal, paypal_base: str) -> dict[tuple[str, str], Any]:
    """A strategy for each (method, route) the web app has."""
    links = media_links(settings)
    sign = signers(paypal, paypal_base)

    def media_token(draw: st.DrawFn) -> str:
        key = draw(st.one_of(st.just("a/b.mp4"), ODD_TEXT, st.just("../../etc/passwd"), st.just("/etc/passwd")))
        valid = draw(st.booleans()) and key != ""
        token = links.token(key, expires_s=draw(st.integers(1, 10**9))) if valid else draw(ODD_TEXT)
        return path_segment(token)

    def calendar_token(draw: st.DrawFn) -> str:
        valid = draw(st.booleans())
        return path_segment(feed_token(settings, uuid.uuid4()) if valid else draw(ODD_TEXT))

    def platform(draw: st.DrawFn) -> str:
        return path_segment(
            draw(st.one_of(st.sampled_from(["linkedin", "x", "youtube", "tiktok", "instagram"]), ODD_TEXT))
        )

    def none(_: st.DrawFn) -> str:
        return ""

    def get(template: str, fill: Callable[[st.DrawFn], str] = none, keys: tuple[str, ...] = (), **known: str) -> Any:
        return link_requests(template, fill, list(keys), known)

    table: dict[tuple[str, str], Any] = {
        ("GET", "/healthz"): get("/healthz"),
        ("GET", "/readyz"): get("/readyz"),
        ("GET", "/metrics"): get("/metrics"),
        ("GET", "/billing/return"): get(
            "/billing/return",
            keys=("payment", "result", "razorpay_payment_link_status", "PayerID", "token"),
            payment=str(uuid.uuid4()),
            paid="paid",
            cancelled="cancelled",
        ),
        ("GET", "/oauth/{platform}/callback"): get(
            "/oauth/{platform}/callback", platform, ("state", "code", "error", "error_description"), state="abc.def"
        ),
        ("GET", "/calendar/{token}.ics"): get("/calendar/{token}.ics", calendar_token),
        ("GET", "/media/{token}"): get("/media/{token}", media_token),
        ("GET", "/webhooks/meta"): get(
            "/webhooks/meta",
            keys=("hub.mode", "hub.verify_token", "hub.challenge"),
            mode="subscribe",
            token=SECRETS["meta_verify_token"],
        ),
        ("GET", "/webhooks/linkedin"): get("/webhooks/linkedin", keys=("challengeCode",)),
        ("GET", "/webhooks/youtube"): get(
            "/webhooks/youtube",
            keys=("hub.mode", "hub.topic", "hub.challenge", "hub.lease_seconds"),
            mode="subscribe",
            topic=TOPIC_PREFIX + "UCabc",
        ),
        ("POST", "/webhooks/meta/deauthorize"): signed_deliveries(
            "meta_deauthorize", "/webhooks/meta/deauthorize", lambda raw: {}
        ),
    }
    for sender in ("razorpay", "stripe", "cashfree", "paypal", "meta", "linkedin", "tiktok", "youtube"):
        table[("POST", f"/webhooks/{sender}")] = signed_deliveries(sender, f"/webhooks/{sender}", sign[sender])
    # aiohttp answers HEAD for every GET route with the GET handler.
    for (method, path), strategy in list(table.items()):
        if method == "GET":
            table[("HEAD", path)] = strategy.map(lambda r: Request("HEAD", r.target, r.headers))
    return table


def route_keys(app: web.Application) -> list[tuple[str, str]]:
    return sorted({(r.method, r.resource.canonical) for r in app.router.routes() if r.resource is not None})


class Harness:
    """The web app on a real port with its own engine, Redis client and PayPal stand-in, in one loop."""

    def __init__(self, database_url: str, redis_url: str, tmp_path: Path) -> None:
        self.runner = asyncio.Runner()
        self.database_url, self.redis_url, self.tmp_path = database_url, redis_url, tmp_path

    def __enter__(self) -> Harness:
        self.runner.__enter__()
        self.run(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        self.run(self._stop())
        self.runner.__exit__(None, None, None)

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)

    async def _start(self) -> None:
        self.paypal = FakePayPal(signing.PayPalSigner())
        self.paypal_server = TestServer(self.paypal.app, host="127.0.0.1")
        await self.paypal_server.start_server()
        self.paypal_base = str(self.paypal_server.make_url("")).rstrip("/")
        self.settings = make_settings(self.tmp_path, self.paypal_base, f"fuzz-{RUN}")
        self.engine = make_engine(self.database_url, pool_size=5)
        self.redis = Redis.from_url(self.redis_url)
        deps = CoreDeps(
            settings=self.settings,
            sessionmaker=make_sessionmaker(self.engine),
            redis=self.redis,
            store=LocalFileStore(self.tmp_path / "media", links=media_links(self.settings)),
            notifier=RecordingNotifier(),
            enqueue=_Enqueued(),
            work_queue=PushedIds(),
        )
        (self.tmp_path / "media" / "a").mkdir(parents=True, exist_ok=True)
        (self.tmp_path / "media" / "a" / "b.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
        self.app = make_web_app(deps)
        self.server = TestServer(self.app, host="127.0.0.1")
        await self.server.start_server()
        assert self.server.port is not None
        self.port: int = self.server.port

    async def _stop(self) -> None:
        await self.server.close()
        await self.paypal_server.close()
        await self.redis.aclose()
        await self.engine.dispose()

    def send(self, request: Request) -> tuple[int, bytes]:
        return self.run(raw_request(self.port, request.method, request.target, request.headers, request.body))


class _Enqueued(list[tuple[str, dict[str, Any]]]):
    async def __call__(self, task_name: str, /, **kwargs: Any) -> None:
        self.append((task_name, kwargs))


@pytest.fixture
def harness(database_url: str, redis_url: str, tmp_path: Path):
    with Harness(database_url, redis_url, tmp_path) as h:
        yield h


def test_every_route_has_a_strategy(harness: Harness) -> None:
    known = strategies(harness.settings, harness.paypal, harness.paypal_base)
    missing = [key for key in route_keys(harness.app) if key not in known]
    assert missing == [], f"routes without a fuzz strategy in {__file__}: {missing}"
    assert len(route_keys(harness.app)) >= 25


def test_generated_requests_to_every_route_get_no_5xx_no_unhandled_exception_and_store_no_secret(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    known = strategies(harness.settings, harness.paypal, harness.paypal_base)
    statuses: dict[tuple[str, str], set[int]] = {}
    timings: dict[tuple[str, str], float] = {}

    def fuzz(key: tuple[str, str]) -> None:
        @examples(20 if key[0] == "POST" else 6)
        @given(known[key])  # test_every_route_has_a_strategy says which one is missing
        def one_request(request: Request) -> None:
            before = len(caplog.records)
            status, answer = harness.send(request)
            statuses.setdefault(key, set()).add(status)
            assert status < 500, f"{key}: {status} {answer[:500]!r}"
            assert unhandled(caplog.records[before:]) == [], key

        started = time.perf_counter()
        one_request()
        timings[key] = time.perf_counter() - started

    for key in route_keys(harness.app):
        fuzz(key)
    leaked = harness.run(tables_holding(harness.engine, SECRETS.values()))
    assert leaked == {}, f"rows holding a configured secret: {leaked}"
    # The signed deliveries got past verification (stored or refused as malformed), not only refused.
    for sender in ("razorpay", "stripe", "cashfree", "paypal", "meta", "linkedin", "tiktok", "youtube"):
        assert statuses[("POST", f"/webhooks/{sender}")] & {200, 202}, (
            sender,
            statuses[("POST", f"/webhooks/{sender}")],
        )
    for (method, path), seen in statuses.items():
        print(f"fuzzed {method} {path}: statuses {sorted(seen)} in {timings[(method, path)]:.1f} s")
