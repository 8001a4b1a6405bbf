"""Pipeline tasks: thin wrappers that pass ids to `core.pipeline.service`."""

from __future__ import annotations

import uuid

from taskiq import TaskiqDepends

from core.deps import CoreDeps
from core.notify.ports import ChatRef
from core.pipeline import service as pipeline
from tasks.registry import task


@task("pipeline.process_asset")
async def process_asset(asset_id: str, deps: CoreDeps = TaskiqDepends()) -> None:
    job_ids = await pipeline.process_asset(deps, uuid.UUID(asset_id))
    # Jobs come back highest priority first; enqueue in that order so workers pick them in order.
    for job_id in job_ids:
        await deps.enqueue("pipeline.run_job", job_id=str(job_id))


@task("pipeline.ingest_link")
async def ingest_link(
    user_id: str,
    organization_id: str | None,
    url: str,
    provider: str,
    chat_id: str,
    status_message_id: str,
    deps: CoreDeps = TaskiqDepends(),
) -> None:
    asset_id = await pipeline.ingest_link_from_chat(
        deps,
        user_id=uuid.UUID(user_id),
        organization_id=uuid.UUID(organization_id) if organization_id else None,
        url=url,
        chat=ChatRef(provider, chat_id),
        status_message_id=status_message_id,
    )
    if asset_id is not None:
        await deps.enqueue("pipeline.process_asset", asset_id=str(asset_id))


@task("pipeline.run_job")
async def run_job(job_id: str, deps: CoreDeps = TaskiqDepends()) -> None:
    await pipeline.run_job(deps, uuid.UUID(job_id))


@task("pipeline.rewrite_draft")
async def rewrite_draft(
    draft_id: str,
    requested_by: str | None = None,
    feedback: str | None = None,
    deps: CoreDeps = TaskiqDepends(),
) -> None:
    await pipeline.rewrite_and_deliver(
        deps,
        uuid.UUID(draft_id),
        requested_by=uuid.UUID(requested_by) if requested_by else None,
        feedback=feedback,
    )
