"""TikTok publishing through the Content Posting API, over real HTTP against a TikTok speaking its wire format:
a clip uploaded in chunks arrives byte for byte and is posted once; a pulled link is fetched by TikTok; a
post TikTok fails while processing fails with TikTok's reason; a lost answer never becomes a second post;
a revoked token holds the post; a video longer than the account allows is refused with the limit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from core.common.clock import utcnow
from core.deps import CoreDeps
from core.distribution import connect, publishing
from core.distribution.connections import Owner
from core.distribution.errors import (
    ContentRejected,
    OutcomeUnknown,
    PlatformUnavailable,
    QuotaExhausted,
    RateLimited,
    TokenRevoked,
)
from core.distribution.models import AttemptOutcome, ConnectionStatus, PlatformConnection, PostStatus
from core.distribution.platforms.names import Platform
from core.distribution.platforms.tiktok import TikTokClient, caption_matches, chunk_plan
from core.distribution.ports import Credentials, PostContent
from core.distribution.post_media import MediaNotAccepted
from core.notify.ports import ConnectAction
from core.repurposing.models import GeneratedContent
from core.storage.files import LocalFileStore
from core.storage.links import MediaLinks
from core.work import submit as work
from tests.distribution_fixtures import (
    TIKTOK_CHUNK,
    Creator,
    clip_draft,
    connect_tiktok,
    now,
    sent_texts,
    wait_for_message,
    wait_for_status,
)
from tests.fakes.tiktok_api import FakeTikTok, Fault
from tests.workers import running_worker
from webhooks.app import make_web_app


async def _schedule(deps: CoreDeps, draft_id: uuid.UUID, connection: PlatformConnection):
    async with deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, draft_id)
        assert draft is not None
        post, unit = await publishing.schedule(
            session, draft=draft, connection=connection, when=now(), timezone="Asia/Kolkata", store=deps.store
        )
        await session.commit()
    assert unit is not None
    await work.push(deps.work_queue, deps.sessionmaker, [unit])
    return post


async def test_a_clip_goes_up_in_chunks_byte_identical_and_is_posted_once(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path, run_id: str
) -> None:
    connection = await connect_tiktok(tiktok_deps, tiktok, creator)
    assert connection.platform_user_id == tiktok.open_id
    draft_id = await clip_draft(tiktok_deps, creator, tiktok_video)
    async with running_worker(tiktok_deps, f"tt-{run_id}-chunks"):
        post = await _schedule(tiktok_deps, draft_id, connection)
        done = await wait_for_status(tiktok_deps, post.id, PostStatus.PUBLISHED)
        await wait_for_message(tiktok_deps, creator.chat, "Published on TikTok")
    video = tiktok_video.read_bytes()
    size = len(video)
    assert size > 3 * TIKTOK_CHUNK  # several chunks, the last one carrying the trailing bytes
    assert len(tiktok.posts) == 1 and len(tiktok.inits) == 1
    sent = tiktok.posts[0]
    assert sent["video"] == video and sent["source"] == "FILE_UPLOAD"
    source = tiktok.inits[0]["source_info"]
    assert source == {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": TIKTOK_CHUNK,
        "total_chunk_count": size // TIKTOK_CHUNK,
    }
    count = size // TIKTOK_CHUNK
    expected = [f"bytes {i * TIKTOK_CHUNK}-{(i + 1) * TIKTOK_CHUNK - 1}/{size}" for i in range(count - 1)]
    assert tiktok.chunk_ranges == [*expected, f"bytes {(count - 1) * TIKTOK_CHUNK}-{size - 1}/{size}"]
    post_info = tiktok.inits[0]["post_info"]
    assert post_info["privacy_level"] == "PUBLIC_TO_EVERYONE"  # the most public the creator allows
    assert post_info["disable_stitch"] is True and post_info["disable_comment"] is False  # the account's own
    assert "#Consistency" in post_info["title"] and post_info["title"] == sent["title"]
    assert "PROCESSING_UPLOAD" in tiktok.statuses_seen and tiktok.statuses_seen[-1] == "PUBLISH_COMPLETE"
    assert done.platform_post_id == sent["id"]
    assert done.platform_post_url == f"https://www.tiktok.com/@{tiktok.username}/video/{sent['id']}"
    texts = sent_texts(tiktok_deps, creator.chat)
    assert texts[0].startswith(f"Connected TikTok as @{tiktok.username}.")
    assert texts[-1] == f"Published on TikTok (@{tiktok.username}): {done.platform_post_url}"


async def test_processing_that_fails_fails_the_post_with_tiktoks_reason(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path, run_id: str
) -> None:
    connection = await connect_tiktok(tiktok_deps, tiktok, creator)
    tiktok.fail_reason = "frame_rate_check_failed"
    draft_id = await clip_draft(tiktok_deps, creator, tiktok_video)
    async with running_worker(tiktok_deps, f"tt-{run_id}-failed"):
        post = await _schedule(tiktok_deps, draft_id, connection)
        failed = await wait_for_status(tiktok_deps, post.id, PostStatus.FAILED)
        await wait_for_message(tiktok_deps, creator.chat, "couldn't be published")
    assert (
        failed.error_message == "TikTok could not publish the video: TikTok takes videos at 23 to 60 frames per second."
    )
    assert tiktok.posts == [] and len(tiktok.inits) == 1  # FAILED is final: no second try
    async with tiktok_deps.sessionmaker() as session:
        attempts = await publishing.attempts_of(session, post.id)
    assert [a.outcome for a in attempts] == [AttemptOutcome.FAILED]
    assert attempts[0].error and "FAILED: frame_rate_check_failed" in attempts[0].error


@pytest.mark.parametrize(
    ("fault", "inits"),
    [
        # TikTok has every byte when the last chunk's answer is lost: it publishes, and the retry finds it.
        pytest.param(Fault(endpoint="upload", after_create=True, hang_s=3.0), 1, id="timeout-after-last-chunk"),
        # A lost init answer: no bytes went up, so nothing can be on the account; the retry finds nothing
        # and posts once.
        pytest.param(Fault(endpoint="init", after_create=True, hang_s=3.0), 2, id="timeout-after-init"),
        pytest.param(Fault(endpoint="init", status=503), 1, id="503-on-init"),
        # The status went missing while TikTok processed: the retry asks about the same publish_id.
        pytest.param(Fault(endpoint="status", status=502), 1, id="502-while-processing"),
    ],
)
async def test_a_lost_answer_never_becomes_a_second_post(
    tiktok_deps: CoreDeps,
    tiktok: FakeTikTok,
    creator: Creator,
    tiktok_video: Path,
    run_id: str,
    fault: Fault,
    inits: int,
) -> None:
    connection = await connect_tiktok(tiktok_deps, tiktok, creator)
    tiktok.faults.append(fault)
    draft_id = await clip_draft(tiktok_deps, creator, tiktok_video)
    async with running_worker(tiktok_deps, f"tt-{run_id}-{id(fault)}"):
        post = await _schedule(tiktok_deps, draft_id, connection)
        done = await wait_for_status(tiktok_deps, post.id, PostStatus.PUBLISHED)
    assert len(tiktok.posts) == 1 and done.platform_post_id == tiktok.posts[0]["id"]
    assert tiktok.posts[0]["video"] == tiktok_video.read_bytes()
    assert len(tiktok.inits) == inits
    async with tiktok_deps.sessionmaker() as session:
        attempts = await publishing.attempts_of(session, post.id)
    assert [a.outcome for a in attempts][-1] == AttemptOutcome.PUBLISHED
    assert all(a.outcome == AttemptOutcome.UNKNOWN for a in attempts[:-1]) and len(attempts) >= 2
    if fault.endpoint in ("upload", "status"):
        # TikTok had given the publish_id: the retry asked about it, and needed no search.
        assert ("POST", "/v2/video/list/") not in tiktok.requests
        assert done.platform_post_url == f"https://www.tiktok.com/@{tiktok.username}/video/{done.platform_post_id}"
    else:  # no publish_id came back: the retry looked through the creator's videos before posting
        assert ("POST", "/v2/video/list/") in tiktok.requests


async def test_a_private_post_still_processing_is_asked_about_by_its_publish_id_not_posted_again(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path, run_id: str
) -> None:
    """An unaudited app posts SELF_ONLY, which TikTok's video list doesn't show: only the publish_id can tell
    whether the post the last attempt left processing went out."""
    tiktok_deps.settings = tiktok_deps.settings.model_copy(update={"tiktok_publish_wait_s": 0.3})
    connection = await connect_tiktok(tiktok_deps, tiktok, creator)
    tiktok.privacy_level_options, tiktok.public_ids = ["SELF_ONLY"], False
    tiktok.processing_polls, tiktok.processing_s = 10_000, 2.0  # longer than the client waits
    draft_id = await clip_draft(tiktok_deps, creator, tiktok_video)
    async with running_worker(tiktok_deps, f"tt-{run_id}-private"):
        post = await _schedule(tiktok_deps, draft_id, connection)
        done = await wait_for_status(tiktok_deps, post.id, PostStatus.PUBLISHED)
    assert len(tiktok.posts) == 1 and len(tiktok.inits) == 1
    assert tiktok.posts[0]["privacy_level"] == "SELF_ONLY"
    publish_id = tiktok.posts[0]["publish_id"]
    assert done.platform_post_id == publish_id  # a private post has no public id
    assert done.platform_post_url == f"https://www.tiktok.com/@{tiktok.username}"
    async with tiktok_deps.sessionmaker() as session:
        attempts = await publishing.attempts_of(session, post.id)
    assert attempts[0].outcome == AttemptOutcome.UNKNOWN and attempts[-1].outcome == AttemptOutcome.PUBLISHED
    assert all(a.outcome == AttemptOutcome.UNKNOWN for a in attempts[:-1])
    assert sum(a.outcome == AttemptOutcome.PUBLISHED for a in attempts) == 1


async def test_a_revoked_token_holds_the_post_until_the_creator_reconnects(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path, run_id: str
) -> None:
    connection = await connect_tiktok(tiktok_deps, tiktok, creator)
    tiktok.revoke_all()
    draft_id = await clip_draft(tiktok_deps, creator, tiktok_video)
    async with running_worker(tiktok_deps, f"tt-{run_id}-401"):
        post = await _schedule(tiktok_deps, draft_id, connection)
        held = await wait_for_status(tiktok_deps, post.id, PostStatus.HELD)
        assert held.error_message and "Connect it again" in held.error_message
        async with tiktok_deps.sessionmaker() as session:
            broken = await session.get(PlatformConnection, connection.id)
            assert broken is not None and broken.status == ConnectionStatus.REVOKED
        reconnect = await wait_for_message(tiktok_deps, creator.chat, "on hold, not lost")
        assert reconnect.buttons[0][0].action == ConnectAction(Platform.TIKTOK)
        assert tiktok.posts == [] and tiktok.inits == []
        await connect_tiktok(tiktok_deps, tiktok, creator)
        done = await wait_for_status(tiktok_deps, post.id, PostStatus.PUBLISHED)
    assert len(tiktok.posts) == 1 and done.platform_post_id == tiktok.posts[0]["id"]


async def test_a_video_longer_than_the_account_allows_is_refused_with_the_limit(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path, run_id: str
) -> None:
    connection = await connect_tiktok(tiktok_deps, tiktok, creator)
    tiktok.max_video_post_duration_sec = 3  # the test video is 4 s
    draft_id = await clip_draft(tiktok_deps, creator, tiktok_video)
    async with running_worker(tiktok_deps, f"tt-{run_id}-long"):
        post = await _schedule(tiktok_deps, draft_id, connection)
        failed = await wait_for_status(tiktok_deps, post.id, PostStatus.FAILED)
        await wait_for_message(tiktok_deps, creator.chat, "couldn't be published")
    assert failed.error_message == (
        "TikTok takes videos up to 3 s on this account, and this one is 4 s. Trim it, then schedule it again."
    )
    assert tiktok.inits == [] and tiktok.posts == []


async def test_a_post_without_a_video_is_refused_before_tiktok_is_asked(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator
) -> None:
    connection = await connect_tiktok(tiktok_deps, tiktok, creator)
    with pytest.raises(MediaNotAccepted) as refused:  # when scheduling, not at publish time
        await _schedule(tiktok_deps, creator.draft_id, connection)  # a text draft
    assert refused.value.user_message.startswith("TikTok posts need a video or a picture")
    client = _client(tiktok)  # and the client itself, whoever calls it
    with pytest.raises(ContentRejected) as rejected:
        await client.publish(await _credentials(tiktok, client), PostContent(text="Words only"))
    assert rejected.value.user_message == "TikTok posts are videos, and this post has no video attached."
    assert tiktok.inits == []


# ------------------------------------------------------------ the client on its own


@pytest.fixture
async def served_video(tiktok_video: Path) -> AsyncIterator[str]:
    """The video behind a link, as Recast's signed media links serve it."""

    async def serve(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(tiktok_video, headers={"Content-Type": "video/mp4"})

    app = web.Application()
    app.router.add_get("/media/{token}/clip.mp4", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/media/{uuid.uuid4().hex}/clip.mp4"
    await runner.cleanup()


def _client(fake: FakeTikTok, **overrides: object) -> TikTokClient:
    options: dict[str, object] = {
        "client_key": fake.client_key,
        "client_secret": fake.client_secret,
        "api_base": fake.base_url,
        "authorize_url": fake.authorize_url,
        "chunk_bytes": TIKTOK_CHUNK,
        "poll_s": 0.05,
        "publish_wait_s": 5.0,
        "timeout_s": 2.5,  # roomy enough for a loaded machine; the hang faults below outlast it
        **overrides,
    }
    return TikTokClient(**options)  # type: ignore[arg-type]


async def _credentials(fake: FakeTikTok, client: TikTokClient, scopes: tuple[str, ...] | None = None) -> Credentials:
    code = fake.grant_code(scopes) if scopes else fake.grant_code()
    tokens = await client.exchange_code(
        code=code, redirect_uri="https://recast.example/oauth/tiktok/callback", code_verifier=None
    )
    return Credentials(access_token=tokens.access_token, platform_user_id=fake.open_id)


async def test_a_pulled_link_is_fetched_by_tiktok_when_the_domain_is_verified(
    tiktok: FakeTikTok, tiktok_video: Path, served_video: str
) -> None:
    client = _client(tiktok, pull_from_url=True)
    creds = await _credentials(tiktok, client)
    content = PostContent(text="Pulled, not pushed", media=tiktok_video, media_kind="video", media_url=served_video)
    made = await client.publish(creds, content)
    assert tiktok.pulled == [served_video]
    assert tiktok.posts[0]["video"] == tiktok_video.read_bytes() and tiktok.posts[0]["source"] == "PULL_FROM_URL"
    assert tiktok.inits[0]["source_info"] == {"source": "PULL_FROM_URL", "video_url": served_video}
    assert ("PUT", "/upload/") not in tiktok.requests and "PROCESSING_DOWNLOAD" in tiktok.statuses_seen
    assert made.post_id == tiktok.posts[0]["id"]
    # Without the operator's word that the domain is verified, Recast uploads the same file itself.
    await _client(tiktok).publish(creds, PostContent(text="Pushed", media=tiktok_video, media_url=served_video))
    assert tiktok.posts[1]["source"] == "FILE_UPLOAD" and tiktok.pulled == [served_video]


async def test_a_lost_pull_init_answer_is_found_on_the_account_afterwards(
    tiktok: FakeTikTok, tiktok_video: Path, served_video: str
) -> None:
    client = _client(tiktok, pull_from_url=True)
    creds = await _credentials(tiktok, client)
    tiktok.processing_s = 0.2
    tiktok.faults.append(Fault(endpoint="init", after_create=True, hang_s=6.0))
    caption = "A long caption that TikTok lists only in part. " * 6  # over TikTok's 150 listed characters
    content = PostContent(text=caption, media_url=served_video)
    with pytest.raises(OutcomeUnknown):
        await client.publish(creds, content)
    found = await client.find_post(creds, content)
    assert found is not None and found.post_id == tiktok.posts[0]["id"] and len(tiktok.posts) == 1
    assert found.url and found.url.startswith(f"https://www.tiktok.com/@{tiktok.username}/video/")
    assert await client.find_post(creds, PostContent(text="Another caption entirely")) is None


async def test_tiktoks_errors_are_sorted_by_what_helps(tiktok: FakeTikTok, tiktok_video: Path) -> None:
    client = _client(tiktok)
    creds = await _credentials(tiktok, client)
    content = PostContent(text="Errors", media=tiktok_video, media_kind="video")
    tiktok.faults.append(Fault(endpoint="init", status=429, retry_after=7))
    with pytest.raises(RateLimited) as limited:
        await client.publish(creds, content)
    assert limited.value.retry_after == 7.0
    tiktok.faults.append(Fault(endpoint="creator_info", status=503))
    with pytest.raises(PlatformUnavailable):  # nothing was created: safe to retry as is
        await client.publish(creds, content)
    tiktok.faults.append(Fault(endpoint="init", status=500, after_create=True))
    with pytest.raises(OutcomeUnknown):
        await client.publish(creds, content)
    tiktok.faults.append(Fault(endpoint="status", status=502))
    with pytest.raises(OutcomeUnknown):  # the post was on its way when the status went missing
        await client.publish(creds, content)
    tiktok.faults.append(Fault(endpoint="init", status=403, code="unaudited_client_can_only_post_to_private_accounts"))
    with pytest.raises(ContentRejected) as unaudited:
        await client.publish(creds, content)
    assert "can only post to private TikTok accounts" in unaudited.value.user_message
    tiktok.daily_cap, tiktok.faults = len(tiktok.publishes) + 1, []
    await client.publish(creds, content)
    with pytest.raises(QuotaExhausted) as capped:
        await client.publish(creds, content)
    assert abs((capped.value.until - (utcnow() + timedelta(hours=24))).total_seconds()) < 60
    tiktok.revoke_all()
    with pytest.raises(TokenRevoked):
        await client.publish(creds, content)


async def test_oauth_codes_refresh_rotation_scopes_and_revoke(tiktok: FakeTikTok) -> None:
    client = _client(tiktok)
    url = client.authorize_url(
        state="s1", redirect_uri="https://recast.example/oauth/tiktok/callback", code_challenge=None
    )
    assert url.startswith(tiktok.authorize_url + "?client_key=tt-client-key&response_type=code")
    assert "scope=user.info.basic%2Cvideo.publish%2Cvideo.list" in url and "code_challenge" not in url
    tokens = await client.exchange_code(
        code=tiktok.grant_code(), redirect_uri="https://r.example/cb", code_verifier=None
    )
    assert tokens.scopes == ["user.info.basic", "video.publish", "video.list"] and tokens.refresh_token
    assert tokens.expires_at is not None and tokens.expires_at > utcnow() + timedelta(hours=23)
    account = await client.account(tokens.access_token)
    assert (account.platform_user_id, account.username) == (tiktok.open_id, f"@{tiktok.username}")
    renewed = await client.refresh(tokens.refresh_token)
    assert renewed.refresh_token and renewed.refresh_token != tokens.refresh_token
    with pytest.raises(TokenRevoked):  # TikTok rotates refresh tokens: the old one is spent
        await client.refresh(tokens.refresh_token)
    with pytest.raises(TokenRevoked):
        await client.exchange_code(code="used-or-made-up", redirect_uri="https://r.example/cb", code_verifier=None)
    narrow = await _credentials(tiktok, client, ("user.info.basic", "video.publish"))
    with pytest.raises(TokenRevoked) as no_scope:
        await client.find_post(narrow, PostContent(text="x"))
    assert "didn't allow Recast" in no_scope.value.user_message
    assert await client.revoke(renewed.access_token) is True
    with pytest.raises(TokenRevoked):
        await client.account(renewed.access_token)


def test_chunks_follow_tiktoks_counting_and_listed_captions_match_by_prefix() -> None:
    assert chunk_plan(3_000_000, 10_000_000) == (3_000_000, 1)  # smaller than a chunk: whole
    assert chunk_plan(25_000_000, 10_000_000) == (10_000_000, 2)  # the last chunk carries 15 MB
    assert chunk_plan(20_000_000, 10_000_000) == (10_000_000, 2)
    caption = "Show up   every week.\n\n" + "x" * 300
    assert caption_matches(caption, " ".join(caption.split())[:150])
    assert not caption_matches(caption, "Show up every week.")  # a short listed text must be the whole caption
    assert caption_matches("Short one", "Short  one") and not caption_matches("Short one", "")


async def test_the_daily_post_cap_moves_the_post_a_day_on_and_says_when(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path, run_id: str
) -> None:
    connection = await connect_tiktok(tiktok_deps, tiktok, creator)
    tiktok.faults.append(Fault(endpoint="init", status=403, code="spam_risk_too_many_posts"))
    draft_id = await clip_draft(tiktok_deps, creator, tiktok_video)
    async with running_worker(tiktok_deps, f"tt-{run_id}-cap"):
        post = await _schedule(tiktok_deps, draft_id, connection)
        message = await wait_for_message(tiktok_deps, creator.chat, "daily limit")
    moved = await wait_for_status(tiktok_deps, post.id, PostStatus.SCHEDULED)
    assert abs((moved.scheduled_for - (utcnow() + timedelta(hours=24))).total_seconds()) < 120
    assert message.text.startswith("TikTok's daily limit of posts from apps is used up on this account")
    assert f"Your TikTok post (@{tiktok.username}) now goes out at" in message.text and "Asia/Kolkata" in message.text
    assert tiktok.posts == []
    async with tiktok_deps.sessionmaker() as session:
        attempts = await publishing.attempts_of(session, post.id)
    assert [a.outcome for a in attempts] == [AttemptOutcome.FAILED]


async def test_approving_on_tiktok_lands_on_the_callback_and_connects_the_account(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator
) -> None:
    """The browser goes from the sign-in link through TikTok's consent page back to
    `PUBLIC_BASE_URL/oauth/tiktok/callback` on the real web app."""
    server = TestServer(make_web_app(tiktok_deps, bot_username="recast_test_bot"), host="127.0.0.1")
    await server.start_server()
    try:
        tiktok_deps.settings = tiktok_deps.settings.model_copy(update={"public_base_url": str(server.make_url(""))})
        owner = Owner(creator.user_id)
        link = await connect.sign_in_link(tiktok_deps.redis, tiktok_deps.settings, Platform.TIKTOK, owner, creator.chat)
        async with aiohttp.ClientSession() as browser, browser.get(link) as page:
            status, text, landed = page.status, await page.text(), str(page.url)
        assert status == 200 and landed.startswith(str(server.make_url("/oauth/tiktok/callback")))
        assert "TikTok connected" in text and f"@{tiktok.username}" in text
        assert sent_texts(tiktok_deps, creator.chat)[-1].startswith(f"Connected TikTok as @{tiktok.username}.")
        tiktok.decline = True
        link = await connect.sign_in_link(tiktok_deps.redis, tiktok_deps.settings, Platform.TIKTOK, owner, creator.chat)
        async with aiohttp.ClientSession() as browser, browser.get(link) as page:
            assert page.status == 200 and "nothing was connected" in await page.text()
        assert sent_texts(tiktok_deps, creator.chat)[-1].startswith("TikTok wasn't connected")
    finally:
        await server.close()


async def test_a_token_about_to_expire_is_refreshed_and_rotated_before_the_post(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path, run_id: str
) -> None:
    tiktok.expires_in = 120  # TikTok's access tokens last hours; this one runs out within the refresh margin
    connection = await connect_tiktok(tiktok_deps, tiktok, creator)
    first_refresh = set(tiktok.refresh_tokens)
    draft_id = await clip_draft(tiktok_deps, creator, tiktok_video)
    async with running_worker(tiktok_deps, f"tt-{run_id}-refresh"):
        post = await _schedule(tiktok_deps, draft_id, connection)
        await wait_for_status(tiktok_deps, post.id, PostStatus.PUBLISHED)
    assert tiktok.requests.count(("POST", "/v2/oauth/token/")) == 2  # the code, then one refresh
    assert not first_refresh & set(tiktok.refresh_tokens)  # the spent refresh token was replaced
    assert len(tiktok.posts) == 1


async def test_a_clip_whose_file_is_not_a_video_is_refused_with_why(tiktok: FakeTikTok, tmp_path: Path) -> None:
    client = _client(tiktok)
    creds = await _credentials(tiktok, client)
    junk = tmp_path / "clip.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(ContentRejected) as refused:
        await client.publish(creds, PostContent(text="x", media=junk, media_kind="video"))
    assert refused.value.user_message.startswith("The clip's video can't be read:")
    with pytest.raises(ContentRejected) as missing:
        await client.publish(creds, PostContent(text="x", media=tmp_path / "gone.mp4", media_kind="video"))
    assert "missing from Recast's media storage" in missing.value.user_message
    assert tiktok.inits == []


async def test_a_rate_limit_waits_for_tiktok_and_the_creator_hears_when(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path, run_id: str
) -> None:
    connection = await connect_tiktok(tiktok_deps, tiktok, creator)
    tiktok.faults.append(Fault(endpoint="init", status=429, retry_after=2))
    draft_id = await clip_draft(tiktok_deps, creator, tiktok_video)
    async with running_worker(tiktok_deps, f"tt-{run_id}-429"):
        post = await _schedule(tiktok_deps, draft_id, connection)
        await wait_for_status(tiktok_deps, post.id, PostStatus.PUBLISHED)
        await wait_for_message(tiktok_deps, creator.chat, "Published on TikTok")
    async with tiktok_deps.sessionmaker() as session:
        attempts = await publishing.attempts_of(session, post.id)
    assert [a.outcome for a in attempts] == [AttemptOutcome.FAILED, AttemptOutcome.PUBLISHED]
    assert attempts[1].started_at and attempts[0].finished_at
    assert (attempts[1].started_at - attempts[0].finished_at).total_seconds() >= 2.0
    assert any("rate limit" in t and "will be tried again at" in t for t in sent_texts(tiktok_deps, creator.chat))
    assert len(tiktok.posts) == 1


async def test_with_the_media_domain_verified_tiktok_pulls_the_clip_from_recasts_signed_link(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path, run_id: str, tmp_path: Path
) -> None:
    """`recast web` serves the signed /media link; TikTok GETs it over HTTP; Recast uploads nothing."""
    server = TestServer(make_web_app(tiktok_deps, bot_username="recast_test_bot"), host="127.0.0.1")
    await server.start_server()
    try:
        secret = tiktok_deps.settings.recast_secret_key.get_secret_value()
        media_base = str(server.make_url("/media/"))
        links = MediaLinks(secret=secret, base_url=str(server.make_url("")))
        tiktok_deps.store = LocalFileStore(tmp_path / "media", links=links)
        tiktok_deps.settings = tiktok_deps.settings.model_copy(update={"tiktok_pull_from_url": True})
        connection = await connect_tiktok(tiktok_deps, tiktok, creator)
        draft_id = await clip_draft(tiktok_deps, creator, tiktok_video)
        async with running_worker(tiktok_deps, f"tt-{run_id}-pull"):
            post = await _schedule(tiktok_deps, draft_id, connection)
            done = await wait_for_status(tiktok_deps, post.id, PostStatus.PUBLISHED)
    finally:
        await server.close()
    assert len(tiktok.pulled) == 1 and tiktok.pulled[0].startswith(media_base)
    assert tiktok.inits[0]["source_info"] == {"source": "PULL_FROM_URL", "video_url": tiktok.pulled[0]}
    assert ("PUT", "/upload/") not in tiktok.requests
    assert len(tiktok.posts) == 1 and tiktok.posts[0]["video"] == tiktok_video.read_bytes()
    assert done.platform_post_id == tiktok.posts[0]["id"]
