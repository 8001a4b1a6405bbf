"""calendar_entries get real columns for their state: status, the scheduled post, when it was decided

The seed's table has no status or post column, so the calendar kept an entry's state in its `tags`
(`suggested` / `accepted` / `dismissed`, `post:<id>`). Columns let the database check the state, link the
post with a foreign key (a deleted post lets its slot go) and index what `/calendar` reads. Existing tag
state is carried over, and the state tags removed; `format:` and `strategy:` stay in `tags`.

Revision ID: a8c3d9e2f4b6
Revises: f7b2c8d4e1a9
Create Date: 2026-12-03 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a8c3d9e2f4b6"
down_revision: str | None = "f7b2c8d4e1a9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "calendar_entries",
        sa.Column("status", sa.String(length=20), server_default=sa.text("'suggested'"), nullable=False),
    )
    op.add_column("calendar_entries", sa.Column("scheduled_post_id", sa.UUID(), nullable=True))
    op.add_column("calendar_entries", sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        "ck_calendar_entries_status", "calendar_entries", "status IN ('suggested', 'accepted', 'dismissed')"
    )
    op.create_foreign_key(
        "fk_calendar_entries_scheduled_post_id_scheduled_posts",
        "calendar_entries",
        "scheduled_posts",
        ["scheduled_post_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index("idx_calendar_entries_calendar_status", "calendar_entries", ["calendar_id", "status"])
    op.execute(
        """
        UPDATE calendar_entries e SET
            status = CASE WHEN 'dismissed' = ANY(e.tags) THEN 'dismissed'
                          WHEN 'accepted' = ANY(e.tags) THEN 'accepted' ELSE 'suggested' END,
            scheduled_post_id = (
                SELECT p.id FROM scheduled_posts p, unnest(e.tags) t
                WHERE t LIKE 'post:%' AND p.id::text = substr(t, 6) LIMIT 1
            ),
            decided_at = CASE WHEN 'dismissed' = ANY(e.tags) OR 'accepted' = ANY(e.tags) THEN e.created_at END,
            tags = ARRAY(SELECT t FROM unnest(e.tags) t
                         WHERE t NOT IN ('suggested', 'accepted', 'dismissed') AND t NOT LIKE 'post:%')
        WHERE e.tags IS NOT NULL
        """
    )


def downgrade() -> None:
    op.execute(
        """
        UPDATE calendar_entries SET tags = ARRAY[status]
            || coalesce(tags, ARRAY[]::text[])
            || CASE WHEN scheduled_post_id IS NULL THEN ARRAY[]::text[]
                    ELSE ARRAY['post:' || scheduled_post_id::text]::text[] END
        """
    )
    op.drop_index("idx_calendar_entries_calendar_status", table_name="calendar_entries")
    op.drop_constraint("fk_calendar_entries_scheduled_post_id_scheduled_posts", "calendar_entries", type_="foreignkey")
    op.drop_constraint("ck_calendar_entries_status", "calendar_entries", type_="check")
    op.drop_column("calendar_entries", "decided_at")
    op.drop_column("calendar_entries", "scheduled_post_id")
    op.drop_column("calendar_entries", "status")
