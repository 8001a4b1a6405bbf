"""Who is acting, through which door: set once at each adapter's edge, read by every audit row.

Services never pass it along: a context variable carries it, and asyncio copies it into every task
created while it is set (lazy Slack listeners, a worker's unit, aiogram's background handling).
`core.system.models` fills each `AuditLog`'s channel, source address and user agent from it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass, replace

# The doors an audit row can come through (the CHECK on audit_logs.channel).
CHANNELS = ("telegram", "slack", "web", "gateway", "platform", "worker", "operator")


@dataclass(frozen=True)
class AuditSource:
    channel: str
    ip_address: str | None = None
    user_agent: str | None = None
    actor: str | None = None  # the door's own name for who acted ("telegram:123", "slack:T1/U2", "operator:ana")

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown audit channel {self.channel!r}")

    def but(self, *, channel: str) -> AuditSource:
        """The same address, user agent and actor, through another door."""
        return replace(self, channel=channel)


_current: ContextVar[AuditSource | None] = ContextVar("recast_audit_source", default=None)


def current() -> AuditSource | None:
    return _current.get()


def set_source(source: AuditSource | None) -> Token[AuditSource | None]:
    return _current.set(source)


def reset(token: Token[AuditSource | None]) -> None:
    _current.reset(token)


@contextlib.contextmanager
def acting_as(source: AuditSource) -> Iterator[AuditSource]:
    """Audit rows made inside the block carry `source`."""
    token = _current.set(source)
    try:
        yield source
    finally:
        _current.reset(token)
