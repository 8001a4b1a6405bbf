"""The inbox's hot path: a gateway event and its work unit in one INSERT on a lean asyncpg pool.

(The rest of the inbox — claiming, marking, re-driving — is `core.inbox.service`; this module is the
one write that must be fast, used by the web process's gateway endpoints.)

Why not an ORM session per request: profiling the bench showed six PostgreSQL round trips per event
(pool pre-ping = BEGIN, `;`, ROLLBACK; then BEGIN, INSERT, COMMIT) plus SQLAlchemy statement
construction, most of the handler's time. One autocommitted statement is just as durable: when it
returns, the row is committed, so the event is still stored before it is acknowledged, and the unique
(sender, sender_event_id) still decides which of several concurrent deliveries is the new one.

What a request holds can never make the INSERT fail: the body and the header block go in as bytea
exactly as received; the text columns (event id, type, the decoded `headers` jsonb) get text that
PostgreSQL accepts (no NUL, no undecodable bytes). So a failing INSERT means our storage is down, and
the handler answers 503 for the gateway to retry.

The pool connects with the URL of the engine that `deps.sessionmaker` is bound to, at startup or, if
the database was unreachable then, on the first event. asyncpg does not ping on acquire; a connection
the server dropped raises once, and the gateway retries the delivery.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from core.db.session import APP_ROLE, LOGIN_BOUND_SQL
from core.inbox.models import EventStatus

log = logging.getLogger(__name__)

# The event and the work unit that will process it, in one statement: a stored event always has its
# unit (a malformed one needs none), so nothing depends on the queue being up when the gateway is answered.
INSERT_EVENT = (
    "WITH ev AS ("
    " INSERT INTO gateway_events"
    " (sender, sender_event_id, event_type, raw_body, headers, raw_headers, status, last_error)"
    " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)"
    " ON CONFLICT (sender, sender_event_id) DO NOTHING RETURNING id),"
    " unit AS ("
    " INSERT INTO work_units (kind, dedupe_key, payload, max_attempts, enqueued_at)"
    " SELECT $9, ev.id::text, jsonb_build_object('event_id', ev.id::text), 10, now() FROM ev"
    " WHERE $7 = 'received'"
    " ON CONFLICT (kind, dedupe_key) DO NOTHING RETURNING id)"
    " SELECT ev.id AS event_id, unit.id AS unit_id FROM ev LEFT JOIN unit ON true"
)
PROCESS_TASK = "billing.process_gateway_event"  # the work unit kind that processes a stored gateway event
PLATFORM_TASK = "distribution.process_platform_event"  # ... and a stored platform event
PLATFORMS = ("meta", "linkedin", "tiktok", "youtube")


@dataclass(frozen=True)
class Stored:
    event_id: str
    unit_id: str | None  # None for a malformed event: nothing to process


def engine_of(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    bind = sessionmaker.kw.get("bind")
    if isinstance(bind, AsyncEngine):
        return bind
    if isinstance(bind, AsyncConnection):
        return bind.engine
    raise TypeError("the sessionmaker is not bound to an AsyncEngine")


def asyncpg_dsn(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def storable(value: str, limit: int) -> str:
    """`value` as text PostgreSQL takes: undecodable bytes (aiohttp's surrogate escapes) as \\xNN, NUL as
    \\x00; at most `limit` characters."""
    if value.isascii() and "\x00" not in value:
        return value[:limit]
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no decoder made: keep it visible as \udXXX
        raw = value.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")[:limit]


async def _reset(connection: asyncpg.Connection) -> None:
    # Only single autocommitted statements run here, so there is no session state to reset; skipping
    # asyncpg's default reset query saves a round trip per event.
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def _take_app_role(connection: asyncpg.Connection) -> None:
    # On an RLS-bound login role (production), which holds no privilege of its own, the inbox acts as the
    # application role for the connection's life: it only ever inserts into the shared event and work
    # tables, so there is no organization to name. On the tables' owner nothing changes.
    if await connection.fetchval(LOGIN_BOUND_SQL):
        await connection.execute(f"SET ROLE {APP_ROLE}")


class GatewayInbox:
    """Stores verified gateway events; started and closed with the aiohttp app."""

    def __init__(self, dsn: str, *, max_size: int = 10) -> None:
        self._dsn = dsn
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None
        self._closed = False
        self._lock = asyncio.Lock()

    async def _connect(self) -> asyncpg.Pool:
        async with self._lock:
            if self._closed:
                raise RuntimeError("GatewayInbox is closed")
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn, min_size=1, max_size=self._max_size, reset=_reset, init=_take_app_role
                )
            return self._pool

    async def start(self) -> None:
        try:
            await self._connect()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:  # TimeoutError is an OSError
            # The web process still starts (health shows the database down); events get 503 until then.
            log.warning("gateway inbox: database unreachable at startup (%s); connecting on the first event", exc)

    async def close(self) -> None:
        async with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def store(
        self,
        *,
        sender: str,
        event_id: str,
        event_type: str | None,
        malformed: str | None,
        body: bytes,
        headers: dict[str, str],
        raw_headers: bytes,
        process_kind: str = PROCESS_TASK,
    ) -> Stored | None:
        """Insert the event with its processing unit; None if (sender, event id) was already stored.

        A malformed event goes in with status `malformed` and the reason in `last_error`. Raises only
        when the database cannot be reached or written."""
        pool = self._pool or await self._connect()
        row: Any = await pool.fetchrow(
            INSERT_EVENT,
            sender,
            storable(event_id, 255),
            storable(event_type, 100) if event_type else None,
            body,
            json.dumps({k: storable(v, 2000) for k, v in headers.items()}),
            raw_headers,
            EventStatus.MALFORMED if malformed else EventStatus.RECEIVED,
            storable(malformed, 2000) if malformed else None,
            process_kind,
        )
        if row is None:
            return None
        return Stored(str(row["event_id"]), str(row["unit_id"]) if row["unit_id"] else None)
