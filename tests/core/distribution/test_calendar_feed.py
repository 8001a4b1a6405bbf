"""The .ics feed: a calendar app subscribed to the creator's link sees their scheduled posts (held ones as
tentative, with why), in valid iCalendar (CRLF, escaped text, folded lines); a forged link sees nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import aiohttp
from aiohttp.test_utils import TestServer

from core.deps import CoreDeps
from core.distribution import calendar_feed, publishing
from core.distribution.models import PlatformConnection
from core.repurposing.models import GeneratedContent
from tests.distribution_fixtures import Creator, connect_linkedin, now
from tests.fakes.linkedin_api import FakeLinkedIn
from webhooks.app import make_web_app


def test_a_feed_token_names_its_creator_and_nothing_else(publish_deps: CoreDeps) -> None:
    user = uuid.uuid4()
    token = calendar_feed.feed_token(publish_deps.settings, user)
    assert calendar_feed.user_of(publish_deps.settings, token) == user
    head, _, mac = token.partition(".")
    other = calendar_feed.feed_token(publish_deps.settings, uuid.uuid4()).partition(".")[0]
    assert calendar_feed.user_of(publish_deps.settings, f"{other}.{mac}") is None
    assert calendar_feed.user_of(publish_deps.settings, "garbage") is None


async def test_the_feed_lists_scheduled_posts_as_events_over_http(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    when = (now() + timedelta(days=2)).replace(microsecond=0)
    async with publish_deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, creator.draft_id)
        row = await session.get(PlatformConnection, connection.id)
        assert draft is not None and row is not None
        draft.content_text = "Consistency, not talent; show up weekly. " + "A long line of text " * 8
        post, _ = await publishing.schedule(session, draft=draft, connection=row, when=when, timezone="Asia/Kolkata")
        await session.commit()
    web = TestServer(make_web_app(publish_deps), host="127.0.0.1")
    await web.start_server()
    try:
        url = calendar_feed.feed_url(publish_deps.settings, creator.user_id).replace(
            publish_deps.settings.public_base_url, str(web.make_url("")).rstrip("/")
        )
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as answer:
                assert answer.status == 200 and answer.content_type == "text/calendar"
                body = await answer.text()
            async with http.get(url.replace(".ics", "x.ics")) as forged:
                assert forged.status == 404
    finally:
        await web.close()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert f"UID:{post.id}@recast" in body and f"DTSTART:{when.strftime('%Y%m%dT%H%M%SZ')}" in body
    assert "SUMMARY:LinkedIn: Consistency\\, not talent\\; show up weekly." in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    assert "\r\n " in body  # the long description is folded, not cut
