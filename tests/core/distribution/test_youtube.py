"""YouTube through a local Google speaking its wire format over HTTP, with the real database: a Short goes
up in chunks by the resumable protocol and arrives byte for byte; a dropped chunk resumes where the session
stopped; a lost final answer is found on the next attempt instead of uploading twice; quota units are
reserved in PostgreSQL per Google project and Pacific day, atomically at the limit."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from core.deps import CoreDeps
from core.distribution import connect, connections, publishing, quotas
from core.distribution.clients import configured_clients
from core.distribution.connections import Owner
from core.distribution.errors import OutcomeUnknown, PlatformUnavailable, QuotaExhausted, TokenRevoked
from core.distribution.models import AttemptOutcome, PlatformConnection, PostStatus, ScheduledPost
from core.distribution.platforms.names import Platform
from core.distribution.platforms.youtube import CHUNK_UNIT, YouTubeClient, fit_tags, video_title
from core.distribution.ports import Credentials, PostContent, text_marker
from core.media.ffmpeg import find_ffmpeg
from core.repurposing.models import GeneratedContent
from tests.distribution_fixtures import Creator, now
from tests.fakes.youtube_api import FakeYouTube
from webhooks.app import make_web_app

TEXT = "Consistency beats talent\n\nShow up every week for a year and watch what happens. #PersonalBranding"
TAGS = ("PersonalBranding", "creator tips", "consistency")


def _make_video(path: Path, size: str, seconds: int) -> Path:
    # High bitrate so a few seconds span several 256 KiB chunks.
    subprocess.run(
        [find_ffmpeg(), "-y", "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc2=s={size}:r=25:d={seconds}"]
        + ["-f", "lavfi", "-i", f"sine=d={seconds}", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "3M"]
        + ["-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )
    return path


@pytest.fixture(scope="module")
def short_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = _make_video(tmp_path_factory.mktemp("yt") / "short.mp4", "360x640", 3)
    assert path.stat().st_size > 3 * CHUNK_UNIT  # several chunks
    return path


@pytest.fixture(scope="module")
def landscape_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_video(tmp_path_factory.mktemp("yt") / "wide.mp4", "640x360", 2)


@pytest.fixture
async def youtube() -> AsyncIterator[FakeYouTube]:
    # A project id per test: the quota ledger is shared by the whole run's database.
    async with FakeYouTube(client_id=f"{uuid.uuid4().hex[:12]}.apps.googleusercontent.com") as fake:
        yield fake


@pytest.fixture
def yt_deps(publish_deps: CoreDeps, youtube: FakeYouTube) -> CoreDeps:
    publish_deps.settings = publish_deps.settings.model_copy(
        update={
            "google_client_id": youtube.client_id,
            "google_client_secret": SecretStr(youtube.client_secret),
            "google_auth_base": youtube.base_url,
            "google_token_base": youtube.base_url,
            "youtube_api_base": youtube.base_url,
            "youtube_chunk_kib": 256,  # several chunks even for a small test video
        }
    )
    return publish_deps


def _client(fake: FakeYouTube, **kw: object) -> YouTubeClient:
    args: dict[str, object] = {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "api_base": fake.base_url,
        "auth_base": fake.base_url,
        "token_base": fake.base_url,
        "chunk_bytes": CHUNK_UNIT,
        "resume_backoff_s": 0.05,
        "resume_tries": 3,
        "timeout_s": 2.0,
    }
    return YouTubeClient(**(args | kw))  # type: ignore[arg-type]


async def _connect(deps: CoreDeps, who: Creator) -> PlatformConnection:
    """The connect flow as a creator goes through it: Google's consent page, the callback on recast web."""
    web = TestServer(make_web_app(deps), host="127.0.0.1")
    await web.start_server()
    try:
        deps.settings = deps.settings.model_copy(update={"public_base_url": str(web.make_url(""))})
        link = await connect.sign_in_link(deps.redis, deps.settings, Platform.YOUTUBE, Owner(who.user_id), who.chat)
        async with aiohttp.ClientSession() as browser, browser.get(link) as page:
            assert page.status == 200 and "YouTube connected ✅" in await page.text()
    finally:
        await web.close()
    async with deps.sessionmaker() as session:
        rows = (await session.execute(PlatformConnection.__table__.select())).all()
        [row] = [r for r in rows if r.user_id == who.user_id and r.platform == "youtube"]
        connection = await session.get(PlatformConnection, row.id)
        assert connection is not None
        return connection


async def _schedule_video(deps: CoreDeps, who: Creator, connection: PlatformConnection, video: Path) -> uuid.UUID:
    clip = deps.store.put_path(video, f"clips/{uuid.uuid4().hex}/{video.name}")
    async with deps.sessionmaker() as session:
        draft = GeneratedContent(
            user_id=who.user_id,
            title="Consistency beats talent",
            content_type="short_video",
            target_platform="youtube",
            content_text=f"{TEXT} ({uuid.uuid4().hex[:6]})",
            hashtags=list(TAGS),
            file_url=clip,
            metadata_={"output_format": "short_video"},
        )
        session.add(draft)
        await session.flush()
        post, _ = await publishing.schedule(
            session, draft=draft, connection=connection, when=now(), timezone="UTC", store=deps.store
        )
        await session.commit()
        return post.id


async def _ledger(deps: CoreDeps, bucket: str, project: str) -> int:
    async with deps.sessionmaker() as session:
        return await quotas.used(session, platform=bucket, project=project, day=quotas.pacific_day(now()))


async def test_a_short_goes_up_in_chunks_and_arrives_byte_identical_with_its_metadata(
    yt_deps: CoreDeps, youtube: FakeYouTube, creator: Creator, short_mp4: Path
) -> None:
    assert Platform.YOUTUBE in configured_clients(yt_deps.settings)
    connection = await _connect(yt_deps, creator)
    assert connection.platform_user_id == youtube.channel_id and connection.platform_username == "@asharao"
    post_id = await _schedule_video(yt_deps, creator, connection, short_mp4)
    async with yt_deps.sessionmaker() as session:
        outcome = await publishing.publish_post(session, yt_deps.settings, post_id, store=yt_deps.store)
        await session.commit()
        post = await session.get(ScheduledPost, post_id)
    assert outcome.result == publishing.Result.PUBLISHED, outcome
    [video] = youtube.videos
    assert video["bytes"] == short_mp4.read_bytes()
    total = short_mp4.stat().st_size
    assert len(youtube.puts) == -(-total // CHUNK_UNIT) >= 4  # one PUT per 256 KiB chunk, none repeated
    assert youtube.bytes_put() == total
    snippet = video["snippet"]
    assert snippet["title"] == "Consistency beats talent #Shorts"  # vertical, 3 s: a Short
    assert post is not None and snippet["description"] == post.post_caption
    assert text_marker(snippet["description"]) == text_marker(post.post_caption or "")
    assert snippet["tags"] == list(TAGS) and snippet["categoryId"] == "22"
    assert video["status"]["privacyStatus"] == "public" and video["status"]["selfDeclaredMadeForKids"] is False
    assert post.status == PostStatus.PUBLISHED and post.platform_post_id == video["id"]
    assert post.platform_post_url == f"https://www.youtube.com/shorts/{video['id']}"
    # The upload's unit was reserved in the ledger under the Google project, and Google agrees.
    assert await _ledger(yt_deps, quotas.YOUTUBE_UPLOADS, youtube.client_id) == youtube.uploads_used == 1


async def test_a_dropped_chunk_resumes_where_the_session_stopped(youtube: FakeYouTube, short_mp4: Path) -> None:
    youtube.drop_put, youtube.drop_keep_bytes = 2, 100_000  # the 2nd chunk: 100,000 bytes kept, then a drop
    client = _client(youtube)
    creds = Credentials(youtube.issue_token(), youtube.channel_id)
    made = await client.publish(creds, PostContent(text=TEXT, media=short_mp4, media_kind="video", tags=TAGS))
    [video] = youtube.videos
    assert made.post_id == video["id"] and video["bytes"] == short_mp4.read_bytes()
    total = short_mp4.stat().st_size
    ranges = [p.content_range for p in youtube.puts]
    resumed_at = CHUNK_UNIT + 100_000
    assert ranges[:3] == [
        f"bytes 0-{CHUNK_UNIT - 1}/{total}",
        f"bytes {CHUNK_UNIT}-{2 * CHUNK_UNIT - 1}/{total}",
        f"bytes */{total}",  # how far did the session get?
    ]
    assert ranges[3].startswith(f"bytes {resumed_at}-")
    assert not any(r.startswith("bytes 0-") for r in ranges[1:])  # never restarted from 0
    # Only the lost part of the dropped chunk was sent again.
    assert youtube.bytes_put() == total + (CHUNK_UNIT - 100_000)


async def test_a_final_answer_lost_but_the_session_answers_is_settled_in_the_same_attempt(
    youtube: FakeYouTube, short_mp4: Path
) -> None:
    youtube.lose_final = "answer"
    creds = Credentials(youtube.issue_token(), youtube.channel_id)
    made = await _client(youtube).publish(creds, PostContent(text=TEXT, media=short_mp4, media_kind="video"))
    [video] = youtube.videos
    assert made.post_id == video["id"] and youtube.puts[-1].content_range.startswith("bytes */")


async def test_a_lost_final_answer_is_found_on_the_next_attempt_without_uploading_again(
    yt_deps: CoreDeps, youtube: FakeYouTube, creator: Creator, short_mp4: Path
) -> None:
    connection = await _connect(yt_deps, creator)
    post_id = await _schedule_video(yt_deps, creator, connection, short_mp4)
    youtube.lose_final = "session"  # the video exists; neither the last chunk nor the session answers
    async with yt_deps.sessionmaker() as session:
        first = await publishing.publish_post(session, yt_deps.settings, post_id, store=yt_deps.store)
        await session.commit()
    assert first.result == publishing.Result.RETRY, first
    [video] = youtube.videos
    puts_after_first = len(youtube.puts)
    async with yt_deps.sessionmaker() as session:
        second = await publishing.publish_post(session, yt_deps.settings, post_id, store=yt_deps.store)
        await session.commit()
        attempts = await publishing.attempts_of(session, post_id)
        post = await session.get(ScheduledPost, post_id)
    assert second.result == publishing.Result.PUBLISHED, second
    assert [a.outcome for a in attempts] == [AttemptOutcome.UNKNOWN, AttemptOutcome.PUBLISHED]
    assert len(youtube.videos) == 1 and len(youtube.uploads) == 1 and len(youtube.puts) == puts_after_first
    assert post is not None and post.platform_post_id == video["id"]
    assert post.platform_post_url == f"https://www.youtube.com/shorts/{video['id']}"
    # Both attempts reserved their calls: two possible uploads, and the look-up's channels + playlistItems.
    assert await _ledger(yt_deps, quotas.YOUTUBE_UPLOADS, youtube.client_id) == 2
    assert await _ledger(yt_deps, quotas.YOUTUBE_UNITS, youtube.client_id) == 2
    # The connect flow's channels.list and the look-up's two calls, as Google counted them.
    assert youtube.units_used == 3


async def test_when_the_final_answer_and_session_are_lost_the_outcome_is_unknown(
    youtube: FakeYouTube, short_mp4: Path
) -> None:
    youtube.lose_final = "session"
    creds = Credentials(youtube.issue_token(), youtube.channel_id)
    with pytest.raises(OutcomeUnknown):
        await _client(youtube).publish(creds, PostContent(text=TEXT, media=short_mp4, media_kind="video"))
    assert len(youtube.videos) == 1


async def test_a_landscape_video_is_a_regular_upload_with_a_watch_link(
    youtube: FakeYouTube, landscape_mp4: Path
) -> None:
    creds = Credentials(youtube.issue_token(), youtube.channel_id)
    made = await _client(youtube, chunk_bytes=8 * CHUNK_UNIT).publish(
        creds, PostContent(text=TEXT, media=landscape_mp4, media_kind="video", title="A talk, in full")
    )
    [video] = youtube.videos
    assert video["snippet"]["title"] == "A talk, in full" and "#Shorts" not in video["snippet"]["description"]
    assert made.url == f"https://www.youtube.com/watch?v={video['id']}"


async def test_a_portrait_phone_video_stored_landscape_is_a_short(
    youtube: FakeYouTube, landscape_mp4: Path, tmp_path: Path
) -> None:
    rotated = tmp_path / "phone.mp4"
    subprocess.run(
        [find_ffmpeg(), "-y", "-loglevel", "error", "-display_rotation", "90", "-i", str(landscape_mp4)]
        + ["-c", "copy", str(rotated)],
        check=True,
    )
    creds = Credentials(youtube.issue_token(), youtube.channel_id)
    made = await _client(youtube, chunk_bytes=8 * CHUNK_UNIT).publish(
        creds, PostContent(text=TEXT, media=rotated, media_kind="video")
    )
    [video] = youtube.videos
    assert (
        video["snippet"]["title"].endswith(" #Shorts") and made.url == f"https://www.youtube.com/shorts/{video['id']}"
    )


async def test_reservations_at_the_limit_let_exactly_one_of_two_workers_through(yt_deps: CoreDeps) -> None:
    project, day = f"p-{uuid.uuid4().hex[:8]}", quotas.pacific_day(now())
    async with yt_deps.sessionmaker() as session:
        assert await quotas.reserve(session, platform="youtube", project=project, units=9, limit=10, day=day) == 9
        await session.commit()

    async def take_one() -> int | None:
        async with yt_deps.sessionmaker() as session:
            taken = await quotas.reserve(session, platform="youtube", project=project, units=1, limit=10, day=day)
            await asyncio.sleep(0.2)  # hold the row while the other worker tries
            await session.commit()
            return taken

    results = await asyncio.gather(take_one(), take_one())
    assert sorted(results, key=lambda r: r or 0) == [None, 10]
    async with yt_deps.sessionmaker() as session:
        assert await quotas.used(session, platform="youtube", project=project, day=day) == 10


async def test_an_exhausted_day_waits_for_pacific_midnight_across_dst(yt_deps: CoreDeps) -> None:
    settings = yt_deps.settings.model_copy(
        update={"google_client_id": f"p-{uuid.uuid4().hex[:8]}", "youtube_daily_uploads": 1}
    )
    # 23:59:59 PST on 7 March 2026 (the night US clocks spring forward).
    late = datetime(2026, 3, 8, 7, 59, 59, tzinfo=UTC)
    async with yt_deps.sessionmaker() as session:
        assert await quotas.reserve_publish(session, settings, "youtube", check_first=False, now=late) is None
        refused = await quotas.reserve_publish(session, settings, "youtube", check_first=True, now=late)
        assert isinstance(refused, QuotaExhausted)
        assert refused.until == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)  # midnight PST
        # All or nothing: the look-up's units were given back with the refused upload.
        assert (
            await quotas.used(
                session, platform=quotas.YOUTUBE_UNITS, project=settings.google_client_id or "", day=late.date()
            )
            == 0
        )
        # Two seconds later it is a new Pacific day with a fresh allowance.
        assert (
            await quotas.reserve_publish(
                session, settings, "youtube", check_first=False, now=late.replace(hour=8, second=1)
            )
            is None
        )
        # At noon PDT that day, the next reset is midnight PDT: 07:00 UTC.
        noon = datetime(2026, 3, 8, 19, 0, tzinfo=UTC)
        again = await quotas.reserve_publish(session, settings, "youtube", check_first=False, now=noon)
        assert isinstance(again, QuotaExhausted) and again.until == datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
        await session.commit()
    # Platforms without a metered quota reserve nothing.
    async with yt_deps.sessionmaker() as session:
        assert await quotas.reserve_publish(session, settings, "linkedin", check_first=True, now=noon) is None


async def test_an_exhausted_ledger_stops_the_publish_before_youtube_is_called(
    yt_deps: CoreDeps, youtube: FakeYouTube, creator: Creator, short_mp4: Path
) -> None:
    connection = await _connect(yt_deps, creator)
    post_id = await _schedule_video(yt_deps, creator, connection, short_mp4)
    yt_deps.settings = yt_deps.settings.model_copy(update={"youtube_daily_uploads": 0})
    async with yt_deps.sessionmaker() as session:
        await publishing.publish_post(session, yt_deps.settings, post_id, store=yt_deps.store)
        await session.commit()
        [attempt] = await publishing.attempts_of(session, post_id)
    assert youtube.uploads == {} and youtube.puts == []
    # Nothing was sent: the attempt records the refusal (moving the post to the reset is the publisher's).
    assert attempt.outcome == AttemptOutcome.FAILED
    assert (attempt.error or "").startswith(
        f"youtube.uploads: 1 more unit(s) would pass the day's 0 for {youtube.client_id}"
    )


async def test_google_quota_exceeded_is_quota_exhausted_until_pacific_midnight(
    youtube: FakeYouTube, short_mp4: Path
) -> None:
    youtube.daily_uploads = 0  # another app on the same project used the day's uploads
    creds = Credentials(youtube.issue_token(), youtube.channel_id)
    with pytest.raises(QuotaExhausted) as caught:
        await _client(youtube).publish(creds, PostContent(text=TEXT, media=short_mp4, media_kind="video"))
    assert caught.value.until == quotas.next_reset(now())
    assert caught.value.until.astimezone(quotas.PACIFIC).time().hour == 0
    assert "quotaExceeded" in str(caught.value)


async def test_a_revoked_token_is_token_revoked(youtube: FakeYouTube, short_mp4: Path) -> None:
    token = youtube.issue_token()
    youtube.revoke_all()
    creds = Credentials(token, youtube.channel_id)
    with pytest.raises(TokenRevoked):
        await _client(youtube).publish(creds, PostContent(text=TEXT, media=short_mp4, media_kind="video"))
    with pytest.raises(TokenRevoked):
        await _client(youtube).refresh("1//not-a-refresh-token")


async def test_a_token_running_out_mid_upload_is_retried_not_taken_for_a_revocation(
    youtube: FakeYouTube, short_mp4: Path
) -> None:
    youtube.expire_token_after_puts = 2
    creds = Credentials(youtube.issue_token(), youtube.channel_id)
    with pytest.raises(PlatformUnavailable) as caught:
        await _client(youtube).publish(creds, PostContent(text=TEXT, media=short_mp4, media_kind="video"))
    assert caught.value.transient and "expired during the upload" in str(caught.value)
    assert youtube.videos == []


def test_titles_and_tags_fit_youtube_limits() -> None:
    assert video_title(None, "\n  First line <b>here</b>\nsecond") == "First line bhere/b"
    long = video_title("word " * 40, "")
    assert len(long) == 100 and long.endswith("…")
    tags = fit_tags(["#Growth", "growth", "two words", *[f"tag{i:03d}" for i in range(100)]])
    assert tags[:2] == ["Growth", "two words"]
    assert sum(len(t) + (2 if " " in t else 0) for t in tags) + len(tags) - 1 <= 500


async def test_a_token_about_to_expire_is_refreshed_before_the_upload_and_the_refresh_token_kept(
    yt_deps: CoreDeps, youtube: FakeYouTube, creator: Creator, short_mp4: Path
) -> None:
    connection = await _connect(yt_deps, creator)
    post_id = await _schedule_video(yt_deps, creator, connection, short_mp4)
    async with yt_deps.sessionmaker() as session:
        row = await session.get(PlatformConnection, connection.id)
        assert row is not None
        refresh_before = connections.refresh_token(yt_deps.settings, row)
        row.token_expires_at = now() + timedelta(seconds=60)  # Google's tokens live an hour
        await session.commit()
    async with yt_deps.sessionmaker() as session:
        outcome = await publishing.publish_post(session, yt_deps.settings, post_id, store=yt_deps.store)
        await session.commit()
        row = await session.get(PlatformConnection, connection.id)
    assert outcome.result == publishing.Result.PUBLISHED, outcome
    assert youtube.requests.count(("POST", "/token")) == 2  # the code exchange, then the refresh
    assert row is not None and row.token_expires_at is not None and row.token_expires_at > now() + timedelta(minutes=50)
    # Google's refresh answer carries no new refresh token: the one from the consent stays.
    assert connections.refresh_token(yt_deps.settings, row) == refresh_before
    assert len(youtube.videos) == 1


async def test_disconnecting_revokes_the_token_at_google(youtube: FakeYouTube) -> None:
    token = youtube.issue_token()
    assert await _client(youtube).revoke(token) is True
    assert token in youtube.revoked_tokens
    with pytest.raises(TokenRevoked):
        await _client(youtube).account(token)
