"""Acting for one organization: the database's row-level security, not each query's WHERE, keeps the
other organizations' rows out of reach.

A session opened with `tenant_session(sessionmaker, organization_id)` starts every transaction with
`SET LOCAL ROLE recast_app` and the acting organization in `recast.organization_id`; the policies
(migration f7b2c8d4e1a9) then show and accept only that organization's rows, and a creator's own rows
(written with their user id and no organization) in their personal organization. `recast_app` with no
organization set sees nothing.

Which role a session without a tenant runs as depends on how the process logged in:
- **Production** (`DATABASE_URL` names a login role made by `recast db login-role`, `DATABASE_OWNER_URL` the
  tables' owner): the login role has no privileges of its own (NOINHERIT). Each transaction takes
  `recast_app`: for its organization, or for no one, when it sees no tenant's row, so a path that forgets to
  say who acts is denied instead of leaking. The work that spans tenants by design asks for it by name with
  `as_maintenance()` (the `recast_maintenance` role, BYPASSRLS): the work queue's sweeps, org-less work
  units (periodic tasks, a gateway event before its payer is known) and the doors' pre-identity lookups
  (which organization a Slack team is). Migrations and the operator's commands use the owner URL.
- **Development and tests** (one URL, the tables' owner): sessions without a tenant run as the owner, which
  the policies do not bind, and `as_maintenance()` changes nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from core.db.session import (
    APP_ROLE,
    LOGIN_BOUND_SQL,
    MAINTENANCE_ROLE,
    TENANT_KEY,
    act_from_here,
    acting_for,
    acting_organization,
    as_maintenance,
    make_engine,
    session_scope,
    set_acting,
)

__all__ = [
    "APP_ROLE",
    "SHARED_TABLES",
    "act_for",
    "act_from_here",
    "acting_for",
    "as_maintenance",
    "ensure_login_role",
    "set_acting",
    "tenant_of",
    "tenant_session",
]

# Tables without a tenant policy, each with the reason; every other table has one (a schema test checks
# that the two lists cover every table).
SHARED_TABLES: dict[str, str] = {
    "users": "identity resolution: a chat or Slack user is found before the acting organization is known",
    "organizations": "identity resolution: which organization acts is what is being found",
    "chat_identities": "identity resolution: maps a Telegram/Slack account to its user",
    "email_verification_tokens": "looked up by the token a person holds, before anyone acts",
    "password_reset_tokens": "looked up by the token a person holds, before anyone acts",
    "gateway_events": "the inbox stores a delivery before its owner is resolved",
    "slack_event_receipts": "Slack retries are deduplicated before the team is resolved",
    "work_units": "the durable work queue spans every organization",
    "invoice_counters": "invoice numbers are one sequence per financial year, for the whole service",
    "subscription_plans": "the plan catalogue is the same for everyone",
    "system_settings": "service-wide settings",
    "platform_quota_usage": "a platform's daily quota belongs to Recast's developer app, not to a tenant",
    "platform_change_receipts": "a platform webhook's change is deduplicated by the platform's object id, "
    "which names no tenant (like slack_event_receipts)",
}


def tenant_of(session: AsyncSession | Session) -> uuid.UUID | None:
    """The organization a session acts for, or None for an owner session."""
    return acting_organization(session.info)


def act_for(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """Make every following transaction of `session` act for `organization_id` (the current one too if it
    has not begun)."""
    if session.in_transaction():
        raise RuntimeError("act_for must be called before the session's first statement")
    session.info[TENANT_KEY] = organization_id


@asynccontextmanager
async def tenant_session(
    sessionmaker: async_sessionmaker[AsyncSession], organization_id: uuid.UUID
) -> AsyncIterator[AsyncSession]:
    """`session_scope` acting for one organization: commit on success, roll back on any error."""
    async with session_scope(sessionmaker) as session:
        act_for(session, organization_id)
        yield session


async def login_bound_by_rls(url: str) -> bool:
    """Whether `url` logs in as a role the tenant policies bind (production's login role)."""
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return bool(await connection.scalar(text(LOGIN_BOUND_SQL)))
    finally:
        await engine.dispose()


class LoginRoleError(Exception):
    pass


async def ensure_login_role(owner_url: str, name: str, *, password: str | None) -> None:
    """Create (or update) `name` as a login role bound by the tenant policies: NOINHERIT, so it holds no
    privilege until a transaction switches to `recast_app` or `recast_maintenance`, both granted to it."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise LoginRoleError(f"{name!r} is not a plain role name (lower-case letters, digits, _)")
    engine = make_engine(owner_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            exists = await connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name})
            verb = "ALTER" if exists else "CREATE"
            await connection.execute(text(f"{verb} ROLE {name} LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS"))
            if password is not None:
                # A utility statement takes no bind parameters: quote the literal the server's way.
                quoted = await connection.scalar(text("SELECT quote_literal(:p)"), {"p": password})
                await connection.execute(text(f"ALTER ROLE {name} PASSWORD {quoted}"))
            await connection.execute(text(f"GRANT {APP_ROLE}, {MAINTENANCE_ROLE} TO {name}"))
            await connection.execute(text(f"GRANT CONNECT ON DATABASE {await _database(connection)} TO {name}"))
    finally:
        await engine.dispose()


async def _database(connection: AsyncConnection) -> str:
    return str(await connection.scalar(text("SELECT quote_ident(current_database())")))
