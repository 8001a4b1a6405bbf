"""Billing: plans, subscriptions, payments, invoices and usage counters."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import conv

from core.db.base import Base, TimestampMixin, created_at_column, uuid_pk


class SubscriptionPlan(TimestampMixin, Base):
    __tablename__ = "subscription_plans"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    billing_period: Mapped[str] = mapped_column(String(20))
    price_inr: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    price_usd: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    features: Mapped[dict[str, Any]] = mapped_column(JSONB)
    limits: Mapped[dict[str, Any]] = mapped_column(JSONB)
    is_active: Mapped[bool | None] = mapped_column(server_default=text("true"))
    sort_order: Mapped[int | None] = mapped_column(server_default=text("0"))


class Subscription(TimestampMixin, Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("idx_subs_user", "user_id"),
        Index("idx_subs_org", "organization_id"),
        Index("idx_subs_status", "status"),
        Index("idx_active_subs", "user_id", postgresql_where=text("status = 'active'")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("subscription_plans.id"))
    status: Mapped[str] = mapped_column(String(50))
    current_period_start: Mapped[datetime]
    current_period_end: Mapped[datetime]
    cancel_at_period_end: Mapped[bool | None] = mapped_column(server_default=text("false"))
    canceled_at: Mapped[datetime | None]
    trial_start: Mapped[datetime | None]
    trial_end: Mapped[datetime | None]
    razorpay_subscription_id: Mapped[str | None] = mapped_column(String(255))
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))
    cashfree_subscription_id: Mapped[str | None] = mapped_column(String(255))
    # Not in the design's table: PayPal's subscription id (I-...), unique (migration d4e9f3a7b2c1).
    paypal_subscription_id: Mapped[str | None] = mapped_column(String(255), unique=True)


class Payment(TimestampMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        Index("idx_payments_user", "user_id"),
        Index("idx_payments_sub", "subscription_id"),
        Index("idx_payments_status", "status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("subscriptions.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(50))
    payment_gateway: Mapped[str | None] = mapped_column(String(50))
    gateway_payment_id: Mapped[str | None] = mapped_column(String(255))
    gateway_order_id: Mapped[str | None] = mapped_column(String(255))
    gateway_response: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    invoice_url: Mapped[str | None] = mapped_column(Text)
    receipt_url: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]
    refund_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (Index("idx_invoices_user", "user_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payments.id"))
    invoice_number: Mapped[str] = mapped_column(String(50), unique=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    tax_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), server_default=text("0"))
    total_amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3))
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    gst_number: Mapped[str | None] = mapped_column(String(50))
    invoice_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(20), server_default=text("'draft'"))
    issued_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    created_at: Mapped[datetime | None] = created_at_column()


class UsageTracking(TimestampMixin, Base):
    __tablename__ = "usage_tracking"
    __table_args__ = (
        Index("idx_usage_user", "user_id"),
        Index("idx_usage_period", "period_start", "period_end"),
        # current_usage() upserts ON CONFLICT (user_id, period_start).
        UniqueConstraint("user_id", "period_start", name=conv("uq_usage_tracking_user_id")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("subscriptions.id"))
    period_start: Mapped[date]
    period_end: Mapped[date]
    content_uploads: Mapped[int | None] = mapped_column(server_default=text("0"))
    ai_credits_used: Mapped[int | None] = mapped_column(server_default=text("0"))
    storage_used_bytes: Mapped[int | None] = mapped_column(BigInteger, server_default=text("0"))
    api_calls: Mapped[int | None] = mapped_column(server_default=text("0"))
    upload_limit: Mapped[int | None]
    credit_limit: Mapped[int | None]
    storage_limit_bytes: Mapped[int | None] = mapped_column(BigInteger)


class InvoiceCounter(Base):
    """The last invoice number issued per Indian financial year (e.g. "2026-27")."""

    __tablename__ = "invoice_counters"

    financial_year: Mapped[str] = mapped_column(String(7), primary_key=True)
    last_number: Mapped[int]
