"""Every task by its stable name. Tasks are thin: they call one core service with ids.

A task is the handler of a kind of durable work unit (`core.work`): `@task(name)` registers it there,
with the unit's dedupe key (so submitting the same work twice finds the first) and its give-up hook.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from core.work import registry as work_registry
from core.work.registry import DedupeKey, GiveUp

TASK_MODULES = (
    "tasks.pipeline",
    "tasks.billing",
    "tasks.slack",
    "tasks.distribution",
    "tasks.analytics",
    "core.notify.outbox",
    "core.accounts.deletion",
)


def task(
    name: str,
    *,
    key: DedupeKey | None = None,
    on_give_up: GiveUp | None = None,
    max_attempts: int = 5,
    channel: str = "worker",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return work_registry.unit_handler(name, key=key, on_give_up=on_give_up, max_attempts=max_attempts, channel=channel)


def load_all() -> Mapping[str, Callable[..., Any]]:
    """Import the task modules so their `@task` decorators run (an import error is an error)."""
    for module in TASK_MODULES:
        importlib.import_module(module)
    return TASKS


class _Tasks(Mapping[str, Callable[..., Any]]):
    def __getitem__(self, name: str) -> Callable[..., Any]:
        return work_registry.HANDLERS[name].run

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(work_registry.HANDLERS)

    def __len__(self) -> int:
        return len(work_registry.HANDLERS)


TASKS: Mapping[str, Callable[..., Any]] = _Tasks()
