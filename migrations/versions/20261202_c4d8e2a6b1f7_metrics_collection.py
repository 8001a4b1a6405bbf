"""Analytics collection: when each published post's figures are next due

`scheduled_posts.metrics_stage` counts the collections done (1 h, 6 h, 24 h, 3 d, 7 d and 30 d after
publishing) and `metrics_due_at` is when the next one is due (NULL: nothing more to collect). The partial
index keeps the collector's "what is due" query an index range scan however many posts were ever published.

Revision ID: c4d8e2a6b1f7
Revises: c4d8e2a6f1b9
Create Date: 2026-12-02 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4d8e2a6b1f7"
down_revision: str | None = "c4d8e2a6f1b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "scheduled_posts", sa.Column("metrics_stage", sa.SmallInteger(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column("scheduled_posts", sa.Column("metrics_due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "idx_scheduled_metrics_due",
        "scheduled_posts",
        ["metrics_due_at"],
        postgresql_where=sa.text("metrics_due_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("idx_scheduled_metrics_due", table_name="scheduled_posts")
    op.drop_column("scheduled_posts", "metrics_due_at")
    op.drop_column("scheduled_posts", "metrics_stage")
