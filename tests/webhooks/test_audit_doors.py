"""Audit rows say which door an action came through: a web route keeps the source address (believing
X-Forwarded-For only from a trusted proxy) and the user agent; a gateway's webhook, processed by a worker,
is the `gateway` channel."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import webhook_signing as signing
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from workers import running_worker

from core.accounts.service import register_chat_user
from core.billing.models import Subscription
from core.db.session import make_sessionmaker
from core.deps import CoreDeps
from core.distribution import connect
from core.distribution.connections import Owner
from core.distribution.platforms.names import Platform
from core.notify.ports import RecordingNotifier
from core.seed.service import apply_seed
from core.storage.files import LocalFileStore
from core.system.models import AuditLog
from tests.distribution_fixtures import Creator
from tests.fakes.linkedin_api import FakeLinkedIn
from webhooks.app import make_web_app

BROWSER = "Mozilla/5.0 (RecastAuditTest) Firefox/140.0"


async def _rows(deps: CoreDeps, **where: Any) -> list[AuditLog]:
    async with deps.sessionmaker() as session:
        stmt = select(AuditLog).filter_by(**where).order_by(AuditLog.created_at)
        return list((await session.scalars(stmt)).all())


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        pytest.param("127.0.0.1", "203.0.113.9", id="trusted-proxy"),
        pytest.param("198.51.100.1", "127.0.0.1", id="untrusted-proxy"),
    ],
)
async def test_an_oauth_callback_audits_the_web_channel_address_and_user_agent(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, trusted: str, expected: str
) -> None:
    publish_deps.settings = publish_deps.settings.model_copy(update={"trusted_proxies": trusted})
    server = TestServer(make_web_app(publish_deps), host="127.0.0.1")
    await server.start_server()
    try:
        publish_deps.settings = publish_deps.settings.model_copy(update={"public_base_url": str(server.make_url(""))})
        link = await connect.sign_in_link(
            publish_deps.redis, publish_deps.settings, Platform.LINKEDIN, Owner(creator.user_id), creator.chat
        )
        # The browser reaches Recast through a proxy that says who the browser is (the peer is 127.0.0.1);
        # a forged hop to the left of it is never believed.
        headers = {"User-Agent": BROWSER, "X-Forwarded-For": "10.9.9.9, 203.0.113.9"}
        async with aiohttp.ClientSession(headers=headers) as browser, browser.get(link) as page:
            assert page.status == 200 and "LinkedIn connected" in await page.text()
    finally:
        await server.close()
    [row] = await _rows(publish_deps, user_id=creator.user_id, action="platform.connected")
    assert (row.channel, row.ip_address, row.user_agent) == ("web", expected, BROWSER)


async def _unwired(task_name: str, /, **kwargs: Any) -> None:
    raise AssertionError("replaced by running_worker")


@pytest.fixture
async def gateway_worker(
    engine: AsyncEngine, redis_url: str, run_id: str, tmp_path: Path, make_settings: Any, paypal_api: Any
) -> AsyncIterator[CoreDeps]:
    redis = Redis.from_url(redis_url)
    deps = CoreDeps(
        settings=make_settings(paypal_api_base=paypal_api[1]),
        sessionmaker=make_sessionmaker(engine),
        redis=redis,
        store=LocalFileStore(tmp_path / "media"),
        notifier=RecordingNotifier(),
        enqueue=_unwired,
    )
    async with running_worker(deps, f"recast-test-audit-{run_id}-{uuid.uuid4().hex[:6]}"):
        yield deps
    await redis.aclose()


async def test_a_gateway_webhook_processed_by_a_worker_audits_the_gateway_channel(
    gateway_worker: CoreDeps, paypal_api: Any
) -> None:
    deps, (fake, base) = gateway_worker, paypal_api
    async with deps.sessionmaker() as s:
        await apply_seed(session=s)
        reg = await register_chat_user(
            session=s,
            provider="telegram",
            external_user_id=str(uuid.uuid4().int)[:9],
            chat_id=str(uuid.uuid4().int)[:9],
            full_name="Gita Gateway",
        )
        await s.commit()
    sub_id = "I-" + uuid.uuid4().hex[:12].upper()
    at = datetime.now(UTC).replace(microsecond=0)
    event = {
        "id": "WH-" + uuid.uuid4().hex[:17].upper(),
        "event_type": "BILLING.SUBSCRIPTION.ACTIVATED",
        "resource_type": "subscription",
        "create_time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resource": {
            "id": sub_id,
            "custom_id": f"{reg.user.id}:creator-monthly",
            "plan_id": "P-0NJ10521L3680291SOAQIVTQ",
            "billing_info": {"next_billing_time": (at + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")},
        },
    }
    server = TestServer(make_web_app(deps), host="127.0.0.1")
    await server.start_server()
    try:
        raw = signing.body(event)
        headers = fake.signer.headers(raw, f"{base}/certs/paypal.pem")
        async with (
            aiohttp.ClientSession() as http,
            http.post(server.make_url("/webhooks/paypal"), data=raw, headers=headers) as answer,
        ):
            assert answer.status == 200
        for _ in range(400):
            async with deps.sessionmaker() as s:
                sub = await s.scalar(select(Subscription).where(Subscription.paypal_subscription_id == sub_id))
            if sub is not None and sub.status == "active":
                break
            await asyncio.sleep(0.05)
        assert sub is not None and sub.status == "active"
    finally:
        await server.close()
    rows = await _rows(deps, resource_id=sub.id, action="subscription_active")
    assert [(r.channel, r.ip_address) for r in rows] == [("gateway", None)]
    assert str(rows[0].metadata_["actor"]).startswith("worker:")
