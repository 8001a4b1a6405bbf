"""The web app with TikTok, YouTube (Google) and Meta (Instagram, Facebook) set up against their local fakes,
and a creator whose chat a connect starts from: what the multi-step sign-in tests share."""

from __future__ import annotations

import html
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlalchemy import select

from core.accounts.models import ChatIdentity, User
from core.deps import CoreDeps
from core.distribution import connect
from core.distribution.connections import Owner
from core.distribution.models import PlatformConnection
from core.distribution.platforms.names import Platform
from core.notify.ports import ChatRef
from tests.distribution_fixtures import sent_texts
from tests.fakes.meta_graph_api import FakeMeta
from tests.fakes.tiktok_api import FakeTikTok
from tests.fakes.youtube_api import FakeYouTube
from webhooks.app import make_web_app


@dataclass
class SignIns:
    deps: CoreDeps
    port: int
    user_id: uuid.UUID
    chat: ChatRef
    tiktok: FakeTikTok
    youtube: FakeYouTube
    meta: FakeMeta

    async def link(self, platform: Platform) -> str:
        """The sign-in link `/connect` offers (its state issued and stored)."""
        return await connect.sign_in_link(self.deps.redis, self.deps.settings, platform, Owner(self.user_id), self.chat)

    async def sign_in(self, platform: Platform) -> tuple[int, str, list[str]]:
        """The browser's whole trip: the link, the platform's consent page, its redirect to the callback.
        The callback's status and page text, and what the chat was told."""
        before = len(sent_texts(self.deps, self.chat))
        async with aiohttp.ClientSession() as browser, browser.get(await self.link(platform)) as page:
            status, text = page.status, html.unescape(await page.text())
        return status, text, sent_texts(self.deps, self.chat)[before:]

    async def connections(self) -> list[PlatformConnection]:
        async with self.deps.sessionmaker() as session:
            rows = await session.scalars(select(PlatformConnection).where(PlatformConnection.user_id == self.user_id))
            return list(rows.all())


async def authorize(link: str) -> str:
    """The code the platform's consent page sends back for the sign-in link."""
    async with aiohttp.ClientSession() as browser, browser.get(link, allow_redirects=False) as page:
        assert page.status == 302, await page.text()
        return urllib.parse.parse_qs(urllib.parse.urlsplit(page.headers["Location"]).query)["code"][0]


@asynccontextmanager
async def sign_ins(publish_deps: CoreDeps, chat_id: str) -> AsyncIterator[SignIns]:
    """The three fakes, the web app on a free port (its public URL the redirect URIs' base) and a creator
    with the Telegram chat `chat_id`."""
    async with (
        FakeTikTok() as tiktok,
        FakeYouTube(client_id=f"{uuid.uuid4().hex[:12]}.apps.googleusercontent.com") as youtube,
        FakeMeta() as meta,
    ):
        publish_deps.settings = publish_deps.settings.model_copy(
            update={
                "tiktok_client_key": tiktok.client_key,
                "tiktok_client_secret": SecretStr(tiktok.client_secret),
                "tiktok_api_base": tiktok.base_url,
                "tiktok_authorize_url": tiktok.authorize_url,
                "google_client_id": youtube.client_id,
                "google_client_secret": SecretStr(youtube.client_secret),
                "google_auth_base": youtube.base_url,
                "google_token_base": youtube.base_url,
                "youtube_api_base": youtube.base_url,
                "meta_app_id": meta.app_id,
                "meta_app_secret": SecretStr(meta.app_secret),
                "meta_graph_base": meta.base_url,
                "meta_oauth_base": meta.base_url,
                # One address sends every refused callback: the web limits are another test's subject.
                "web_refusals_per_minute": 10**6,
                "web_requests_per_minute": 10**6,
                "rate_limit_namespace": f"sign-ins-{uuid.uuid4().hex[:10]}",
            }
        )
        server = TestServer(make_web_app(publish_deps, bot_username="recast_test_bot"), host="127.0.0.1")
        await server.start_server()
        publish_deps.settings = publish_deps.settings.model_copy(
            update={"public_base_url": str(server.make_url("")).rstrip("/")}
        )
        async with publish_deps.sessionmaker() as session:
            user = User(email=f"sign-in-{uuid.uuid4().hex[:8]}@example.com", password_hash="!x", full_name="Asha")
            session.add(user)
            await session.flush()
            session.add(ChatIdentity(provider="telegram", external_user_id=chat_id, chat_id=chat_id, user_id=user.id))
            await session.commit()
        assert server.port is not None
        try:
            yield SignIns(publish_deps, server.port, user.id, ChatRef("telegram", chat_id), tiktok, youtube, meta)
        finally:
            await server.close()
