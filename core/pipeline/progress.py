"""An asset's live progress: `job:{asset_id}:status` in Redis, mirrored into the creator's status message
as a `Progress` fact (the chat adapter words it)."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.cache.job_status import STAGES, JobStatus, get_status, set_status
from core.content import service as content_service
from core.content.models import ContentAsset
from core.deps import CoreDeps
from core.notify.progress import Progress, ProgressState, Step, StepState
from core.pipeline.chat import chat_of

STAGE_PROGRESS = {
    "received": 2,
    "extracting": 10,
    "transcribing": 25,
    "analysing": 55,
    "planning": 65,
    "generating": 70,
    "delivering": 95,
    "completed": 100,
}

_STATES = {
    "queued": ProgressState.QUEUED,
    "processing": ProgressState.RUNNING,
    "completed": ProgressState.DONE,
    "failed": ProgressState.FAILED,
    "cancelled": ProgressState.CANCELLED,
}


def progress_of(title: str, status: JobStatus) -> Progress:
    """The live status as the fact a chat shows: each pipeline step done, under way or still to come."""
    state = _STATES.get(status.status, ProgressState.RUNNING)
    keys = [key for key, _ in STAGES]
    at = keys.index(status.stage) if status.stage in keys else None
    steps = []
    for index, (_, label) in enumerate(STAGES):
        if state is ProgressState.DONE or (at is not None and index < at):
            steps.append(Step(label, StepState.DONE))
        elif index == at:
            steps.append(Step(label, StepState.CURRENT))
        else:
            steps.append(Step(label, StepState.PENDING))
    return Progress(title, state, percent=status.progress, steps=tuple(steps), detail=status.detail)


def queued(title: str) -> Progress:
    """An asset accepted and waiting for a worker."""
    return Progress(title, ProgressState.QUEUED)


def refused(reason: str) -> Progress:
    """Content that was not accepted: the status message says why."""
    return Progress("", ProgressState.REFUSED, detail=reason)


async def report(
    deps: CoreDeps,
    asset: ContentAsset,
    stage: str,
    *,
    status: str = "processing",
    detail: str = "",
    progress: int | None = None,
) -> None:
    value = JobStatus(
        status=status,
        stage=stage,
        progress=progress if progress is not None else STAGE_PROGRESS.get(stage, 0),
        detail=detail,
    )
    if status == "processing" and await is_cancelled(deps, asset.id):
        return  # a step that was already under way when /cancel came: the chat says "Cancelled", and stays so
    previous = await get_status(deps.redis, asset.id)
    await set_status(deps.redis, asset.id, value)
    target = chat_of(asset)
    if target is None or target[1] is None or previous == value:
        return
    with contextlib.suppress(Exception):  # a progress edit must never fail the pipeline
        await deps.notifier.show_progress(target[0], target[1], progress_of(asset.title, value))


async def show_cancelled(deps: CoreDeps, asset: ContentAsset) -> None:
    """The progress message of a cancelled asset says so (and its live status)."""
    await set_status(deps.redis, asset.id, JobStatus(status="cancelled", stage="cancelled", progress=0))
    target = chat_of(asset)
    if target is None or target[1] is None:
        return
    with contextlib.suppress(Exception):  # cosmetic: the /cancel reply already told the creator
        await deps.notifier.show_progress(target[0], target[1], Progress(asset.title, ProgressState.CANCELLED))


async def is_cancelled(deps: CoreDeps, asset_id: uuid.UUID) -> bool:
    async with deps.sessionmaker() as session:
        status = await session.scalar(select(ContentAsset.upload_status).where(ContentAsset.id == asset_id))
    return status in (None, "cancelled")


@dataclass(frozen=True)
class AssetStatus:
    title: str
    upload_status: str  # pending | processing | completed | failed | cancelled
    error: str | None  # why it failed
    live: Progress | None  # the running pipeline's progress (pending or processing, while the cache has it)


async def recent_statuses(
    deps: CoreDeps, *, session: AsyncSession, user_id: uuid.UUID, limit: int = 5
) -> list[AssetStatus]:
    """The creator's recent assets with their state, and live progress (from the cache) when running."""
    statuses = []
    for asset in await content_service.recent_assets(session=session, user_id=user_id, limit=limit):
        upload_status = asset.upload_status or ""
        live = await get_status(deps.redis, asset.id) if upload_status in ("pending", "processing") else None
        progress = progress_of(asset.title, live) if live is not None else None
        statuses.append(AssetStatus(asset.title, upload_status, asset.processing_error, progress))
    return statuses
