"""Billing, subscription lifecycle: trial → active → past_due → canceled | expired, with
`cancel_at_period_end`; every transition is an `audit_logs` row whose metadata carries the gateway's
event time. Also trial reminders and closing ended periods (a creator's own cancel is
`core.billing.subscriptions`, which tells the gateway first)."""

from __future__ import annotations

import calendar
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import usage as billing_usage
from core.billing.models import Subscription, SubscriptionPlan, UsageTracking
from core.billing.notifications import ChatSend, notify
from core.common.clock import utcnow
from core.system import audit
from core.system.models import AuditLog, Notification

log = logging.getLogger(__name__)

TERMINAL = ("canceled", "expired")
SUCCEEDED = ("succeeded", "partially_refunded", "refunded")
PAST_DUE_GRACE = timedelta(days=7)
TRIAL_REMINDER_BEFORE = timedelta(days=3)
# A subscription payment this close before the period end (or later) pays for the next period.
RENEWAL_WINDOW = timedelta(days=1)

SUB_COLUMNS = {
    "razorpay": "razorpay_subscription_id",
    "stripe": "stripe_subscription_id",
    "cashfree": "cashfree_subscription_id",
    "paypal": "paypal_subscription_id",
}


def add_period(start: datetime, billing_period: str) -> datetime:
    months = 12 if billing_period == "yearly" else 1
    month0 = start.month - 1 + months
    year, month = start.year + month0 // 12, month0 % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))


async def transition(
    *,
    session: AsyncSession,
    sub: Subscription,
    to: str,
    reason: str,
    occurred_at: datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Move a subscription to `to` and audit it; False if it already was there."""
    if sub.status == to:
        return False
    before = sub.status
    sub.status = to
    if to == "canceled":
        sub.canceled_at = sub.canceled_at or utcnow()
    await audit.record(
        session=session,
        action=f"subscription_{to}",
        user_id=sub.user_id,
        organization_id=sub.organization_id,
        resource_type="subscription",
        resource_id=sub.id,
        metadata={
            "from": before,
            "to": to,
            "reason": reason,
            "occurred_at": (occurred_at or utcnow()).isoformat(),
            **(extra or {}),
        },
    )
    return True


async def last_transition_at(session: AsyncSession, sub_id: uuid.UUID) -> str | None:
    return await session.scalar(
        select(func.max(AuditLog.metadata_["occurred_at"].astext)).where(
            AuditLog.resource_id == sub_id, AuditLog.action.like("subscription_%")
        )
    )


async def apply_plan_limits(session: AsyncSession, user_id: uuid.UUID, plan: SubscriptionPlan) -> None:
    usage = await billing_usage.current_usage(session=session, user_id=user_id)
    limits = plan.limits or {}
    await session.execute(
        update(UsageTracking)
        .where(UsageTracking.id == usage.id)
        .values(
            upload_limit=limits.get("uploads_per_period"),
            credit_limit=limits.get("ai_credits_per_period"),
            storage_limit_bytes=limits.get("storage_bytes"),
        )
        .execution_options(synchronize_session=False)
    )


async def lock_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    # Serializes billing processing per creator across workers until this transaction ends.
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"billing:{user_id}"})


async def plan_by_slug(session: AsyncSession, slug: str | None) -> SubscriptionPlan | None:
    if not slug:
        return None
    return await session.scalar(select(SubscriptionPlan).where(SubscriptionPlan.slug == slug))


async def send_trial_reminders(*, session: AsyncSession, now: datetime | None = None) -> list[ChatSend]:
    """Tell creators whose trial ends within three days, once."""
    now = now or utcnow()
    subs = (
        await session.scalars(
            select(Subscription).where(
                Subscription.status == "trial",
                Subscription.trial_end > now,
                Subscription.trial_end <= now + TRIAL_REMINDER_BEFORE,
            )
        )
    ).all()
    outbox: list[ChatSend] = []
    for sub in subs:
        if sub.user_id is None or sub.trial_end is None:
            continue
        # One trial per creator (started at registration), so one reminder per creator ever.
        already = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == sub.user_id, Notification.type == "trial_ending")
        )
        if already:
            continue
        await notify(
            session=session,
            outbox=outbox,
            user_id=sub.user_id,
            kind="trial_ending",
            text=f"Your free trial ends on {sub.trial_end:%d %b %Y}. Send /upgrade to keep your "
            "uploads and drafts going without a break.",
        )
    return outbox


async def expire_due_subscriptions(*, session: AsyncSession, now: datetime | None = None) -> list[ChatSend]:
    """Close trials and periods that have ended (canceled at period end, unpaid, or not renewed)."""
    now = now or utcnow()
    outbox: list[ChatSend] = []
    due = (
        await session.scalars(
            select(Subscription)
            .where(
                Subscription.status.in_(("trial", "active", "past_due")),
                (Subscription.current_period_end < now)
                | ((Subscription.status == "trial") & (Subscription.trial_end < now)),
            )
            .with_for_update(skip_locked=True)
        )
    ).all()
    for sub in due:
        recurring = any(getattr(sub, c) for c in SUB_COLUMNS.values())
        if sub.status == "trial":
            to, reason = "expired", "trial ended"
        elif sub.cancel_at_period_end:
            to, reason = "canceled", "canceled at period end"
        elif sub.status == "past_due" and sub.current_period_end + PAST_DUE_GRACE < now:
            to, reason = "expired", "unpaid after grace period"
        elif sub.status == "active" and not recurring:
            to, reason = "expired", "period ended without renewal"
        else:
            continue  # recurring plans wait for the gateway's renewal or failure event
        await transition(session=session, sub=sub, to=to, reason=reason, occurred_at=now)
        if sub.user_id:
            await notify(
                session=session,
                outbox=outbox,
                user_id=sub.user_id,
                kind=f"subscription_{to}",
                text="Your Recast plan has ended. Send /plans to pick one and keep going.",
            )
    return outbox
