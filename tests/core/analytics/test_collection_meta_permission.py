"""A Meta connection made before the insights permissions were asked for (its granted scopes lack
`instagram_manage_insights` / `read_insights`), or one the Graph API refuses insights to (code 10 / the 200
family), is told once through the outbox what to do, its posts stop being collected (no call, no 30-minute
retry) until it is reconnected, and reconnecting resumes their collection. Over real HTTP against the local
Graph API, with real rows and the real outbox."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from core.accounts.models import ChatIdentity, ClientAccount, Organization, User
from core.analytics.models import EngagementMetric
from core.common.clock import utcnow
from core.deps import CoreDeps
from core.distribution import connections
from core.distribution.connections import Owner
from core.distribution.models import PlatformConnection, PostStatus, ScheduledPost
from core.distribution.platforms.names import Platform
from core.distribution.ports import Account, TokenSet
from core.integrations.slack_links import slack_chat
from core.integrations.slack_models import SlackChannel, SlackWorkspace
from core.notify.ports import ChatRef, ConnectAction
from core.repurposing.models import GeneratedContent
from tasks.analytics import collect_metrics
from tests.distribution_fixtures import Creator, connect_meta, sent_texts
from tests.fakes.meta_graph_api import FakeMeta


async def _live(deps: CoreDeps, user_id: uuid.UUID, connection: PlatformConnection, platform_post_id: str) -> uuid.UUID:
    """A draft and its published post, due for its first collection; the post's id."""
    async with deps.sessionmaker() as session:
        draft = GeneratedContent(
            user_id=user_id,
            content_type="short_video",
            content_text=f"Hooks in 60 seconds ({uuid.uuid4().hex[:8]})",
            metadata_={"output_format": "short_video"},
        )
        session.add(draft)
        await session.flush()
        published = utcnow() - timedelta(hours=2)
        post = ScheduledPost(
            generated_content_id=draft.id,
            platform_connection_id=connection.id,
            user_id=user_id,
            platform=connection.platform,
            scheduled_for=published,
            status=PostStatus.PUBLISHED,
            published_at=published,
            platform_post_id=platform_post_id,
            metrics_due_at=utcnow() - timedelta(seconds=1),
        )
        session.add(post)
        await session.commit()
        return post.id


async def _post(deps: CoreDeps, post_id: uuid.UUID) -> ScheduledPost:
    async with deps.sessionmaker() as session:
        row = await session.get(ScheduledPost, post_id)
        assert row is not None
        return row


async def _connection(deps: CoreDeps, connection_id: uuid.UUID) -> PlatformConnection:
    async with deps.sessionmaker() as session:
        row = await session.get(PlatformConnection, connection_id)
        assert row is not None
        return row


async def _granted_before_insights(deps: CoreDeps, connection: PlatformConnection, scope: str) -> None:
    """The connection as it was made before `scope` joined the connect scopes."""
    async with deps.sessionmaker() as session:
        await session.execute(
            update(PlatformConnection)
            .where(PlatformConnection.id == connection.id)
            .values(scopes=[s for s in connection.scopes or [] if s != scope])
        )
        await session.commit()


def _told(deps: CoreDeps, chat: ChatRef) -> list[str]:
    return [t for t in sent_texts(deps, chat) if "need one more permission" in t]


async def test_an_instagram_connection_granted_before_insights_is_told_once_parked_and_resumed_on_reconnect(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    await _granted_before_insights(meta_deps, connection, "instagram_manage_insights")
    meta.granted.discard("instagram_manage_insights")
    media_id = meta.add_media("60 seconds on hooks")
    meta.ig_insights[media_id] = {"views": 700, "reach": 500, "likes": 40, "comments": 3}
    first = await _live(meta_deps, creator.user_id, connection, media_id)

    report = await collect_metrics(meta_deps)

    assert report["parked"] == 1 and report["written"] == 0 and report["deferred"] == 0
    assert meta.ids_reads == []  # the granted scopes already say the call would be refused: none is made
    parked = await _post(meta_deps, first)
    assert (parked.metrics_stage, parked.metrics_due_at) == (0, None)  # not retried every 30 minutes
    assert (await _connection(meta_deps, connection.id)).insights_blocked_at is not None
    [told] = _told(meta_deps, creator.chat)
    assert told.startswith(
        "Instagram figures for @asha.builds need one more permission (instagram_manage_insights): "
        "send /connect instagram to reconnect"
    )
    [message] = [m for c, m in meta_deps.notifier.sent if c == creator.chat and m.text == told]  # type: ignore[attr-defined]
    assert [b.action for row in message.buttons for b in row] == [ConnectAction(Platform.INSTAGRAM)]

    # Another post of the same account published meanwhile: parked too, and nobody is told twice.
    second_id = meta.add_media("Show up every week")
    meta.ig_insights[second_id] = {"views": 90, "likes": 9}
    second = await _live(meta_deps, creator.user_id, connection, second_id)
    again = await collect_metrics(meta_deps)
    assert (again["parked"], again["written"]) == (1, 0)
    assert (await _post(meta_deps, second)).metrics_due_at is None
    assert len(_told(meta_deps, creator.chat)) == 1
    assert meta.ids_reads == []

    # Reconnecting (the sign-in asks for the insights permission now) resumes both posts' collection.
    reconnected = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    assert reconnected.id == connection.id and reconnected.insights_blocked_at is None
    assert "instagram_manage_insights" in (reconnected.scopes or [])
    assert any("Figures are collected again for 2 published post(s)." in t for t in sent_texts(meta_deps, creator.chat))
    resumed = await collect_metrics(meta_deps)
    assert (resumed["written"], resumed["parked"]) == (2, 0)
    draft_id = (await _post(meta_deps, first)).generated_content_id
    async with meta_deps.sessionmaker() as session:
        row = await session.scalar(select(EngagementMetric).where(EngagementMetric.generated_content_id == draft_id))
    assert row is not None and (row.views, row.likes) == (700, 40)
    assert (await _post(meta_deps, first)).metrics_stage == 1
    assert len(_told(meta_deps, creator.chat)) == 1


async def test_a_facebook_page_refused_insights_with_code_10_is_told_once_and_not_asked_again(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
    post_id = meta.add_page_post("Consistency beats talent")
    meta.fb_insights[post_id] = {"reactions": 12, "comments": 2, "post_media_view": 300}
    meta.granted.discard("read_insights")  # withdrawn in the business settings: the stored scopes still have it
    first = await _live(meta_deps, creator.user_id, connection, post_id)

    report = await collect_metrics(meta_deps)

    assert (report["parked"], report["written"], report["deferred"]) == (1, 0, 0)
    assert len(meta.ids_reads) == 1  # asked once, refused with (#10)
    assert (await _post(meta_deps, first)).metrics_due_at is None
    [told] = _told(meta_deps, creator.chat)
    assert "Facebook figures for" in told and "(read_insights): send /connect facebook to reconnect" in told

    await _live(meta_deps, creator.user_id, connection, meta.add_page_post("Second one"))
    again = await collect_metrics(meta_deps)
    assert again["parked"] == 1
    assert len(meta.ids_reads) == 1  # parked without a call while the connection is blocked
    assert len(_told(meta_deps, creator.chat)) == 1

    await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
    resumed = await collect_metrics(meta_deps)
    assert resumed["written"] == 2 and resumed["parked"] == 0


async def _client_connection(
    deps: CoreDeps, meta: FakeMeta, owner_chat: str, *, channel: tuple[str, str] | None
) -> tuple[uuid.UUID, PlatformConnection]:
    """An agency owner (Telegram chat `owner_chat`), a client account, optionally its Slack channel, and the
    client's Instagram connected before the insights permission was asked for."""
    async with deps.sessionmaker() as session:
        owner = User(email=f"agency-{uuid.uuid4().hex[:8]}@example.com", password_hash="!x", full_name="Meera")
        session.add(owner)
        await session.flush()
        identity = ChatIdentity(provider="telegram", external_user_id=owner_chat, chat_id=owner_chat, user_id=owner.id)
        session.add(identity)
        org = Organization(name="Loud Agency", slug=f"loud-{uuid.uuid4().hex[:8]}", owner_id=owner.id, type="agency")
        session.add(org)
        await session.flush()
        client = ClientAccount(organization_id=org.id, name="Crumb Bakery", slug=f"crumb-{uuid.uuid4().hex[:6]}")
        session.add(client)
        await session.flush()
        if channel is not None:
            session.add(SlackWorkspace(team_id=channel[0], organization_id=org.id))
            await session.flush()
            session.add(SlackChannel(team_id=channel[0], channel_id=channel[1], client_account_id=client.id))
        connection = await connections.save_connection(
            session,
            deps.settings,
            platform=Platform.INSTAGRAM,
            owner=Owner(owner.id, client.id, org.id),
            account=Account(f"{meta.ig_user_id}@crumb-person", "@crumb.bakes", kind="business"),
            tokens=TokenSet(meta.app_token, None, utcnow() + timedelta(days=50), ["instagram_basic"]),
        )
        await session.commit()
        return owner.id, connection


async def test_a_client_accounts_instagram_without_insights_is_told_in_the_clients_slack_channel(
    meta_deps: CoreDeps, meta: FakeMeta
) -> None:
    team, channel = f"T{uuid.uuid4().hex[:9].upper()}", "C0BAKERY"
    owner_id, connection = await _client_connection(meta_deps, meta, "6710001", channel=(team, channel))
    await _live(meta_deps, owner_id, connection, meta.add_media("Sourdough Sunday"))

    report = await collect_metrics(meta_deps)

    assert report["parked"] == 1
    in_channel = slack_chat(team, channel)
    [told] = _told(meta_deps, in_channel)
    assert told.startswith(
        "Instagram figures for @crumb.bakes need one more permission (`instagram_manage_insights`): "
        "send `/recast connect instagram` here to reconnect"
    )
    assert _told(meta_deps, ChatRef("telegram", "6710001")) == []  # the channel is where its team reconnects


async def test_a_client_account_without_a_channel_is_told_in_the_owners_chat_to_reconnect_from_slack(
    meta_deps: CoreDeps, meta: FakeMeta
) -> None:
    owner_id, connection = await _client_connection(meta_deps, meta, "6710002", channel=None)
    await _live(meta_deps, owner_id, connection, meta.add_media("Rye on Mondays"))

    report = await collect_metrics(meta_deps)

    assert report["parked"] == 1
    chat = ChatRef("telegram", "6710002")
    [told] = _told(meta_deps, chat)
    assert told.startswith(
        "Instagram figures for @crumb.bakes need one more permission (instagram_manage_insights): "
        "send /recast connect instagram in Crumb Bakery's Slack channel to reconnect"
    )
    # No Telegram Reconnect button: it would connect the owner's own Instagram, not the client's.
    [message] = [m for c, m in meta_deps.notifier.sent if c == chat and m.text == told]  # type: ignore[attr-defined]
    assert message.buttons == []


async def test_reconnecting_an_account_that_was_never_blocked_leaves_its_uncollected_posts_alone(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
    legacy = await _live(meta_deps, creator.user_id, connection, meta.add_page_post("Before collection existed"))
    async with meta_deps.sessionmaker() as session:  # published before collection began: never due
        await session.execute(update(ScheduledPost).where(ScheduledPost.id == legacy).values(metrics_due_at=None))
        await session.commit()

    await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)

    assert (await _post(meta_deps, legacy)).metrics_due_at is None
    assert not any("Figures are collected again" in t for t in sent_texts(meta_deps, creator.chat))
