"""An asset's live progress: `job:{asset_id}:status` in Redis, mirrored into the creator's status message."""

from __future__ import annotations

import contextlib
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.cache.job_status import JobStatus, get_status, render_progress, set_status
from core.content import service as content_service
from core.content.models import ContentAsset
from core.deps import CoreDeps
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


QUEUED = "░░░░░░░░░░░░ 0% · Queued"


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
        await deps.notifier.edit_text(target[0], target[1], f"⏳ {asset.title}\n{render_progress(value)}")


def cancelled_text(title: str) -> str:
    return f"✖️ {title}\nCancelled."


async def show_cancelled(deps: CoreDeps, asset: ContentAsset) -> None:
    """The progress message of a cancelled asset says so (and its live status)."""
    await set_status(deps.redis, asset.id, JobStatus(status="cancelled", stage="cancelled", progress=0))
    target = chat_of(asset)
    if target is None or target[1] is None:
        return
    with contextlib.suppress(Exception):  # cosmetic: the /cancel reply already told the creator
        await deps.notifier.edit_text(target[0], target[1], cancelled_text(asset.title))


async def is_cancelled(deps: CoreDeps, asset_id: uuid.UUID) -> bool:
    async with deps.sessionmaker() as session:
        status = await session.scalar(select(ContentAsset.upload_status).where(ContentAsset.id == asset_id))
    return status in (None, "cancelled")


async def status_lines(deps: CoreDeps, *, session: AsyncSession, user_id: uuid.UUID, limit: int = 5) -> list[str]:
    """One line per recent asset: its title and live progress (from the cache when it is running)."""
    lines = []
    for asset in await content_service.recent_assets(session=session, user_id=user_id, limit=limit):
        live = await get_status(deps.redis, asset.id)
        if asset.upload_status in ("pending", "processing") and live is not None:
            state = render_progress(live).split("\n")[0]
        else:
            state = {
                "completed": "✅ done",
                "failed": f"⚠️ failed: {asset.processing_error or ''}",
                "cancelled": "✖️ cancelled",
                "pending": "⏳ queued",
            }.get(asset.upload_status or "", "⏳")
        lines.append(f"• {asset.title[:60]} — {state}")
    return lines
