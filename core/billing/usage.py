"""Plan limits per billing period: `usage_tracking` rows checked and consumed atomically.

Why a single conditional UPDATE: two uploads arriving together must not both pass a check made
before either of them is counted. `UPDATE ... WHERE used + n <= limit RETURNING` decides in one
statement under the row lock, so limits hold under concurrency.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import Organization, User
from core.billing.errors import OverPlanLimit
from core.billing.models import Subscription, SubscriptionPlan, UsageTracking
from core.common.clock import local_time, utcnow
from core.db.session import acting_briefly_for, acting_organization
from core.seed.data import subscription_plans
from core.system import audit
from core.system.models import SystemSetting

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_TRIAL = {"plan_slug": "creator-monthly", "days": 7}
LIVE_STATUSES = ("trial", "active", "past_due")


async def _setting(session: AsyncSession, key: str, default: Any) -> Any:
    value = await session.scalar(select(SystemSetting.value).where(SystemSetting.key == key))
    return default if value is None else value


async def start_trial(
    *, session: AsyncSession, user_id: uuid.UUID, organization_id: uuid.UUID | None
) -> Subscription | None:
    """Put a new creator on the trial plan. Without seeded plans (a bare database) nothing is limited."""
    trial = await _setting(session, "trial", DEFAULT_TRIAL)
    plan = await session.scalar(select(SubscriptionPlan).where(SubscriptionPlan.slug == trial["plan_slug"]))
    if plan is None:
        return None
    now = utcnow()
    end = now + timedelta(days=int(trial["days"]))
    sub = Subscription(
        user_id=user_id,
        organization_id=organization_id,
        plan_id=plan.id,
        status="trial",
        current_period_start=now,
        current_period_end=end,
        trial_start=now,
        trial_end=end,
    )
    session.add(sub)
    await session.flush()
    await audit.record(
        session=session,
        action="subscription_trial_started",
        user_id=user_id,
        organization_id=organization_id,
        resource_type="subscription",
        resource_id=sub.id,
        metadata={"plan": plan.slug, "trial_end": end.isoformat()},
    )
    return sub


async def live_subscription(*, session: AsyncSession, user_id: uuid.UUID) -> Subscription | None:
    return await session.scalar(
        select(Subscription)
        .where(Subscription.user_id == user_id, Subscription.status.in_(LIVE_STATUSES))
        .order_by(Subscription.current_period_end.desc())
        .limit(1)
    )


async def fallback_limits(session: AsyncSession) -> dict[str, Any]:
    """The limits of a creator without a live plan: those of the trial plan (the free allowance).

    Why never `{}`: no plan must not mean no limits. A creator whose trial or plan ended, or who
    registered while the plans were not loaded, gets the trial plan's allowance per month; if the
    database has no plans at all, the trial plan's limits as shipped in the reference data."""
    trial = await _setting(session, "trial", DEFAULT_TRIAL)
    slug = str(trial.get("plan_slug", DEFAULT_TRIAL["plan_slug"]))
    plan = await session.scalar(select(SubscriptionPlan).where(SubscriptionPlan.slug == slug))
    if plan is not None and plan.limits:
        return dict(plan.limits)
    shipped = {p["slug"]: p["limits"] for p in subscription_plans()}
    return dict(shipped.get(slug) or shipped[str(DEFAULT_TRIAL["plan_slug"])])


async def plan_limits(*, session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    sub = await live_subscription(session=session, user_id=user_id)
    plan = await session.get(SubscriptionPlan, sub.plan_id) if sub is not None and sub.plan_id else None
    if plan is None:
        return await fallback_limits(session)
    return dict(plan.limits or {})


# Usage and plans belong to the person who pays, whoever's workflow does the work: an agency's Slack
# revision of a member's draft counts against the member's plan. Under row-level security the agency's
# transaction cannot see that person's counters, so these four (`@_for_the_payer`) act for the payer.


@asynccontextmanager
async def _as_payer(session: AsyncSession, user_id: uuid.UUID) -> AsyncIterator[None]:
    if acting_organization(session.info) is None:
        yield
        return
    payers: dict[uuid.UUID, uuid.UUID | None] = session.info.setdefault("recast_payers", {})
    if user_id not in payers:  # once per session: consume asks again through current_usage
        payers[user_id] = await session.scalar(
            select(Organization.id)
            .where(Organization.owner_id == user_id, Organization.type == "individual")
            .order_by(Organization.created_at)
            .limit(1)
        )
    async with acting_briefly_for(session, payers[user_id]):
        yield


def _for_the_payer(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        session, user_id = kwargs["session"], kwargs["user_id"]
        assert isinstance(session, AsyncSession) and isinstance(user_id, uuid.UUID)
        async with _as_payer(session, user_id):
            return await fn(*args, **kwargs)

    return run


def _month_bounds(today: date) -> tuple[date, date]:
    start = today.replace(day=1)
    nxt = (start + timedelta(days=32)).replace(day=1)
    return start, nxt - timedelta(days=1)


@_for_the_payer
async def current_usage(*, session: AsyncSession, user_id: uuid.UUID) -> UsageTracking:
    """The usage row of the user's current billing period, created with the plan's limits if missing."""
    sub = await live_subscription(session=session, user_id=user_id)
    plan = await session.get(SubscriptionPlan, sub.plan_id) if sub is not None and sub.plan_id else None
    now: datetime = utcnow()
    if sub is not None and (plan is None or plan.billing_period != "yearly"):
        start, end = sub.current_period_start.date(), sub.current_period_end.date()
        if not (start <= now.date() <= end):
            start, end = _month_bounds(now.date())
    else:
        # No plan: the free allowance is monthly. A yearly plan's limits are monthly too ("a month" in /plans).
        start, end = _month_bounds(now.date())
    limits = await plan_limits(session=session, user_id=user_id)
    await session.execute(
        insert(UsageTracking)
        .values(
            user_id=user_id,
            # With no plan of their own the row is the acting organization's (None for owner sessions).
            organization_id=sub.organization_id if sub else acting_organization(session.info),
            subscription_id=sub.id if sub else None,
            period_start=start,
            period_end=end,
            upload_limit=limits.get("uploads_per_period"),
            credit_limit=limits.get("ai_credits_per_period"),
            storage_limit_bytes=limits.get("storage_bytes"),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "period_start"])
    )
    row = await session.scalar(
        select(UsageTracking)
        .where(UsageTracking.user_id == user_id, UsageTracking.period_start == start)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    if row.upload_limit is None and row.credit_limit is None and row.storage_limit_bytes is None and limits:
        # A row counted while no limits applied (e.g. before the plans were loaded) gets them now.
        row.upload_limit = limits.get("uploads_per_period")
        row.credit_limit = limits.get("ai_credits_per_period")
        row.storage_limit_bytes = limits.get("storage_bytes")
        await session.flush()
    return row


@_for_the_payer
async def consume(
    *, session: AsyncSession, user_id: uuid.UUID, uploads: int = 0, credits: int = 0, storage_bytes: int = 0
) -> UsageTracking:
    """Count usage against the plan, or raise `OverPlanLimit` and count nothing."""
    usage = await current_usage(session=session, user_id=user_id)
    t = UsageTracking
    stmt = (
        update(t)
        .where(t.id == usage.id)
        .where((t.upload_limit.is_(None)) | (t.content_uploads + uploads <= t.upload_limit) | (uploads == 0))
        .where((t.credit_limit.is_(None)) | (t.ai_credits_used + credits <= t.credit_limit) | (credits == 0))
        .where(
            (t.storage_limit_bytes.is_(None))
            | (t.storage_used_bytes + storage_bytes <= t.storage_limit_bytes)
            | (storage_bytes == 0)
        )
        .values(
            content_uploads=t.content_uploads + uploads,
            ai_credits_used=t.ai_credits_used + credits,
            storage_used_bytes=t.storage_used_bytes + storage_bytes,
        )
        .returning(t.id)
        .execution_options(synchronize_session=False)
    )
    if (await session.execute(stmt)).first() is None:
        fresh = await session.scalar(select(t).where(t.id == usage.id).execution_options(populate_existing=True))
        assert fresh is not None
        if uploads and fresh.upload_limit is not None and (fresh.content_uploads or 0) + uploads > fresh.upload_limit:
            raise await _over_limit(session, user_id, "uploads", fresh.content_uploads or 0, fresh.upload_limit)
        if credits and fresh.credit_limit is not None:
            raise await _over_limit(session, user_id, "credits", fresh.ai_credits_used or 0, fresh.credit_limit)
        raise await _over_limit(
            session, user_id, "storage", fresh.storage_used_bytes or 0, fresh.storage_limit_bytes or 0
        )
    refreshed = await session.scalar(select(t).where(t.id == usage.id).execution_options(populate_existing=True))
    assert refreshed is not None
    return refreshed


async def _over_limit(session: AsyncSession, user_id: uuid.UUID, kind: str, used: int, limit: int) -> OverPlanLimit:
    """The error for this creator: a trial says when it ends, a plan when it renews (their timezone)."""
    sub = await live_subscription(session=session, user_id=user_id)
    if sub is None:
        return OverPlanLimit(kind, used, limit)
    timezone = await session.scalar(select(User.timezone).where(User.id == user_id))
    end = sub.trial_end if sub.status == "trial" and sub.trial_end else sub.current_period_end
    return OverPlanLimit(
        kind,
        used,
        limit,
        status=sub.status,
        ends_on=local_time(end, timezone).date(),
        renews=sub.status != "trial" and not sub.cancel_at_period_end,
    )


@_for_the_payer
async def check_available(*, session: AsyncSession, user_id: uuid.UUID, uploads: int = 0, credits: int = 0) -> None:
    """Raise `OverPlanLimit` now if the user cannot afford this, without consuming anything."""
    usage = await current_usage(session=session, user_id=user_id)
    if uploads and usage.upload_limit is not None and (usage.content_uploads or 0) + uploads > usage.upload_limit:
        raise await _over_limit(session, user_id, "uploads", usage.content_uploads or 0, usage.upload_limit)
    if credits and usage.credit_limit is not None and (usage.ai_credits_used or 0) + credits > usage.credit_limit:
        raise await _over_limit(session, user_id, "credits", usage.ai_credits_used or 0, usage.credit_limit)


@_for_the_payer
async def refund(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    uploads: int = 0,
    credits: int = 0,
    charged_at: datetime | None = None,
    reason: str,
    resource_id: uuid.UUID | None = None,
) -> UsageTracking | None:
    """Give back uploads and AI credits counted for work the creator did not get (e.g. cancelled).

    The refund goes to the usage row of the period the charge was made in (`charged_at`, default now),
    so a cancellation after a period rolled over does not hand out extra allowance in the new one.
    Counters never go below zero. Recorded in the audit log; returns the row (None if nothing to give)."""
    if uploads <= 0 and credits <= 0:
        return None
    when = (charged_at or utcnow()).date()
    t = UsageTracking
    row = await session.scalar(
        select(t)
        .where(t.user_id == user_id, t.period_start <= when, t.period_end >= when)
        .order_by(t.period_start.desc())
        .limit(1)
    )
    if row is None:
        row = await current_usage(session=session, user_id=user_id)
    await session.execute(
        update(t)
        .where(t.id == row.id)
        .values(
            content_uploads=func.greatest(0, func.coalesce(t.content_uploads, 0) - max(0, uploads)),
            ai_credits_used=func.greatest(0, func.coalesce(t.ai_credits_used, 0) - max(0, credits)),
        )
        .execution_options(synchronize_session=False)
    )
    await audit.record(
        session=session,
        action="usage_refunded",
        user_id=user_id,
        resource_type="content",
        resource_id=resource_id,
        metadata={"uploads": max(0, uploads), "credits": max(0, credits), "reason": reason},
    )
    return await session.scalar(select(t).where(t.id == row.id).execution_options(populate_existing=True))
