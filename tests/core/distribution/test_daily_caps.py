"""A post that would go over the platform's daily cap for the account is moved, when it is scheduled, to
the first moment the cap leaves room, and the post says where it was asked for."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta

import pytest

from core.deps import CoreDeps
from core.distribution import publishing
from core.distribution.platforms.names import RULES, Platform
from core.repurposing.models import GeneratedContent
from tests.distribution_fixtures import Creator, connect_linkedin, now
from tests.fakes.linkedin_api import FakeLinkedIn


async def _schedule_text(deps: CoreDeps, who: Creator, connection, when: datetime):  # type: ignore[no-untyped-def]
    async with deps.sessionmaker() as session:
        draft = GeneratedContent(
            user_id=who.user_id,
            content_type="social_post",
            content_text=f"Tip {uuid.uuid4().hex[:8]}",
            metadata_={"output_format": "linkedin_post"},
        )
        session.add(draft)
        await session.flush()
        post, unit = await publishing.schedule(session, draft=draft, connection=connection, when=when, timezone="UTC")
        await session.commit()
        return post


async def test_a_post_over_the_daily_cap_moves_to_when_the_oldest_of_the_day_leaves_the_window(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(RULES, Platform.LINKEDIN, dataclasses.replace(RULES[Platform.LINKEDIN], daily_posts=2))
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    day = (now() + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    first = await _schedule_text(publish_deps, creator, connection, day)
    second = await _schedule_text(publish_deps, creator, connection, day + timedelta(hours=1))
    assert first.scheduled_for == day and second.scheduled_for == day + timedelta(hours=1)
    third = await _schedule_text(publish_deps, creator, connection, day + timedelta(hours=2))
    assert third.scheduled_for == day + timedelta(hours=24, seconds=1)
    assert third.post_metadata["moved_from"] == (day + timedelta(hours=2)).isoformat()
    # The day before has room: a post asked for then stays where it was asked.
    earlier = await _schedule_text(publish_deps, creator, connection, day - timedelta(hours=30))
    assert earlier.scheduled_for == day - timedelta(hours=30) and "moved_from" not in earlier.post_metadata


async def test_platforms_without_a_documented_cap_are_never_moved(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(RULES, Platform.LINKEDIN, dataclasses.replace(RULES[Platform.LINKEDIN], daily_posts=None))
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    when = now() + timedelta(days=1)
    posts = [await _schedule_text(publish_deps, creator, connection, when) for _ in range(3)]
    assert {p.scheduled_for for p in posts} == {when}
