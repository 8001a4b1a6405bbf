"""Platform webhooks on the real web app, stored in the inbox and processed once by a real worker: a TikTok
`authorization.removed` and a Meta deauthorize revoke the account's connection, hold its posts and tell the
owner once; forged deliveries are refused and stored nowhere; handshakes answer only what they should."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlalchemy import func, select

from core.deps import CoreDeps
from core.distribution import connections, publishing
from core.distribution.connections import Owner
from core.distribution.models import ConnectionStatus, PlatformConnection, PostStatus, ScheduledPost
from core.distribution.ports import Account, TokenSet
from core.inbox.models import GatewayEvent
from core.repurposing.models import GeneratedContent
from tests.distribution_fixtures import Creator, make_clip, now, wait_for_message
from tests.workers import running_worker
from webhooks.app import make_web_app

SECRET = "platform-secret"


async def _connected(deps: CoreDeps, who: Creator, platform: str, account_id: str, tmp: Path) -> ScheduledPost:
    """A connection (stored by the product's own service) with one clip scheduled on it."""
    clip = deps.store.put_path(await make_clip(tmp / f"{platform}.mp4", seconds=4), f"clips/{uuid.uuid4().hex}.mp4")
    async with deps.sessionmaker() as session:
        connection = await connections.save_connection(
            session,
            deps.settings,
            platform=platform,
            owner=Owner(who.user_id),
            account=Account(account_id, "asha.reels"),
            tokens=TokenSet("tok-" + account_id, None, now() + timedelta(days=30), []),
        )
        draft = GeneratedContent(
            user_id=who.user_id,
            content_type="short_video",
            caption="A clip",
            content_text="A clip caption",
            file_url=clip,
            metadata_={"output_format": "short_video"},
        )
        session.add(draft)
        await session.flush()
        post, _ = await publishing.schedule(
            session,
            draft=draft,
            connection=connection,
            when=now() + timedelta(days=1),
            timezone="Asia/Kolkata",
            store=deps.store,
        )
        await session.commit()
        return post


def _signed_request(data: dict[str, object]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    mac = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=") + "." + payload


async def _events(deps: CoreDeps, sender: str, body: bytes) -> int:
    """Stored events of this body (tests share the database: other tests store TikTok events too)."""
    async with deps.sessionmaker() as session:
        stmt = (
            select(func.count())
            .select_from(GatewayEvent)
            .where(GatewayEvent.sender == sender, GatewayEvent.raw_body == body)
        )
        return int(await session.scalar(stmt) or 0)


async def test_tiktok_and_meta_revocations_hold_posts_and_tell_the_owner_once(
    publish_deps: CoreDeps, creator: Creator, run_id: str, tmp_path: Path
) -> None:
    publish_deps.settings = publish_deps.settings.model_copy(
        update={"tiktok_client_secret": SecretStr(SECRET), "meta_app_secret": SecretStr(SECRET)}
    )
    tiktok_post = await _connected(publish_deps, creator, "tiktok", f"act.{run_id}", tmp_path)
    insta_post = await _connected(publish_deps, creator, "instagram", f"1784{run_id}", tmp_path)
    web = TestServer(make_web_app(publish_deps), host="127.0.0.1")
    await web.start_server()
    try:
        async with running_worker(publish_deps, f"platform-{run_id}"), aiohttp.ClientSession() as http:
            body = json.dumps(
                {"client_key": "ck", "event": "authorization.removed", "create_time": 1, "user_openid": f"act.{run_id}"}
            ).encode()
            stamp = str(int(time.time()))
            signature = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            headers = {"TikTok-Signature": f"t={stamp},s={signature}", "Content-Type": "application/json"}
            for _ in range(3):  # TikTok retries: one event, processed once
                async with http.post(web.make_url("/webhooks/tiktok"), data=body, headers=headers) as answer:
                    assert answer.status == 200
            forged = {"TikTok-Signature": f"t={stamp},s={'0' * 64}"}
            async with http.post(web.make_url("/webhooks/tiktok"), data=body, headers=forged) as answer:
                assert answer.status == 400

            form = {
                "signed_request": _signed_request(
                    {"algorithm": "HMAC-SHA256", "user_id": f"1784{run_id}", "issued_at": 5}
                )
            }
            async with http.post(web.make_url("/webhooks/meta/deauthorize"), data=form) as answer:
                assert answer.status == 200
            async with http.post(
                web.make_url("/webhooks/meta/deauthorize"), data={"signed_request": "forged.payload"}
            ) as answer:
                assert answer.status == 400

            await wait_for_message(publish_deps, creator.chat, "TikTok account was removed on TikTok")
            await wait_for_message(publish_deps, creator.chat, "Instagram account was removed on Instagram")
    finally:
        await web.close()
    async with publish_deps.sessionmaker() as session:
        for post in (tiktok_post, insta_post):
            held = await session.get(ScheduledPost, post.id)
            assert held is not None and held.status == PostStatus.HELD
            connection = await session.get(PlatformConnection, held.platform_connection_id)
            assert connection is not None and connection.status == ConnectionStatus.REVOKED
    texts = [m.text for c, m in publish_deps.notifier.sent if c == creator.chat]  # type: ignore[attr-defined]
    assert sum("TikTok account was removed" in t for t in texts) == 1
    assert await _events(publish_deps, "tiktok", body) == 1  # three deliveries of one event, the forged one not stored


async def test_handshakes_answer_only_with_our_token(publish_deps: CoreDeps) -> None:
    publish_deps.settings = publish_deps.settings.model_copy(
        update={"meta_verify_token": SecretStr("vt"), "linkedin_client_secret": SecretStr(SECRET)}
    )
    web = TestServer(make_web_app(publish_deps), host="127.0.0.1")
    await web.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            ok = "/webhooks/meta?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=123"
            async with http.get(web.make_url(ok)) as answer:
                assert answer.status == 200 and await answer.text() == "123"
            async with http.get(web.make_url(ok.replace("vt", "guess"))) as answer:
                assert answer.status == 403 and "123" not in await answer.text()
            async with http.get(web.make_url("/webhooks/linkedin?challengeCode=abc")) as answer:
                expected = hmac.new(SECRET.encode(), b"abc", hashlib.sha256).hexdigest()
                assert answer.status == 200 and (await answer.json())["challengeResponse"] == expected
            topic = "https://www.youtube.com/xml/feeds/videos.xml?channel_id=UCnotours"
            async with http.get(
                web.make_url("/webhooks/youtube"),
                params={"hub.mode": "subscribe", "hub.topic": topic, "hub.challenge": "c"},
            ) as answer:
                assert answer.status == 404
    finally:
        await web.close()
