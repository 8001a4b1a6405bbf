"""Billing, a subscription fact applied: find or adopt the subscription row, move its period forward,
apply status changes that are not stale, and tell the creator (canceled, ended, renewed)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import usage as billing_usage
from core.billing.facts import SubscriptionFact, SubStatus
from core.billing.lifecycle import (
    RENEWAL_WINDOW,
    SUB_COLUMNS,
    TERMINAL,
    add_period,
    apply_plan_limits,
    last_transition_at,
    plan_by_slug,
    transition,
)
from core.billing.models import Subscription, SubscriptionPlan
from core.billing.notifications import ChatSend, notify
from core.system import audit

log = logging.getLogger(__name__)


async def apply_subscription(
    session: AsyncSession,
    fact: SubscriptionFact,
    occurred_at: datetime,
    user_id: uuid.UUID,
    outbox: list[ChatSend],
) -> Subscription | None:
    column = SUB_COLUMNS.get(fact.gateway)
    if column is None:
        return None
    sub = await session.scalar(
        select(Subscription).where(getattr(Subscription, column) == fact.subscription_ref).with_for_update()
    )
    plan = await plan_by_slug(session, fact.plan_slug)
    if sub is None:
        sub = await _adopt(session, fact, column, plan, occurred_at, user_id)
    if sub.status in TERMINAL:
        if fact.status == SubStatus.EXPIRED and sub.status == "canceled":
            await transition(
                session=session, sub=sub, to="expired", reason=f"{fact.gateway} completed", occurred_at=occurred_at
            )
        fact.stale = fact.status != SubStatus.EXPIRED
        return sub  # a late charge or update never revives a canceled plan
    if plan is not None and sub.plan_id != plan.id:
        await audit.record(
            session=session,
            action="subscription_plan_changed",
            user_id=sub.user_id,
            resource_type="subscription",
            resource_id=sub.id,
            metadata={"plan": plan.slug, "occurred_at": occurred_at.isoformat()},
        )
        sub.plan_id = plan.id
    renewed = await _apply_period(session, sub, fact, plan, occurred_at)
    if fact.cancel_at_period_end is not None and bool(sub.cancel_at_period_end) != fact.cancel_at_period_end:
        sub.cancel_at_period_end = fact.cancel_at_period_end
        await audit.record(
            session=session,
            action="subscription_cancel_at_period_end",
            user_id=sub.user_id,
            resource_type="subscription",
            resource_id=sub.id,
            metadata={"value": fact.cancel_at_period_end, "occurred_at": occurred_at.isoformat()},
        )
    if await _apply_status(session, sub, fact, occurred_at, user_id, outbox):
        renewed = True
    if renewed and sub.status == "active":
        await notify(
            session=session,
            outbox=outbox,
            user_id=user_id,
            kind="subscription_renewed",
            text=f"Your Recast plan renewed. Next renewal: {sub.current_period_end:%d %b %Y}.",
        )
    if plan is not None and sub.status == "active" and sub.user_id:
        await apply_plan_limits(session, sub.user_id, plan)
    return sub


async def _adopt(
    session: AsyncSession,
    fact: SubscriptionFact,
    column: str,
    plan: SubscriptionPlan | None,
    occurred_at: datetime,
    user_id: uuid.UUID,
) -> Subscription:
    """A gateway subscription we have no row for: the creator's live plan takes it (if it has none of
    this gateway's yet), else a new row."""
    live = await billing_usage.live_subscription(session=session, user_id=user_id)
    if live is not None and getattr(live, column) is None:
        sub = live
    else:
        start = fact.period_start or occurred_at
        sub = Subscription(
            user_id=user_id,
            organization_id=live.organization_id if live else None,
            plan_id=plan.id if plan else (live.plan_id if live else None),
            status="trial",
            current_period_start=start,
            current_period_end=fact.period_end or start,
        )
        session.add(sub)
        await session.flush()
    setattr(sub, column, fact.subscription_ref)
    return sub


async def _apply_status(
    session: AsyncSession,
    sub: Subscription,
    fact: SubscriptionFact,
    occurred_at: datetime,
    user_id: uuid.UUID,
    outbox: list[ChatSend],
) -> bool:
    """Apply the fact's status unless an applied transition is newer (then the fact is stale); True if
    that brought a past-due plan back to active (a renewal)."""
    if fact.status in TERMINAL:
        await transition(
            session=session, sub=sub, to=fact.status, reason=f"{fact.gateway} event", occurred_at=occurred_at
        )
        await notify(
            session=session,
            outbox=outbox,
            user_id=user_id,
            kind=f"subscription_{fact.status}",
            text=(
                "Your Recast plan has been canceled. Send /plans whenever you want to come back."
                if fact.status == SubStatus.CANCELED
                else "Your Recast plan has ended. Send /plans to pick one and keep going."
            ),
        )
    elif fact.status and fact.status != sub.status:
        last = await last_transition_at(session, sub.id)
        if last is None or occurred_at.isoformat() >= last:
            before = sub.status
            await transition(
                session=session, sub=sub, to=fact.status, reason=f"{fact.gateway} event", occurred_at=occurred_at
            )
            return fact.status == SubStatus.ACTIVE and before == "past_due"
        fact.stale = True
        log.info("stale %s status %s for subscription %s ignored", fact.gateway, fact.status, sub.id)
    return False


async def _apply_period(
    session: AsyncSession,
    sub: Subscription,
    fact: SubscriptionFact,
    plan: SubscriptionPlan | None,
    occurred_at: datetime,
) -> bool:
    """Move the period forward (never back) and audit it; True if that renewed a running plan."""
    start, end = fact.period_start, fact.period_end
    if end is None and fact.paid_at is not None:
        period_plan = plan or (await session.get(SubscriptionPlan, sub.plan_id) if sub.plan_id else None)
        if period_plan is not None:
            start, end = fact.paid_at, add_period(fact.paid_at, period_plan.billing_period)
    if end is None or end <= sub.current_period_end:
        return False
    # A first payment right after activation only nudges the period; one near its end renews it.
    renewed = sub.status in ("active", "past_due") and (
        fact.paid_at is None or fact.paid_at >= sub.current_period_end - RENEWAL_WINDOW
    )
    before = sub.current_period_end
    sub.current_period_start = start or sub.current_period_end
    sub.current_period_end = end
    # Also the evidence that makes older status changes (a late "payment failed") stale.
    await audit.record(
        session=session,
        action="subscription_period_updated",
        user_id=sub.user_id,
        resource_type="subscription",
        resource_id=sub.id,
        metadata={
            "from": before.isoformat(),
            "to": end.isoformat(),
            "gateway": fact.gateway,
            "occurred_at": occurred_at.isoformat(),
        },
    )
    return renewed
