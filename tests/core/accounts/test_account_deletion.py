"""/delete_account's service: one creator's rows, vectors and media go; another creator's stay; invoices and
payments stay anonymised; the deletion is audited without personal data; a second deletion finds nothing."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.accounts.deletion import DeletionBlocked, delete_account, erase_after_commit, preview_deletion
from core.accounts.models import (
    ChatIdentity,
    EmailVerificationToken,
    Organization,
    PasswordResetToken,
    User,
    UserSession,
)
from core.billing.models import Invoice, Payment, Subscription
from core.brand.models import BrandProfile, BrandVoiceEmbedding
from core.common.clock import utcnow
from core.content.models import ContentAnalysis, ContentAsset
from core.distribution.models import PlatformConnection, ScheduledPost
from core.notify import outbox
from core.notify.ports import ChatRef, OutgoingMessage
from core.repurposing.models import CallToAction, GeneratedContent, Hashtag, Template
from core.system.models import AuditLog
from core.work.models import UnitState, WorkUnit
from core.workflow.models import ApprovalRequest
from tests.privacy_rows import Planted, plant_creator


async def _count(session, model, column, value) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(column == value)) or 0)


async def _rows_of(session, p: Planted) -> dict[str, int]:
    return {
        "assets": await _count(session, ContentAsset, ContentAsset.user_id, p.user_id),
        "analyses": await _count(session, ContentAnalysis, ContentAnalysis.content_asset_id, p.asset_id),
        "drafts": await _count(session, GeneratedContent, GeneratedContent.user_id, p.user_id),
        "approvals": await _count(session, ApprovalRequest, ApprovalRequest.generated_content_id, p.draft_id),
        "posts": await _count(session, ScheduledPost, ScheduledPost.user_id, p.user_id),
        "brands": await _count(session, BrandProfile, BrandProfile.user_id, p.user_id),
        "samples": await _count(session, BrandVoiceEmbedding, BrandVoiceEmbedding.brand_profile_id, p.brand_id),
        "connections": await _count(session, PlatformConnection, PlatformConnection.user_id, p.user_id),
        "hashtags": await _count(session, Hashtag, Hashtag.user_id, p.user_id),
        "ctas": await _count(session, CallToAction, CallToAction.user_id, p.user_id),
        "templates": await _count(session, Template, Template.user_id, p.user_id),
        "sessions": await _count(session, UserSession, UserSession.user_id, p.user_id),
        "verify": await _count(session, EmailVerificationToken, EmailVerificationToken.user_id, p.user_id),
        "reset": await _count(session, PasswordResetToken, PasswordResetToken.user_id, p.user_id),
        "identities": await _count(session, ChatIdentity, ChatIdentity.user_id, p.user_id),
        "orgs": await _count(session, Organization, Organization.owner_id, p.user_id),
    }


async def _points(core_deps, ids: list[str]) -> int:
    index = core_deps.brand_index
    return len(await index.client.retrieve(index.collection, ids=ids))


async def test_deleting_one_creator_removes_their_rows_vectors_and_media_and_keeps_invoices_anonymised(core_deps):
    asha = await plant_creator(core_deps, telegram_id=5910001, name="Asha")
    ravi = await plant_creator(core_deps, telegram_id=5910002, name="Ravi", seed=False)
    async with core_deps.sessionmaker() as session:
        # A soft-deleted draft is still Asha's data; a message waiting in the outbox for each chat.
        session.add(GeneratedContent(user_id=asha.user_id, title="hidden", deleted_at=utcnow()))
        waiting = {
            p.telegram_id: await outbox.record(
                session, ChatRef("telegram", str(p.telegram_id)), OutgoingMessage(f"later {p.telegram_id}")
            )
            for p in (asha, ravi)
        }
        await session.commit()
    async with core_deps.sessionmaker() as session:
        before = await _rows_of(session, ravi)
        preview = await preview_deletion(session=session, user_id=asha.user_id)
    assert (preview.assets, preview.drafts, preview.connections, preview.posts_to_cancel) == (1, 2, 1, 1)
    assert (preview.invoices_kept, preview.payments_kept, preview.blockers) == (1, 1, [])

    async with core_deps.sessionmaker() as session:
        report = await delete_account(session=session, user_id=asha.user_id)
        await session.commit()
    assert report.deleted["uploads"] == 1 and report.deleted["drafts"] == 2 and report.deleted["connections"] == 1
    assert report.deleted["queued messages"] == 1
    assert report.posts_cancelled == 1 and report.user_row == "anonymised" and report.invoices_kept == 1
    # Vectors and files go after the commit, through the durable unit.
    assert core_deps.store.local_path(core_deps.store.url_for(asha.media_key)).exists()
    assert await erase_after_commit(core_deps, report.erase_unit_id)

    async with core_deps.sessionmaker() as session:
        assert set((await _rows_of(session, asha)).values()) == {0}
        hidden = select(func.count()).where(GeneratedContent.user_id == asha.user_id)
        assert await session.scalar(hidden.execution_options(include_deleted=True)) == 0
        assert await session.get(WorkUnit, waiting[asha.telegram_id]) is None
        assert await session.get(WorkUnit, waiting[ravi.telegram_id]) is not None
        assert await _rows_of(session, ravi) == before and set(before.values()) == {1}
        user = await session.get_one(User, asha.user_id, execution_options={"include_deleted": True})
        assert user.status == "deleted" and user.full_name == "Deleted user" and user.phone is None
        assert user.email == f"deleted-{asha.user_id.hex}@users.recast.invalid" and user.deleted_at is not None
        invoice = await session.get_one(Invoice, asha.invoice_id)
        assert invoice.gst_number == "27AAPFU0939F1ZV" and invoice.total_amount == 1999
        assert invoice.billing_address["anonymised"] is True
        assert not {"legal_name", "name", "address"} & set(invoice.billing_address)
        assert invoice.billing_address["gstin"] == "27AAPFU0939F1ZV"
        payment = await session.scalar(select(Payment).where(Payment.user_id == asha.user_id))
        assert payment.gateway_response == {"anonymised": True} and payment.amount == 1999
        assert await session.scalar(select(func.count()).where(Subscription.user_id == asha.user_id)) == 0
        [entry] = (
            await session.scalars(
                select(AuditLog).where(AuditLog.action == "account_deleted", AuditLog.resource_id == asha.user_id)
            )
        ).all()
        recorded = json.dumps(entry.metadata_)
        assert "Asha" not in recorded and "@" not in recorded and "27AAPFU" not in recorded
        assert entry.metadata_["invoices_kept_anonymised"] == 1 and entry.metadata_["deleted"]["uploads"] == 1
        ravi_invoice = await session.get_one(Invoice, ravi.invoice_id)
        assert "legal_name" in ravi_invoice.billing_address
    store = core_deps.store
    assert not store.local_path(store.url_for(asha.media_key)).exists()
    assert store.local_path(store.url_for(ravi.media_key)).exists()
    # The tax invoice itself is kept as issued (CGST rule 56(8)).
    assert store.local_path(invoice.invoice_url).exists()
    assert await _points(core_deps, asha.point_ids) == 0 and await _points(core_deps, ravi.point_ids) == 1

    async with core_deps.sessionmaker() as session:
        with pytest.raises(DeletionBlocked, match="already deleted"):
            await delete_account(session=session, user_id=asha.user_id)


async def test_without_invoices_the_user_row_itself_is_deleted_and_the_audit_entry_names_nobody(core_deps):
    meera = await plant_creator(core_deps, telegram_id=5910003, name="Meera", with_invoice=False)
    async with core_deps.sessionmaker() as session:
        report = await delete_account(session=session, user_id=meera.user_id)
        await session.commit()
    assert report.user_row == "deleted" and report.invoices_kept == 0
    assert await erase_after_commit(core_deps, report.erase_unit_id)
    async with core_deps.sessionmaker() as session:
        assert await session.get(User, meera.user_id, execution_options={"include_deleted": True}) is None
        entry = await session.scalar(
            select(AuditLog).where(AuditLog.action == "account_deleted", AuditLog.resource_id == meera.user_id)
        )
        assert entry is not None and entry.user_id is None
        assert await session.scalar(select(func.count()).where(AuditLog.user_id == meera.user_id)) == 0
    assert await _points(core_deps, meera.point_ids) == 0


async def test_a_plan_renewing_through_a_gateway_blocks_deletion_and_nothing_is_deleted(core_deps):
    kiran = await plant_creator(core_deps, telegram_id=5910004, name="Kiran", with_invoice=False)
    async with core_deps.sessionmaker() as session:
        sub = await session.scalar(select(Subscription).where(Subscription.user_id == kiran.user_id))
        sub.status, sub.stripe_subscription_id = "active", f"sub_{uuid.uuid4().hex[:10]}"
        await session.commit()
    async with core_deps.sessionmaker() as session:
        preview = await preview_deletion(session=session, user_id=kiran.user_id)
        assert preview.blockers and "/subscription" in preview.blockers[0]
        with pytest.raises(DeletionBlocked, match="/subscription"):
            await delete_account(session=session, user_id=kiran.user_id)
        await session.rollback()
    async with core_deps.sessionmaker() as session:
        assert set((await _rows_of(session, kiran)).values()) == {1}


async def test_a_failed_erasure_after_the_commit_stays_as_work_and_a_retry_finishes_it(core_deps):
    nila = await plant_creator(core_deps, telegram_id=5910005, name="Nila", with_invoice=False)
    store = core_deps.store
    old_clip = store.put_bytes(b"v1", f"clips/drafts/{nila.draft_id}-v1.mp4")  # a re-cut clip's earlier version
    async with core_deps.sessionmaker() as session:
        draft = await session.get_one(GeneratedContent, nila.draft_id)
        draft.metadata_ = {"versions": [{"file_url": old_clip, "thumbnail_url": None}]}
        await session.commit()
    async with core_deps.sessionmaker() as session:
        report = await delete_account(session=session, user_id=nila.user_id)
        await session.commit()

    index, core_deps.brand_index = core_deps.brand_index, None  # this process cannot reach the vectors
    try:
        assert not await erase_after_commit(core_deps, report.erase_unit_id)
    finally:
        core_deps.brand_index = index
    assert store.local_path(store.url_for(nila.media_key)).exists()
    async with core_deps.sessionmaker() as session:
        unit = await session.get_one(WorkUnit, report.erase_unit_id)
        assert unit.state == UnitState.QUEUED and unit.attempts == 1 and "brand-voice index" in (unit.last_error or "")
        # Its backoff is over (now() is the test transaction's start, so go back further): a worker runs it again.
        unit.run_after = utcnow() - timedelta(hours=1)
        await session.commit()
    assert await erase_after_commit(core_deps, report.erase_unit_id)
    assert not store.local_path(store.url_for(nila.media_key)).exists()
    assert not store.local_path(old_clip).exists()
    assert await _points(core_deps, nila.point_ids) == 0
