"""A LinkedIn member who administers Pages connects once and can post as each of them (with the server's
LINKEDIN_ORGANIZATIONS on): one connection per Page on the same sign-in, a post authored by the Page, and
disconnecting one of them keeps the shared sign-in for the others instead of revoking it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from core.deps import CoreDeps
from core.distribution import connect, publishing, service
from core.distribution.connections import Owner
from core.distribution.models import PlatformConnection
from core.distribution.platforms.names import Platform
from core.repurposing.models import GeneratedContent
from tests.distribution_fixtures import Creator, now, wait_for_message
from tests.fakes.linkedin_api import FakeLinkedIn


async def _connect(deps: CoreDeps, fake: FakeLinkedIn, who: Creator) -> list[PlatformConnection]:
    url = await connect.sign_in_link(deps.redis, deps.settings, Platform.LINKEDIN, Owner(who.user_id), who.chat)
    query = parse_qs(urlparse(url).query)
    assert query["scope"] == [
        "openid profile w_member_social r_member_postAnalytics w_organization_social r_organization_admin"
    ]
    async with deps.sessionmaker() as session:
        connected = await connect.finish_connect(
            session, deps.redis, deps.settings, Platform.LINKEDIN, state=query["state"][0], code=fake.grant_code()
        )
        await session.commit()
    await connect.after_commit(deps, connected)
    async with deps.sessionmaker() as session:
        rows = await session.scalars(
            select(PlatformConnection)
            .where(PlatformConnection.user_id == who.user_id)
            .order_by(PlatformConnection.account_kind)
        )
        return list(rows.all())


async def test_a_member_connects_once_and_posts_as_their_page(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    publish_deps.settings = publish_deps.settings.model_copy(update={"linkedin_organizations": True})
    linkedin.pages = {"90001": "Acme Foods"}
    member, page = await _connect(publish_deps, linkedin, creator)
    assert (member.account_kind, member.platform_username) == ("member", "Asha Rao")
    assert (page.account_kind, page.platform_user_id, page.platform_username) == ("organization", "90001", "Acme Foods")
    told = await wait_for_message(publish_deps, creator.chat, "Connected LinkedIn as Asha Rao")
    assert "The same sign-in also connects Acme Foods: each is its own account in /connections." in told.text

    async with publish_deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, creator.draft_id)
        assert draft is not None
        post, _ = await publishing.schedule(session, draft=draft, connection=page, when=now(), timezone="UTC")
        await session.commit()
    async with publish_deps.sessionmaker() as session:
        outcome = await publishing.publish_post(session, publish_deps.settings, post.id)
        await session.commit()
    assert outcome.result == publishing.Result.PUBLISHED, outcome.reason
    [made] = linkedin.posts
    assert made["author"] == "urn:li:organization:90001"

    async with publish_deps.sessionmaker() as session:
        gone = await service.disconnect(session, publish_deps.settings, Owner(creator.user_id), page.id)
        await session.commit()
    assert gone.shares_sign_in_with == ("Asha Rao",) and not gone.revoked_at_platform
    assert ("POST", "/oauth/v2/revoke") not in linkedin.requests
    async with publish_deps.sessionmaker() as session:
        kept = await session.get(PlatformConnection, member.id)
        assert kept is not None and kept.status == "active"


async def test_without_the_setting_no_page_scopes_are_asked_and_no_pages_are_stored(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    linkedin.pages = {"90001": "Acme Foods"}
    settings = publish_deps.settings
    url = await connect.sign_in_link(
        publish_deps.redis, settings, Platform.LINKEDIN, Owner(creator.user_id), creator.chat
    )
    query = parse_qs(urlparse(url).query)
    assert query["scope"] == ["openid profile w_member_social r_member_postAnalytics"]
    async with publish_deps.sessionmaker() as session:
        await connect.finish_connect(
            session,
            publish_deps.redis,
            settings,
            Platform.LINKEDIN,
            state=query["state"][0],
            code=linkedin.grant_code(),
        )
        await session.commit()
        rows = await session.scalars(select(PlatformConnection).where(PlatformConnection.user_id == creator.user_id))
        assert [c.account_kind for c in rows.all()] == ["member"]
