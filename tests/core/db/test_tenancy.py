"""Row-level security: a transaction acting for one organization reads and writes only that organization's
rows, whatever its query forgets to filter."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.accounts.models import ClientAccount
from core.accounts.service import register_chat_user
from core.analytics.models import AnalyticsSnapshot
from core.billing.models import Invoice, Payment
from core.common.clock import utcnow
from core.content.models import ContentAsset
from core.db import tenancy
from core.db.registry import metadata
from core.db.session import make_sessionmaker, session_scope
from core.distribution.models import PlatformConnection, ScheduledPost
from core.repurposing.models import GeneratedContent
from core.workflow.models import ApprovalRequest, Revision
from tests.analytics_rows import Piece, upload_with_drafts


@dataclass
class Tenant:
    organization_id: uuid.UUID
    rows: dict[str, set[uuid.UUID]] = field(default_factory=dict)

    def add(self, table: str, row_id: uuid.UUID) -> None:
        self.rows.setdefault(table, set()).add(row_id)


async def _creator(session: AsyncSession, name: str) -> tuple[uuid.UUID, uuid.UUID]:
    reg = await register_chat_user(
        session=session,
        provider="telegram",
        external_user_id=f"rls-{uuid.uuid4().hex[:12]}",
        chat_id=f"rls-{uuid.uuid4().hex[:8]}",
        full_name=name,
    )
    return reg.user.id, reg.organization.id


async def _tenant_with_rows(session: AsyncSession, name: str) -> Tenant:
    """A creator's personal organization with rows in the tables a leak would hurt most: an upload written
    with the user id only (as the Telegram path writes it), its drafts and figures, an approval with a
    revision, a connection and a scheduled post, a payment and its invoice, a snapshot; and an agency-style
    client account with an upload carrying the organization id."""
    user_id, org_id = await _creator(session, name)
    tenant = Tenant(org_id)
    asset, drafts = await upload_with_drafts(
        session, user_id, [Piece(published=True, views=10, collected_saves=[1, 2]), Piece()]
    )
    tenant.add("content_assets", asset.id)
    for draft in drafts:
        tenant.add("generated_content", draft.id)
    client = ClientAccount(organization_id=org_id, name=f"{name}'s client", slug=f"c-{uuid.uuid4().hex[:8]}")
    session.add(client)
    await session.flush()
    tenant.add("client_accounts", client.id)
    org_asset = ContentAsset(
        user_id=user_id,
        organization_id=org_id,
        client_account_id=client.id,
        title="Client talk",
        content_type="document",
        file_url="file:///nowhere",
        upload_status="completed",
    )
    session.add(org_asset)
    await session.flush()
    tenant.add("content_assets", org_asset.id)
    org_draft = GeneratedContent(
        content_asset_id=org_asset.id, user_id=user_id, title="Client post", content_type="social_post"
    )
    session.add(org_draft)
    await session.flush()
    tenant.add("generated_content", org_draft.id)
    approval = ApprovalRequest(generated_content_id=org_draft.id, requested_by=user_id)
    session.add(approval)
    await session.flush()
    tenant.add("approval_requests", approval.id)
    revision = Revision(
        generated_content_id=org_draft.id, approval_request_id=approval.id, revision_number=1, feedback="Shorter"
    )
    connection = PlatformConnection(
        user_id=user_id,
        organization_id=org_id,
        platform="linkedin",
        platform_user_id=f"li-{uuid.uuid4().hex[:8]}",
        access_token="ciphertext",
    )
    session.add_all([revision, connection])
    await session.flush()
    tenant.add("revisions", revision.id)
    tenant.add("platform_connections", connection.id)
    post = ScheduledPost(
        user_id=user_id,
        platform="linkedin",
        generated_content_id=drafts[0].id,
        platform_connection_id=connection.id,
        scheduled_for=utcnow() + timedelta(days=1),
    )
    payment = Payment(user_id=user_id, amount=499, currency="INR", status="captured", payment_gateway="razorpay")
    session.add_all([post, payment])
    await session.flush()
    tenant.add("scheduled_posts", post.id)
    tenant.add("payments", payment.id)
    invoice = Invoice(
        user_id=user_id,
        payment_id=payment.id,
        invoice_number=f"RLS-{uuid.uuid4().hex[:10]}",
        amount=423,
        total_amount=499,
        currency="INR",
    )
    snapshot = AnalyticsSnapshot(user_id=user_id, snapshot_date=utcnow().date(), snapshot_type="daily")
    session.add_all([invoice, snapshot])
    await session.flush()
    tenant.add("invoices", invoice.id)
    tenant.add("analytics_snapshots", snapshot.id)
    metric_ids = await session.scalars(
        text("SELECT id FROM engagement_metrics WHERE generated_content_id = :d"), {"d": drafts[0].id}
    )
    for metric_id in metric_ids:
        tenant.add("engagement_metrics", metric_id)
    return tenant


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Real transactions: the tenant settings are transaction-local, which the usual savepoint-wrapped
    # sessions of the test suite would stretch over the whole test.
    return make_sessionmaker(engine)


@pytest.fixture
async def two_tenants(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[Tenant, Tenant]:
    async with session_scope(sessionmaker) as session:
        a = await _tenant_with_rows(session, "Asha")
        b = await _tenant_with_rows(session, "Bilal")
    return a, b


async def _visible(sessionmaker: async_sessionmaker[AsyncSession], org: uuid.UUID, table: str) -> set[uuid.UUID]:
    async with tenancy.tenant_session(sessionmaker, org) as session:
        # Deliberately unfiltered: the policy, not the query, decides what comes back.
        return set(await session.scalars(text(f"SELECT id FROM {table}")))


async def test_unfiltered_queries_acting_for_one_organization_return_only_its_rows(
    sessionmaker: async_sessionmaker[AsyncSession], two_tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = two_tenants
    assert set(a.rows) == set(b.rows)
    for table in a.rows:
        seen = await _visible(sessionmaker, a.organization_id, table)
        assert a.rows[table] <= seen, f"{table}: the acting organization's own rows are hidden"
        assert not (b.rows[table] & seen), f"{table}: another organization's rows leak"


async def test_another_organizations_rows_cannot_be_changed_or_created(
    sessionmaker: async_sessionmaker[AsyncSession], two_tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = two_tenants
    b_draft = next(iter(b.rows["generated_content"]))
    async with tenancy.tenant_session(sessionmaker, a.organization_id) as session:
        changed = await session.execute(
            text("UPDATE generated_content SET title = 'taken over' WHERE id = :id"), {"id": b_draft}
        )
        deleted = await session.execute(
            text("DELETE FROM payments WHERE id = ANY(:ids)"), {"ids": list(b.rows["payments"])}
        )
    assert (changed.rowcount, deleted.rowcount) == (0, 0)  # type: ignore[attr-defined]
    async with session_scope(sessionmaker) as owner:
        assert (
            await owner.scalar(text("SELECT title FROM generated_content WHERE id = :id"), {"id": b_draft})
            != "taken over"
        )

    with pytest.raises(DBAPIError, match="row-level security"):
        async with tenancy.tenant_session(sessionmaker, a.organization_id) as session:
            session.add(
                ContentAsset(
                    organization_id=b.organization_id,
                    title="Planted",
                    content_type="document",
                    file_url="file:///nowhere",
                )
            )
            await session.flush()
    with pytest.raises(DBAPIError, match="row-level security"):
        async with tenancy.tenant_session(sessionmaker, a.organization_id) as session:
            await session.execute(
                text("UPDATE approval_requests SET generated_content_id = :theirs WHERE id = :mine"),
                {"theirs": b_draft, "mine": next(iter(a.rows["approval_requests"]))},
            )


async def test_the_application_role_with_no_organization_sees_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], two_tenants: tuple[Tenant, Tenant]
) -> None:
    async with session_scope(sessionmaker) as session:
        await session.execute(text(f"SET LOCAL ROLE {tenancy.APP_ROLE}"))
        counts = {t: await session.scalar(text(f"SELECT count(*) FROM {t}")) for t in two_tenants[0].rows}
    assert set(counts.values()) == {0}, counts


async def test_owner_sessions_still_see_every_organization_for_the_cross_tenant_sweeps(
    sessionmaker: async_sessionmaker[AsyncSession], two_tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = two_tenants
    async with session_scope(sessionmaker) as session:
        seen = set(await session.scalars(text("SELECT id FROM generated_content")))
    assert a.rows["generated_content"] | b.rows["generated_content"] <= seen


async def test_the_tenant_setting_lasts_one_transaction_and_never_reaches_the_next_user_of_the_connection(
    sessionmaker: async_sessionmaker[AsyncSession], two_tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = two_tenants
    async with tenancy.tenant_session(sessionmaker, a.organization_id) as session:
        assert await session.scalar(text("SELECT current_user")) == tenancy.APP_ROLE
        await session.commit()
        # The next transaction of the same session acts for the same organization again.
        assert await session.scalar(text("SELECT recast_acting_org()")) == a.organization_id
    async with session_scope(sessionmaker) as owner:
        assert await owner.scalar(text("SELECT current_user")) != tenancy.APP_ROLE
        assert await owner.scalar(text("SELECT recast_acting_org()")) is None


async def test_engagement_partitions_cannot_be_read_around_the_parents_policy(
    sessionmaker: async_sessionmaker[AsyncSession], two_tenants: tuple[Tenant, Tenant]
) -> None:
    with pytest.raises(DBAPIError, match="permission denied"):
        async with tenancy.tenant_session(sessionmaker, two_tenants[0].organization_id) as session:
            await session.execute(text("SELECT count(*) FROM engagement_metrics_default"))


async def test_every_table_has_a_tenant_policy_or_a_stated_reason_to_be_shared(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with session_scope(sessionmaker) as session:
        rows = (
            await session.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity, EXISTS (SELECT 1 FROM pg_policies p"
                    " WHERE p.tablename = c.relname AND p.policyname = 'tenant_isolation')"
                    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
                )
            )
        ).all()
    protected = {name for name, rls, policy in rows if rls and policy}
    tables = set(metadata.tables)
    assert tables - protected - set(tenancy.SHARED_TABLES) == set(), "tables with neither a policy nor a reason"
    assert protected & set(tenancy.SHARED_TABLES) == set(), "a table listed as shared has a policy"
