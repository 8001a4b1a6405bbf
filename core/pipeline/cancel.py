"""/cancel: stop an upload's remaining work, keep what already arrived, give back what was not used.

Locks, in this order: the asset, its jobs, its drafts. A job being written holds its row and a draft
being sent holds its row (`delivery.send_draft`), so cancelling waits for work that is under way and
then sees exactly what the creator received: a draft either arrived before the cancel (and is counted)
or never arrives. The steps after this (jobs not started, a clip still rendering, a draft not sent yet)
check for cancellation and stop, charging nothing.

What is charged: the credits of a job only if something it made arrived; the upload only if any draft
of it arrived. Everything else is refunded in the same transaction (`billing.usage.refund`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import usage as billing_usage
from core.content.models import ContentAsset
from core.deps import CoreDeps
from core.pipeline.progress import show_cancelled
from core.repurposing.models import GeneratedContent, RepurposingJob

CLIPS_JOB = "video_to_shorts"


@dataclass(frozen=True)
class Cancellation:
    asset_id: uuid.UUID
    title: str
    planned: bool  # were the drafts planned (jobs created) before the cancel?
    arrived: int  # drafts (posts and clips) the creator had received
    stopped_drafts: int  # text drafts that will not come
    stopped_clips: bool  # the short clips (or some of them) will not come
    credits_refunded: int
    credits_kept: int
    upload_refunded: bool


async def cancel_latest(*, session: AsyncSession, user_id: uuid.UUID) -> Cancellation | None:
    """Cancel the creator's most recent upload still in progress (in the caller's transaction)."""
    asset = await session.scalar(
        select(ContentAsset)
        .where(ContentAsset.user_id == user_id, ContentAsset.upload_status.in_(("pending", "processing")))
        .order_by(ContentAsset.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    if asset is None:
        return None
    asset.upload_status = "cancelled"
    await session.flush()
    jobs = list(
        await session.scalars(
            select(RepurposingJob).where(RepurposingJob.content_asset_id == asset.id).with_for_update()
        )
    )
    drafts = list(
        await session.scalars(
            select(GeneratedContent).where(GeneratedContent.content_asset_id == asset.id).with_for_update()
        )
    )
    delivered = {d.id for d in drafts if (d.metadata_ or {}).get("delivered_message_id")}
    by_job: dict[uuid.UUID | None, list[GeneratedContent]] = {}
    for d in drafts:
        by_job.setdefault(d.repurposing_job_id, []).append(d)

    refunded = kept = stopped_drafts = 0
    stopped_clips = False
    for job in jobs:
        made = by_job.get(job.id, [])
        arrived = [d for d in made if d.id in delivered]
        is_clips = job.job_type == CLIPS_JOB
        if arrived:
            kept += job.credits_used or 0
            missing = len(made) - len(arrived)
            if missing and is_clips:
                stopped_clips = True
            elif missing:
                stopped_drafts += missing
            continue
        if job.status == "failed":
            continue  # already told, never charged
        if job.credits_used:
            await billing_usage.refund(
                session=session,
                user_id=user_id,
                credits=job.credits_used,
                charged_at=job.completed_at,
                reason="cancelled",
                resource_id=asset.id,
            )
            refunded += job.credits_used
        job.status, job.credits_used = "cancelled", 0
        if is_clips:
            stopped_clips = True
        else:
            stopped_drafts += 1
    upload_refunded = not delivered
    if upload_refunded:
        await billing_usage.refund(
            session=session,
            user_id=user_id,
            uploads=1,
            charged_at=asset.created_at,
            reason="cancelled",
            resource_id=asset.id,
        )
    await session.flush()
    return Cancellation(
        asset_id=asset.id,
        title=asset.title,
        planned=bool(jobs),
        arrived=len(delivered),
        stopped_drafts=stopped_drafts,
        stopped_clips=stopped_clips,
        credits_refunded=refunded,
        credits_kept=kept,
        upload_refunded=upload_refunded,
    )


def _drafts(n: int) -> str:
    return f"{n} draft" if n == 1 else f"{n} drafts"


def describe(c: Cancellation) -> str:
    """What happened, exactly: what had arrived, what will not come, and what is (not) charged."""
    lines = [f"✖️ Stopped “{c.title}”."]
    if not c.planned:
        lines.append("No drafts had been written yet, so none will come.")
    else:
        if c.arrived:
            had = f"{_drafts(c.arrived)} had already arrived and stay in the chat"
        else:
            had = "No drafts had arrived yet"
        missing = []
        if c.stopped_drafts:
            missing.append(f"the other {_drafts(c.stopped_drafts)}" if c.arrived else _drafts(c.stopped_drafts))
        if c.stopped_clips:
            missing.append("the short clips")
        if missing:
            lines.append(f"{had}; {' and '.join(missing)} won't come.")
        else:
            lines.append(f"{had}; nothing else was left to send.")
    if c.credits_refunded:
        lines.append(f"I gave back the {c.credits_refunded} AI credit(s) of drafts you didn't get.")
    if c.upload_refunded:
        lines.append("Your upload was not counted.")
    else:
        kept = f" and {c.credits_kept} AI credit(s)" if c.credits_kept else ""
        lines.append(f"The upload{kept} still count, since drafts from it reached you.")
    return "\n".join(lines)


async def mark_progress_cancelled(deps: CoreDeps, c: Cancellation) -> None:
    """Turn the upload's progress message into "Cancelled" (and the live status with it)."""
    async with deps.sessionmaker() as session:
        asset = await session.get(ContentAsset, c.asset_id)
    if asset is not None:
        await show_cancelled(deps, asset)
