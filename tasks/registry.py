"""Every task by its stable name. Tasks are thin: they call one core service with ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TASKS: dict[str, Callable[..., Any]] = {}


def task(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        TASKS[name] = func
        return func

    return register


def load_all() -> None:
    """Import the task modules so their `@task` decorators run."""
    import importlib

    for module in ("tasks.pipeline", "tasks.billing", "tasks.slack", "tasks.maintenance"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
