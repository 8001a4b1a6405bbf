"""The one engine and session factory, built from `Settings` and passed down explicitly."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria

from core.db.base import SoftDeleteMixin

# Row-level security (core.db.tenancy): a session whose info names an organization acts for it.
APP_ROLE = "recast_app"
# The cross-tenant work's role (BYPASSRLS), for a login role that is not the tables' owner (migration c4d8e2a6f1b3).
MAINTENANCE_ROLE = "recast_maintenance"
TENANT_KEY = "recast_tenant"
MAINTENANCE_KEY = "recast_maintenance"
# Set by each entry point once it knows who is acting (a chat user, a Slack team, a work unit's owner):
# every session opened under it acts for that organization. Context variables follow asyncio tasks and
# SQLAlchemy's greenlets, so a handler's own sessions and the tasks it starts act for it too.
_ACTING: ContextVar[uuid.UUID | None] = ContextVar("recast_acting_organization", default=None)
# Set by the work that spans tenants by design (`as_maintenance`). On an RLS-bound login role a session that
# is neither acting for an organization nor maintenance sees no tenant's rows: forgetting to say who acts
# denies instead of leaking.
_MAINTENANCE: ContextVar[bool] = ContextVar("recast_maintenance", default=False)
# Per pooled connection: whether its login role is bound by the policies (not a superuser, no BYPASSRLS).
_BOUND_KEY = "recast_login_bound_by_rls"
# The connection a session's savepoint began on, when it joined a transaction it did not begin (tests).
_JOINED_KEY = "recast_tenant_joined_connection"
# The organization `acting_briefly_for` has switched the transaction to, while it has.
_BRIEFLY_KEY = "recast_tenant_briefly"


def acting_organization(info: Mapping[str, Any]) -> uuid.UUID | None:
    """The organization a session with this `info` acts for right now: a brief crossing's
    (`acting_briefly_for`), else its own setting, else the ambient one."""
    for key in (_BRIEFLY_KEY, TENANT_KEY):
        if isinstance(value := info.get(key), uuid.UUID):
            return value
    return _ACTING.get()


def ambient_organization() -> uuid.UUID | None:
    return _ACTING.get()


@contextmanager
def acting_for(organization_id: uuid.UUID | None) -> Iterator[None]:
    """Sessions opened inside act for `organization_id` (None: as the tables' owner, for the sweeps)."""
    token = _ACTING.set(organization_id)
    try:
        yield
    finally:
        _ACTING.reset(token)


def set_acting(organization_id: uuid.UUID | None) -> None:
    """`acting_for` for a whole task (an adapter's request task): lasts until the task ends."""
    _ACTING.set(organization_id)


@contextmanager
def as_maintenance() -> Iterator[None]:
    """Sessions opened inside run as the maintenance role: unbound by the tenant policies, for the work that
    spans organizations by design (sweeps, periodic collection, a lookup that finds who acts). Sessions
    that act for an organization inside still act for it. On the tables' owner (development, tests) this
    changes nothing: the owner is not bound by the policies anyway."""
    token, acting = _MAINTENANCE.set(True), _ACTING.set(None)
    try:
        yield
    finally:
        _ACTING.reset(acting)
        _MAINTENANCE.reset(token)


@contextmanager
def acting_or_maintenance(organization_id: uuid.UUID | None) -> Iterator[None]:
    """For stored work: act for the organization that queued it, or, for work nobody's session queued (a
    periodic task, a gateway event before its payer is known), run as maintenance."""
    with acting_for(organization_id) if organization_id is not None else as_maintenance():
        yield


def in_maintenance(info: Mapping[str, Any]) -> bool:
    return bool(info.get(MAINTENANCE_KEY)) or _MAINTENANCE.get()


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


@asynccontextmanager
async def maintenance_scope(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """`session_scope` as maintenance (`as_maintenance`): for a door's pre-identity work, e.g. which
    organization a Slack team belongs to, or a Slack install that creates one."""
    with as_maintenance():
        async with session_scope(sessionmaker) as session:
            yield session


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


async def act_from_here(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """Act for `organization_id` from this statement on, inside a transaction that began as the owner: for
    work whose owner is only known once a shared row is read (a gateway event's payment, an OAuth state).
    The rest of this transaction and the session's later ones act for it."""
    current = acting_organization(session.info) if session.in_transaction() else None
    if current is not None and current != organization_id:
        raise RuntimeError("a session acting for one organization cannot switch to another")
    session.info[TENANT_KEY] = organization_id
    await session.execute(_ACT, {"role": APP_ROLE, "org": str(organization_id)})
    connection = (await session.connection()).sync_connection
    if connection is not None and connection.in_nested_transaction():
        session.info[_JOINED_KEY] = connection


async def act_from_here_if_bound(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """`act_from_here` for a session that acts for no one on an RLS-bound login (a door before the person
    existed: /start, a Slack install); a session acting already, maintenance and the tables' owner are
    left as they are."""
    if acting_organization(session.info) is not None or in_maintenance(session.info):
        return
    connection = (await session.connection()).sync_connection  # begun: `_act_for_tenant` asked the login
    if connection is not None and connection.connection.info.get(_BOUND_KEY):
        await act_from_here(session, organization_id)


@asynccontextmanager
async def acting_briefly_for(session: AsyncSession, organization_id: uuid.UUID | None) -> AsyncIterator[None]:
    """Inside a transaction acting for one organization, act for `organization_id` for a few statements,
    then for the first again: the one sanctioned crossing, for rows that belong to someone else by design
    (the payer's usage counters when an agency's workflow works on a member's draft). A no-op for owner
    sessions and for the organization already acting."""
    current = acting_organization(session.info)
    if current is None or organization_id is None or organization_id == current:
        yield  # nested inside another crossing to the same organization, too
        return
    await session.execute(_ACT, {"role": APP_ROLE, "org": str(organization_id)})
    outer = session.info.get(_BRIEFLY_KEY)
    session.info[_BRIEFLY_KEY] = organization_id
    try:
        yield
    except BaseException:
        with suppress(Exception):  # an aborted transaction is rolled back whole anyway
            await session.execute(_ACT, {"role": APP_ROLE, "org": str(current)})
        raise
    else:
        await session.execute(_ACT, {"role": APP_ROLE, "org": str(current)})
    finally:
        if outer is None:
            session.info.pop(_BRIEFLY_KEY, None)
        else:
            session.info[_BRIEFLY_KEY] = outer


_ACT = text("SELECT set_config('role', :role, true), set_config('recast.organization_id', :org, true)")
LOGIN_BOUND_SQL = "SELECT NOT (rolsuper OR rolbypassrls) FROM pg_roles WHERE rolname = session_user"
_BOUND = text(LOGIN_BOUND_SQL)
_STOP_ACTING = text("SELECT set_config('role', 'none', true), set_config('recast.organization_id', '', true)")


@event.listens_for(Session, "after_begin")
def _act_for_tenant(session: Session, transaction: SessionTransaction, connection: Any) -> None:
    organization_id = acting_organization(session.info)
    if organization_id is not None:
        role, org = APP_ROLE, str(organization_id)
    elif not _login_bound_by_rls(connection):
        return  # the tables' owner: the policies do not bind it, and maintenance needs nothing more
    else:
        # An RLS-bound login role has no privileges of its own (NOINHERIT): each transaction takes the
        # application role acting for no one (it sees no tenant's rows), or the maintenance role.
        role, org = (MAINTENANCE_ROLE if in_maintenance(session.info) else APP_ROLE), ""
    # One round trip (`role` is the setting SET ROLE sets); both are transaction-local, so the pooled
    # connection goes back as its login role with no organization.
    connection.execute(_ACT, {"role": role, "org": org})
    if connection.in_nested_transaction():
        # The session's "transaction" is a savepoint in a transaction someone else began (the tests'
        # rolled-back connection): releasing a savepoint keeps SET LOCAL, so undo it when the session ends.
        session.info[_JOINED_KEY] = connection


def _login_bound_by_rls(connection: Any) -> bool:
    """Whether the connection logged in as a role the policies bind, asked once per pooled connection."""
    info = connection.connection.info
    if _BOUND_KEY not in info:
        info[_BOUND_KEY] = bool(connection.execute(_BOUND).scalar())
    return bool(info[_BOUND_KEY])


@event.listens_for(Session, "after_transaction_end")
def _stop_acting_on_joined_connection(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    connection = session.info.pop(_JOINED_KEY, None)
    if connection is not None and connection.in_transaction() and not connection.closed:
        connection.execute(_STOP_ACTING)
