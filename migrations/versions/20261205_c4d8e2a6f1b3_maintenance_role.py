"""recast_maintenance: the role the cross-tenant sweeps switch to when the app logs in as an RLS-bound role

Production connects as a login role that is a member of `recast_app` (subject to the tenant policies, so a
session that names no organization sees no tenant's rows) and of `recast_maintenance` (BYPASSRLS, which a
member gets only by switching to it: role attributes are not inherited). `core.db.session.as_maintenance`
switches a transaction to it, for the work that spans tenants by design: the work queue's sweeps, the
periodic collection and roll-ups, a gateway event before its payer is known, a pre-identity lookup.
`recast db login-role NAME` creates such a login role. Migrations keep running as the tables' owner.

The partition function creates partitions, which only the table's owner may: SECURITY DEFINER lets the
nightly maintenance call it as that owner.

Revision ID: c4d8e2a6f1b3
Revises: b3e7d1f9a2c5
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c4d8e2a6f1b3"
down_revision: str | None = "b3e7d1f9a2c5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAINTENANCE_ROLE = "recast_maintenance"


def upgrade() -> None:
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{MAINTENANCE_ROLE}') THEN
                CREATE ROLE {MAINTENANCE_ROLE} NOLOGIN BYPASSRLS;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- another database on the same server made it at the same moment (roles are server-wide)
        END $$
        """
    )
    op.execute(f"GRANT {MAINTENANCE_ROLE} TO CURRENT_USER")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {MAINTENANCE_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {MAINTENANCE_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {MAINTENANCE_ROLE}")
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
        f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {MAINTENANCE_ROLE}"
    )
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {MAINTENANCE_ROLE}")
    op.execute("ALTER FUNCTION recast_ensure_engagement_partitions(int, int) SECURITY DEFINER SET search_path = public")


def downgrade() -> None:
    op.execute("ALTER FUNCTION recast_ensure_engagement_partitions(int, int) SECURITY INVOKER RESET search_path")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {MAINTENANCE_ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {MAINTENANCE_ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {MAINTENANCE_ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {MAINTENANCE_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {MAINTENANCE_ROLE}")
