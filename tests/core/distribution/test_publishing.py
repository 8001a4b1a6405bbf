"""Scheduled posts go out exactly once through real workers and a LinkedIn speaking its wire format over
HTTP, whatever the platform does: time out after creating the post, fail with 5xx, rate-limit, revoke the
token, reject the post, or retire the API version."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.deps import CoreDeps
from core.distribution import publishing, service
from core.distribution.connections import Owner
from core.distribution.models import AttemptOutcome, ConnectionStatus, PlatformConnection, PostStatus, PublishAttempt
from core.distribution.platforms.names import Platform
from core.notify.ports import ConnectAction
from core.repurposing.models import GeneratedContent
from core.system.models import AuditLog
from core.work import submit as work
from tests.distribution_fixtures import (
    Creator,
    connect_linkedin,
    now,
    sent_texts,
    wait_for_message,
    wait_for_status,
)
from tests.fakes.linkedin_api import FakeLinkedIn, Fault
from tests.workers import running_worker


async def _schedule(deps: CoreDeps, who: Creator, connection: PlatformConnection, *, in_s: float = 0.0):
    async with deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, who.draft_id)
        assert draft is not None
        post, unit = await publishing.schedule(
            session, draft=draft, connection=connection, when=now() + timedelta(seconds=in_s), timezone="Asia/Kolkata"
        )
        await session.commit()
    if unit is not None:
        await work.push(deps.work_queue, deps.sessionmaker, [unit])
    return post, unit


async def _attempts(deps: CoreDeps, post_id) -> list[PublishAttempt]:
    async with deps.sessionmaker() as session:
        return await publishing.attempts_of(session, post_id)


async def test_a_due_post_is_published_once_and_the_creator_gets_the_link(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, run_id: str
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    post, _ = await _schedule(publish_deps, creator, connection, in_s=0.5)
    async with running_worker(publish_deps, f"pub-{run_id}-ok"):
        done = await wait_for_status(publish_deps, post.id, PostStatus.PUBLISHED)
        await wait_for_message(publish_deps, creator.chat, "Published on LinkedIn")
    assert len(linkedin.posts) == 1
    sent = linkedin.posts[0]
    assert sent["author"] == f"urn:li:person:{linkedin.member_id}"
    assert "{hashtag|\\#|PersonalBranding}" in sent["commentary"]
    assert done.platform_post_id == sent["id"]
    assert done.platform_post_url == f"https://www.linkedin.com/feed/update/{sent['id']}/"
    async with publish_deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, creator.draft_id)
        assert draft is not None and draft.is_published and draft.published_at is not None
        audit = await session.scalar(select(AuditLog).where(AuditLog.resource_id == post.id))
        assert audit is not None and audit.action == "post.published"
    texts = sent_texts(publish_deps, creator.chat)
    assert texts[0].startswith("Connected LinkedIn as Asha Rao.")
    assert texts[-1] == f"Published on LinkedIn (Asha Rao): {done.platform_post_url}"


async def test_scheduling_the_same_draft_twice_on_one_account_keeps_the_first(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    first, unit = await _schedule(publish_deps, creator, connection, in_s=3600)
    again, second_unit = await _schedule(publish_deps, creator, connection, in_s=7200)
    assert unit is not None and second_unit is None
    assert again.id == first.id and again.scheduled_for == first.scheduled_for


async def test_many_posts_scheduled_in_one_session_all_land(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    """asyncpg switches a statement to a generic plan after five runs; the partial-index conflict target
    must still match then (found by bench/publishing.py)."""
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    async with publish_deps.sessionmaker() as session:
        for i in range(8):
            draft = GeneratedContent(
                user_id=creator.user_id, content_type="social_post", content_text=f"Post {i}", metadata_={}
            )
            session.add(draft)
            await session.flush()
            post, unit = await publishing.schedule(
                session, draft=draft, connection=connection, when=now() + timedelta(hours=1), timezone="UTC"
            )
            assert unit is not None and post.post_caption == f"Post {i}"
        await session.commit()


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault(after_create=True, hang_s=3.0), id="timeout-after-create"),
        pytest.param(Fault(after_create=True, status=502), id="502-after-create"),
        pytest.param(Fault(status=503, count=2), id="503-before-create"),
    ],
)
async def test_a_lost_or_failed_answer_never_becomes_a_second_post(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, run_id: str, fault: Fault
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    linkedin.faults.append(fault)
    async with running_worker(publish_deps, f"pub-{run_id}-{id(fault)}"):
        post, _ = await _schedule(publish_deps, creator, connection)
        done = await wait_for_status(publish_deps, post.id, PostStatus.PUBLISHED)
    assert len(linkedin.posts) == 1
    assert done.platform_post_id == linkedin.posts[0]["id"]
    attempts = await _attempts(publish_deps, post.id)
    assert [a.outcome for a in attempts][-1] == AttemptOutcome.PUBLISHED
    assert sum(a.outcome == AttemptOutcome.PUBLISHED for a in attempts) == 1
    if fault.after_create:
        # The retry asked LinkedIn for the author's posts before posting, and found the first one.
        assert ("GET", "/rest/posts") in linkedin.requests
        assert linkedin.requests.count(("POST", "/rest/posts")) == 1


async def test_a_rate_limit_is_honoured_and_the_creator_told_when_it_goes_out(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, run_id: str
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    linkedin.faults.append(Fault(status=429, retry_after=2))
    async with running_worker(publish_deps, f"pub-{run_id}-429"):
        post, _ = await _schedule(publish_deps, creator, connection)
        done = await wait_for_status(publish_deps, post.id, PostStatus.PUBLISHED)
        await wait_for_message(publish_deps, creator.chat, "Published on LinkedIn")
    attempts = await _attempts(publish_deps, post.id)
    assert len(attempts) == 2 and attempts[0].outcome == AttemptOutcome.FAILED
    assert attempts[1].started_at is not None and attempts[0].finished_at is not None
    assert (attempts[1].started_at - attempts[0].finished_at).total_seconds() >= 2.0
    texts = sent_texts(publish_deps, creator.chat)
    assert any("rate limit" in t and "will be tried again at" in t and "Asia/Kolkata" in t for t in texts)
    assert texts[-1].startswith("Published on LinkedIn") and done.platform_post_id


async def test_a_revoked_token_holds_every_post_and_reconnecting_publishes_them(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, run_id: str
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    linkedin.revoke_all()
    async with running_worker(publish_deps, f"pub-{run_id}-401"):
        post, _ = await _schedule(publish_deps, creator, connection)
        held = await wait_for_status(publish_deps, post.id, PostStatus.HELD)
        assert held.error_message and "Connect it again" in held.error_message
        async with publish_deps.sessionmaker() as session:
            broken = await session.get(PlatformConnection, connection.id)
            assert broken is not None and broken.status == ConnectionStatus.REVOKED and not broken.is_active
        reconnect = await wait_for_message(publish_deps, creator.chat, "on hold, not lost")
        assert reconnect.buttons[0][0].action == ConnectAction(Platform.LINKEDIN)
        assert linkedin.posts == []
        await connect_linkedin(publish_deps, linkedin, creator)
        done = await wait_for_status(publish_deps, post.id, PostStatus.PUBLISHED)
        await wait_for_message(publish_deps, creator.chat, "Published on LinkedIn")
    assert len(linkedin.posts) == 1 and done.platform_post_id == linkedin.posts[0]["id"]
    texts = sent_texts(publish_deps, creator.chat)
    assert any("1 post(s) that were on hold are back on schedule" in t for t in texts)


async def test_a_rejected_post_fails_with_linkedins_reason(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, run_id: str
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    linkedin.faults.append(Fault(status=422))
    async with running_worker(publish_deps, f"pub-{run_id}-422"):
        post, _ = await _schedule(publish_deps, creator, connection)
        failed = await wait_for_status(publish_deps, post.id, PostStatus.FAILED)
        await wait_for_message(publish_deps, creator.chat, "couldn't be published")
    assert failed.error_message and failed.error_message.startswith("LinkedIn rejected the post:")
    assert len(await _attempts(publish_deps, post.id)) == 1
    assert sent_texts(publish_deps, creator.chat)[-1].startswith("Your LinkedIn post couldn't be published.")


async def test_a_retired_api_version_holds_the_post_and_tells_the_operator(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, run_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    publish_deps.settings = publish_deps.settings.model_copy(update={"linkedin_api_version": "202401"})
    with caplog.at_level(logging.ERROR, logger="core.distribution.publishing"):
        async with running_worker(publish_deps, f"pub-{run_id}-426"):
            post, _ = await _schedule(publish_deps, creator, connection)
            held = await wait_for_status(publish_deps, post.id, PostStatus.HELD)
    assert held.error_message and "needs an update on the server" in held.error_message
    assert any("retired the API version" in r.getMessage() and "202401" in r.getMessage() for r in caplog.records)
    assert linkedin.posts == []


async def test_a_published_post_cannot_be_cancelled_and_a_scheduled_one_stops_for_good(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, run_id: str
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    later, _ = await _schedule(publish_deps, creator, connection, in_s=1.0)
    async with publish_deps.sessionmaker() as session:
        cancelled = await service.cancel_post(session, Owner(creator.user_id), later.id)
        await session.commit()
    assert cancelled.status == PostStatus.CANCELLED
    async with running_worker(publish_deps, f"pub-{run_id}-cancel"):
        await asyncio.sleep(2.5)  # its unit falls due and finds it cancelled
    assert linkedin.posts == []
    async with publish_deps.sessionmaker() as session:
        draft = GeneratedContent(
            user_id=creator.user_id, content_type="social_post", content_text="Out now", metadata_={}
        )
        session.add(draft)
        await session.flush()
        post, _ = await publishing.schedule(session, draft=draft, connection=connection, when=now(), timezone="UTC")
        post.status = PostStatus.PUBLISHED
        post.platform_post_url = "https://www.linkedin.com/feed/update/urn:li:share:1/"
        await session.commit()
    async with publish_deps.sessionmaker() as session:
        with pytest.raises(service.CannotCancel) as refused:
            await service.cancel_post(session, Owner(creator.user_id), post.id)
    assert refused.value.user_message.startswith("It's already out: https://www.linkedin.com/")
