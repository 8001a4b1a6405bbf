"""Facebook Pages through the real publishing flow (real workers, PostgreSQL, Redis) against a fake Graph
API over HTTP: a post goes out once on the Page with the Page's token, a lost answer is found on the Page
instead of posted again, a revoked token holds the post until the owner reconnects; photos and videos go
up from a link Facebook fetches, or as the file itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from core.deps import CoreDeps
from core.distribution import connections, publishing, service
from core.distribution.clients import client_for
from core.distribution.connections import Owner
from core.distribution.errors import OutcomeUnknown, RateLimited, TokenRevoked
from core.distribution.models import AttemptOutcome, ConnectionStatus, PlatformConnection, PostStatus, ScheduledPost
from core.distribution.platforms.facebook import FacebookPagesClient
from core.distribution.platforms.names import Platform
from core.distribution.ports import Credentials, PostContent
from core.notify.ports import ConnectAction
from core.repurposing.models import GeneratedContent
from core.work import submit as work
from tests.distribution_fixtures import (
    Creator,
    MediaSite,
    clip_draft,
    connect_meta,
    make_clip,
    now,
    sent_texts,
    serving_media,
    wait_for_message,
    wait_for_status,
)
from tests.fakes.meta_graph_api import FakeMeta, GraphFault
from tests.workers import running_worker
from webhooks.app import make_web_app


def _client(deps: CoreDeps) -> FacebookPagesClient:
    client = client_for(deps.settings, Platform.FACEBOOK)
    assert isinstance(client, FacebookPagesClient)
    return client


async def _schedule(deps: CoreDeps, who: Creator, connection: PlatformConnection, *, in_s: float = 0.0) -> uuid.UUID:
    async with deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, who.draft_id)
        assert draft is not None
        post, unit = await publishing.schedule(
            session, draft=draft, connection=connection, when=now() + timedelta(seconds=in_s), timezone="Asia/Kolkata"
        )
        await session.commit()
    assert unit is not None
    await work.push(deps.work_queue, deps.sessionmaker, [unit])
    return post.id


async def test_a_due_post_goes_out_once_on_the_page_and_the_creator_gets_the_link(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, run_id: str
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
    assert connection.platform_user_id == f"{meta.page_id}@{meta.user_id}"
    assert connection.platform_username == meta.page_name
    assert connection.account_kind == "page" and connection.refresh_token is None
    # The Page's own token, minted from the long-lived user token: Meta gives it no expiry, so there is
    # nothing to refresh and no reconnect every 60 days.
    assert connections.token_box(meta_deps.settings).decrypt(connection.access_token) in meta.page_tokens
    assert connection.token_expires_at is None
    async with running_worker(meta_deps, f"fb-{run_id}-ok"):
        post_id = await _schedule(meta_deps, creator, connection, in_s=0.3)
        done = await wait_for_status(meta_deps, post_id, PostStatus.PUBLISHED)
        await wait_for_message(meta_deps, creator.chat, "Published on Facebook")
    [post] = meta.page_posts
    assert post["message"].startswith("Consistency beats talent. Show up every week.")
    assert done.platform_post_id == post["id"] and done.platform_post_url == post["permalink_url"]
    assert ("GET", meta.page_id) not in meta.requests  # no token fetched per post: the stored one is the Page's
    assert (
        sent_texts(meta_deps, creator.chat)[-1] == f"Published on Facebook ({meta.page_name}): {post['permalink_url']}"
    )


async def test_one_login_connects_every_page_the_person_manages_each_with_its_own_token(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, run_id: str
) -> None:
    meta.extra_pages = [
        {"id": "10900012", "name": "Crumb Bakery"},
        {"id": "10900013", "name": "Asha Rao Talks"},
        {"id": "10900014", "name": "A Page Asha only follows", "manages": False},  # no token: not hers to post
    ]
    first = await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
    async with meta_deps.sessionmaker() as session:
        rows = (
            await session.scalars(
                select(PlatformConnection).where(
                    PlatformConnection.user_id == creator.user_id, PlatformConnection.platform == "facebook"
                )
            )
        ).all()
    by_name = {str(c.platform_username): c for c in rows}
    assert sorted(by_name) == sorted([meta.page_name, "Crumb Bakery", "Asha Rao Talks"])
    assert first.platform_username == meta.page_name
    box = connections.token_box(meta_deps.settings)
    tokens = {name: box.decrypt(c.access_token) for name, c in by_name.items()}
    assert len(set(tokens.values())) == 3  # each Page's own token, not one shared
    assert meta.page_tokens[str(tokens["Crumb Bakery"])] == "10900012"
    assert by_name["Crumb Bakery"].platform_user_id == f"10900012@{meta.user_id}"
    told = await wait_for_message(meta_deps, creator.chat, "Connected Facebook")
    assert "The same sign-in also connects Crumb Bakery, Asha Rao Talks" in told.text

    async with running_worker(meta_deps, f"fb-{run_id}-pages"):
        post_id = await _schedule(meta_deps, creator, by_name["Crumb Bakery"], in_s=0.3)
        done = await wait_for_status(meta_deps, post_id, PostStatus.PUBLISHED)
    [post] = meta.page_posts
    assert post["id"].startswith("10900012_") and done.platform_post_id == post["id"]
    assert ("POST", "10900012/feed") in meta.requests and ("POST", f"{meta.page_id}/feed") not in meta.requests


async def test_a_lost_answer_is_found_on_the_page_instead_of_posted_twice(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, run_id: str
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
    meta.faults.append(GraphFault("feed", after_create=True, hang_s=6.0))  # the client gives up at 2.5 s
    async with running_worker(meta_deps, f"fb-{run_id}-lost"):
        post_id = await _schedule(meta_deps, creator, connection)
        done = await wait_for_status(meta_deps, post_id, PostStatus.PUBLISHED)
    assert len(meta.page_posts) == 1 and done.platform_post_id == meta.page_posts[0]["id"]
    assert meta.requests.count(("POST", f"{meta.page_id}/feed")) == 1
    assert ("GET", f"{meta.page_id}/posts") in meta.requests
    async with meta_deps.sessionmaker() as session:
        attempts = await publishing.attempts_of(session, post_id)
    assert [a.outcome for a in attempts] == [AttemptOutcome.UNKNOWN, AttemptOutcome.PUBLISHED]


async def test_a_revoked_token_holds_the_post_until_the_owner_reconnects(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, run_id: str
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
    meta.revoke_all()  # the person removed Recast in Facebook's settings: code 190 from now on
    async with running_worker(meta_deps, f"fb-{run_id}-190"):
        post_id = await _schedule(meta_deps, creator, connection)
        held = await wait_for_status(meta_deps, post_id, PostStatus.HELD)
        assert held.error_message and "Connect it again" in held.error_message
        reconnect = await wait_for_message(meta_deps, creator.chat, "on hold, not lost")
        assert reconnect.buttons[0][0].action == ConnectAction(Platform.FACEBOOK)
        async with meta_deps.sessionmaker() as session:
            broken = await session.get(PlatformConnection, connection.id)
            assert broken is not None and broken.status == ConnectionStatus.REVOKED
        assert meta.page_posts == []
        await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
        done = await wait_for_status(meta_deps, post_id, PostStatus.PUBLISHED)
    assert len(meta.page_posts) == 1 and done.platform_post_id == meta.page_posts[0]["id"]


async def test_a_rejected_post_fails_with_facebooks_reason(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, run_id: str
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
    meta.faults.append(GraphFault("feed", code=368, message="It looks like you were misusing this feature"))
    async with running_worker(meta_deps, f"fb-{run_id}-368"):
        post_id = await _schedule(meta_deps, creator, connection)
        failed = await wait_for_status(meta_deps, post_id, PostStatus.FAILED)
    assert failed.error_message == "Facebook rejected the post: It looks like you were misusing this feature"
    assert meta.page_posts == []


async def _creds(deps: CoreDeps, meta: FakeMeta, creator: Creator) -> Credentials:
    connection = await connect_meta(deps, meta, creator, Platform.FACEBOOK)
    return connections.credentials(deps.settings, connection)


async def test_a_photo_is_posted_from_the_link_facebook_fetches(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, media_site: MediaSite
) -> None:
    creds = await _creds(meta_deps, meta, creator)
    content = PostContent(text="New studio, same habits.", media_kind="image", media_url=media_site.url("photo.jpg"))
    published = await _client(meta_deps).publish(creds, content)
    [post] = meta.page_posts
    assert post["photo"] and post["message"] == "New studio, same habits."
    assert published.post_id == post["id"]  # the post, not the photo: that is what the feed links to
    assert meta.fetched == [media_site.url("photo.jpg")]


async def test_a_video_goes_up_as_a_file_and_a_lost_answer_is_found_among_the_pages_videos(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, media_site: MediaSite
) -> None:
    """No link this time: the file itself is sent as `source`. Facebook lists a video in the Page's posts
    only once processed, so after a lost answer the client looks through the Page's videos too."""
    creds = await _creds(meta_deps, meta, creator)
    client = _client(meta_deps)
    content = PostContent(text="Hooks in 60 seconds.", media=media_site.mp4, media_kind="video")
    meta.faults.append(GraphFault("videos", after_create=True, status=500, code=1, message="An unknown error"))
    with pytest.raises(OutcomeUnknown):
        await client.publish(creds, content)
    [video] = meta.page_videos
    assert meta.page_posts == [] and meta.fetched == []
    found = await client.find_post(creds, content)
    assert found is not None and found.post_id == video["id"]
    assert found.url == f"https://www.facebook.com/{meta.page_id}/videos/{video['id']}/"


async def test_a_page_throttle_waits_for_the_time_in_the_business_use_case_header(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    creds = await _creds(meta_deps, meta, creator)
    meta.faults.append(GraphFault("feed", code=32, message="Page request limit reached", regain_minutes=2))
    with pytest.raises(RateLimited) as limited:
        await _client(meta_deps).publish(creds, PostContent(text="Hello, Page"))
    assert limited.value.retry_after == 120.0
    meta.revoke_all()
    with pytest.raises(TokenRevoked):
        await _client(meta_deps).publish(creds, PostContent(text="Hello, Page"))


def _signed_request(secret: str, data: dict[str, object]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    mac = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=") + "." + payload


async def test_metas_deauthorize_callback_revokes_the_persons_instagram_and_facebook_connections(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, run_id: str
) -> None:
    """The callback names only the person (their app-scoped id): both connections made with their sign-in
    are revoked and their posts held, not left to fail at publish time."""
    facebook = await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
    instagram = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    post_id = await _schedule(meta_deps, creator, facebook, in_s=3600)
    web = TestServer(make_web_app(meta_deps), host="127.0.0.1")
    await web.start_server()
    try:
        async with running_worker(meta_deps, f"fb-{run_id}-deauth"), aiohttp.ClientSession() as http:
            signed = _signed_request(
                meta.app_secret, {"algorithm": "HMAC-SHA256", "user_id": meta.user_id, "issued_at": 7}
            )
            url = web.make_url("/webhooks/meta/deauthorize")
            async with http.post(url, data={"signed_request": signed}) as answer:
                assert answer.status == 200
            await wait_for_message(meta_deps, creator.chat, "Facebook account was removed on Facebook")
            await wait_for_message(meta_deps, creator.chat, "Instagram account was removed on Instagram")
    finally:
        await web.close()
    async with meta_deps.sessionmaker() as session:
        for connection in (facebook, instagram):
            row = await session.get(PlatformConnection, connection.id)
            assert row is not None and row.status == ConnectionStatus.REVOKED
        held = await session.get(ScheduledPost, post_id)
        assert held is not None and held.status == PostStatus.HELD


async def test_a_scheduled_clip_goes_up_to_the_page_as_a_video_through_the_publishing_flow(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, run_id: str, tmp_path: Path
) -> None:
    """The clip the post carries (checked when scheduled) is fetched by Facebook from the signed link
    recast web serves, with the caption as the video's description; the link is the video's page."""
    connection = await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
    async with serving_media(meta_deps) as web_base, running_worker(meta_deps, f"fb-{run_id}-clip"):
        draft_id = await clip_draft(meta_deps, creator, await make_clip(tmp_path / "clip.mp4", seconds=4))
        async with meta_deps.sessionmaker() as session:
            draft = await session.get(GeneratedContent, draft_id)
            assert draft is not None
            post, unit = await publishing.schedule(
                session, draft=draft, connection=connection, when=now(), timezone="Asia/Kolkata", store=meta_deps.store
            )
            await session.commit()
        assert unit is not None
        await work.push(meta_deps.work_queue, meta_deps.sessionmaker, [unit])
        done = await wait_for_status(meta_deps, post.id, PostStatus.PUBLISHED)
    [video] = meta.page_videos
    assert video["description"].startswith("Show up every week.")
    assert done.platform_post_id == video["id"]
    assert done.platform_post_url == f"https://www.facebook.com/{meta.page_id}/videos/{video['id']}/"
    [link] = meta.fetched
    assert link.startswith(f"{web_base}/media/") and meta.page_posts == []


async def test_disconnecting_revokes_only_the_page_posting_permission_as_the_app(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    connection = await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
    async with meta_deps.sessionmaker() as session:
        done = await service.disconnect(session, meta_deps.settings, Owner(creator.user_id), connection.id)
        await session.commit()
    assert done.revoked_at_platform
    assert [path for method, path in meta.requests if method == "DELETE"] == [
        f"{meta.user_id}/permissions/pages_manage_posts",
        f"{meta.user_id}/permissions/read_insights",
    ]
    assert "pages_manage_posts" not in meta.granted
    assert {"instagram_basic", "instagram_content_publish", "pages_show_list"} <= meta.granted
