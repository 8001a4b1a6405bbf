"""gateway_events.raw_headers: the request's header block as received (bytea)

The jsonb `headers` column cannot hold what a request may carry: a non-UTF-8 byte in a header (or a
NUL) made the INSERT fail and the webhook answer 500, so the gateway retried a request that could
never be stored. `raw_headers` keeps every header line byte for byte (credentials excepted) beside
`raw_body`; `headers` stays the decoded, searchable subset. Nullable: rows stored before this have
none. Status `malformed` (authentic but no processable event) needs no schema change.

Revision ID: 08d34488dbc6
Revises: e5f0a4b8c3d2
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "08d34488dbc6"
down_revision: str | None = "e5f0a4b8c3d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("gateway_events", sa.Column("raw_headers", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("gateway_events", "raw_headers")
