"""Checkout through the official SDKs / REST against local gateway servers; plans; usage limits."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import checkout as billing_service
from core.billing import usage as billing_usage
from core.billing.errors import OverPlanLimit
from core.billing.models import Payment
from core.common.errors import NotFound
from core.system.models import AuditLog


async def test_list_plans_in_inr_and_usd(seeded: AsyncSession):
    inr = await billing_service.list_plans(seeded, "INR")
    usd = await billing_service.list_plans(seeded, "usd")
    assert [p.slug for p in inr][:2] == ["creator-monthly", "creator-yearly"]
    creator = next(p for p in inr if p.slug == "creator-monthly")
    assert creator.price == 799 and creator.currency == "INR"
    assert next(p for p in usd if p.slug == "pro-yearly").price == 290


@pytest.mark.parametrize(
    ("currency", "preferred", "gateway", "url_prefix"),
    [
        ("INR", None, "razorpay", "https://rzp.io/i/"),
        ("INR", "cashfree", "cashfree", "https://payments.cashfree.com/"),
        ("USD", None, "stripe", "https://checkout.stripe.com/"),
        ("USD", "paypal", "paypal", "https://www.paypal.com/"),
    ],
)
async def test_create_checkout_through_each_gateway(
    seeded, creator, deps, gateway_apis, currency, preferred, gateway, url_prefix
):
    fake, _ = gateway_apis
    link = await billing_service.create_checkout(seeded, deps, creator, "pro-monthly", currency, gateway=preferred)
    assert link.gateway == gateway and link.url.startswith(url_prefix)
    payment = await seeded.get_one(Payment, link.payment_id)
    assert payment.status == "pending" and payment.payment_gateway == gateway
    assert payment.amount == (1999 if currency == "INR" else 29)
    assert payment.gateway_order_id
    sent = [r for r in fake.requests if r[0] == gateway]
    assert len(sent) == 1
    _, _, headers, body = sent[0]
    if gateway == "razorpay":
        assert body["amount"] == 199900 and body["notes"]["recast_payment_id"] == str(payment.id)
    elif gateway == "stripe":  # form-encoded by the SDK
        assert body["line_items[0][price_data][unit_amount]"] == "2900"
        assert body["client_reference_id"] == str(payment.id)
    elif gateway == "cashfree":
        assert body["link_amount"] == 1999 and headers["x-api-version"] == "2023-08-01"
        assert body["link_id"] == "rc_" + payment.id.hex
    else:
        assert body["purchase_units"][0]["custom_id"] == str(payment.id)
        assert body["purchase_units"][0]["amount"] == {"currency_code": "USD", "value": "29.00"}
    audit = await seeded.scalar(select(AuditLog).where(AuditLog.resource_id == payment.id))
    assert audit is not None and audit.action == "checkout_created"


async def test_checkout_unknown_plan_and_gateway_error(seeded, creator, deps):
    with pytest.raises(NotFound):
        await billing_service.create_checkout(seeded, deps, creator, "platinum-monthly", "INR")
    deps.providers.gateways["stripe"]._client = type(deps.providers.gateways["stripe"]._client)(
        "sk_wrong", base_addresses={"api": deps.settings.paypal_api_base}
    )
    with pytest.raises(billing_service.CheckoutFailed):
        await billing_service.create_checkout(seeded, deps, creator, "pro-monthly", "USD")


async def test_consume_beyond_limit_raises_with_upgrade_and_counts_nothing(seeded, creator):
    summary = await billing_service.usage_summary(seeded, creator)
    assert summary.plan_slug == "creator-monthly" and summary.status == "trial"
    assert summary.upload_limit == 10 and summary.uploads_used == 0
    await billing_usage.consume(session=seeded, user_id=creator, uploads=9, credits=150)
    with pytest.raises(OverPlanLimit) as err:
        await billing_usage.consume(session=seeded, user_id=creator, uploads=2, credits=10)
    assert "/upgrade" in err.value.user_message
    after = await billing_service.usage_summary(seeded, creator)
    assert (after.uploads_used, after.credits_used) == (9, 150)
    await billing_usage.consume(session=seeded, user_id=creator, uploads=1)
    assert (await billing_service.usage_summary(seeded, creator)).uploads_used == 10


async def test_usage_row_is_unique_per_period(seeded, creator):
    first = await billing_usage.current_usage(session=seeded, user_id=creator)
    second = await billing_usage.current_usage(session=seeded, user_id=creator)
    assert first.id == second.id
    assert uuid.UUID(str(first.id))


def test_gateway_api_bases_default_to_production_and_follow_settings():
    # The checkout tests above reach the local servers only through these settings (see conftest).
    from pydantic import SecretStr

    from core.billing.gateway_clients import (
        CashfreeGateway,
        PayPalGateway,
        RazorpayGateway,
        StripeGateway,
        build_gateways,
    )
    from core.config import Settings

    creds = dict(
        razorpay_key_id="rzp",
        razorpay_key_secret=SecretStr("s"),
        stripe_api_key=SecretStr("sk"),
        cashfree_app_id="cf",
        cashfree_secret_key=SecretStr("s"),
        paypal_client_id="pp",
        paypal_client_secret=SecretStr("s"),
    )
    prod = build_gateways(Settings(_env_file=None, **creds))  # type: ignore[call-arg]
    assert isinstance(prod["razorpay"], RazorpayGateway) and prod["razorpay"].base_url == "https://api.razorpay.com"
    assert isinstance(prod["stripe"], StripeGateway) and prod["stripe"].api_base == "https://api.stripe.com"
    assert isinstance(prod["cashfree"], CashfreeGateway) and prod["cashfree"].base_url == "https://api.cashfree.com"
    assert isinstance(prod["paypal"], PayPalGateway) and prod["paypal"].rest.base_url == "https://api-m.paypal.com"
    local = build_gateways(
        Settings(  # type: ignore[call-arg]
            _env_file=None,
            **creds,
            razorpay_api_base="http://127.0.0.1:1/",
            stripe_api_base="http://127.0.0.1:2",
            cashfree_api_base="http://127.0.0.1:3",
            paypal_api_base="http://127.0.0.1:4",
        )
    )
    assert local["razorpay"].base_url == "http://127.0.0.1:1"  # type: ignore[attr-defined]
    assert local["stripe"].api_base == "http://127.0.0.1:2"  # type: ignore[attr-defined]
    assert local["cashfree"].base_url == "http://127.0.0.1:3"  # type: ignore[attr-defined]
    assert local["paypal"].rest.base_url == "http://127.0.0.1:4"  # type: ignore[attr-defined]


async def test_a_yearly_plan_counts_its_limits_per_calendar_month(seeded, creator):
    from datetime import timedelta

    from core.billing.models import SubscriptionPlan
    from core.common.clock import utcnow

    yearly = await seeded.scalar(select(SubscriptionPlan).where(SubscriptionPlan.slug == "creator-yearly"))
    sub = await billing_usage.live_subscription(session=seeded, user_id=creator)
    assert sub is not None and yearly is not None
    now = utcnow()
    sub.plan_id, sub.status = yearly.id, "active"
    sub.current_period_start, sub.current_period_end = now - timedelta(days=40), now + timedelta(days=325)
    await seeded.flush()
    row = await billing_usage.current_usage(session=seeded, user_id=creator)
    assert row.period_start == now.date().replace(day=1) and row.period_end.month == now.month
    assert row.upload_limit == yearly.limits["uploads_per_period"]


async def test_without_a_live_plan_the_trial_plans_allowance_applies(seeded, creator):
    sub = await billing_usage.live_subscription(session=seeded, user_id=creator)
    assert sub is not None
    sub.status = "expired"
    await seeded.flush()
    limits = await billing_usage.plan_limits(session=seeded, user_id=creator)
    assert limits["uploads_per_period"] == 10 and limits["ai_credits_per_period"] == 200
    row = await billing_usage.current_usage(session=seeded, user_id=creator)
    assert row.upload_limit == 10


async def test_checkout_sends_the_creator_back_to_the_return_page_of_this_payment(seeded, creator, deps, gateway_apis):
    fake, _ = gateway_apis
    link = await billing_service.create_checkout(seeded, deps, creator, "pro-monthly", "USD")
    _, _, _, body = next(r for r in fake.requests if r[0] == "stripe")
    base = deps.settings.public_base_url.rstrip("/")
    assert body["success_url"] == f"{base}/billing/return?payment={link.payment_id}"
    assert body["cancel_url"] == f"{base}/billing/return?payment={link.payment_id}&result=cancelled"


def test_the_currency_rule_and_the_gst_note_live_in_core():
    from core.billing import checkout as billing_service
    from core.billing.invoices import GST_RATE

    assert billing_service.currency_for("IN") == "INR" and billing_service.currency_for(None) == "INR"
    assert billing_service.currency_for("US") == "USD" and billing_service.currency_for("IN", "usd please") == "USD"
    assert billing_service.tax_note("INR") == f" incl. {GST_RATE * 100:.0f}% GST" == " incl. 18% GST"
    assert billing_service.tax_note("USD") == ""
