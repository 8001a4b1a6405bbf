"""Fixtures for the distribution tests (core, webhooks, bots): a fake LinkedIn over HTTP, a creator with a
draft, live deps pointed at the fake. Loaded for every test folder by the root conftest's `pytest_plugins`."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlalchemy import select

from core.accounts.models import ChatIdentity, User
from core.common.clock import utcnow
from core.deps import CoreDeps
from core.distribution import connect
from core.distribution.connections import Owner
from core.distribution.models import PlatformConnection, ScheduledPost
from core.distribution.platforms.names import Platform
from core.media.ffmpeg import find_ffmpeg, run_ffmpeg
from core.notify.ports import ChatRef, OutgoingMessage
from core.repurposing.models import GeneratedContent
from tasks.registry import load_all
from tests.fakes.linkedin_api import FakeLinkedIn
from tests.fakes.meta_graph_api import FakeMeta
from tests.fakes.site import local_site
from tests.fakes.tiktok_api import FakeTikTok


@pytest.fixture
async def linkedin() -> AsyncIterator[FakeLinkedIn]:
    async with FakeLinkedIn() as fake:
        yield fake


@pytest.fixture
def publish_deps(live_deps: CoreDeps, linkedin: FakeLinkedIn) -> CoreDeps:
    """Live deps whose settings point the LinkedIn client at the fake, with short timeouts and retries."""
    load_all()  # the publish unit's handler must be known before a post is scheduled
    live_deps.settings = live_deps.settings.model_copy(
        update={
            "linkedin_client_id": linkedin.client_id,
            "linkedin_client_secret": SecretStr(linkedin.client_secret),
            "linkedin_api_base": linkedin.base_url,
            "linkedin_oauth_base": f"{linkedin.base_url}/oauth/v2",
            "platform_timeout_s": 1.0,
            "publish_retry_base_s": 0.2,
        }
    )
    return live_deps


@dataclass
class Creator:
    user_id: uuid.UUID
    chat: ChatRef
    draft_id: uuid.UUID


@pytest.fixture
async def creator(publish_deps: CoreDeps) -> Creator:
    chat_id = str(900_000_000 + uuid.uuid4().int % 99_999_999)
    async with publish_deps.sessionmaker() as session:
        user = User(email=f"asha-{uuid.uuid4().hex[:8]}@example.com", password_hash="!x", full_name="Asha")
        session.add(user)
        await session.flush()
        session.add(ChatIdentity(provider="telegram", external_user_id=chat_id, chat_id=chat_id, user_id=user.id))
        draft = GeneratedContent(
            user_id=user.id,
            title="Consistency beats talent",
            content_type="social_post",
            target_platform="linkedin",
            content_text=f"Consistency beats talent. Show up every week. ({uuid.uuid4().hex[:6]})",
            hashtags=["PersonalBranding", "LinkedIn"],
            metadata_={"output_format": "linkedin_post"},
        )
        session.add(draft)
        await session.commit()
        return Creator(user.id, ChatRef("telegram", chat_id), draft.id)


async def connect_linkedin(deps: CoreDeps, fake: FakeLinkedIn, who: Creator) -> PlatformConnection:
    """The whole connect flow as a creator goes through it: the sign-in link, LinkedIn's redirect back."""
    url = await connect.sign_in_link(deps.redis, deps.settings, Platform.LINKEDIN, Owner(who.user_id), who.chat)
    state = parse_qs(urlparse(url).query)["state"][0]
    async with deps.sessionmaker() as session:
        connected = await connect.finish_connect(
            session, deps.redis, deps.settings, Platform.LINKEDIN, state=state, code=fake.grant_code()
        )
        await session.commit()
    await connect.after_commit(deps, connected)
    async with deps.sessionmaker() as session:
        connection = await session.get(PlatformConnection, connected.connection_id)
        assert connection is not None
        return connection


async def wait_for_status(deps: CoreDeps, post_id: uuid.UUID, *statuses: str, timeout: float = 30.0) -> ScheduledPost:
    deadline = time.monotonic() + timeout
    while True:
        async with deps.sessionmaker() as session:
            post = await session.scalar(select(ScheduledPost).where(ScheduledPost.id == post_id))
            assert post is not None
            if post.status in statuses:
                return post
        if time.monotonic() > deadline:
            raise AssertionError(f"post {post_id} still {post.status!r} ({post.error_message}) after {timeout}s")
        await asyncio.sleep(0.1)


async def wait_for_message(deps: CoreDeps, chat: ChatRef, needle: str, timeout: float = 10.0) -> OutgoingMessage:
    """The outbox sends after the outcome commits: wait for the message rather than race it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for c, message in reversed(deps.notifier.sent):  # type: ignore[attr-defined]
            if c == chat and needle in message.text:
                return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"no message with {needle!r}; sent: {sent_texts(deps, chat)}")


def sent_texts(deps: CoreDeps, chat: ChatRef) -> list[str]:
    return [m.text for c, m in deps.notifier.sent if c == chat]  # type: ignore[attr-defined]


def now() -> datetime:
    return utcnow()


async def make_clip(path: Path, *, seconds: float, codec: str = "libx264", size: str = "360x640") -> Path:
    video = ["-c:v", codec, "-pix_fmt", "yuv420p"] + (
        ["-preset", "ultrafast"] if codec == "libx264" else ["-b:v", "200k"]
    )
    audio = ["-c:a", "libopus" if path.suffix == ".webm" else "aac"]
    await run_ffmpeg(
        ["-y", "-f", "lavfi", "-i", f"testsrc2=s={size}:r=25:d={seconds}", "-f", "lavfi", "-i", f"sine=d={seconds}"]
        + video
        + audio
        + ["-shortest", str(path)]
    )
    return path


async def clip_draft(deps: CoreDeps, who: Creator, clip: Path) -> uuid.UUID:
    url = deps.store.put_path(clip, f"clips/{uuid.uuid4().hex}/{clip.name}")
    async with deps.sessionmaker() as session:
        draft = GeneratedContent(
            user_id=who.user_id,
            title="Show up every week",
            content_type="short_video",
            content_text=f"Show up every week. ({uuid.uuid4().hex[:6]}) #Consistency",
            file_url=url,
            metadata_={"output_format": "short_video"},
        )
        session.add(draft)
        await session.commit()
        return draft.id


# ------------------------------------------------------------ Meta (Instagram, Facebook Pages)


@pytest.fixture
async def meta() -> AsyncIterator[FakeMeta]:
    async with FakeMeta() as fake:
        yield fake


@pytest.fixture
def meta_deps(publish_deps: CoreDeps, meta: FakeMeta) -> CoreDeps:
    """Publishing deps whose Instagram and Facebook clients talk to the fake Graph API, polling fast."""
    publish_deps.settings = publish_deps.settings.model_copy(
        update={
            "meta_app_id": meta.app_id,
            "meta_app_secret": SecretStr(meta.app_secret),
            "meta_graph_base": meta.base_url,
            "meta_oauth_base": meta.base_url,
            "instagram_poll_interval_s": 0.05,
            "instagram_poll_timeout_s": 2.0,
            # Instagram fetches the media while the container is created: under a loaded machine's fetch, a
            # 1 s call limit would time out calls that are not meant to.
            "platform_timeout_s": 2.5,
        }
    )
    return publish_deps


@dataclass(frozen=True)
class MediaSite:
    """Media files served over HTTP, as the signed links `recast web` hands to Instagram and Facebook."""

    base_url: str
    jpeg: Path
    mp4: Path

    def url(self, name: str) -> str:
        return f"{self.base_url}/media/{name}"


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A real JPEG (Pillow) and a real one-second H.264 MP4 (the ffmpeg that imageio-ffmpeg ships)."""
    from PIL import Image

    from core.media.ffmpeg import find_ffmpeg

    folder = tmp_path_factory.mktemp("meta-media")
    jpeg = folder / "photo.jpg"
    Image.new("RGB", (1080, 1350), (230, 120, 40)).save(jpeg, "JPEG", quality=80)
    mp4 = folder / "reel.mp4"
    subprocess.run(  # noqa: S603
        [
            find_ffmpeg(),
            "-y",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=teal:s=360x640:d=1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(mp4),
        ],
        check=True,
        timeout=60,
    )
    return jpeg, mp4


@pytest.fixture
async def media_site(media_files: tuple[Path, Path]) -> AsyncIterator[MediaSite]:
    """`/media/photo.jpg`, `/media/reel.mp4`, a PNG at `/media/not-a-jpeg.jpg`; anything else is a 404 (an
    expired or wrong link)."""
    jpeg, mp4 = media_files
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == "photo.jpg":
            return web.Response(body=jpeg.read_bytes(), content_type="image/jpeg")
        if name == "reel.mp4":
            return web.Response(body=mp4.read_bytes(), content_type="video/mp4")
        if name == "not-a-jpeg.jpg":
            return web.Response(body=png, content_type="image/jpeg")
        raise web.HTTPNotFound()

    async with local_site([web.get("/media/{name}", serve)]) as base_url:
        yield MediaSite(base_url, jpeg, mp4)


async def connect_meta(deps: CoreDeps, fake: FakeMeta, who: Creator, platform: Platform) -> PlatformConnection:
    """The connect flow for Instagram or Facebook: the sign-in link, the dialog's redirect back."""
    url = await connect.sign_in_link(deps.redis, deps.settings, platform, Owner(who.user_id), who.chat)
    query = parse_qs(urlparse(url).query)
    code = fake.grant_code(query["redirect_uri"][0], tuple(query["scope"][0].split(",")))
    async with deps.sessionmaker() as session:
        connected = await connect.finish_connect(
            session, deps.redis, deps.settings, platform, state=query["state"][0], code=code
        )
        await session.commit()
    await connect.after_commit(deps, connected)
    async with deps.sessionmaker() as session:
        connection = await session.get(PlatformConnection, connected.connection_id)
        assert connection is not None
        return connection


@asynccontextmanager
async def serving_media(deps: CoreDeps) -> AsyncIterator[str]:
    """`recast web` on a free port with the store's signed `/media` links pointing at it, as they point at
    PUBLIC_BASE_URL in production: what Instagram and Facebook fetch a post's clip from."""
    from core.storage.factory import media_links
    from core.storage.files import LocalFileStore
    from webhooks.app import make_web_app

    server = TestServer(make_web_app(deps), host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    deps.settings = deps.settings.model_copy(update={"public_base_url": base})
    assert isinstance(deps.store, LocalFileStore)
    deps.store = LocalFileStore(deps.store.root, links=media_links(deps.settings))
    try:
        yield base
    finally:
        await server.close()


# ------------------------------------------------------------ TikTok

TIKTOK_CHUNK = 96 * 1024  # the test video goes up in several chunks of this size


@pytest.fixture
async def tiktok() -> AsyncIterator[FakeTikTok]:
    # TikTok's smallest chunk is 5 MB; the fake takes smaller ones so a small video goes in several chunks.
    async with FakeTikTok(min_chunk_bytes=TIKTOK_CHUNK, processing_s=0.3) as fake:
        yield fake


@pytest.fixture
def tiktok_deps(publish_deps: CoreDeps, tiktok: FakeTikTok) -> CoreDeps:
    """Live deps whose TikTok client talks to the fake, with short chunks and polls."""
    publish_deps.settings = publish_deps.settings.model_copy(
        update={
            "tiktok_client_key": tiktok.client_key,
            "tiktok_client_secret": SecretStr(tiktok.client_secret),
            "tiktok_api_base": tiktok.base_url,
            "tiktok_authorize_url": tiktok.authorize_url,
            "tiktok_chunk_bytes": TIKTOK_CHUNK,
            "tiktok_status_poll_s": 0.05,
            "tiktok_publish_wait_s": 5.0,
        }
    )
    return publish_deps


@pytest.fixture(scope="session")
def tiktok_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 4-second H.264/AAC MP4 (vertical, 30 fps), a few hundred kilobytes."""
    path = tmp_path_factory.mktemp("tiktok") / "clip.mp4"
    subprocess.run(  # noqa: S603
        [
            find_ffmpeg(), "-y", "-loglevel", "error",
            "-f", "lavfi", "-i", "testsrc2=s=360x640:r=30:d=4",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=4",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
            str(path),
        ],
        check=True,
        timeout=120,
    )  # fmt: skip
    return path


async def connect_tiktok(deps: CoreDeps, fake: FakeTikTok, who: Creator) -> PlatformConnection:
    """The connect flow: the sign-in link to TikTok's consent page, TikTok's redirect back with a code."""
    url = await connect.sign_in_link(deps.redis, deps.settings, Platform.TIKTOK, Owner(who.user_id), who.chat)
    query = parse_qs(urlparse(url).query)
    assert query["scope"] == ["user.info.basic,video.publish,video.list"] and query["client_key"] == [fake.client_key]
    async with deps.sessionmaker() as session:
        connected = await connect.finish_connect(
            session, deps.redis, deps.settings, Platform.TIKTOK, state=query["state"][0], code=fake.grant_code()
        )
        await session.commit()
    await connect.after_commit(deps, connected)
    async with deps.sessionmaker() as session:
        connection = await session.get(PlatformConnection, connected.connection_id)
        assert connection is not None
        return connection
