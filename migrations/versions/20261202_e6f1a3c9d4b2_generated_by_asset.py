"""An index on generated_content(content_asset_id)

An organization's or client account's figures find their drafts through the drafts' source assets; without
an index the join scans all of `generated_content` (the largest part of an agency's `/stats` in
bench/analytics.py at the seed's year-one volume).

Revision ID: e6f1a3c9d4b2
Revises: c7a4e9d2b5f1
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e6f1a3c9d4b2"
down_revision: str | None = "c7a4e9d2b5f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("idx_generated_asset", "generated_content", ["content_asset_id"])


def downgrade() -> None:
    op.drop_index("idx_generated_asset", table_name="generated_content")
