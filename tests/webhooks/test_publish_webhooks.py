"""Platform webhooks that finish our own posts, over the real web app, inbox and worker: TikTok's
`post.publish.complete` / `publicly_available` / `failed` finish the post waiting on that publish_id, once,
whichever of the webhook and the publisher's own poll sees it first (or while the other is in flight);
YouTube's feed records updates of our videos and marks a deleted one removed, and ignores videos not ours."""

from __future__ import annotations

import asyncio
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
from core.distribution import connections, platform_events, publishing
from core.distribution.connections import Owner
from core.distribution.models import PostStatus, ScheduledPost
from core.distribution.ports import Account, TokenSet
from core.inbox.models import EventStatus, GatewayEvent
from core.repurposing.models import GeneratedContent
from core.system.models import AuditLog
from tests.distribution_fixtures import (
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

FEED_SECRET = "websub-secret"


async def _pending_post(deps: CoreDeps, fake: FakeTikTok, who: Creator, clip: Path) -> tuple[ScheduledPost, str]:
    """A TikTok post whose first attempt gave up waiting while TikTok processed it: it waits (its retry far
    off) with the publish_id as its pending handle."""
    deps.settings = deps.settings.model_copy(update={"tiktok_publish_wait_s": 0.2, "publish_retry_base_s": 900.0})
    fake.processing_polls, fake.processing_s = 10_000, 0.5  # TikTok finishes after the client stopped asking
    connection = await connect_tiktok(deps, fake, who)
    draft_id = await clip_draft(deps, who, clip)
    async with deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, draft_id)
        assert draft is not None
        post, _ = await publishing.schedule(
            session, draft=draft, connection=connection, when=now(), timezone="Asia/Kolkata", store=deps.store
        )
        await session.commit()
    async with deps.sessionmaker() as session:
        first = await publishing.publish_post(session, deps.settings, post.id, store=deps.store)
        await session.commit()
    assert first.result == publishing.Result.RETRY
    async with deps.sessionmaker() as session:
        waiting = await session.get(ScheduledPost, post.id)
        assert waiting is not None and waiting.status == PostStatus.SCHEDULED
        handle = (waiting.post_metadata or {})["pending_handle"]
    assert handle == next(iter(fake.publishes))
    return waiting, handle


async def _processed(fake: FakeTikTok, publish_id: str) -> None:
    deadline = time.monotonic() + 10
    while fake.publishes[publish_id].status != "PUBLISH_COMPLETE":
        assert time.monotonic() < deadline, "the fake TikTok never finished processing"
        await asyncio.sleep(0.05)


def _tiktok_event(
    fake: FakeTikTok, event: str, content: dict[str, object], at: int = 1
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "client_key": fake.client_key,
            "event": event,
            "create_time": at,
            "user_openid": fake.open_id,
            "content": json.dumps(content),  # TikTok sends the event's details as a JSON string
        }
    ).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(fake.client_secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return body, {"TikTok-Signature": f"t={stamp},s={signature}", "Content-Type": "application/json"}


async def _deliver(deps: CoreDeps, requests: list[tuple[str, bytes, dict[str, str]]], run: str) -> None:
    web = TestServer(make_web_app(deps), host="127.0.0.1")
    await web.start_server()
    try:
        async with running_worker(deps, f"pubhook-{run}") as worker, aiohttp.ClientSession() as http:
            for path, body, headers in requests:
                async with http.post(web.make_url(path), data=body, headers=headers) as answer:
                    assert answer.status == 200, await answer.text()
            await _settled(deps, [body for _, body, _ in requests])
            assert worker is not None
    finally:
        await web.close()


async def _settled(deps: CoreDeps, bodies: list[bytes]) -> None:
    """Until every delivered event has been processed (it has its final status)."""
    deadline = time.monotonic() + 20
    while True:
        async with deps.sessionmaker() as session:
            rows = (await session.scalars(select(GatewayEvent).where(GatewayEvent.raw_body.in_(bodies)))).all()
        if len(rows) == len(set(bodies)) and all(r.processed_at is not None for r in rows):
            return
        assert time.monotonic() < deadline, [(r.sender_event_id, r.status, r.last_error) for r in rows]
        await asyncio.sleep(0.1)


async def _event_notes(deps: CoreDeps, body: bytes) -> tuple[str, str | None]:
    async with deps.sessionmaker() as session:
        event = await session.scalar(select(GatewayEvent).where(GatewayEvent.raw_body == body))
        assert event is not None
        return event.status, event.last_error


async def _audits(deps: CoreDeps, post_id: uuid.UUID, action: str) -> int:
    async with deps.sessionmaker() as session:
        stmt = (
            select(func.count()).select_from(AuditLog).where(AuditLog.resource_id == post_id, AuditLog.action == action)
        )
        return int(await session.scalar(stmt) or 0)


async def test_tiktok_complete_webhook_publishes_the_waiting_post_once_and_the_retry_finds_it_done(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path, run_id: str
) -> None:
    post, publish_id = await _pending_post(tiktok_deps, tiktok, creator, tiktok_video)
    await _processed(tiktok, publish_id)
    complete = _tiktok_event(
        tiktok, "post.publish.complete", {"publish_id": publish_id, "publish_type": "DIRECT_PUBLISH"}
    )
    video_id = tiktok.publishes[publish_id].post_id
    public = _tiktok_event(
        tiktok,
        "post.publish.publicly_available",
        {"publish_id": publish_id, "post_id": video_id, "publish_type": "DIRECT_PUBLISH"},
    )
    await _deliver(
        tiktok_deps,
        [("/webhooks/tiktok", *complete), ("/webhooks/tiktok", *complete), ("/webhooks/tiktok", *public)],
        f"{run_id}-complete",
    )
    done = await wait_for_status(tiktok_deps, post.id, PostStatus.PUBLISHED)
    # Published by the webhook, then its public id recorded when TikTok gave it.
    assert done.platform_post_id == video_id
    assert done.platform_post_url == f"https://www.tiktok.com/@{tiktok.username}/video/{video_id}"
    async with tiktok_deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, done.generated_content_id)
        assert draft is not None and draft.is_published and draft.published_at is not None
        # The publisher's retry comes later: the post is done, nothing is asked or posted again.
        retry = await publishing.publish_post(session, tiktok_deps.settings, post.id, store=tiktok_deps.store)
        await session.commit()
    assert retry.result == publishing.Result.ALREADY_DONE
    assert len(tiktok.inits) == 1
    texts = [t for t in sent_texts(tiktok_deps, creator.chat) if t.startswith("Published on TikTok")]
    # One message, whichever of the two events the worker took first (the public link, or the profile's).
    assert len(texts) == 1
    assert texts[0].startswith(f"Published on TikTok (@{tiktok.username}): https://www.tiktok.com/@{tiktok.username}")
    assert await _audits(tiktok_deps, post.id, "post.published") == 1
    # The public id's event always changes something: it publishes the post, or records the id on it.
    assert (await _event_notes(tiktok_deps, public[0]))[0] == EventStatus.PROCESSED


async def test_when_the_publisher_finishes_first_the_webhook_changes_nothing(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path, run_id: str
) -> None:
    post, publish_id = await _pending_post(tiktok_deps, tiktok, creator, tiktok_video)
    await _processed(tiktok, publish_id)
    async with tiktok_deps.sessionmaker() as session:
        retry = await publishing.publish_post(session, tiktok_deps.settings, post.id, store=tiktok_deps.store)
        await session.commit()
    assert retry.result == publishing.Result.PUBLISHED
    complete = _tiktok_event(tiktok, "post.publish.complete", {"publish_id": publish_id})
    await _deliver(tiktok_deps, [("/webhooks/tiktok", *complete)], f"{run_id}-late")
    status, note = await _event_notes(tiktok_deps, complete[0])
    assert status == EventStatus.IGNORED and note and "already published" in note
    assert await _audits(tiktok_deps, post.id, "post.published") == 1
    async with tiktok_deps.sessionmaker() as session:
        attempts = await publishing.attempts_of(session, post.id)
    assert sum(a.outcome == "published" for a in attempts) == 1


async def test_a_webhook_landing_while_the_publisher_asks_tiktok_wins_and_the_publisher_stands_down(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path
) -> None:
    post, publish_id = await _pending_post(tiktok_deps, tiktok, creator, tiktok_video)
    await _processed(tiktok, publish_id)
    tiktok_deps.settings = tiktok_deps.settings.model_copy(update={"platform_timeout_s": 30.0})
    release = asyncio.Event()
    tiktok.faults.append(Fault(endpoint="status", status=502, release=release))  # the retry's question hangs
    status_fetch = ("POST", "/v2/post/publish/status/fetch/")
    asked_before = tiktok.requests.count(status_fetch)
    asking = asyncio.create_task(_publish(tiktok_deps, post.id))
    deadline = time.monotonic() + 10
    while tiktok.requests.count(status_fetch) == asked_before:  # until the retry's question is in flight
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    body, _ = _tiktok_event(tiktok, "post.publish.complete", {"publish_id": publish_id})
    async with tiktok_deps.sessionmaker() as session:
        status, note, units = await platform_events.process(
            session, tiktok_deps.settings, sender="tiktok", event_type="post.publish.complete", raw_body=body
        )
        await session.commit()
    assert status == EventStatus.PROCESSED and units, note
    release.set()
    outcome = await asking
    assert outcome.result == publishing.Result.ALREADY_DONE  # the 502 it then got is not news: the post is out
    async with tiktok_deps.sessionmaker() as session:
        done = await session.get(ScheduledPost, post.id)
        assert done is not None and done.status == PostStatus.PUBLISHED and done.error_message is None
    assert await _audits(tiktok_deps, post.id, "post.published") == 1


async def _publish(deps: CoreDeps, post_id: uuid.UUID) -> publishing.PublishOutcome:
    async with deps.sessionmaker() as session:
        outcome = await publishing.publish_post(session, deps.settings, post_id, store=deps.store)
        await session.commit()
        return outcome


async def test_tiktok_failed_webhook_fails_the_post_with_the_reason_and_tells_the_creator_once(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path, run_id: str
) -> None:
    post, publish_id = await _pending_post(tiktok_deps, tiktok, creator, tiktok_video)
    failed = [
        _tiktok_event(
            tiktok, "post.publish.failed", {"publish_id": publish_id, "reason": "picture_size_check_failed"}, at
        )
        for at in (1, 2)  # two deliveries of the news (different bodies): the second finds the post failed
    ]
    unknown = _tiktok_event(tiktok, "post.publish.complete", {"publish_id": "v_pub_not_ours"})
    await _deliver(
        tiktok_deps, [*(("/webhooks/tiktok", *f) for f in failed), ("/webhooks/tiktok", *unknown)], f"{run_id}-fail"
    )
    done = await wait_for_status(tiktok_deps, post.id, PostStatus.FAILED)
    assert (
        done.error_message == "TikTok could not publish the video: TikTok takes videos 360 to 4096 pixels on each side."
    )
    await wait_for_message(tiktok_deps, creator.chat, "couldn't be published")
    texts = [t for t in sent_texts(tiktok_deps, creator.chat) if "couldn't be published" in t]
    assert len(texts) == 1 and "360 to 4096 pixels" in texts[0]
    statuses = sorted([(await _event_notes(tiktok_deps, body))[0] for body, _ in failed])
    assert statuses == [EventStatus.IGNORED, EventStatus.PROCESSED]  # whichever the worker took first failed it
    status, note = await _event_notes(tiktok_deps, unknown[0])
    assert status == EventStatus.IGNORED and note and "not a post Recast is waiting on" in note
    async with tiktok_deps.sessionmaker() as session:
        retry = await publishing.publish_post(session, tiktok_deps.settings, post.id, store=tiktok_deps.store)
    assert retry.result == publishing.Result.ALREADY_DONE


def _feed(entries: list[tuple[str, str]], deleted: list[str]) -> bytes:
    items = "".join(
        f"<entry><id>yt:video:{vid}</id><yt:videoId>{vid}</yt:videoId><yt:channelId>UC1</yt:channelId>"
        f"<title>{title}</title><published>2026-12-01T10:00:00+00:00</published>"
        f"<updated>2026-12-02T09:30:00+00:00</updated></entry>"
        for vid, title in entries
    )
    tombstones = "".join(
        f'<at:deleted-entry ref="yt:video:{vid}" when="2026-12-02T09:40:00+00:00"/>' for vid in deleted
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" '
        'xmlns:at="http://purl.org/atompub/tombstones/1.0" xmlns="http://www.w3.org/2005/Atom">'
        f"{tombstones}{items}</feed>"
    ).encode()


def _signed_feed(body: bytes) -> dict[str, str]:
    mac = hmac.new(FEED_SECRET.encode(), body, hashlib.sha1).hexdigest()
    return {"X-Hub-Signature": f"sha1={mac}", "Content-Type": "application/atom+xml"}


async def test_youtube_feed_records_updates_and_removals_of_our_videos_only(
    publish_deps: CoreDeps, creator: Creator, run_id: str
) -> None:
    publish_deps.settings = publish_deps.settings.model_copy(update={"youtube_websub_secret": SecretStr(FEED_SECRET)})
    ours, removed, foreign = f"v{run_id[:8]}a", f"v{run_id[:8]}b", f"v{run_id[:8]}z"
    async with publish_deps.sessionmaker() as session:
        connection = await connections.save_connection(
            session,
            publish_deps.settings,
            platform="youtube",
            owner=Owner(creator.user_id),
            account=Account(f"UC{run_id}", "Asha"),
            tokens=TokenSet("tok", None, now() + timedelta(days=30), []),
        )
        posts = {}
        for video_id in (ours, removed):
            post = ScheduledPost(
                user_id=creator.user_id,
                platform_connection_id=connection.id,
                platform="youtube",
                scheduled_for=now(),
                status=PostStatus.PUBLISHED,
                published_at=now(),
                platform_post_id=video_id,
                post_metadata={"parts": ["x"]},
                metrics_due_at=now() + timedelta(hours=1),
            )
            session.add(post)
            await session.flush()
            posts[video_id] = post.id
        await session.commit()
    update = _feed([(ours, "Show up every week"), (foreign, "Not ours")], [])
    deletion = _feed([], [removed])
    stranger = _feed([(foreign, "Not ours")], [])
    await _deliver(
        publish_deps,
        [("/webhooks/youtube", body, _signed_feed(body)) for body in (update, deletion, stranger)],
        f"{run_id}-yt",
    )
    async with publish_deps.sessionmaker() as session:
        updated = await session.get(ScheduledPost, posts[ours])
        gone = await session.get(ScheduledPost, posts[removed])
    assert updated is not None and gone is not None
    assert (updated.post_metadata or {})["youtube_feed_updated_at"] == "2026-12-02T09:30:00+00:00"
    assert (updated.post_metadata or {})["youtube_title"] == "Show up every week"
    assert updated.metrics_due_at is not None and updated.error_message is None
    assert gone.status == PostStatus.PUBLISHED  # the row stays: it was published, and reports count it
    assert (gone.post_metadata or {}).get("removed_on_platform_at")
    assert gone.error_message == "Removed on YouTube (deleted or made unavailable there)."
    assert gone.metrics_due_at is None  # nothing more to collect
    assert (await _event_notes(publish_deps, update))[0] == EventStatus.PROCESSED
    assert (await _event_notes(publish_deps, stranger))[0] == EventStatus.IGNORED
