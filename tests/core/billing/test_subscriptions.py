"""Cancel a renewing plan through its gateway (Razorpay, Stripe, PayPal against local servers speaking
their APIs), resume on Stripe, nothing to cancel on a one-time plan, and the GSTIN with its checksum."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.billing import invoices, subscriptions
from core.billing import usage as billing_usage
from core.billing.models import Payment, SubscriptionPlan
from core.common.clock import utcnow


async def _paid_plan(session, user_id, **gateway_ids):
    plan = await session.scalar(select(SubscriptionPlan).where(SubscriptionPlan.slug == "pro-monthly"))
    sub = await billing_usage.live_subscription(session=session, user_id=user_id)
    sub.plan_id, sub.status = plan.id, "active"
    sub.current_period_start, sub.current_period_end = utcnow(), utcnow() + timedelta(days=30)
    for column, value in gateway_ids.items():
        setattr(sub, column, value)
    await session.flush()
    return sub


@pytest.mark.parametrize(
    ("column", "recorded", "path"),
    [
        ("razorpay_subscription_id", "razorpay-cancel", "/v1/subscriptions/sub_Rzp1/cancel"),
        ("stripe_subscription_id", "stripe-subscription", "/v1/subscriptions/sub_Rzp1"),
        ("paypal_subscription_id", "paypal-cancel", "/v1/billing/subscriptions/sub_Rzp1/cancel"),
    ],
)
async def test_cancel_renewal_tells_the_gateway_first(seeded, creator, deps, gateway_apis, column, recorded, path):
    fake, _ = gateway_apis
    sub = await _paid_plan(seeded, creator, **{column: "sub_Rzp1"})
    view = await subscriptions.plan_view(session=seeded, deps=deps, user_id=creator)
    assert view is not None and view.can_cancel and not view.cancel_at_period_end
    view = await subscriptions.cancel_renewal(session=seeded, deps=deps, user_id=creator)
    assert view.cancel_at_period_end and sub.cancel_at_period_end and sub.status == "active"
    sent = [r for r in fake.requests if r[0] == recorded]
    assert len(sent) == 1 and sent[0][1] == path
    if recorded == "razorpay-cancel":
        assert sent[0][3] == {"cancel_at_cycle_end": 1}
    if recorded == "stripe-subscription":
        assert sent[0][3] == {"cancel_at_period_end": "true"}
        assert view.can_resume
        view = await subscriptions.resume_renewal(session=seeded, deps=deps, user_id=creator)
        assert not view.cancel_at_period_end and fake.requests[-1][3] == {"cancel_at_period_end": "false"}
    else:
        assert not view.can_resume  # Razorpay and PayPal cannot undo a cancellation: no button for it
        with pytest.raises(subscriptions.CannotResume):
            await subscriptions.resume_renewal(session=seeded, deps=deps, user_id=creator)


async def test_a_gateway_that_refuses_changes_nothing(seeded, creator, deps):
    await _paid_plan(seeded, creator, stripe_subscription_id="sub_X")
    deps.providers.gateways["stripe"]._client = type(deps.providers.gateways["stripe"]._client)(
        "sk_wrong", base_addresses={"api": deps.settings.stripe_api_base}
    )
    with pytest.raises(subscriptions.GatewayUnreachable) as caught:
        await subscriptions.cancel_renewal(session=seeded, deps=deps, user_id=creator)
    assert "nothing changed" in caught.value.user_message
    sub = await billing_usage.live_subscription(session=seeded, user_id=creator)
    assert sub is not None and not sub.cancel_at_period_end


async def test_a_one_time_plan_or_a_trial_has_nothing_to_cancel(seeded, creator, deps):
    view = await subscriptions.plan_view(session=seeded, deps=deps, user_id=creator)
    assert view is not None and view.status == "trial" and not view.can_cancel
    await _paid_plan(seeded, creator)
    view = await subscriptions.plan_view(session=seeded, deps=deps, user_id=creator)
    assert view is not None and view.gateway is None and not view.can_cancel and not view.can_resume
    with pytest.raises(subscriptions.NothingToCancel):
        await subscriptions.cancel_renewal(session=seeded, deps=deps, user_id=creator)


@pytest.mark.parametrize("gstin", ["27AAPFU0939F1ZV", "29AAGCB7383J1Z4", "07aagff2194n1z1", " 27AAPFU0939F1ZV "])
def test_real_gstins_pass_the_checksum(gstin):
    assert subscriptions.check_gstin(gstin) == gstin.strip().upper()


@pytest.mark.parametrize(
    ("gstin", "says"),
    [
        ("27AAPFU0939F1Z", "15 characters"),
        ("27AAPFU0939F1XV", "isn't a GSTIN"),
        ("45AAPFU0939F1ZV", "state code"),
        ("27AAPFU0939F1ZW", "doesn't match"),  # one typo in the check character
        ("27AAPFU0938F1ZV", "doesn't match"),  # one typo in the PAN
    ],
)
def test_wrong_gstins_say_what_is_wrong(gstin, says):
    with pytest.raises(subscriptions.InvalidGstin) as caught:
        subscriptions.check_gstin(gstin)
    assert says in caught.value.user_message


async def test_a_saved_gstin_is_on_the_next_invoice_and_keeps_other_billing_details(seeded, creator, deps):
    await invoices.set_billing_details(session=seeded, user_id=creator, legal_name="Asha Media LLP", address="Pune")
    await subscriptions.set_gstin(session=seeded, user_id=creator, gstin="27AAPFU0939F1ZV")
    details = await invoices.billing_details(session=seeded, user_id=creator)
    assert details == {
        "legal_name": "Asha Media LLP",
        "address": "Pune",
        "gstin": "27AAPFU0939F1ZV",
        "state_code": "27",
    }
    payment = Payment(
        user_id=creator,
        amount=Decimal(1999),
        currency="INR",
        status="succeeded",
        payment_gateway="razorpay",
        paid_at=utcnow(),
    )
    seeded.add(payment)
    await seeded.flush()
    invoice = await invoices.issue_for_payment(
        session=seeded, settings=deps.settings, store=deps.store, payment=payment, description="Recast Pro (monthly)"
    )
    assert invoice.gst_number == "27AAPFU0939F1ZV"
    assert [line["label"] for line in invoice.billing_address["tax_lines"]] == ["IGST"]  # Maharashtra ≠ seller's 29
    await subscriptions.set_gstin(session=seeded, user_id=creator, gstin=None)
    remaining = await invoices.billing_details(session=seeded, user_id=creator)
    assert remaining == {"legal_name": "Asha Media LLP", "address": "Pune"}
