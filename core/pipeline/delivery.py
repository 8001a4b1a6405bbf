"""Delivering drafts to the creator's chat once each, and finishing the asset when all have arrived."""

from __future__ import annotations

import uuid
import zlib
from typing import Any

from sqlalchemy import select

from core.common.clock import utcnow
from core.content.models import ContentAsset
from core.db.session import session_scope
from core.deps import CoreDeps
from core.notify import outbox
from core.notify.ports import OutgoingMessage
from core.pipeline.chat import chat_of
from core.pipeline.progress import report
from core.pipeline.render import draft_message
from core.repurposing import planning
from core.repurposing.formats import FORMATS
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.work import submit as work
from core.work.registry import unit_handler
from core.work.runner import run_now

DELIVER = "pipeline.deliver_draft"


async def deliver_draft(deps: CoreDeps, draft_id: uuid.UUID, *, force: bool = False) -> None:
    """Send the draft's current version to its creator's chat once: a `pipeline.deliver_draft` unit keyed
    by draft and version, run right away here and retried by workers if the send fails."""
    async with session_scope(deps.sessionmaker) as session:
        draft = await session.get(GeneratedContent, draft_id)
        if draft is None or draft.content_asset_id is None:
            return
        meta = draft.metadata_ or {}
        if meta.get("delivered_message_id") and not force:
            return
        version = len(meta.get("versions", [])) + 1
        # Keyed by what is sent too: the kept versions stop counting at ten, a new text or file never does.
        content = f"{draft.title}\x00{draft.content_text}\x00{draft.caption}\x00{draft.file_url}".encode()
        key = f"{draft_id}:v{version}:{zlib.crc32(content):08x}"
        unit_id, _ = await work.add(session, DELIVER, {"draft_id": str(draft_id)}, key=key)
    await run_now(deps, unit_id)


async def send_draft(deps: CoreDeps, draft_id: uuid.UUID) -> str | None:
    """The `pipeline.deliver_draft` unit: render the draft, send it, record the message id on the draft,
    then update the asset's progress (which counts only drafts the creator actually received)."""

    async with session_scope(deps.sessionmaker) as session:
        # The draft stays locked while it is sent and recorded: a /cancel (which locks the asset's drafts)
        # either waits and counts it as arrived, or comes first and this send does not happen.
        row = await session.scalar(select(GeneratedContent).where(GeneratedContent.id == draft_id).with_for_update())
        asset = await session.get(ContentAsset, row.content_asset_id) if row and row.content_asset_id else None
        if row is None or asset is None:
            return None
        target = chat_of(asset)
        first = not (row.metadata_ or {}).get("delivered_message_id")
        if target is None or (first and asset.upload_status == "cancelled"):
            return None  # a cancelled upload's drafts that had not arrived never do (re-sent versions may)
        message_id = await deps.notifier.send(target[0], draft_message(row, deps.store))
        row.metadata_ = {
            **(row.metadata_ or {}),
            "delivered_message_id": message_id,
            "delivered_at": utcnow().isoformat(),
        }
        asset_id = asset.id
    await finish_if_done(deps, asset_id)
    return message_id


async def draft_undeliverable(deps: CoreDeps, draft_id: uuid.UUID, error: str) -> None:
    """Give-up hook of `pipeline.deliver_draft`: note it on the draft so the asset can finish, and say so."""
    async with session_scope(deps.sessionmaker) as session:
        row = await session.scalar(select(GeneratedContent).where(GeneratedContent.id == draft_id).with_for_update())
        if row is None or row.content_asset_id is None:
            return
        reason = (error.strip().splitlines() or ["unknown error"])[-1][:300]
        row.metadata_ = {**(row.metadata_ or {}), "delivery_failed": reason}
        asset = await session.get_one(ContentAsset, row.content_asset_id)
        target = chat_of(asset)
        label = format_label(str((row.metadata_ or {}).get("output_format", "")))
        told = []
        if target is not None:
            note = OutgoingMessage(
                text=f"⚠️ I couldn't send your {label} draft “{(row.title or '')[:60]}”. "
                "Send /history to find it, or send the content again."
            )
            told.append(await outbox.record(session, target[0], note, key=f"undeliverable:{draft_id}"))
    await outbox.flush(deps, told)
    await finish_if_done(deps, asset.id)


def _received_summary(jobs: list[RepurposingJob], drafts: list[GeneratedContent], bound: bool) -> str:
    """What the creator got, counted as they count it: "5 drafts and 3 clips received", and what not."""
    got = [d for d in drafts if (d.metadata_ or {}).get("delivered_message_id") or not bound]
    clips = sum(1 for d in got if d.content_type == "short_video")
    texts = len(got) - clips
    text = f"{texts} draft{'s' if texts != 1 else ''}"
    if clips:
        text += f" and {clips} clip{'s' if clips != 1 else ''}"
    text += " received"
    missed = sum(1 for j in jobs if j.status == "failed") + sum(
        1 for d in drafts if (d.metadata_ or {}).get("delivery_failed")
    )
    return text + (f" · {missed} couldn't be made or sent" if missed else "")


def _received(draft: GeneratedContent) -> bool:
    meta = draft.metadata_ or {}
    return bool(meta.get("delivered_message_id") or meta.get("delivery_failed"))


async def finish_if_done(deps: CoreDeps, asset_id: uuid.UUID) -> bool:
    """Update the asset's progress; complete it once every job has ended and every draft was sent (or
    could not be). Both the running count and the final line count what the creator actually received."""
    async with session_scope(deps.sessionmaker) as session:
        asset = await session.scalar(select(ContentAsset).where(ContentAsset.id == asset_id).with_for_update())
        if asset is None:
            return False
        jobs = await planning.jobs_for_asset(session=session, asset_id=asset_id)
        drafts = list(
            await session.scalars(select(GeneratedContent).where(GeneratedContent.content_asset_id == asset_id))
        )
        bound = chat_of(asset) is not None
        by_job: dict[uuid.UUID | None, list[GeneratedContent]] = {}
        for d in drafts:
            by_job.setdefault(d.repurposing_job_id, []).append(d)

        def ended(job: RepurposingJob) -> bool:
            if job.status in ("failed", "cancelled"):
                return True
            return job.status == "completed" and (not bound or all(_received(d) for d in by_job.get(job.id, [])))

        done = [j for j in jobs if ended(j)]
        ready = sum(1 for j in done if j.status == "completed")
        finished = bool(jobs) and len(done) == len(jobs)
        if finished and asset.upload_status not in ("completed", "cancelled", "failed"):
            asset.upload_status, asset.processing_completed_at = "completed", utcnow()
    if asset.upload_status == "cancelled":
        return finished
    if finished:
        detail = _received_summary(jobs, drafts, bound)
        if asset.content_type in ("audio", "video"):
            detail += "\n/transcript — read the words I heard, and correct them"
        await report(deps, asset, "completed", status="completed", detail=detail)
    else:
        progress = 70 + round(25 * len(done) / max(1, len(jobs)))
        await report(deps, asset, "generating", detail=f"{ready} of {len(jobs)} drafts ready", progress=progress)
    return finished


async def tell_about_draft(deps: CoreDeps, draft_id: uuid.UUID, text: str, *, icon: str = "⚠️") -> None:
    """A note about one draft to the chat its asset came from (through the outbox)."""
    async with session_scope(deps.sessionmaker) as session:
        draft = await session.get(GeneratedContent, draft_id)
        asset = await session.get(ContentAsset, draft.content_asset_id) if draft and draft.content_asset_id else None
        target = chat_of(asset) if asset else None
        told = [await outbox.record(session, target[0], OutgoingMessage(text=f"{icon} {text}"))] if target else []
    await outbox.flush(deps, told)


def format_label(output_format: str) -> str:
    fmt = FORMATS.get(output_format)
    return fmt.label if fmt else output_format.replace("_", " ").title()


async def _deliver_unit(deps: CoreDeps, draft_id: str) -> dict[str, str | None]:
    return {"message_id": await send_draft(deps, uuid.UUID(draft_id))}


async def _deliver_given_up(deps: CoreDeps, payload: dict[str, Any], error: str) -> None:
    await draft_undeliverable(deps, uuid.UUID(payload["draft_id"]), error)


unit_handler(DELIVER, on_give_up=_deliver_given_up, max_attempts=8)(_deliver_unit)
