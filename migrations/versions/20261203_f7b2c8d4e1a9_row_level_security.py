"""Row-level security: the database, not each query's WHERE, keeps one organization's rows from another.

A transaction acts for one organization by `SET LOCAL ROLE recast_app` and
`set_config('recast.organization_id', <uuid>, true)` (`core.db.tenancy`). `recast_app` is not the tables'
owner, so every policy below applies to it; with no organization set it sees nothing (deny by default).

Each tenant-owned table resolves its row to an organization in one of two ways:
- **its own columns**: `organization_id` is the acting organization, or the row has no organization and
  belongs (`user_id`) to the owner of the acting *personal* organization (a creator's own rows are written
  with their user id only);
- **its parent**: the row is visible when its parent row is (an `EXISTS` on the parent, which the parent's
  own policy filters). A draft follows its upload, a metric its draft, an attempt its post.

The same expression is the `WITH CHECK`: a transaction cannot write a row it could not read.
Shared tables (identity resolution, the inbox, the work queue, plans, global counters) are listed, with
their reasons, in `core.db.tenancy.SHARED_TABLES`.

Revision ID: f7b2c8d4e1a9
Revises: e6f1a3c9d4b2
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f7b2c8d4e1a9"
down_revision: str | None = "e6f1a3c9d4b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "recast_app"

# (table, has a user_id column to fall back on for rows with no organization)
OWN_ORGANIZATION: list[tuple[str, bool]] = [
    ("client_accounts", False),
    ("team_members", False),
    ("content_assets", True),
    ("repurposing_jobs", True),
    ("brand_profiles", True),
    ("approval_workflows", False),
    ("content_calendars", True),
    ("platform_connections", True),
    ("subscriptions", True),
    ("usage_tracking", True),
    ("audit_logs", True),
    ("analytics_snapshots", True),
    ("analytics_snapshots_archive", True),
    ("slack_installations", False),  # its user_id is a Slack user id
    ("slack_invites", False),
    ("slack_workspaces", False),
]

# Rows that belong to a person, not an organization: visible in that person's personal organization.
OWN_USER = ["notifications", "cta_library", "hashtag_library", "sessions"]

# table -> visible when any of these parents is (parent table, foreign key column); `user` adds the
# personal-organization fallback for rows with none of the parents.
THROUGH_PARENT: dict[str, tuple[list[tuple[str, str]], bool]] = {
    "generated_content": ([("content_assets", "content_asset_id")], True),
    "content_analysis": ([("content_assets", "content_asset_id")], False),
    "repurposing_strategies": ([("content_assets", "content_asset_id")], False),
    "roi_calculations": ([("content_assets", "content_asset_id")], True),
    "approval_requests": ([("generated_content", "generated_content_id")], False),
    "revisions": ([("generated_content", "generated_content_id")], False),
    "qa_requests": ([("generated_content", "generated_content_id")], True),
    "seo_metrics": ([("generated_content", "generated_content_id")], False),
    "engagement_metrics": ([("generated_content", "generated_content_id")], False),
    "scheduled_posts": (
        [("generated_content", "generated_content_id"), ("platform_connections", "platform_connection_id")],
        True,
    ),
    "publish_attempts": ([("scheduled_posts", "scheduled_post_id")], False),
    "calendar_entries": ([("content_calendars", "calendar_id")], False),
    "brand_templates": ([("brand_profiles", "brand_profile_id")], False),
    "brand_voice_embeddings": ([("brand_profiles", "brand_profile_id")], False),
    "audience_profiles": ([("brand_profiles", "brand_profile_id")], False),
    "slack_channels": ([("client_accounts", "client_account_id"), ("slack_workspaces", "team_id")], False),
    "slack_approval_messages": ([("approval_requests", "approval_request_id")], False),
    "payments": ([("subscriptions", "subscription_id")], True),
    "invoices": ([("payments", "payment_id")], True),
}

# Parents referenced by a column other than their `id`.
PARENT_KEY = {("slack_workspaces", "team_id"): "team_id"}

ENSURE_PARTITIONS = """
CREATE OR REPLACE FUNCTION recast_ensure_engagement_partitions(from_year int, to_year int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    y int;
    part text;
    lo timestamptz;
    hi timestamptz;
BEGIN
    CREATE TABLE IF NOT EXISTS engagement_metrics_default PARTITION OF engagement_metrics DEFAULT;
    FOR y IN from_year..to_year LOOP
        part := 'engagement_metrics_' || y;
        CONTINUE WHEN to_regclass(quote_ident(part)) IS NOT NULL;
        lo := make_timestamptz(y, 1, 1, 0, 0, 0, 'UTC');
        hi := make_timestamptz(y + 1, 1, 1, 0, 0, 0, 'UTC');
        IF EXISTS (SELECT 1 FROM engagement_metrics_default
                   WHERE collected_at >= lo AND collected_at < hi) THEN
            EXECUTE format('CREATE TABLE %I (LIKE engagement_metrics INCLUDING DEFAULTS)', part);
            EXECUTE format(
                'WITH moved AS (DELETE FROM engagement_metrics_default'
                ' WHERE collected_at >= %L AND collected_at < %L RETURNING *)'
                ' INSERT INTO %I SELECT * FROM moved', lo, hi, part);
            EXECUTE format(
                'ALTER TABLE engagement_metrics ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                part, lo, hi);
        ELSE
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF engagement_metrics FOR VALUES FROM (%L) TO (%L)',
                part, lo, hi);
        END IF;
    END LOOP;
    -- Partitions are reached through engagement_metrics, whose policy applies; read directly they would
    -- bypass it, so the application role has no rights on them.
    FOR part IN SELECT inhrelid::regclass::text FROM pg_inherits
                WHERE inhparent = 'engagement_metrics'::regclass LOOP
        EXECUTE format('REVOKE ALL ON %s FROM recast_app', part);
    END LOOP;
END;
$$
"""

_REVOKE_START = ENSURE_PARTITIONS.index("    -- Partitions are reached")
_REVOKE_END = ENSURE_PARTITIONS.index("END;\n$$")
ENSURE_PARTITIONS_BEFORE = ENSURE_PARTITIONS[:_REVOKE_START] + ENSURE_PARTITIONS[_REVOKE_END:]

ACTING_ORG = "(SELECT recast_acting_org())"
ACTING_OWNER = "(SELECT recast_acting_owner())"


def _own_organization(has_user: bool) -> str:
    expr = f"organization_id = {ACTING_ORG}"
    if has_user:
        expr += f" OR (organization_id IS NULL AND user_id = {ACTING_OWNER})"
    return expr


def _through_parent(parents: list[tuple[str, str]], user_fallback: bool) -> str:
    parts = [
        f"EXISTS (SELECT 1 FROM {parent} p WHERE p.{PARENT_KEY.get((parent, column), 'id')} = {column})"
        for parent, column in parents
    ]
    if user_fallback:
        none_set = " AND ".join(f"{column} IS NULL" for _, column in parents)
        parts.append(f"({none_set} AND user_id = {ACTING_OWNER})")
    return " OR ".join(parts)


def policies() -> dict[str, str]:
    out = {table: _own_organization(has_user) for table, has_user in OWN_ORGANIZATION}
    out |= {table: f"user_id = {ACTING_OWNER}" for table in OWN_USER}
    out |= {table: _through_parent(parents, fallback) for table, (parents, fallback) in THROUGH_PARENT.items()}
    return out


# Templates: the system's own (no organization, no user) are read by everyone and written by no tenant.
TEMPLATES_READ = (
    f"organization_id = {ACTING_ORG} OR (organization_id IS NULL AND (user_id IS NULL OR user_id = {ACTING_OWNER}))"
)


def upgrade() -> None:
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- another database on the same server made it at the same moment (roles are server-wide)
        END $$
        """
    )
    # The migrating role may switch to the application role for a transaction (superusers always can).
    op.execute(f"GRANT {APP_ROLE} TO CURRENT_USER")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}"
    )
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}")
    op.execute(
        """
        CREATE FUNCTION recast_acting_org() RETURNS uuid LANGUAGE sql STABLE AS
        $$ SELECT NULLIF(current_setting('recast.organization_id', true), '')::uuid $$
        """
    )
    # The owner of the acting organization when it is a personal one: rows written with a user id and no
    # organization are that person's. SECURITY DEFINER: it reads `organizations` whatever the caller.
    op.execute(
        """
        CREATE FUNCTION recast_acting_owner() RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = public AS
        $$ SELECT owner_id FROM organizations WHERE id = recast_acting_org() AND type = 'individual' $$
        """
    )
    op.execute(ENSURE_PARTITIONS)
    op.execute("SELECT recast_ensure_engagement_partitions(0, -1)")  # no new years: only the revoke
    for table, expr in policies().items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {table} TO {APP_ROLE} USING ({expr}) WITH CHECK ({expr})")
    op.execute("ALTER TABLE templates ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON templates TO {APP_ROLE} USING ({TEMPLATES_READ})"
        f" WITH CHECK ({_own_organization(True)})"
    )


def downgrade() -> None:
    op.execute(ENSURE_PARTITIONS_BEFORE)
    for table in [*policies(), "templates"]:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION IF EXISTS recast_acting_owner()")
    op.execute("DROP FUNCTION IF EXISTS recast_acting_org()")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {APP_ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
