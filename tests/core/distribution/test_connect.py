"""Connecting a LinkedIn account: signed, single-use, expiring state; tokens encrypted at rest."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import text

from core.deps import CoreDeps
from core.distribution import connect, connections, publishing
from core.distribution.connections import Owner
from core.distribution.errors import OAuthStateInvalid
from core.distribution.models import AttemptOutcome, PostStatus
from core.distribution.platforms.names import Platform
from core.repurposing.models import GeneratedContent
from core.work import submit as work
from tests.distribution_fixtures import Creator, connect_linkedin, now, wait_for_status
from tests.fakes.linkedin_api import FakeLinkedIn, Fault
from tests.workers import running_worker


async def _state(deps: CoreDeps, who: Creator) -> str:
    url = await connect.sign_in_link(deps.redis, deps.settings, Platform.LINKEDIN, Owner(who.user_id), who.chat)
    query = parse_qs(urlparse(url).query)
    assert query["scope"] == ["openid profile w_member_social r_member_postAnalytics"]
    assert query["redirect_uri"] == [f"{deps.settings.public_base_url}/oauth/linkedin/callback"]
    return query["state"][0]


async def _finish(deps: CoreDeps, fake: FakeLinkedIn, state: str) -> connect.Connected:
    async with deps.sessionmaker() as session:
        connected = await connect.finish_connect(
            session, deps.redis, deps.settings, Platform.LINKEDIN, state=state, code=fake.grant_code()
        )
        await session.commit()
    return connected


async def test_tokens_are_stored_encrypted_and_reconnecting_updates_the_same_row(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    first = await connect_linkedin(publish_deps, linkedin, creator)
    async with publish_deps.sessionmaker() as session:
        raw = (
            await session.execute(
                text("SELECT access_token, refresh_token, scopes FROM platform_connections WHERE id = :id"),
                {"id": first.id},
            )
        ).one()
    assert raw.access_token.startswith("fernet:v2:") and raw.refresh_token.startswith("fernet:v2:")
    assert not any(raw.access_token.endswith(t) or t in raw.access_token for t in linkedin.tokens)
    assert raw.scopes == ["openid", "profile", "w_member_social"]
    assert connections.credentials(publish_deps.settings, first).access_token in linkedin.tokens
    again = await connect_linkedin(publish_deps, linkedin, creator)
    assert again.id == first.id


async def test_a_state_works_once_and_a_forged_one_never(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    state = await _state(publish_deps, creator)
    await _finish(publish_deps, linkedin, state)
    with pytest.raises(OAuthStateInvalid):
        await _finish(publish_deps, linkedin, state)
    nonce = (await _state(publish_deps, creator)).split(".")[0]
    with pytest.raises(OAuthStateInvalid):
        await _finish(publish_deps, linkedin, f"{nonce}.AAAAAAAAAAAAAAAA")


async def test_a_state_sent_to_another_platforms_callback_is_refused_and_still_works_where_it_belongs(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    state = await _state(publish_deps, creator)  # issued for LinkedIn
    async with publish_deps.sessionmaker() as session:
        with pytest.raises(OAuthStateInvalid):
            await connect.finish_connect(
                session, publish_deps.redis, publish_deps.settings, Platform.X, state=state, code="c"
            )
    await _finish(publish_deps, linkedin, state)  # not used up by the wrong door


async def test_an_expired_state_is_refused(publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator) -> None:
    state = await _state(publish_deps, creator)
    await publish_deps.redis.delete(f"oauth:state:{state.split('.')[0]}")  # what the TTL does after 10 minutes
    with pytest.raises(OAuthStateInvalid) as refused:
        await _finish(publish_deps, linkedin, state)
    assert refused.value.user_message.startswith("That sign-in link has expired or was already used.")


async def test_a_worker_stopped_mid_publish_leaves_a_record_that_stops_a_second_post(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, run_id: str
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    publish_deps.settings = publish_deps.settings.model_copy(update={"platform_timeout_s": 30.0})
    async with publish_deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, creator.draft_id)
        assert draft is not None
        post, _ = await publishing.schedule(
            session, draft=draft, connection=connection, when=now(), timezone="Asia/Kolkata"
        )
        await session.commit()
    # LinkedIn creates the post, then the worker dies before the answer arrives.
    linkedin.faults.append(Fault(after_create=True, hang_s=8.0))

    async def run() -> None:
        async with publish_deps.sessionmaker() as session:
            await publishing.publish_post(session, publish_deps.settings, post.id)

    dying = asyncio.create_task(run())
    while not linkedin.posts:
        await asyncio.sleep(0.05)
    dying.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dying
    assert [a.outcome for a in await _attempts(publish_deps, post.id)] == [AttemptOutcome.SENT]
    # The unit is run again (its lease expired): this time it asks LinkedIn first.
    async with running_worker(publish_deps, f"pub-{run_id}-kill"):
        async with publish_deps.sessionmaker() as session:
            unit, _ = await work.add(session, publishing.PUBLISH, {"post_id": str(post.id)}, key=f"{post.id}:rerun")
            await session.commit()
        await work.push(publish_deps.work_queue, publish_deps.sessionmaker, [unit])
        done = await wait_for_status(publish_deps, post.id, PostStatus.PUBLISHED)
    assert len(linkedin.posts) == 1 and done.platform_post_id == linkedin.posts[0]["id"]
    assert linkedin.requests.count(("POST", "/rest/posts")) == 1


async def _attempts(deps: CoreDeps, post_id):  # type: ignore[no-untyped-def]
    async with deps.sessionmaker() as session:
        return await publishing.attempts_of(session, post_id)
