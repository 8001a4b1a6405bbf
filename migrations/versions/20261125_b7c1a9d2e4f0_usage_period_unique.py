"""usage_tracking UNIQUE(user_id, period_start) and per-financial-year invoice counters

`core.billing.usage.current_usage` upserts the period row with ON CONFLICT (user_id, period_start),
which needs this unique constraint. `invoice_counters` holds one row per Indian financial year; the
invoice service increments it with an upsert so two invoices issued together never share a number.

Revision ID: b7c1a9d2e4f0
Revises: 77b11f54d137
Create Date: 2026-11-25 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7c1a9d2e4f0"
down_revision: str | None = "77b11f54d137"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_unique_constraint(op.f("uq_usage_tracking_user_id"), "usage_tracking", ["user_id", "period_start"])
    op.create_table(
        "invoice_counters",
        sa.Column("financial_year", sa.String(length=7), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("financial_year", name=op.f("pk_invoice_counters")),
    )


def downgrade() -> None:
    op.drop_table("invoice_counters")
    op.drop_constraint(op.f("uq_usage_tracking_user_id"), "usage_tracking", type_="unique")
