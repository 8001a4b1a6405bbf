"""Instagram through the Graph API's content publishing, against a fake Graph API over HTTP that fetches the
media from a local web server as Instagram does: connect through Facebook Login, a container polled until
FINISHED and then published exactly once, the daily publishing limit read (not guessed), and every fault
mapped to what the publisher should do."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from core.common.clock import utcnow
from core.deps import CoreDeps
from core.distribution import connect, connections, publishing, service
from core.distribution.clients import client_for, configured_clients
from core.distribution.connections import Owner
from core.distribution.errors import (
    CannotConnect,
    ConnectFailed,
    ContentRejected,
    NotConfigured,
    NotPublishable,
    OutcomeUnknown,
    PlatformUnavailable,
    QuotaExhausted,
    RateLimited,
    TokenRevoked,
)
from core.distribution.models import AttemptOutcome, PlatformConnection, PostStatus, ScheduledPost
from core.distribution.platforms.instagram import InstagramClient
from core.distribution.platforms.names import Platform
from core.distribution.ports import Credentials, PostContent
from core.repurposing.models import GeneratedContent
from core.work import submit as work
from tests.distribution_fixtures import (
    Creator,
    MediaSite,
    clip_draft,
    connect_meta,
    make_clip,
    now,
    serving_media,
    wait_for_message,
    wait_for_status,
)
from tests.fakes.meta_graph_api import FakeMeta, GraphFault
from tests.workers import running_worker
from webhooks.app import make_web_app

CAPTION = "Consistency beats talent. Show up every week. #PersonalBranding #CreatorTips"


def _client(deps: CoreDeps) -> InstagramClient:
    client = client_for(deps.settings, Platform.INSTAGRAM)
    assert isinstance(client, InstagramClient)
    return client


async def _creds(deps: CoreDeps, meta: FakeMeta, creator: Creator) -> Credentials:
    connection = await connect_meta(deps, meta, creator, Platform.INSTAGRAM)
    return connections.credentials(deps.settings, connection)


def _image(site: MediaSite, name: str = "photo.jpg", text: str = CAPTION) -> PostContent:
    return PostContent(text=text, media_kind="image", media_url=site.url(name))


async def test_connecting_through_facebook_login_finds_the_linked_instagram_account(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    """The browser's whole trip: the dialog on the fake, its redirect to recast web's callback, the code
    exchanged for a long-lived token, the Page's linked Instagram account stored as the connection."""
    assert {Platform.INSTAGRAM, Platform.FACEBOOK} <= set(configured_clients(meta_deps.settings))
    web = TestServer(make_web_app(meta_deps), host="127.0.0.1")
    await web.start_server()
    try:
        meta_deps.settings = meta_deps.settings.model_copy(update={"public_base_url": str(web.make_url(""))})
        link = await connect.sign_in_link(
            meta_deps.redis, meta_deps.settings, Platform.INSTAGRAM, Owner(creator.user_id), creator.chat
        )
        assert link.startswith(f"{meta.base_url}/v25.0/dialog/oauth?")
        assert "scope=instagram_basic%2Cinstagram_content_publish%2Cpages_show_list%2Cpages_read_engagement" in link
        assert "code_challenge" not in link
        async with aiohttp.ClientSession() as browser, browser.get(link) as page:
            assert page.status == 200 and "Instagram connected ✅" in await page.text()
    finally:
        await web.close()
    await wait_for_message(meta_deps, creator.chat, "Connected Instagram as @asha.builds.")
    async with meta_deps.sessionmaker() as session:
        [row] = [
            c
            for c in await connections.connections_of(session, Owner(creator.user_id))
            if c.platform == Platform.INSTAGRAM
        ]
        assert isinstance(row, PlatformConnection)
    assert row.platform_user_id == f"{meta.ig_user_id}@{meta.user_id}" and row.account_kind == "business"
    assert row.refresh_token is None  # Meta issues none: upkeep warns before the token runs out
    assert row.token_expires_at is not None
    assert timedelta(days=59) < row.token_expires_at - utcnow() < timedelta(days=61)
    assert "instagram_content_publish" in (row.scopes or [])
    # The short-lived token was exchanged for a long-lived one: two calls at the token endpoint.
    assert meta.requests.count(("GET", "oauth/access_token")) == 2


async def test_declining_on_the_dialog_connects_nothing_and_says_so_in_the_chat(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    meta.decline = True
    web = TestServer(make_web_app(meta_deps), host="127.0.0.1")
    await web.start_server()
    try:
        meta_deps.settings = meta_deps.settings.model_copy(update={"public_base_url": str(web.make_url(""))})
        link = await connect.sign_in_link(
            meta_deps.redis, meta_deps.settings, Platform.INSTAGRAM, Owner(creator.user_id), creator.chat
        )
        async with aiohttp.ClientSession() as browser, browser.get(link) as page:
            assert page.status == 200 and "You declined on Instagram's page" in await page.text()
    finally:
        await web.close()
    await wait_for_message(meta_deps, creator.chat, "Instagram wasn't connected: you declined on its page.")
    async with meta_deps.sessionmaker() as session:
        assert await connections.connections_of(session, Owner(creator.user_id)) == []


async def test_a_permission_left_out_on_the_dialog_is_refused_with_its_name(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    meta.declined_permissions = {"instagram_content_publish"}
    web = TestServer(make_web_app(meta_deps), host="127.0.0.1")
    await web.start_server()
    try:
        meta_deps.settings = meta_deps.settings.model_copy(update={"public_base_url": str(web.make_url(""))})
        link = await connect.sign_in_link(
            meta_deps.redis, meta_deps.settings, Platform.INSTAGRAM, Owner(creator.user_id), creator.chat
        )
        async with aiohttp.ClientSession() as browser, browser.get(link) as page:
            text = await page.text()
    finally:
        await web.close()
    assert page.status == 400 and "Instagram wasn't connected" in text
    assert "not granted: instagram_content_publish" in text
    told = await wait_for_message(meta_deps, creator.chat, "Instagram wasn't connected: ")  # the chat hears why
    assert "not granted: instagram_content_publish" in told.text and told.text.endswith(
        "Use /connect again and leave them ticked."
    )
    assert "starts again" not in told.text  # how to start again is said once
    async with meta_deps.sessionmaker() as session:
        assert await connections.connections_of(session, Owner(creator.user_id)) == []
    with pytest.raises(ConnectFailed) as refused:
        await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    assert isinstance(refused.value.cause, CannotConnect)
    assert "not granted: instagram_content_publish" in refused.value.reason


async def test_one_facebook_login_connects_every_linked_instagram_account(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    crumb = {"id": "17841400000000777", "username": "crumb.bakes"}
    meta.extra_pages = [
        {"id": "10900002", "name": "Crumb Bakery", "instagram_business_account": crumb},
        {"id": "10900003", "name": "No Instagram here"},
    ]
    first = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    async with meta_deps.sessionmaker() as session:
        rows = await session.scalars(
            select(PlatformConnection).where(
                PlatformConnection.user_id == creator.user_id, PlatformConnection.platform == "instagram"
            )
        )
        names = sorted(str(c.platform_username) for c in rows.all())
    assert first.platform_username == f"@{meta.ig_username}"
    assert names == sorted([f"@{meta.ig_username}", "@crumb.bakes"])
    told = await wait_for_message(meta_deps, creator.chat, "Connected Instagram")
    assert "The same sign-in also connects @crumb.bakes" in told.text


async def test_a_page_without_a_linked_instagram_account_is_explained(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    meta.has_instagram = False
    with pytest.raises(ConnectFailed) as refused:
        await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    assert isinstance(refused.value.cause, CannotConnect)
    assert "Instagram business or creator account linked" in refused.value.reason


async def test_an_image_is_fetched_processed_and_published_exactly_once(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, media_site: MediaSite
) -> None:
    creds = await _creds(meta_deps, meta, creator)
    published = await _client(meta_deps).publish(creds, _image(media_site))
    [media] = meta.published_media()
    assert published.post_id == media["id"] and published.url == media["permalink"]
    assert media["caption"] == CAPTION
    assert meta.fetched == [media_site.url("photo.jpg")]  # Instagram pulled the file from our link
    container = meta.containers[media["container"]]
    assert container["kind"] == "image" and container["status_code"] == "PUBLISHED"
    # The limit was asked first, the container polled through IN_PROGRESS, then published once.
    calls = [path for _, path in meta.requests]
    assert calls.index(f"{meta.ig_user_id}/content_publishing_limit") < calls.index(f"{meta.ig_user_id}/media")
    assert calls.count(media["container"]) == meta.processing_polls + 1
    assert calls.count(f"{meta.ig_user_id}/media_publish") == 1


async def test_a_reel_goes_up_as_a_reels_container_from_its_video_url(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, media_site: MediaSite
) -> None:
    creds = await _creds(meta_deps, meta, creator)
    meta.processing_polls = 5  # video takes longer to process
    content = PostContent(text="60 seconds on hooks. #Reels", media_kind="video", media_url=media_site.url("reel.mp4"))
    published = await _client(meta_deps).publish(creds, content)
    [media] = meta.published_media()
    assert published.post_id == media["id"]
    assert meta.containers[media["container"]]["kind"] == "video"
    assert meta.fetched == [media_site.url("reel.mp4")]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("expired-link.jpg", "Media download has failed", id="link-404"),
        pytest.param("not-a-jpeg.jpg", "image is not a JPEG", id="not-jpeg"),
    ],
)
async def test_a_container_that_errors_is_rejected_with_instagrams_reason_and_nothing_is_published(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, media_site: MediaSite, name: str, reason: str
) -> None:
    creds = await _creds(meta_deps, meta, creator)
    with pytest.raises(ContentRejected) as rejected:
        await _client(meta_deps).publish(creds, _image(media_site, name))
    assert rejected.value.user_message.startswith("Instagram couldn't use the media: Error:")
    assert reason in rejected.value.user_message
    assert not rejected.value.transient
    assert meta.published_media() == []
    assert ("POST", f"{meta.ig_user_id}/media_publish") not in meta.requests


async def test_a_container_still_processing_at_the_deadline_is_retried_later_and_nothing_was_posted(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, media_site: MediaSite
) -> None:
    creds = await _creds(meta_deps, meta, creator)
    meta.processing_polls = 1000
    with pytest.raises(PlatformUnavailable) as waiting:
        await _client(meta_deps).publish(creds, _image(media_site))
    assert waiting.value.transient and "nothing was posted" in waiting.value.user_message
    assert meta.published_media() == []


async def test_a_lost_media_publish_answer_is_found_by_its_caption_and_not_published_twice(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, media_site: MediaSite
) -> None:
    """What publish_post does after an unknown outcome: ask for the post by its marker before posting."""
    creds = await _creds(meta_deps, meta, creator)
    client = _client(meta_deps)
    content = _image(media_site)
    meta.faults.append(GraphFault("media_publish", after_create=True, hang_s=6.0))  # the client gives up at 2.5 s
    with pytest.raises(OutcomeUnknown):
        await client.publish(creds, content)
    found = await client.find_post(creds, content)
    [media] = meta.published_media()
    assert found is not None and found.post_id == media["id"] and found.url == media["permalink"]
    assert await client.find_post(creds, _image(media_site, text="A different caption")) is None
    assert len(meta.published_media()) == 1


async def test_a_5xx_from_media_publish_leaves_the_outcome_unknown_but_one_on_the_container_does_not(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, media_site: MediaSite
) -> None:
    creds = await _creds(meta_deps, meta, creator)
    client = _client(meta_deps)
    meta.faults.append(GraphFault("media", status=503, code=2, message="Service temporarily unavailable"))
    with pytest.raises(PlatformUnavailable) as before:
        await client.publish(creds, _image(media_site))
    assert type(before.value) is PlatformUnavailable  # no post can exist: a plain retry is safe
    meta.faults.append(GraphFault("media_publish", status=502))
    with pytest.raises(OutcomeUnknown):
        await client.publish(creds, _image(media_site))


async def test_a_used_up_publishing_limit_raises_quota_exhausted_until_a_slot_frees(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, media_site: MediaSite
) -> None:
    creds = await _creds(meta_deps, meta, creator)
    meta.quota_total = 3
    meta.used_quota(2, hours_ago=5)
    meta.used_quota(1, hours_ago=1)
    with pytest.raises(QuotaExhausted) as limited:
        await _client(meta_deps).publish(creds, _image(media_site))
    # The oldest of the three counted posts (5 hours ago) leaves the 24-hour window 19 hours from now.
    expected = utcnow() + timedelta(hours=19)
    assert abs((limited.value.until - expected).total_seconds()) < 120
    assert "3 of 3 used" in str(limited.value)
    assert not meta.containers  # nothing was created, nothing fetched
    assert meta.fetched == []


async def test_the_limit_met_at_media_publish_is_quota_exhausted_too(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, media_site: MediaSite
) -> None:
    """Another app posted in between the check and the publish: Meta's code 9 / 2207042 says so."""
    creds = await _creds(meta_deps, meta, creator)
    meta.faults.append(
        GraphFault("media_publish", code=9, subcode=2207042, message="Application request limit reached")
    )
    with pytest.raises(QuotaExhausted) as limited:
        await _client(meta_deps).publish(creds, _image(media_site))
    assert limited.value.until > utcnow() + timedelta(hours=23)
    assert meta.published_media() == []


async def test_a_rate_limit_waits_for_the_time_meta_gives(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, media_site: MediaSite
) -> None:
    creds = await _creds(meta_deps, meta, creator)
    meta.faults.append(GraphFault("media", code=4, message="Application request limit reached", regain_minutes=3))
    with pytest.raises(RateLimited) as limited:
        await _client(meta_deps).publish(creds, _image(media_site))
    assert limited.value.retry_after == 180.0


async def test_a_revoked_token_is_token_revoked(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, media_site: MediaSite
) -> None:
    creds = await _creds(meta_deps, meta, creator)
    meta.revoke_all()
    with pytest.raises(TokenRevoked):
        await _client(meta_deps).publish(creds, _image(media_site))
    with pytest.raises(TokenRevoked):
        await _client(meta_deps).refresh("anything")  # Meta has no refresh: the owner reconnects


async def test_a_draft_without_media_is_refused_when_scheduled_and_a_bare_call_is_rejected(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, media_site: MediaSite
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    async with meta_deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, creator.draft_id)
        assert draft is not None
        with pytest.raises(NotPublishable) as refused:
            await publishing.schedule(
                session, draft=draft, connection=connection, when=now(), timezone="Asia/Kolkata", store=meta_deps.store
            )
    assert refused.value.user_message.startswith("Instagram posts need a video or a picture")
    creds = connections.credentials(meta_deps.settings, connection)
    client = _client(meta_deps)
    with pytest.raises(ContentRejected) as rejected:
        await client.publish(creds, PostContent(text=CAPTION))
    assert rejected.value.user_message.startswith("Instagram posts need an image or a video")
    # A file but no link: Instagram can't be sent the bytes, so the post waits for the operator, said so.
    with pytest.raises(NotConfigured) as no_link:
        await client.publish(creds, PostContent(text=CAPTION, media=media_site.jpeg, media_kind="image"))
    assert "gives out no media links" in no_link.value.user_message
    assert meta.containers == {} and ("GET", f"{meta.ig_user_id}/content_publishing_limit") not in meta.requests


async def test_disconnecting_revokes_only_instagrams_own_permissions(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
    connection = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    async with meta_deps.sessionmaker() as session:
        done = await service.disconnect(session, meta_deps.settings, Owner(creator.user_id), connection.id)
        await session.commit()
    assert done.revoked_at_platform
    deleted = [path for method, path in meta.requests if method == "DELETE"]
    assert deleted == [
        "me/permissions/instagram_content_publish",
        "me/permissions/instagram_basic",
        "me/permissions/instagram_manage_insights",
    ]
    # The Facebook connection of the same person keeps what it needs.
    assert {"pages_manage_posts", "pages_show_list", "pages_read_engagement"} <= meta.granted
    assert "instagram_content_publish" not in meta.granted


async def _schedule_clip(deps: CoreDeps, who: Creator, connection: PlatformConnection, tmp: Path) -> uuid.UUID:
    draft_id = await clip_draft(deps, who, await make_clip(tmp / "reel.mp4", seconds=4))
    async with deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, draft_id)
        assert draft is not None
        post, unit = await publishing.schedule(
            session, draft=draft, connection=connection, when=now(), timezone="Asia/Kolkata", store=deps.store
        )
        await session.commit()
    assert unit is not None
    await work.push(deps.work_queue, deps.sessionmaker, [unit])
    return post.id


async def test_a_scheduled_reel_goes_out_once_from_the_signed_link_recast_web_serves(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, run_id: str, tmp_path: Path
) -> None:
    """The whole flow: the clip scheduled on Instagram, the worker hands Instagram a signed /media link,
    Instagram fetches the file from recast web, the container is polled to FINISHED and published once."""
    connection = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    async with serving_media(meta_deps) as web_base, running_worker(meta_deps, f"ig-{run_id}-reel"):
        post_id = await _schedule_clip(meta_deps, creator, connection, tmp_path)
        done = await wait_for_status(meta_deps, post_id, PostStatus.PUBLISHED)
        told = await wait_for_message(meta_deps, creator.chat, "Published on Instagram")
    [media] = meta.published_media()
    assert done.platform_post_id == media["id"] and done.platform_post_url == media["permalink"]
    assert told.text == f"Published on Instagram (@asha.builds): {media['permalink']}"
    container = meta.containers[media["container"]]
    assert container["kind"] == "video" and media["caption"].startswith("Show up every week.")
    [link] = meta.fetched
    assert link.startswith(f"{web_base}/media/")  # signed and expiring, fetched over HTTP from recast web
    assert meta.requests.count(("POST", f"{meta.ig_user_id}/media_publish")) == 1


async def test_a_lost_media_publish_answer_in_the_flow_is_found_and_not_posted_again(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, run_id: str, tmp_path: Path
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    meta.faults.append(GraphFault("media_publish", after_create=True, hang_s=6.0))  # the client gives up at 2.5 s
    async with serving_media(meta_deps), running_worker(meta_deps, f"ig-{run_id}-lost"):
        post_id = await _schedule_clip(meta_deps, creator, connection, tmp_path)
        done = await wait_for_status(meta_deps, post_id, PostStatus.PUBLISHED)
    [media] = meta.published_media()
    assert done.platform_post_id == media["id"]
    assert meta.requests.count(("POST", f"{meta.ig_user_id}/media_publish")) == 1
    async with meta_deps.sessionmaker() as session:
        attempts = await publishing.attempts_of(session, post_id)
    assert [a.outcome for a in attempts] == [AttemptOutcome.UNKNOWN, AttemptOutcome.PUBLISHED]


async def test_a_used_up_publishing_limit_moves_the_post_and_tells_the_creator_when(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, run_id: str, tmp_path: Path
) -> None:
    """Other tools used the account's allowance (Recast's own schedule can't know): Instagram's limit is
    read before anything is made, and the post moves to when the rolling window frees a slot."""
    connection = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    meta.quota_total = 2
    meta.used_quota(2, hours_ago=4)
    async with serving_media(meta_deps), running_worker(meta_deps, f"ig-{run_id}-quota"):
        post_id = await _schedule_clip(meta_deps, creator, connection, tmp_path)
        told = await wait_for_message(meta_deps, creator.chat, "now goes out at")
    async with meta_deps.sessionmaker() as session:
        moved = await session.get(ScheduledPost, post_id)
        assert moved is not None
    assert moved.status == PostStatus.SCHEDULED
    assert abs((moved.scheduled_for - (utcnow() + timedelta(hours=20))).total_seconds()) < 180
    assert "daily limit for this account is used up" in told.text and "Asia/Kolkata" in told.text
    assert meta.containers == {} and meta.fetched == []


async def test_a_revoked_token_holds_the_reel_until_the_owner_reconnects(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, run_id: str, tmp_path: Path
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    meta.revoke_all()
    async with serving_media(meta_deps), running_worker(meta_deps, f"ig-{run_id}-190"):
        post_id = await _schedule_clip(meta_deps, creator, connection, tmp_path)
        held = await wait_for_status(meta_deps, post_id, PostStatus.HELD)
        assert held.error_message and "Connect it again" in held.error_message
        await wait_for_message(meta_deps, creator.chat, "on hold, not lost")
        assert meta.containers == {}
        await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
        done = await wait_for_status(meta_deps, post_id, PostStatus.PUBLISHED)
    [media] = meta.published_media()
    assert done.platform_post_id == media["id"]
