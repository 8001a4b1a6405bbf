"""slack_approval_messages.revision_ts: the thread reply showing a request's latest version

Approvals update the request's message in place; once a new version is posted in its thread, that reply is
redrawn too (and an older one loses its buttons), so only the latest version offers buttons that act.

Revision ID: f6a1b5c9d4e3
Revises: a7c2d9e1f4b6
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f6a1b5c9d4e3"
down_revision: str | None = "a7c2d9e1f4b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("slack_approval_messages", sa.Column("revision_ts", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("slack_approval_messages", "revision_ts")
