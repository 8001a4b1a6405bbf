"""Every kind of work by its stable name, with its dedupe and give-up policies.

Handlers are registered by the modules that own them (`tasks/*.py`, `core.notify.outbox`) and run by
`core.work.runner.run_unit`; a handler takes the deps and the unit's JSON payload as keywords.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.deps import CoreDeps

Run = Callable[..., Coroutine[Any, Any, Any]]
# Called once when a unit ends FAILED or DEAD: tell its owner and leave nothing "processing".
GiveUp = Callable[["CoreDeps", dict[str, Any], str], Awaitable[None]]
DedupeKey = Callable[[dict[str, Any]], str | None]


@dataclass(frozen=True)
class Handler:
    name: str
    run: Run
    key: DedupeKey | None = None
    on_give_up: GiveUp | None = None
    max_attempts: int = 5
    # The audit channel of what its runs do: "worker", or the door the work came in by ("gateway"...).
    channel: str = "worker"


HANDLERS: dict[str, Handler] = {}


def unit_handler(
    name: str,
    *,
    key: DedupeKey | None = None,
    on_give_up: GiveUp | None = None,
    max_attempts: int = 5,
    channel: str = "worker",
) -> Callable[[Run], Run]:
    """Register `func(deps, **payload)` as the handler of units of kind `name`."""

    def register(func: Run) -> Run:
        if name in HANDLERS and HANDLERS[name].run is not func:
            raise ValueError(f"two handlers for work kind {name!r}")
        HANDLERS[name] = Handler(name, func, key, on_give_up, max_attempts, channel)
        return func

    return register


def handler_for(name: str) -> Handler:
    try:
        return HANDLERS[name]
    except KeyError:
        raise LookupError(f"unknown task {name!r}") from None
