"""Acting for one organization: the database's row-level security, not each query's WHERE, keeps the
other organizations' rows out of reach.

A session opened with `tenant_session(sessionmaker, organization_id)` starts every transaction with
`SET LOCAL ROLE recast_app` and the acting organization in `recast.organization_id`; the policies
(migration f7b2c8d4e1a9) then show and accept only that organization's rows, and a creator's own rows
(written with their user id and no organization) in their personal organization. `recast_app` with no
organization set sees nothing.

Sessions opened without a tenant run as the connecting role, the tables' owner, which the policies do not
bind: that is the operator's maintenance and the cross-tenant sweeps (work queue, collection, roll-ups).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from core.db.session import (
    APP_ROLE,
    TENANT_KEY,
    act_from_here,
    acting_for,
    acting_organization,
    session_scope,
    set_acting,
)

__all__ = [
    "APP_ROLE",
    "SHARED_TABLES",
    "act_for",
    "act_from_here",
    "acting_for",
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
