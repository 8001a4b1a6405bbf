"""Meta collection's loose ends: a connection's missing insights permission, and per-change webhook receipts

`platform_connections.insights_blocked_at`: when collection found that the account's token lacks the
insights permission (Graph code 10 / 200 family, or the granted scopes lack it) and told the owner; the
connection's posts stop being collected until it is reconnected, which clears it.

`platform_change_receipts`: one row per platform change already counted (a comment's or reaction's add or
remove), so the same change redelivered in another Meta delivery moves the counters once.

Revision ID: d5e9f3b7a2c4
Revises: c4d8e2a6f1b3
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d5e9f3b7a2c4"
down_revision: str | None = "c4d8e2a6f1b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("platform_connections", sa.Column("insights_blocked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "platform_change_receipts",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("change_key", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True),
        sa.PrimaryKeyConstraint("platform", "object_id", "change_key", name=op.f("pk_platform_change_receipts")),
    )


def downgrade() -> None:
    op.drop_table("platform_change_receipts")
    op.drop_column("platform_connections", "insights_blocked_at")
