"""Meta's engagement webhooks on the real web app: an Instagram `comments` delivery and a Page `feed` delivery
(comments and reactions, added and removed), signed with `X-Hub-Signature-256` over the raw body, are stored
before they are acknowledged and processed once by a real worker, moving the matching post's latest figures
(a new `engagement_metrics` row and `generated_content.comments/likes`); a redelivery changes nothing, a
forged one is refused and stored nowhere, and the next collection's reading supersedes the counters."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import aiohttp
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlalchemy import func, select

from core.analytics import collection
from core.analytics.models import EngagementMetric
from core.common.clock import utcnow
from core.deps import CoreDeps
from core.distribution import connections
from core.distribution.connections import Owner
from core.distribution.models import PostStatus, ScheduledPost
from core.distribution.ports import Account, TokenSet
from core.inbox.models import EventStatus, GatewayEvent
from core.repurposing.models import GeneratedContent
from tests.distribution_fixtures import Creator, now
from tests.workers import running_worker
from webhooks.app import make_web_app

SECRET = "meta-webhook-secret"


async def _published(deps: CoreDeps, who: Creator, platform: str, account: str, post_id: str) -> ScheduledPost:
    async with deps.sessionmaker() as session:
        connection = await connections.save_connection(
            session,
            deps.settings,
            platform=platform,
            owner=Owner(who.user_id),
            account=Account(account, "asha"),
            tokens=TokenSet("tok-" + account, None, now() + timedelta(days=30), []),
        )
        draft = GeneratedContent(
            user_id=who.user_id,
            content_type="social_post",
            content_text=f"Show up every week ({uuid.uuid4().hex[:6]})",
            metadata_={"output_format": "linkedin_post"},
        )
        session.add(draft)
        await session.flush()
        post = ScheduledPost(
            generated_content_id=draft.id,
            platform_connection_id=connection.id,
            user_id=who.user_id,
            platform=platform,
            scheduled_for=now() - timedelta(hours=3),
            status=PostStatus.PUBLISHED,
            published_at=now() - timedelta(hours=3),
            platform_post_id=post_id,
            metrics_due_at=now() + timedelta(hours=3),
            metrics_stage=1,
        )
        session.add(post)
        if platform == "facebook":  # an earlier collection's reading the webhook counters move on from
            session.add(
                EngagementMetric(
                    generated_content_id=draft.id,
                    platform=platform,
                    views=1000,
                    likes=40,
                    comments=10,
                    shares=5,
                    collected_at=utcnow() - timedelta(hours=2),
                )
            )
        await session.commit()
        return post


def _signed(body: dict[str, object]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": f"sha256={signature}", "Content-Type": "application/json"}


async def _settled(deps: CoreDeps, body: bytes) -> GatewayEvent:
    for _ in range(200):
        async with deps.sessionmaker() as session:
            event = await session.scalar(
                select(GatewayEvent).where(GatewayEvent.sender == "meta", GatewayEvent.raw_body == body)
            )
        if event is not None and event.status in (EventStatus.PROCESSED, EventStatus.IGNORED):
            return event
        await asyncio.sleep(0.05)
    raise AssertionError(f"not processed: {event and event.status}")


async def _stored(deps: CoreDeps, body: bytes) -> int:
    async with deps.sessionmaker() as session:
        stmt = select(func.count()).select_from(GatewayEvent).where(GatewayEvent.raw_body == body)
        return int(await session.scalar(stmt) or 0)


async def _draft(deps: CoreDeps, post: ScheduledPost) -> GeneratedContent:
    async with deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, post.generated_content_id)
        assert draft is not None
        return draft


async def _rows(deps: CoreDeps, post: ScheduledPost) -> list[EngagementMetric]:
    async with deps.sessionmaker() as session:
        found = await session.scalars(
            select(EngagementMetric)
            .where(EngagementMetric.generated_content_id == post.generated_content_id)
            .order_by(EngagementMetric.collected_at)
        )
        return list(found.all())


async def test_instagram_comments_and_page_feed_changes_move_the_posts_figures_once(
    publish_deps: CoreDeps, creator: Creator, run_id: str
) -> None:
    publish_deps.settings = publish_deps.settings.model_copy(update={"meta_app_secret": SecretStr(SECRET)})
    media_id, page_id = f"1790{run_id}", f"1040{run_id}"
    reel = await _published(publish_deps, creator, "instagram", f"1784{run_id}@u{run_id}", media_id)
    page_post = await _published(publish_deps, creator, "facebook", f"{page_id}@u{run_id}", f"{page_id}_77")
    comment = {"from": {"id": "232323", "username": "fan"}, "text": "So true", "media": {"id": media_id}}
    instagram, ig_headers = _signed(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": f"1784{run_id}",
                    "time": 1_700_000_000,
                    "changes": [
                        {"field": "comments", "value": {**comment, "id": f"c1-{run_id}"}},
                        {"field": "comments", "value": {**comment, "id": f"c2-{run_id}"}},
                    ],
                }
            ],
        }
    )
    feed = [
        {"item": "comment", "verb": "add", "comment_id": "1", "message": "Great"},
        {"item": "reaction", "verb": "add", "reaction_type": "love"},
        {"item": "reaction", "verb": "add", "reaction_type": "like"},
        {"item": "reaction", "verb": "remove", "reaction_type": "like"},
        {"item": "comment", "verb": "edited", "comment_id": "1", "message": "Great!"},  # moves nothing
    ]
    page, page_headers = _signed(
        {
            "object": "page",
            "entry": [
                {
                    "id": page_id,
                    "time": 1_700_000_001,
                    "changes": [
                        {"field": "feed", "value": {**v, "post_id": f"{page_id}_77", "created_time": 1}} for v in feed
                    ],
                }
            ],
        }
    )
    not_ours = {"item": "comment", "verb": "add", "post_id": "9_9"}
    stranger, stranger_headers = _signed(
        {"object": "page", "entry": [{"id": "1", "changes": [{"field": "feed", "value": not_ours}]}]}
    )
    web = TestServer(make_web_app(publish_deps), host="127.0.0.1")
    await web.start_server()
    try:
        async with running_worker(publish_deps, f"meta-engagement-{run_id}"), aiohttp.ClientSession() as http:
            for _ in range(2):  # Meta redelivers until it sees a 200: the same bytes, one event
                for body, headers in ((instagram, ig_headers), (page, page_headers), (stranger, stranger_headers)):
                    async with http.post(web.make_url("/webhooks/meta"), data=body, headers=headers) as answer:
                        assert answer.status == 200
            forged = {**ig_headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
            forged_body = instagram.replace(b"c1-", b"c9-")
            async with http.post(web.make_url("/webhooks/meta"), data=forged_body, headers=forged) as answer:
                assert answer.status == 400
            assert (await _settled(publish_deps, instagram)).status == EventStatus.PROCESSED
            assert (await _settled(publish_deps, page)).status == EventStatus.PROCESSED
            assert (await _settled(publish_deps, stranger)).status == EventStatus.IGNORED
    finally:
        await web.close()
    assert [await _stored(publish_deps, b) for b in (instagram, page, forged_body)] == [1, 1, 0]

    [ig_row] = await _rows(publish_deps, reel)  # no reading yet: only the counter webhooks know
    assert (ig_row.comments, ig_row.likes, ig_row.views) == (2, None, None)
    assert (await _draft(publish_deps, reel)).comments == 2
    earlier, moved = await _rows(publish_deps, page_post)
    assert (moved.views, moved.likes, moved.comments, moved.shares) == (1000, 41, 11, 5)  # +2 -1 reactions, +1
    draft = await _draft(publish_deps, page_post)
    assert (draft.likes, draft.comments, str(draft.engagement_rate)) == (41, 11, "5.70")  # (41 + 11 + 5) / 1000


async def test_one_delivery_writes_one_row_and_a_later_reading_supersedes_its_counters(
    publish_deps: CoreDeps, creator: Creator, run_id: str
) -> None:
    post = await _published(publish_deps, creator, "facebook", f"1041{run_id}@u{run_id}", f"1041{run_id}_5")
    async with publish_deps.sessionmaker() as session:
        moved = await collection.record_interactions(
            session,
            [collection.Interaction("facebook", f"1041{run_id}_5", "comments", 1)] * 3,
        )
        await session.commit()
    assert moved == 1 and (await _draft(publish_deps, post)).comments == 13
    rows = await _rows(publish_deps, post)
    assert len(rows) == 2  # one row for the delivery's three comments, not three
    async with publish_deps.sessionmaker() as session:
        # The next reading (cumulative, from Facebook) is the latest row: the draft shows it.
        session.add(
            EngagementMetric(
                generated_content_id=post.generated_content_id,
                platform="facebook",
                views=1200,
                likes=44,
                comments=12,
                shares=5,
                collected_at=utcnow(),
            )
        )
        await session.flush()
        await collection._refresh_latest(session, [post.generated_content_id])  # type: ignore[list-item]
        await session.commit()
    assert (await _draft(publish_deps, post)).comments == 12


async def test_a_change_sent_again_in_another_delivery_counts_once_and_a_remove_moves_it_back_once(
    publish_deps: CoreDeps, creator: Creator, run_id: str
) -> None:
    publish_deps.settings = publish_deps.settings.model_copy(update={"meta_app_secret": SecretStr(SECRET)})
    media_id, page_id = f"1791{run_id}", f"1042{run_id}"
    reel = await _published(publish_deps, creator, "instagram", f"1785{run_id}@u{run_id}", media_id)
    page_post = await _published(publish_deps, creator, "facebook", f"{page_id}@u{run_id}", f"{page_id}_88")
    comment = {"from": {"id": "454545", "username": "fan"}, "text": "Saved", "media": {"id": media_id}}

    def instagram(at: int) -> dict[str, object]:  # the same comment; each delivery's own entry time
        change = {"field": "comments", "value": {**comment, "id": f"c7-{run_id}"}}
        return {"object": "instagram", "entry": [{"id": f"1785{run_id}", "time": at, "changes": [change]}]}

    def page(at: int, *values: dict[str, object]) -> dict[str, object]:
        changes = [{"field": "feed", "value": {**v, "post_id": f"{page_id}_88"}} for v in values]
        return {"object": "page", "entry": [{"id": page_id, "time": at, "changes": changes}]}

    added = {"item": "comment", "verb": "add", "comment_id": f"{page_id}_88_1", "created_time": 100}
    removed = {**added, "verb": "remove", "created_time": 160}
    liked = {"item": "reaction", "verb": "add", "reaction_type": "like", "from": {"id": "77"}, "created_time": 120}
    unliked = {**liked, "verb": "remove", "created_time": 150}
    liked_again = {**liked, "created_time": 170}  # the same person reacting again later: a new change
    # Distinct deliveries (different bytes, so the inbox keeps each) repeating one another's changes.
    deliveries = [
        instagram(1_700_000_100),
        instagram(1_700_000_200),
        page(1_700_000_100, added, liked),
        page(1_700_000_200, added, liked),  # both again
        page(1_700_000_300, removed, unliked),
        page(1_700_000_400, removed, unliked, liked_again),  # the removes again, and one new reaction
    ]
    signed = [_signed(d) for d in deliveries]
    web = TestServer(make_web_app(publish_deps), host="127.0.0.1")
    await web.start_server()
    try:
        async with running_worker(publish_deps, f"meta-changes-{run_id}"), aiohttp.ClientSession() as http:
            for body, headers in signed:
                async with http.post(web.make_url("/webhooks/meta"), data=body, headers=headers) as answer:
                    assert answer.status == 200
                await _settled(publish_deps, body)  # Meta's order; each delivery is its own event
    finally:
        await web.close()
    assert [await _stored(publish_deps, body) for body, _ in signed] == [1] * 6
    async with publish_deps.sessionmaker() as session:
        notes = [
            (await session.scalar(select(GatewayEvent.last_error).where(GatewayEvent.raw_body == b))) or ""
            for b, _ in signed
        ]
    assert "already counted" in notes[1] and "already counted" in notes[3]
    assert "already counted" not in notes[0]

    assert (await _rows(publish_deps, reel))[-1].comments == 1  # one comment, however often it was sent
    assert (await _draft(publish_deps, reel)).comments == 1
    latest = (await _rows(publish_deps, page_post))[-1]
    # From the earlier reading's 40 likes and 10 comments: the comment added then removed (once each), the
    # reaction added, removed, and added again.
    assert (latest.likes, latest.comments) == (41, 10)
    draft = await _draft(publish_deps, page_post)
    assert (draft.likes, draft.comments) == (41, 10)
