"""Refunds of usage: what a creator was charged for and did not get is given back, never below zero."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.billing import usage as billing_usage
from core.billing.models import UsageTracking
from core.common.clock import utcnow
from core.system.models import AuditLog


async def test_refund_gives_back_uploads_and_credits_and_is_audited(seeded, creator):
    await billing_usage.consume(session=seeded, user_id=creator, uploads=2, credits=5)
    row = await billing_usage.refund(session=seeded, user_id=creator, uploads=1, credits=3, reason="cancelled")
    assert row is not None and (row.content_uploads, row.ai_credits_used) == (1, 2)
    row = await billing_usage.refund(session=seeded, user_id=creator, uploads=4, credits=9, reason="cancelled")
    assert row is not None and (row.content_uploads, row.ai_credits_used) == (0, 0)  # never below zero
    assert await billing_usage.refund(session=seeded, user_id=creator, reason="nothing") is None
    entries = (
        await seeded.scalars(select(AuditLog).where(AuditLog.user_id == creator, AuditLog.action == "usage_refunded"))
    ).all()
    assert sorted((e.metadata_["uploads"], e.metadata_["credits"]) for e in entries) == [(1, 3), (4, 9)]


async def test_refund_goes_to_the_period_the_charge_was_made_in(seeded, creator):
    current = await billing_usage.current_usage(session=seeded, user_id=creator)
    earlier_end = current.period_start - timedelta(days=1)
    earlier = UsageTracking(
        user_id=creator,
        period_start=earlier_end - timedelta(days=29),
        period_end=earlier_end,
        content_uploads=3,
        ai_credits_used=7,
    )
    seeded.add(earlier)
    await billing_usage.consume(session=seeded, user_id=creator, uploads=1, credits=1)
    charged = utcnow().replace(year=earlier_end.year, month=earlier_end.month, day=earlier_end.day)
    await billing_usage.refund(session=seeded, user_id=creator, uploads=1, credits=2, charged_at=charged, reason="x")
    rows = {
        r.period_start: (r.content_uploads, r.ai_credits_used)
        for r in (
            await seeded.scalars(
                select(UsageTracking).where(UsageTracking.user_id == creator).execution_options(populate_existing=True)
            )
        ).all()
    }
    assert rows == {earlier.period_start: (2, 5), current.period_start: (1, 1)}
