"""`/delete_account`: the creator's rows deleted in one transaction; invoices and payments kept, anonymised.

What is kept and why: Indian GST law (CGST Act s.35-36, rule 56) requires tax invoices and the accounts
behind them to be kept for 72 months from the due date of the year's annual return (about 8 years), and
GDPR art. 17(3)(b) / DPDP Act s.8(7) let us keep what a law requires. So `invoices` and `payments` rows
stay, with the personal fields replaced: the billed name, address, e-mail and phone go; the amounts, tax
lines, invoice number, dates, the buyer's state (place of supply) and a business buyer's GSTIN stay (rule
46 requires the recipient's GSTIN on a B2B tax invoice). The issued PDF is kept unchanged: it is the tax
invoice itself, and rule 56(8) forbids erasing or overwriting entries in such records. The `users` row then
stays as an anonymous tombstone (the invoices reference it); with no invoices or payments it is deleted.

Outside the database (Qdrant vectors, media files) nothing can join our transaction, so the transaction
records an `accounts.erase_outside` work unit (core.work) and the caller runs it right after the commit:
a crash before the commit deletes nothing anywhere; a crash after it leaves the unit, which the sweeper
re-drives until the vectors and files are gone. Rows never point at deleted files, and files are never
orphaned for good.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.footprint import Footprint, footprint
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
from core.accounts.service import PLACEHOLDER_EMAIL_DOMAIN, unusable_password_hash
from core.analytics.models import AnalyticsSnapshot, AnalyticsSnapshotArchive, ROICalculation
from core.billing.models import Invoice, Payment, Subscription, UsageTracking
from core.brand.models import BrandProfile
from core.common.clock import utcnow
from core.common.errors import RecastError
from core.content.models import ContentAsset
from core.distribution.models import (
    CalendarEntry,
    ContentCalendar,
    PlatformConnection,
    PostStatus,
    ScheduledPost,
)
from core.notify import outbox
from core.repurposing.models import BrandTemplate, CallToAction, GeneratedContent, Hashtag, RepurposingJob, Template
from core.storage.files import off_loop
from core.system import audit
from core.system.models import AuditLog, Notification
from core.work import submit
from core.work.models import UnitState, WorkUnit
from core.work.registry import unit_handler
from core.work.runner import Outcome, run_now
from core.workflow.models import ApprovalRequest, ApprovalWorkflow, Revision

if TYPE_CHECKING:
    from core.deps import CoreDeps

log = logging.getLogger(__name__)

ERASE = "accounts.erase_outside"
DELETED_NAME = "Deleted user"
# Billing-detail keys that identify a person; everything else on an invoice (amounts, tax lines, GSTIN,
# state code) stays.
PERSONAL_BILLING_KEYS = ("legal_name", "name", "address", "email", "phone", "contact")
LIVE_POST_STATES = (PostStatus.SCHEDULED, PostStatus.HELD, PostStatus.PUBLISHING)


class DeletionBlocked(RecastError):
    user_message = "Your account can't be deleted yet."


@dataclass
class DeletionPreview:
    """What `/delete_account` will delete and keep, and what must happen first (`blockers`)."""

    assets: int
    drafts: int
    brand_profiles: int
    connections: int
    posts_to_cancel: int
    invoices_kept: int
    payments_kept: int
    blockers: list[str] = field(default_factory=list)


@dataclass
class DeletionReport:
    deleted: dict[str, int]
    posts_cancelled: int
    invoices_kept: int
    payments_kept: int
    user_row: str  # "anonymised" (invoices reference it) or "deleted"
    erase_unit_id: uuid.UUID
    media_prefixes: int


def _in(column: Any, ids: list[uuid.UUID]) -> Any:
    return column.in_(ids) if ids else false()


async def _count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _blockers(session: AsyncSession, fp: Footprint) -> list[str]:
    blockers = []
    shared = await session.scalars(
        select(Organization.name)
        .join(TeamMember, TeamMember.organization_id == Organization.id)
        .where(Organization.id.in_(fp.organization_ids), TeamMember.user_id != fp.user_id)
        .distinct()
        .execution_options(include_deleted=True)
    )
    for name in shared:
        blockers.append(
            f"You own the workspace “{name}”, which has other members: deleting it would delete their work. "
            "Remove them (or hand the workspace over) first."
        )
    renewing = await _count(
        session,
        Subscription,
        Subscription.user_id == fp.user_id,
        Subscription.status.in_(("active", "past_due")),
        Subscription.cancel_at_period_end.is_not(True),
        or_(
            Subscription.razorpay_subscription_id.is_not(None),
            Subscription.stripe_subscription_id.is_not(None),
            Subscription.cashfree_subscription_id.is_not(None),
            Subscription.paypal_subscription_id.is_not(None),
        ),
    )
    if renewing:
        blockers.append(
            "Your plan renews automatically through a payment gateway. Cancel the renewal first with "
            "/subscription, so you are not charged again after your account is gone."
        )
    return blockers


async def preview_deletion(*, session: AsyncSession, user_id: uuid.UUID) -> DeletionPreview:
    """Counts of what would be deleted and kept (read-only)."""
    fp = await footprint(session=session, user_id=user_id)
    return DeletionPreview(
        assets=len(fp.asset_ids),
        drafts=len(fp.draft_ids),
        brand_profiles=len(fp.brand_ids),
        connections=len(fp.connection_ids),
        posts_to_cancel=await _count(
            session, ScheduledPost, _in(ScheduledPost.id, fp.post_ids), ScheduledPost.status.in_(LIVE_POST_STATES)
        ),
        invoices_kept=await _count(session, Invoice, Invoice.user_id == user_id),
        payments_kept=await _count(session, Payment, Payment.user_id == user_id),
        blockers=await _blockers(session, fp),
    )


def storage_key(url: str | None) -> str | None:
    """The storage key of a `local:<key>` or `s3://<bucket>/<key>` address (None for anything else)."""
    if not url:
        return None
    if url.startswith("local:"):
        key = url[len("local:") :]
    elif url.startswith("s3://"):
        key = url[len("s3://") :].partition("/")[2]
    else:
        return None
    return key.strip("/") or None


async def _media_prefixes(session: AsyncSession, fp: Footprint) -> list[str]:
    """Every storage prefix holding the creator's media (never `invoices/`: those PDFs are kept)."""
    prefixes = {f"assets/{i}" for i in fp.asset_ids}
    prefixes |= {f"brand/{i}" for i in fp.brand_ids}
    prefixes |= {f"posts/{i}" for i in fp.post_ids}
    prefixes |= {f"clips/{i}" for i in fp.job_ids}
    prefixes.add(f"reports/user-{fp.user_id}")
    prefixes |= {f"reports/organization-{i}" for i in fp.organization_ids}
    clients = list(
        (
            await session.scalars(
                select(ClientAccount.id)
                .where(_in(ClientAccount.organization_id, fp.organization_ids))
                .execution_options(include_deleted=True)
            )
        ).all()
    )
    prefixes |= {f"reports/client-{i}" for i in clients}
    prefixes |= {f"analytics/digests/{i}" for i in clients}
    urls: list[str | None] = []
    for columns, where in (
        ((ContentAsset.file_url, ContentAsset.thumbnail_url), _in(ContentAsset.id, fp.asset_ids)),
        ((GeneratedContent.file_url, GeneratedContent.thumbnail_url), _in(GeneratedContent.id, fp.draft_ids)),
        (
            (BrandTemplate.logo_url, BrandTemplate.intro_video_url, BrandTemplate.outro_video_url),
            _in(BrandTemplate.brand_profile_id, fp.brand_ids),
        ),
        ((Organization.logo_url,), _in(Organization.id, fp.organization_ids)),
        ((ClientAccount.logo_url,), _in(ClientAccount.id, clients)),
        ((User.avatar_url,), User.id == fp.user_id),
    ):
        stmt = select(*columns).where(where).execution_options(include_deleted=True)
        for found in (await session.execute(stmt)).all():
            urls += list(found)
    # A re-cut clip keeps its earlier versions' files (listed in the draft's metadata) until the draft goes.
    metas = await session.scalars(
        select(GeneratedContent.metadata_)
        .where(_in(GeneratedContent.id, fp.draft_ids))
        .execution_options(include_deleted=True)
    )
    for meta in metas:
        for version in (meta or {}).get("versions", []) if isinstance(meta, dict) else []:
            if isinstance(version, dict):
                urls += [version.get("file_url"), version.get("thumbnail_url")]
    prefixes |= {key for key in map(storage_key, urls) if key and not key.startswith("invoices/")}
    return sorted(prefixes)


def _anonymised_billing(details: dict[str, Any] | None) -> dict[str, Any]:
    kept = {k: v for k, v in (details or {}).items() if k not in PERSONAL_BILLING_KEYS}
    return {**kept, "anonymised": True}


class _Tally:
    """Runs bulk deletes and counts the rows each kind lost."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.deleted: dict[str, int] = {}

    async def gone(self, name: str, stmt: Any) -> int:
        result = await self.session.execute(stmt)
        n = int(getattr(result, "rowcount", 0) or 0)
        self.deleted[name] = self.deleted.get(name, 0) + n
        return n


async def _detach(session: AsyncSession, uid: uuid.UUID) -> None:
    """References from rows that stay (other people's approvals, invitations) lose the person, not the row."""
    await session.execute(update(ApprovalRequest).where(ApprovalRequest.requested_by == uid).values(requested_by=None))
    await session.execute(update(ApprovalRequest).where(ApprovalRequest.reviewed_by == uid).values(reviewed_by=None))
    await session.execute(update(Revision).where(Revision.requested_by == uid).values(requested_by=None))
    await session.execute(update(Revision).where(Revision.assigned_to == uid).values(assigned_to=None))
    await session.execute(update(TeamMember).where(TeamMember.invited_by == uid).values(invited_by=None))


async def _delete_content(tally: _Tally, fp: Footprint) -> None:
    """Drafts, uploads, brand data and connections. Children go before parents where the key does not cascade."""
    uid, orgs = fp.user_id, fp.organization_ids
    calendar_rows = or_(
        _in(CalendarEntry.calendar_id, fp.calendar_ids), _in(CalendarEntry.generated_content_id, fp.draft_ids)
    )
    await tally.gone("calendar entries", delete(CalendarEntry).where(calendar_rows))
    await tally.gone("calendars", delete(ContentCalendar).where(_in(ContentCalendar.id, fp.calendar_ids)))
    await tally.gone("scheduled posts", delete(ScheduledPost).where(_in(ScheduledPost.id, fp.post_ids)))
    # Cascades: approvals, revisions, QA, engagement and SEO metrics.
    await tally.gone("drafts", delete(GeneratedContent).where(_in(GeneratedContent.id, fp.draft_ids)))
    await tally.gone("jobs", delete(RepurposingJob).where(_in(RepurposingJob.id, fp.job_ids)))
    await tally.gone("ROI figures", delete(ROICalculation).where(ROICalculation.user_id == uid))
    # Cascades: analyses (transcripts), strategies, ROI figures.
    await tally.gone("uploads", delete(ContentAsset).where(_in(ContentAsset.id, fp.asset_ids)))
    # Cascades: voice samples, audiences, brand templates.
    await tally.gone("brand profiles", delete(BrandProfile).where(_in(BrandProfile.id, fp.brand_ids)))
    ours = or_(Template.user_id == uid, _in(Template.organization_id, orgs))
    # Someone else's brand may be built on a (public) template of ours: it keeps its customization, not the link.
    await tally.session.execute(
        update(BrandTemplate)
        .where(BrandTemplate.template_id.in_(select(Template.id).where(ours)))
        .values(template_id=None)
    )
    await tally.gone("templates", delete(Template).where(ours))
    await tally.gone("hashtags", delete(Hashtag).where(Hashtag.user_id == uid))
    await tally.gone("calls to action", delete(CallToAction).where(CallToAction.user_id == uid))
    # The tokens go with the rows: Recast can no longer act on those accounts.
    await tally.gone("connections", delete(PlatformConnection).where(_in(PlatformConnection.id, fp.connection_ids)))
    for model in (AnalyticsSnapshot, AnalyticsSnapshotArchive):
        owned = or_(model.user_id == uid, _in(model.organization_id, orgs))
        await tally.gone("analytics snapshots", delete(model).where(owned))


async def _delete_account_rows(tally: _Tally, uid: uuid.UUID) -> None:
    chats = (
        await tally.session.execute(
            select(ChatIdentity.provider, ChatIdentity.chat_id).where(ChatIdentity.user_id == uid)
        )
    ).all()
    for provider, chat_id in chats:
        # Chat messages still waiting in the outbox for this person (a draft, a reminder) are not sent any more.
        await tally.gone(
            "queued messages",
            delete(WorkUnit).where(
                WorkUnit.kind == outbox.SEND,
                WorkUnit.state == UnitState.QUEUED,
                WorkUnit.payload["chat"]["provider"].astext == provider,
                WorkUnit.payload["chat"]["chat_id"].astext == str(chat_id),
            ),
        )
    await tally.gone("notifications", delete(Notification).where(Notification.user_id == uid))
    await tally.gone("usage counters", delete(UsageTracking).where(UsageTracking.user_id == uid))
    await tally.gone("login sessions", delete(UserSession).where(UserSession.user_id == uid))
    await tally.gone("email tokens", delete(EmailVerificationToken).where(EmailVerificationToken.user_id == uid))
    await tally.gone("password tokens", delete(PasswordResetToken).where(PasswordResetToken.user_id == uid))
    await tally.gone("chat logins", delete(ChatIdentity).where(ChatIdentity.user_id == uid))
    await tally.gone("team memberships", delete(TeamMember).where(TeamMember.user_id == uid))


async def _end_billing(tally: _Tally, uid: uuid.UUID) -> tuple[int, int]:
    """Subscriptions end (the ones payments point at stay, cancelled); invoices and payments stay, anonymised."""
    session = tally.session
    await session.execute(
        update(Subscription)
        .where(Subscription.user_id == uid)
        .values(organization_id=None, status="canceled", cancel_at_period_end=True, canceled_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    paid_for = select(Payment.subscription_id).where(Payment.subscription_id.is_not(None))
    await tally.gone(
        "subscriptions", delete(Subscription).where(Subscription.user_id == uid, Subscription.id.not_in(paid_for))
    )
    invoices = list((await session.scalars(select(Invoice).where(Invoice.user_id == uid))).all())
    for invoice in invoices:
        invoice.billing_address = _anonymised_billing(invoice.billing_address)
    payments = list((await session.scalars(select(Payment).where(Payment.user_id == uid))).all())
    for payment in payments:
        # The gateway's payload carries the payer's e-mail, phone and card/UPI details; its ids stay on the row.
        payment.gateway_response = {"anonymised": True}
    return len(invoices), len(payments)


async def _retire_user(session: AsyncSession, user: User, *, keep: bool) -> None:
    """The `users` row becomes an anonymous tombstone (kept invoices reference it), or is deleted."""
    if keep:
        user.email = f"deleted-{user.id.hex}@{PLACEHOLDER_EMAIL_DOMAIN}"
        user.full_name = DELETED_NAME
        user.phone = user.avatar_url = user.country_code = user.last_login_at = None
        user.password_hash = unusable_password_hash()
        user.email_verified = user.phone_verified = False
        user.status = "deleted"
        user.deleted_at = utcnow()
    else:
        await session.execute(update(AuditLog).where(AuditLog.user_id == user.id).values(user_id=None))
        await session.execute(delete(User).where(User.id == user.id))
    await session.flush()


async def delete_account(*, session: AsyncSession, user_id: uuid.UUID) -> DeletionReport:
    """Delete the creator's rows, keep invoices and payments anonymised, and record the erasure of their
    vectors and media as a work unit — all in the caller's transaction. After the commit, run
    `erase_after_commit(deps, report.erase_unit_id)`. Raises `DeletionBlocked` if something must happen first."""
    # Serialize two deletions of one account (a double-tapped "Confirm"): the second waits, then finds nothing.
    user = await session.scalar(
        select(User).where(User.id == user_id).with_for_update().execution_options(include_deleted=True)
    )
    if user is None or user.status == "deleted":
        raise DeletionBlocked("Your account is already deleted.")
    fp = await footprint(session=session, user_id=user_id)
    if blockers := await _blockers(session, fp):
        raise DeletionBlocked(" ".join(blockers))
    prefixes = await _media_prefixes(session, fp)
    uid, orgs = user_id, fp.organization_ids
    tally = _Tally(session)
    cancel = (
        update(ScheduledPost)
        .where(_in(ScheduledPost.id, fp.post_ids), ScheduledPost.status.in_(LIVE_POST_STATES))
        .values(status=PostStatus.CANCELLED, error_message="the account was deleted")
    )
    posts_cancelled = int(getattr(await session.execute(cancel), "rowcount", 0) or 0)
    await _detach(session, uid)
    await _delete_content(tally, fp)
    await _delete_account_rows(tally, uid)
    invoices, payments = await _end_billing(tally, uid)
    # The audit trail stays, without the workspaces it named (they are deleted next).
    await session.execute(update(AuditLog).where(_in(AuditLog.organization_id, orgs)).values(organization_id=None))
    await tally.gone("approval workflows", delete(ApprovalWorkflow).where(_in(ApprovalWorkflow.organization_id, orgs)))
    # Cascades: client accounts, Slack workspace links.
    await tally.gone("workspaces", delete(Organization).where(_in(Organization.id, orgs)))
    keep_user = bool(invoices or payments)
    await _retire_user(session, user, keep=keep_user)

    unit_id, _ = await submit.add(
        session,
        ERASE,
        {"user_id": str(uid), "brand_profile_ids": [str(b) for b in fp.brand_ids], "prefixes": prefixes},
        key=f"account:{uid}",
    )
    deleted = {name: n for name, n in tally.deleted.items() if n}
    # No personal data in the entry: counts and the pseudonymous id only.
    await audit.record(
        session=session,
        action="account_deleted",
        user_id=uid if keep_user else None,
        resource_type="user",
        resource_id=uid,
        metadata={
            "deleted": deleted,
            "posts_cancelled": posts_cancelled,
            "invoices_kept_anonymised": invoices,
            "payments_kept_anonymised": payments,
            "user_row": "anonymised" if keep_user else "deleted",
            "media_prefixes": len(prefixes),
            "erase_unit_id": str(unit_id),
        },
    )
    return DeletionReport(
        deleted=deleted,
        posts_cancelled=posts_cancelled,
        invoices_kept=invoices,
        payments_kept=payments,
        user_row="anonymised" if keep_user else "deleted",
        erase_unit_id=unit_id,
        media_prefixes=len(prefixes),
    )


async def erase_after_commit(deps: CoreDeps, unit_id: uuid.UUID) -> bool:
    """Run the erasure unit now (the fast path); True if it finished. If not, a worker retries it."""
    return await run_now(deps, unit_id) == Outcome.SUCCEEDED


class ErasureIncomplete(Exception):
    """Some vectors or files of a deleted account are still there: always worth another attempt (`transient`),
    never a permanent failure, since giving up would leave them orphaned."""

    transient = True


async def _erasure_given_up(deps: CoreDeps, payload: dict[str, Any], error: str) -> None:
    # Dead-lettered after every attempt: `recast jobs redrive <id>` runs it again once the store or Qdrant is back.
    log.error("erasure of deleted account %s gave up (%s): `recast jobs` lists it", payload.get("user_id"), error)


@unit_handler(ERASE, max_attempts=20, on_give_up=_erasure_given_up)
async def erase_outside(
    deps: CoreDeps, *, user_id: str, brand_profile_ids: list[str], prefixes: list[str]
) -> dict[str, int]:
    """Delete a deleted account's brand-voice vectors and media files (idempotent: safe to re-run)."""
    try:
        if deps.brand_index is None:
            raise RuntimeError("no brand-voice index in this process to delete vectors from")
        await deps.brand_index.delete_for(
            brand_profile_ids=[uuid.UUID(b) for b in brand_profile_ids], user_id=uuid.UUID(user_id)
        )
        for prefix in prefixes:
            await off_loop(partial(deps.store.delete_prefix, prefix))
    except Exception as exc:
        raise ErasureIncomplete(f"{type(exc).__name__}: {exc}") from exc
    return {"prefixes": len(prefixes), "brand_profiles": len(brand_profile_ids)}
