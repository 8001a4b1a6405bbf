"""work_units: durable units of background work (state, attempts, lease, last error)

The queue carries only unit ids; claiming a unit is a conditional UPDATE on its row, and a sweeper
re-drives units whose lease expired or whose wake-up message was lost.

Revision ID: e5f0a4b8c3d2
Revises: d4e9f3a7b2c1
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e5f0a4b8c3d2"
down_revision: str | None = "d4e9f3a7b2c1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = ("queued", "running", "succeeded", "failed", "dead")


def upgrade() -> None:
    state = postgresql.ENUM(*STATES, name="work_unit_state", create_type=False)
    state.create(op.get_bind(), checkfirst=True)
    op.create_table(
        "work_units",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=True),
        sa.Column(
            "payload", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("state", state, server_default=sa.text("'queued'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default=sa.text("5"), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(length=100), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_units")),
        sa.UniqueConstraint("kind", "dedupe_key", name=op.f("uq_work_units_kind_dedupe_key")),
    )
    op.create_index(
        "idx_work_units_active",
        "work_units",
        ["state", "run_after"],
        postgresql_where=sa.text("state IN ('queued', 'running')"),
    )
    op.create_index("idx_work_units_kind_state", "work_units", ["kind", "state"])
    op.execute(
        "CREATE TRIGGER trg_work_units_updated_at BEFORE UPDATE ON work_units "
        "FOR EACH ROW EXECUTE FUNCTION recast_set_updated_at()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS trg_work_units_updated_at ON work_units")
    op.drop_index("idx_work_units_kind_state", table_name="work_units")
    op.drop_index("idx_work_units_active", table_name="work_units")
    op.drop_table("work_units")
    postgresql.ENUM(name="work_unit_state").drop(op.get_bind(), checkfirst=True)
