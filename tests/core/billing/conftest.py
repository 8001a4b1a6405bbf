from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from billing_fakes import FakeGatewayApis
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts.service import register_chat_user
from core.billing.gateway_clients import build_gateways
from core.config import Settings
from core.deps import CoreDeps, Providers
from core.notify.ports import RecordingNotifier
from core.seed.service import apply_seed
from core.storage.files import LocalFileStore


class Enqueued(list[tuple[str, dict[str, Any]]]):
    async def __call__(self, task_name: str, /, **kwargs: Any) -> None:
        self.append((task_name, kwargs))


@pytest.fixture
async def gateway_apis() -> AsyncIterator[tuple[FakeGatewayApis, str]]:
    fake = FakeGatewayApis()
    server = TestServer(fake.app, host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
async def deps(
    sessionmaker: async_sessionmaker[AsyncSession],
    redis_url: str,
    tmp_path: Path,
    gateway_apis: tuple[FakeGatewayApis, str],
) -> AsyncIterator[CoreDeps]:
    _, base = gateway_apis
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        recast_data_dir=tmp_path,
        seller_state_code="29",
        seller_gstin="29ABCDE1234F1Z5",
        razorpay_key_id="rzp_test_key",
        razorpay_key_secret=SecretStr("rzp_secret"),
        stripe_api_key=SecretStr("sk_test_local"),
        cashfree_app_id="cf_app",
        cashfree_secret_key=SecretStr("cf_secret"),
        paypal_client_id="pp_id",
        paypal_client_secret=SecretStr("pp_secret"),
        razorpay_api_base=base,
        stripe_api_base=base,
        cashfree_api_base=base,
        paypal_api_base=base,
    )
    redis = Redis.from_url(redis_url)
    gateways = build_gateways(settings)
    yield CoreDeps(
        settings=settings,
        sessionmaker=sessionmaker,
        redis=redis,
        store=LocalFileStore(tmp_path / "media"),
        notifier=RecordingNotifier(),
        enqueue=Enqueued(),
        providers=Providers(gateways=gateways),
    )
    await redis.aclose()


@pytest.fixture
async def seeded(session: AsyncSession) -> AsyncSession:
    await apply_seed(session=session)
    await session.flush()
    return session


@pytest.fixture
async def creator(seeded: AsyncSession) -> uuid.UUID:
    """A Telegram creator on the seeded trial plan."""
    reg = await register_chat_user(
        session=seeded,
        provider="telegram",
        external_user_id=str(uuid.uuid4().int)[:9],
        chat_id="555001",
        full_name="Asha Creator",
    )
    await seeded.commit()
    return reg.user.id
