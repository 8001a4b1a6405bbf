"""Seed data: plans, public templates, starter libraries and settings, applied idempotently."""

from __future__ import annotations

from sqlalchemy import func, select

from core.billing.models import SubscriptionPlan
from core.repurposing.models import CallToAction, Hashtag, Template
from core.seed.service import apply_seed
from core.system.models import SystemSetting

TABLES = (SubscriptionPlan, Template, Hashtag, CallToAction, SystemSetting)


async def _counts(session) -> dict[str, int]:
    return {t.__tablename__: await session.scalar(select(func.count()).select_from(t)) for t in TABLES}


async def test_seeding_twice_inserts_nothing_the_second_time(session):
    # Other tests may have seeded this run's database already; either way the data is present afterwards.
    await apply_seed(session=session)
    after_first = await _counts(session)
    second = await apply_seed(session=session)
    assert all(n > 0 for n in after_first.values())
    assert all(n == 0 for n in second.values())
    assert await _counts(session) == after_first


async def test_every_plan_has_monthly_and_yearly_prices_in_inr_and_usd_with_limits(session):
    await apply_seed(session=session)
    plans = (await session.scalars(select(SubscriptionPlan))).all()
    names = {p.name for p in plans}
    assert names == {"Creator", "Pro", "Agency", "Enterprise"}
    assert {(p.name, p.billing_period) for p in plans} == {(n, b) for n in names for b in ("monthly", "yearly")}
    for plan in plans:
        assert plan.price_inr and plan.price_usd and plan.price_inr > plan.price_usd
        assert {"uploads_per_period", "ai_credits_per_period", "max_upload_bytes"} <= set(plan.limits)


async def test_three_distinct_public_caption_styles_are_shipped(session):
    await apply_seed(session=session)
    styles = (
        await session.scalars(
            select(Template).where(Template.template_type == "caption_style", Template.is_public.is_(True))
        )
    ).all()
    assert len(styles) >= 3
    assert len({str(sorted(s.config.items())) for s in styles}) == len(styles)
