from __future__ import annotations

import base64
import uuid
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import webhook_signing as signing
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from woken_units import PushedIds

from core.config import Settings
from core.db.session import make_sessionmaker
from core.deps import CoreDeps
from core.notify.ports import RecordingNotifier
from core.storage.files import LocalFileStore
from webhooks.app import make_web_app


class Enqueued(list[tuple[str, dict[str, Any]]]):
    async def __call__(self, task_name: str, /, **kwargs: Any) -> None:
        self.append((task_name, kwargs))


class FakePayPal:
    """PayPal's OAuth, verify-webhook-signature and certificate endpoints on a local port."""

    def __init__(self, signer: signing.PayPalSigner) -> None:
        self.signer = signer
        self.verify_calls = 0
        self.cert_fetches = 0
        self.app = web.Application()
        self.app.router.add_post("/v1/oauth2/token", self.token)
        self.app.router.add_post("/v1/notifications/verify-webhook-signature", self.verify)
        self.app.router.add_get("/certs/paypal.pem", self.cert)

    async def token(self, request: web.Request) -> web.Response:
        assert request.headers["Authorization"].startswith("Basic ")
        return web.json_response({"access_token": "A21-test", "token_type": "Bearer", "expires_in": 32400})

    async def verify(self, request: web.Request) -> web.Response:
        self.verify_calls += 1
        assert request.headers["Authorization"] == "Bearer A21-test"
        data = await request.json()
        # Real PayPal checks against the event it re-serializes; ours re-checks the signature.
        raw = signing.body(data["webhook_event"])
        message = f"{data['transmission_id']}|{data['transmission_time']}|{data['webhook_id']}|{zlib.crc32(raw)}"
        try:
            self.signer.key.public_key().verify(
                base64.b64decode(data["transmission_sig"]), message.encode(), padding.PKCS1v15(), hashes.SHA256()
            )
            status = "SUCCESS"
        except InvalidSignature:
            status = "FAILURE"
        return web.json_response({"verification_status": status})

    async def cert(self, request: web.Request) -> web.Response:
        self.cert_fetches += 1
        return web.Response(body=self.signer.pem, content_type="application/x-pem-file")


@pytest.fixture
async def paypal_api() -> AsyncIterator[tuple[FakePayPal, str]]:
    fake = FakePayPal(signing.PayPalSigner())
    server = TestServer(fake.app, host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def _make(**overrides: Any) -> Settings:
        values: dict[str, Any] = dict(
            razorpay_webhook_secret=SecretStr(signing.RAZORPAY_SECRET),
            stripe_webhook_secret=SecretStr(signing.STRIPE_SECRET),
            cashfree_app_id="cf_app",
            cashfree_secret_key=SecretStr(signing.CASHFREE_SECRET),
            paypal_client_id="pp_client",
            paypal_client_secret=SecretStr("pp_secret"),
            paypal_webhook_id=signing.PAYPAL_WEBHOOK_ID,
            recast_data_dir=tmp_path,
            webhook_max_body_bytes=64 * 1024,
            # Every test's requests come from 127.0.0.1: each test counts its refusals apart.
            rate_limit_namespace=f"t-{uuid.uuid4().hex[:10]}",
        )
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return _make


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def make_deps(engine: AsyncEngine, redis: Redis, tmp_path: Path) -> Callable[[Settings], CoreDeps]:
    # Webhook requests commit for real (the app opens its own sessions, concurrently); event ids are
    # unique per test so tests never see each other's rows.
    def _make(settings: Settings) -> CoreDeps:
        return CoreDeps(
            settings=settings,
            sessionmaker=make_sessionmaker(engine),
            redis=redis,
            store=LocalFileStore(tmp_path / "media"),
            notifier=RecordingNotifier(),
            enqueue=Enqueued(),
            work_queue=PushedIds(),
        )

    return _make


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[[CoreDeps], Any]]:
    clients: list[TestClient[Any, Any]] = []

    async def _make(deps: CoreDeps) -> TestClient[Any, Any]:
        client: TestClient[Any, Any] = TestClient(TestServer(make_web_app(deps), host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield _make
    for client in clients:
        await client.close()
