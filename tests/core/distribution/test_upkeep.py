"""Tokens are refreshed ahead of expiry; a refused refresh holds the connection's posts with one message;
a token that can't be refreshed and runs out before a scheduled post is warned about once, in advance."""

from __future__ import annotations

from datetime import timedelta

from core.deps import CoreDeps
from core.distribution import connections, publishing, upkeep
from core.distribution.models import ConnectionStatus, PlatformConnection, PostStatus, ScheduledPost
from core.notify import outbox
from core.repurposing.models import GeneratedContent
from tests.distribution_fixtures import Creator, connect_linkedin, now, sent_texts
from tests.fakes.linkedin_api import FakeLinkedIn


async def _expire_in(deps: CoreDeps, connection: PlatformConnection, delta: timedelta, *, refreshable: bool = True):
    async with deps.sessionmaker() as session:
        row = await session.get(PlatformConnection, connection.id)
        assert row is not None
        row.token_expires_at = now() + delta
        if not refreshable:
            row.refresh_token = None
        await session.commit()


async def _schedule(deps: CoreDeps, who: Creator, connection: PlatformConnection, when) -> ScheduledPost:
    async with deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, who.draft_id)
        row = await session.get(PlatformConnection, connection.id)
        assert draft is not None and row is not None
        post, _ = await publishing.schedule(session, draft=draft, connection=row, when=when, timezone="Asia/Kolkata")
        await session.commit()
        return post


async def _run(deps: CoreDeps) -> tuple[int, int]:
    refreshed, messages = await upkeep.refresh_due(deps.sessionmaker, deps.settings)
    async with deps.sessionmaker() as session:
        warnings = await upkeep.warn_expiring(session)
        await session.commit()
    await outbox.flush(deps, messages + warnings)
    return refreshed, len(messages) + len(warnings)


async def test_a_token_expiring_within_a_week_is_refreshed_and_one_further_away_is_left(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    await _expire_in(publish_deps, connection, timedelta(days=30))
    assert await _run(publish_deps) == (0, 0)
    before = connections.credentials(publish_deps.settings, connection).access_token
    await _expire_in(publish_deps, connection, timedelta(days=2))
    assert await _run(publish_deps) == (1, 0)
    async with publish_deps.sessionmaker() as session:
        row = await session.get(PlatformConnection, connection.id)
        assert row is not None and row.token_expires_at is not None
        assert row.token_expires_at > now() + timedelta(days=50)
        after = connections.credentials(publish_deps.settings, row).access_token
    assert after != before and after in linkedin.tokens


async def test_a_refused_refresh_holds_the_posts_and_tells_the_owner_once(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    post = await _schedule(publish_deps, creator, connection, now() + timedelta(days=3))
    await _expire_in(publish_deps, connection, timedelta(days=1))
    linkedin.refresh_refused = True
    assert await _run(publish_deps) == (0, 1)
    assert await _run(publish_deps) == (0, 0)  # the next hourly run adds nothing
    async with publish_deps.sessionmaker() as session:
        row = await session.get(PlatformConnection, connection.id)
        held = await session.get(ScheduledPost, post.id)
        assert row is not None and row.status == ConnectionStatus.REFRESH_FAILED
        assert held is not None and held.status == PostStatus.HELD
    [told] = [t for t in sent_texts(publish_deps, creator.chat) if "refused to renew" in t]
    assert "1 scheduled post(s) are on hold until then, not lost." in told


async def test_a_token_that_runs_out_before_a_scheduled_post_is_warned_about_once(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    await _expire_in(publish_deps, connection, timedelta(days=10), refreshable=False)
    await _schedule(publish_deps, creator, connection, now() + timedelta(days=12))
    assert await _run(publish_deps) == (0, 1)
    assert await _run(publish_deps) == (0, 0)
    [warning] = [t for t in sent_texts(publish_deps, creator.chat) if "runs out on" in t]
    assert "before a post scheduled for" in warning and "Asia/Kolkata" in warning
