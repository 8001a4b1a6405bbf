"""work_units remember who submitted them, so the worker acts for them; teammates see their usage rows

Row-level security follows work across the queue: a unit submitted while a session acts for an
organization (`core.db.tenancy`) stores it, and the worker runs the unit's handler acting for the same
organization. Units submitted by the sweeps and the scheduler have none and run as the tables' owner.
Also: usage counters of a person with no plan and no personal organization (a teammate added in Slack)
have no organization of their own, so an agency's transaction could neither see nor create them when its
workflow charges that person's draft; such rows are also visible to the organizations the person is an
active member of (`team_members` is itself filtered to the acting organization).

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


ACTING_ORG = "(SELECT recast_acting_org())"
ACTING_OWNER = "(SELECT recast_acting_owner())"
USAGE_BEFORE = f"organization_id = {ACTING_ORG} OR (organization_id IS NULL AND user_id = {ACTING_OWNER})"
USAGE_AFTER = (
    f"{USAGE_BEFORE} OR (organization_id IS NULL AND user_id IN "
    f"(SELECT m.user_id FROM team_members m WHERE m.organization_id = {ACTING_ORG} AND m.status = 'active'))"
)


def _usage_policy(expr: str) -> None:
    op.execute("DROP POLICY tenant_isolation ON usage_tracking")
    op.execute(f"CREATE POLICY tenant_isolation ON usage_tracking TO recast_app USING ({expr}) WITH CHECK ({expr})")


def upgrade() -> None:
    op.add_column("work_units", sa.Column("organization_id", sa.UUID(), nullable=True))
    _usage_policy(USAGE_AFTER)


def downgrade() -> None:
    _usage_policy(USAGE_BEFORE)
    op.drop_column("work_units", "organization_id")
