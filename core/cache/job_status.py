"""`job:{id}:status` in Redis (schema.md's cache section): the live progress of a pipeline run.

Every key has a TTL so abandoned jobs never leave state behind.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from redis.asyncio import Redis

STATUS_TTL_SECONDS = 7 * 24 * 3600

STAGES: list[tuple[str, str]] = [
    ("received", "Received"),
    ("extracting", "Extracting audio"),
    ("transcribing", "Transcribing"),
    ("analysing", "Analysing"),
    ("planning", "Planning formats"),
    ("generating", "Writing drafts"),
    ("delivering", "Sending drafts"),
    ("completed", "Done"),
]


@dataclass
class JobStatus:
    status: str  # queued | processing | completed | failed | cancelled
    stage: str
    progress: int
    detail: str = ""


def status_key(job_id: UUID | str) -> str:
    return f"job:{job_id}:status"


async def set_status(redis: Redis, job_id: UUID | str, status: JobStatus) -> None:
    await redis.set(status_key(job_id), json.dumps(asdict(status)), ex=STATUS_TTL_SECONDS)


async def get_status(redis: Redis, job_id: UUID | str) -> JobStatus | None:
    raw = await redis.get(status_key(job_id))
    if raw is None:
        return None
    data: dict[str, Any] = json.loads(raw)
    return JobStatus(**data)


def render_progress(status: JobStatus, *, width: int = 12) -> str:
    """A text progress bar for chat: `▓▓▓▓▓░░░░░░░ 42% · Transcribing`."""
    filled = round(width * max(0, min(100, status.progress)) / 100)
    label = dict(STAGES).get(status.stage, status.stage.title())
    bar = "▓" * filled + "░" * (width - filled)
    line = f"{bar} {status.progress}% · {label}"
    return f"{line}\n{status.detail}" if status.detail else line
