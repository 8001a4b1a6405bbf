"""What the models and the database do with real rows: cascades, soft delete, updated_at,
engagement_metrics partitions, and the new tables' constraints."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import (
    ChatIdentity,
    ClientAccount,
    EmailVerificationToken,
    Organization,
    PasswordResetToken,
    TeamMember,
    User,
    UserSession,
)
from core.analytics.models import EngagementMetric
from core.analytics.partitions import ensure_engagement_partitions
from core.content.models import ContentAsset
from core.inbox.models import GatewayEvent
from core.repurposing.models import GeneratedContent
from core.workflow.models import ApprovalWorkflow

FAR_FUTURE = datetime(2999, 1, 1, tzinfo=UTC)


def _user(**kw: object) -> User:
    suffix = uuid.uuid4().hex[:8]
    return User(email=f"u{suffix}@example.com", password_hash="!unusable", full_name="Test User", **kw)


async def _count(session: AsyncSession, model: type, **where: object) -> int:
    stmt = select(func.count()).select_from(model).execution_options(include_deleted=True)
    for column, value in where.items():
        stmt = stmt.where(getattr(model, column) == value)
    return int(await session.scalar(stmt) or 0)


async def test_deleting_a_user_cascades_to_sessions_tokens_memberships_and_assets(
    session: AsyncSession,
) -> None:
    user, other = _user(), _user()
    session.add_all([user, other])
    await session.flush()
    org = Organization(name="Org", slug=f"org-{uuid.uuid4().hex[:8]}", owner_id=other.id)
    session.add(org)
    await session.flush()
    session.add_all(
        [
            UserSession(user_id=user.id, token=uuid.uuid4().hex, expires_at=FAR_FUTURE),
            EmailVerificationToken(user_id=user.id, token=uuid.uuid4().hex, expires_at=FAR_FUTURE),
            PasswordResetToken(user_id=user.id, token=uuid.uuid4().hex, expires_at=FAR_FUTURE),
            TeamMember(organization_id=org.id, user_id=user.id, role="creator"),
            ContentAsset(user_id=user.id, title="Talk", content_type="video", file_url="s3://x/talk.mp4"),
            ChatIdentity(provider="telegram", external_user_id=uuid.uuid4().hex[:12], user_id=user.id),
        ]
    )
    await session.flush()
    children = (
        UserSession,
        EmailVerificationToken,
        PasswordResetToken,
        TeamMember,
        ContentAsset,
        ChatIdentity,
    )
    assert [await _count(session, m, user_id=user.id) for m in children] == [1] * len(children)

    await session.execute(text("DELETE FROM users WHERE id = :id"), {"id": user.id})

    assert [await _count(session, m, user_id=user.id) for m in children] == [0] * len(children)
    assert await _count(session, Organization, id=org.id) == 1  # owned by someone else: kept


async def test_deleting_an_organization_follows_the_client_account_foreign_keys(
    session: AsyncSession,
) -> None:
    owner = _user()
    session.add(owner)
    await session.flush()

    async def org_with_client() -> tuple[Organization, ClientAccount]:
        org = Organization(name="Agency", slug=f"agency-{uuid.uuid4().hex[:8]}", owner_id=owner.id)
        session.add(org)
        await session.flush()
        client = ClientAccount(organization_id=org.id, name="Client", slug="client")
        session.add(client)
        await session.flush()
        return org, client

    # Workflow of the same organization: organization_id cascades, so org, client and workflow go.
    org, client = await org_with_client()
    same = ApprovalWorkflow(organization_id=org.id, client_account_id=client.id, name="W", stages=[])
    session.add(same)
    await session.flush()
    await session.execute(text("DELETE FROM organizations WHERE id = :id"), {"id": org.id})
    assert await _count(session, ClientAccount, id=client.id) == 0
    assert await _count(session, ApprovalWorkflow, id=same.id) == 0

    # A workflow outside the organization still pointing at its client account: client_account_id
    # has no ON DELETE rule (NO ACTION), so the organization cannot be deleted.
    org, client = await org_with_client()
    foreign = ApprovalWorkflow(organization_id=None, client_account_id=client.id, name="W", stages=[])
    session.add(foreign)
    await session.flush()
    with pytest.raises(IntegrityError, match="approval_workflows"):
        async with session.begin_nested():
            await session.execute(text("DELETE FROM organizations WHERE id = :id"), {"id": org.id})
    assert await _count(session, Organization, id=org.id) == 1
    assert await _count(session, ClientAccount, id=client.id) == 1


async def test_soft_deleted_rows_are_hidden_unless_include_deleted(session: AsyncSession) -> None:
    live, gone = _user(), _user(deleted_at=datetime.now(UTC))
    session.add_all([live, gone])
    await session.flush()
    asset = ContentAsset(
        user_id=live.id, title="Old", content_type="blog", file_url="s3://x", deleted_at=datetime.now(UTC)
    )
    draft = GeneratedContent(user_id=live.id, caption="kept")
    session.add_all([asset, draft])
    await session.flush()
    session.expunge_all()  # queries must hit the database, not the identity map

    ids = [live.id, gone.id]
    visible = (await session.scalars(select(User.id).where(User.id.in_(ids)))).all()
    assert set(visible) == {live.id}
    assert (await session.scalars(select(User).where(User.id == gone.id))).first() is None
    assert await session.scalar(select(func.count()).select_from(User).where(User.id.in_(ids))) == 1
    assert (await session.scalars(select(ContentAsset).where(ContentAsset.user_id == live.id))).all() == []
    assert (await session.scalars(select(GeneratedContent).where(GeneratedContent.user_id == live.id))).one()

    everything = (
        await session.scalars(select(User).where(User.id.in_(ids)).execution_options(include_deleted=True))
    ).all()
    assert {u.id for u in everything} == set(ids)
    hidden_asset = await session.scalar(
        select(ContentAsset).where(ContentAsset.id == asset.id).execution_options(include_deleted=True)
    )
    assert hidden_asset is not None and hidden_asset.deleted_at is not None


async def test_updated_at_moves_on_a_raw_sql_update(session: AsyncSession) -> None:
    user = _user()
    session.add(user)
    await session.flush()
    params = {"id": user.id}
    # An UPDATE that sets updated_at explicitly keeps that value (imports, data fixes)...
    await session.execute(text("UPDATE users SET updated_at = '2001-01-01T00:00:00Z' WHERE id = :id"), params)
    stamped = await session.scalar(text("SELECT updated_at FROM users WHERE id = :id"), params)
    assert stamped == datetime(2001, 1, 1, tzinfo=UTC)
    # ...any other UPDATE moves it to now(), without the ORM being involved.
    await session.execute(text("UPDATE users SET full_name = 'Renamed' WHERE id = :id"), params)
    moved, now = (await session.execute(text("SELECT updated_at, now() FROM users WHERE id = :id"), params)).one()
    assert moved == now
    assert moved > stamped


async def _partition_of(session: AsyncSession, metric_id: uuid.UUID) -> str:
    return str(
        await session.scalar(
            text("SELECT tableoid::regclass::text FROM engagement_metrics WHERE id = :id"), {"id": metric_id}
        )
    )


async def test_engagement_metrics_of_different_years_land_in_different_partitions(
    session: AsyncSession,
) -> None:
    await session.execute(text("SELECT recast_ensure_engagement_partitions(2025, 2026)"))
    rows = {
        year: EngagementMetric(platform="linkedin", views=year, collected_at=datetime(year, 6, 1, tzinfo=UTC))
        for year in (2025, 2026)
    }
    # Partition bounds are UTC instants: the first microsecond of 2026 UTC belongs to 2026.
    boundary = EngagementMetric(platform="x", collected_at=datetime(2026, 1, 1, tzinfo=UTC))
    far = EngagementMetric(platform="x", collected_at=datetime(2300, 1, 1, tzinfo=UTC))
    session.add_all([*rows.values(), boundary, far])
    await session.flush()

    assert await _partition_of(session, rows[2025].id) == "engagement_metrics_2025"
    assert await _partition_of(session, rows[2026].id) == "engagement_metrics_2026"
    assert await _partition_of(session, boundary.id) == "engagement_metrics_2026"
    assert await _partition_of(session, far.id) == "engagement_metrics_default"  # never rejected


async def _partitions(session: AsyncSession) -> set[str]:
    rows = await session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'engagement_metrics'::regclass"
        )
    )
    return set(rows.all())


async def test_ensure_engagement_partitions_creates_future_years_idempotently(session: AsyncSession) -> None:
    year = datetime.now(UTC).year
    wanted = {f"engagement_metrics_{y}" for y in range(year - 1, year + 7)}
    assert not wanted <= await _partitions(session)  # the migration only made year - 1 .. year + 2

    await ensure_engagement_partitions(session=session, years_ahead=6)
    after_first = await _partitions(session)
    assert wanted | {"engagement_metrics_default"} <= after_first

    await ensure_engagement_partitions(session=session, years_ahead=6)
    assert await _partitions(session) == after_first


async def test_new_partition_takes_over_rows_parked_in_the_default_partition(session: AsyncSession) -> None:
    parked = EngagementMetric(platform="youtube", views=7, collected_at=datetime(2090, 3, 1, tzinfo=UTC))
    session.add(parked)
    await session.flush()
    assert await _partition_of(session, parked.id) == "engagement_metrics_default"

    await session.execute(text("SELECT recast_ensure_engagement_partitions(2090, 2090)"))

    assert await _partition_of(session, parked.id) == "engagement_metrics_2090"
    moved = (
        await session.execute(
            text("SELECT views, platform, collected_at FROM engagement_metrics WHERE id = :id"),
            {"id": parked.id},
        )
    ).all()
    assert moved == [(7, "youtube", datetime(2090, 3, 1, tzinfo=UTC))]  # moved once, intact
    # The moved-into table is a full partition: the parent's primary key (id, collected_at) applies.
    with pytest.raises(IntegrityError, match="engagement_metrics_2090_pkey"):
        async with session.begin_nested():
            await session.execute(
                text("INSERT INTO engagement_metrics (id, platform, collected_at) VALUES (:id, 'x', :at)"),
                {"id": parked.id, "at": parked.collected_at},
            )


async def test_gateway_event_is_stored_once_per_sender_event_id(session: AsyncSession) -> None:
    event_id = uuid.uuid4().hex
    first = GatewayEvent(sender="razorpay", sender_event_id=event_id, raw_body=b'{"a":1}')
    session.add(first)
    await session.flush()
    await session.refresh(first)
    assert (first.status, first.attempts, first.headers) == ("received", 0, {})
    assert first.received_at is not None

    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(GatewayEvent(sender="razorpay", sender_event_id=event_id, raw_body=b"{}"))
            await session.flush()
    session.add(GatewayEvent(sender="stripe", sender_event_id=event_id, raw_body=b"{}"))
    await session.flush()  # same id from another sender is a different event


async def test_chat_identity_is_unique_per_provider_and_provider_is_checked(session: AsyncSession) -> None:
    user = _user()
    session.add(user)
    await session.flush()
    session.add(ChatIdentity(provider="slack", external_user_id="U123", team_id="T1", user_id=user.id))
    await session.flush()
    with pytest.raises(IntegrityError, match="uq_chat_identities_provider_external_user_id"):
        async with session.begin_nested():
            session.add(ChatIdentity(provider="slack", external_user_id="U123", user_id=user.id))
            await session.flush()
    with pytest.raises(IntegrityError, match="ck_chat_identities_provider"):
        async with session.begin_nested():
            session.add(ChatIdentity(provider="discord", external_user_id="U123", user_id=user.id))
            await session.flush()
