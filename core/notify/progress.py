"""An upload's progress as facts (what is done, what is under way, how far along): each chat adapter
renders it in its own words and symbols (`bots/telegram/progress.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProgressState(StrEnum):
    QUEUED = "queued"  # accepted, waiting for a worker
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # the pipeline stopped on an error (`detail` says which)
    CANCELLED = "cancelled"
    REFUSED = "refused"  # never accepted (a link that cannot be fetched, over the plan): `detail` says why


class StepState(StrEnum):
    DONE = "done"
    CURRENT = "current"
    PENDING = "pending"


@dataclass(frozen=True)
class Step:
    label: str  # e.g. "Transcribing"
    state: StepState


@dataclass(frozen=True)
class Progress:
    title: str
    state: ProgressState
    percent: int = 0
    steps: tuple[Step, ...] = ()  # the pipeline's steps in order, the one under way CURRENT
    detail: str = ""  # e.g. "3 of 5 drafts ready", or the reason of a failure or refusal

    @property
    def current(self) -> str | None:
        """The label of the step under way (None when queued, failed or cancelled)."""
        return next((s.label for s in self.steps if s.state is StepState.CURRENT), None)
