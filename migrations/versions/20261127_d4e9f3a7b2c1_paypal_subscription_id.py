"""subscriptions.paypal_subscription_id: link a PayPal subscription (I-...) to a Recast subscription

The design has one column per gateway for Razorpay, Stripe and Cashfree; PayPal's BILLING.SUBSCRIPTION.*
and PAYMENT.SALE.COMPLETED (billing_agreement_id) events need the same link. Unique, so the same PayPal
subscription can never be attached to two Recast subscriptions.

Revision ID: d4e9f3a7b2c1
Revises: c3d8e2f1a6b9
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4e9f3a7b2c1"
down_revision: str | None = "c3d8e2f1a6b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("paypal_subscription_id", sa.String(length=255), nullable=True))
    op.create_unique_constraint(
        op.f("uq_subscriptions_paypal_subscription_id"), "subscriptions", ["paypal_subscription_id"]
    )


def downgrade() -> None:
    op.drop_constraint(op.f("uq_subscriptions_paypal_subscription_id"), "subscriptions", type_="unique")
    op.drop_column("subscriptions", "paypal_subscription_id")
