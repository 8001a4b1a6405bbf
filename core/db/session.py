"""The one engine and session factory, built from `Settings` and passed down explicitly."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria

from core.db.base import SoftDeleteMixin

# Row-level security (core.db.tenancy): a session whose info names an organization acts for it.
APP_ROLE = "recast_app"
TENANT_KEY = "recast_tenant"


def acting_organization(info: Mapping[str, Any]) -> uuid.UUID | None:
    value = info.get(TENANT_KEY)
    return value if isinstance(value, uuid.UUID) else None


def async_database_url(url: str) -> str:
    """Accept `postgresql://`, `postgres://` and `postgresql+asyncpg://`; return the asyncpg form."""
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a PostgreSQL URL (postgresql://...)")


def make_engine(database_url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    return create_async_engine(async_database_url(database_url), pool_size=pool_size, pool_pre_ping=True, echo=echo)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: tasks and handlers read attributes after the commit that owns them.
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


@event.listens_for(Session, "do_orm_execute")
def _hide_soft_deleted(state: ORMExecuteState) -> None:
    # Default queries never see soft-deleted rows; `include_deleted=True` opts out (admin, purge jobs).
    if (
        state.is_select
        and not state.is_column_load
        and not state.is_relationship_load
        and not state.execution_options.get("include_deleted", False)
    ):
        state.statement = state.statement.options(
            with_loader_criteria(
                SoftDeleteMixin,
                lambda cls: cls.deleted_at.is_(None),
                include_aliases=True,
            )
        )


@event.listens_for(Session, "after_begin")
def _act_for_tenant(session: Session, transaction: SessionTransaction, connection: Any) -> None:
    organization_id = acting_organization(session.info)
    if organization_id is None:
        return
    # Both are transaction-local: the pooled connection goes back as the owner with no organization.
    connection.execute(text(f"SET LOCAL ROLE {APP_ROLE}"))
    connection.execute(text("SELECT set_config('recast.organization_id', :org, true)"), {"org": str(organization_id)})
