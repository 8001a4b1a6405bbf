"""Which failures are worth retrying: infrastructure blips, not what the work itself got wrong."""

from __future__ import annotations

import asyncio
import errno

import asyncpg
import redis.exceptions
from sqlalchemy import exc as sa_exc

from core.notify.ports import SendFailed

# SQLSTATE classes that a retry can cure: connection exceptions, serialization failure, deadlock,
# "cannot connect now" (startup/shutdown), admin shutdown, too many connections.
_TRANSIENT_SQLSTATES = ("08", "40001", "40P01", "57P01", "57P02", "57P03", "53300")


# One return per family of failure (exception groups, chat sends, domain errors, sockets, Redis, asyncpg,
# SQLAlchemy): the function reads top to bottom as the list of what retries; splitting it would scatter that list.
def is_transient(exc: BaseException) -> bool:  # noqa: PLR0911
    """True for errors that a later attempt may not meet: connections refused or dropped, timeouts,
    serialization failures and deadlocks, Redis outages, a chat send the provider asked us to retry.
    An exception group is transient only if every error in it is."""
    if isinstance(exc, BaseExceptionGroup):
        return all(is_transient(e) for e in exc.exceptions)
    if isinstance(exc, SendFailed):
        return exc.retry
    if getattr(exc, "transient", None) is True:  # a domain error that knows it is a blip (GatewayError)
        return True
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | ConnectionError):
        return True
    if isinstance(exc, OSError) and _is_network_oserror(exc):
        return True
    if isinstance(
        exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError | redis.exceptions.BusyLoadingError
    ):
        return True
    if isinstance(exc, asyncpg.exceptions.PostgresConnectionError | asyncpg.exceptions.InterfaceError):
        return True
    if isinstance(exc, asyncpg.exceptions.PostgresError):
        state = getattr(exc, "sqlstate", "") or ""
        return state.startswith(_TRANSIENT_SQLSTATES)
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
        inner = getattr(orig, "__cause__", None) or orig
        if inner is not None and inner is not exc and is_transient(inner):
            return True
        return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
    if isinstance(exc, sa_exc.TimeoutError):  # pool checkout timeout
        return True
    cause = exc.__cause__
    return cause is not None and cause is not exc and isinstance(cause, ConnectionError)


_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EPIPE,
    errno.ETIMEDOUT,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ENETDOWN,
    errno.EHOSTDOWN,
}


def _is_network_oserror(exc: OSError) -> bool:
    # A missing or unreadable file is an OSError too, and permanent; only network failures retry.
    # asyncpg reports "all addresses refused" as OSError("Multiple exceptions: ...") without an errno.
    if exc.errno in _NETWORK_ERRNOS:
        return True
    return exc.errno is None and ("Connect call failed" in str(exc) or "Multiple exceptions" in str(exc))
