"""audit_logs.channel: the door an audited action came through

telegram, slack, web, gateway, platform (a platform's webhook), worker (durable work) or operator (the
`recast` command). Web rows also fill the long-unused ip_address and user_agent. Older rows stay NULL:
which door they came through was never recorded.

Revision ID: b3e7d1f9a2c5
Revises: b3e7c1d9f5a2
Create Date: 2026-12-04 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b3e7d1f9a2c5"
down_revision: str | None = "b3e7c1d9f5a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = ("telegram", "slack", "web", "gateway", "platform", "worker", "operator")


def upgrade() -> None:
    op.add_column("audit_logs", sa.Column("channel", sa.String(length=20), nullable=True))
    op.create_check_constraint("ck_audit_logs_channel", "audit_logs", f"channel IN {CHANNELS!r}")


def downgrade() -> None:
    op.drop_constraint("ck_audit_logs_channel", "audit_logs", type_="check")
    op.drop_column("audit_logs", "channel")
