"""Pipeline tasks: thin wrappers that pass ids to `core.pipeline`.

Each is a durable work unit (see `core.work`): deduplicated by its key, retried on infrastructure
errors, and when it gives up, its hook tells the creator and leaves nothing "processing".
"""

from __future__ import annotations

import uuid
from typing import Any

from core.deps import CoreDeps
from core.notify.ports import ChatRef
from core.pipeline import assets, delivery, ingest, jobs, progress, revisions, transcript
from tasks.registry import task

RESEND = "Something went wrong on my side while working on this. Please send it again."


async def _asset_given_up(deps: CoreDeps, payload: dict[str, Any], error: str) -> None:
    await assets.fail_asset(deps, uuid.UUID(payload["asset_id"]), RESEND)


@task("pipeline.process_asset", key=lambda p: str(p["asset_id"]), on_give_up=_asset_given_up)
async def process_asset(asset_id: str, deps: CoreDeps) -> int:
    job_ids = await assets.process_asset(deps, uuid.UUID(asset_id))
    # Jobs come back highest priority first; enqueue in that order so workers pick them in order.
    # Submitting is deduplicated per job, so a re-run of this unit after a crash adds nothing twice.
    for job_id in job_ids:
        await deps.enqueue("pipeline.run_job", job_id=str(job_id))
    return len(job_ids)


async def _link_given_up(deps: CoreDeps, payload: dict[str, Any], error: str) -> None:
    chat = ChatRef(payload["provider"], payload["chat_id"])
    reason = f"I couldn't fetch that link. {RESEND}"
    await deps.notifier.show_progress(chat, payload["status_message_id"], progress.refused(reason))


@task(
    "pipeline.ingest_link",
    key=lambda p: f"{p['provider']}:{p['chat_id']}:{p['status_message_id']}",
    on_give_up=_link_given_up,
)
async def ingest_link(
    user_id: str,
    organization_id: str | None,
    url: str,
    provider: str,
    chat_id: str,
    status_message_id: str,
    deps: CoreDeps,
) -> str | None:
    asset_id = await ingest.ingest_link_from_chat(
        deps,
        user_id=uuid.UUID(user_id),
        organization_id=uuid.UUID(organization_id) if organization_id else None,
        url=url,
        chat=ChatRef(provider, chat_id),
        status_message_id=status_message_id,
    )
    if asset_id is not None:
        await deps.enqueue("pipeline.process_asset", asset_id=str(asset_id))
    return str(asset_id) if asset_id else None


async def _job_given_up(deps: CoreDeps, payload: dict[str, Any], error: str) -> None:
    await jobs.fail_job(deps, uuid.UUID(payload["job_id"]), "I couldn't finish one of your drafts. " + RESEND)


@task("pipeline.run_job", key=lambda p: str(p["job_id"]), on_give_up=_job_given_up)
async def run_job(job_id: str, deps: CoreDeps) -> str | None:
    draft_id = await jobs.run_job(deps, uuid.UUID(job_id))
    return str(draft_id) if draft_id else None


async def _rewrite_given_up(deps: CoreDeps, payload: dict[str, Any], error: str) -> None:
    await delivery.tell_about_draft(
        deps, uuid.UUID(payload["draft_id"]), "I couldn't rewrite this draft just now. Tap the button again."
    )


@task("pipeline.rewrite_draft", on_give_up=_rewrite_given_up)
async def rewrite_draft(
    draft_id: str,
    deps: CoreDeps,
    requested_by: str | None = None,
    feedback: str | None = None,
) -> str:
    await revisions.rewrite_and_deliver(
        deps,
        uuid.UUID(draft_id),
        requested_by=uuid.UUID(requested_by) if requested_by else None,
        feedback=feedback,
    )
    return draft_id


async def _corrected_all_given_up(deps: CoreDeps, payload: dict[str, Any], error: str) -> None:
    await transcript.tell_rewrite_failed(deps, uuid.UUID(payload["asset_id"]))


@task(
    transcript.REWRITE_ALL,
    key=lambda p: f"{p['asset_id']}:t{p['revision']}",
    on_give_up=_corrected_all_given_up,
)
async def rewrite_from_transcript(asset_id: str, revision: int, requested_by: str, deps: CoreDeps) -> int:
    return await transcript.rewrite_from_transcript(deps, uuid.UUID(asset_id), int(revision), uuid.UUID(requested_by))


async def _corrected_one_given_up(deps: CoreDeps, payload: dict[str, Any], error: str) -> None:
    await delivery.tell_about_draft(
        deps,
        uuid.UUID(payload["draft_id"]),
        "I couldn't rewrite this draft from the corrected transcript. Tap Regenerate to try again.",
    )


@task(
    transcript.REWRITE_ONE,
    key=lambda p: f"{p['draft_id']}:t{p['revision']}",
    on_give_up=_corrected_one_given_up,
)
async def rewrite_corrected(draft_id: str, revision: int, requested_by: str, deps: CoreDeps) -> str:
    await transcript.rewrite_corrected(deps, uuid.UUID(draft_id), int(revision), uuid.UUID(requested_by))
    return draft_id
