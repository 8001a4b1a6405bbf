"""work_units remember the organization that asked for them, so the worker acts for it

Row-level security follows work across the queue: a unit submitted while a session acts for an
organization (`core.db.tenancy`) stores it, and the worker runs the unit's handler acting for the same
organization. Units submitted by the sweeps and the scheduler have none and run as the tables' owner.
No foreign key: the queue keeps its history of a deleted organization's work (the organization's rows go,
the record of what ran stays), and the queue's hot path never waits on `organizations`.

Revision ID: b3e7c1d9f5a2
Revises: a8c3d9e2f4b6
Create Date: 2026-12-04 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b3e7c1d9f5a2"
down_revision: str | None = "a8c3d9e2f4b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("work_units", sa.Column("organization_id", sa.UUID(), nullable=True))


def downgrade() -> None:
    op.drop_column("work_units", "organization_id")
