"""A clip job cancelled while its clips render stores no clip and charges no credit (the store step checks)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import func, select
from test_text_pipeline import _creator

from core.billing.models import UsageTracking
from core.content import service as content
from core.media.samples import make_talk_video
from core.pipeline import assets, jobs
from core.pipeline import cancel as cancellation
from core.repurposing.models import GeneratedContent, RepurposingJob

SENTENCES = [
    "Most founders in India post once and then disappear for a month.",
    "Consistency beats talent when you are building a personal brand on LinkedIn.",
    "Write for one person, not for everyone, and your engagement will double.",
    "Reply to every comment in the first hour, because the algorithm rewards conversations.",
]


async def test_a_clip_job_cancelled_while_rendering_stores_and_charges_nothing(live_deps, tmp_path: Path):
    deps = live_deps
    video = tmp_path / "talk.mp4"
    make_talk_video(video, SENTENCES, width=480, height=270)
    async with deps.sessionmaker() as s:
        reg = await _creator(s, "7720001")
        asset = await content.ingest_file(
            session=s,
            store=deps.store,
            user_id=reg.user.id,
            organization_id=reg.organization.id,
            path=video,
            filename="talk.mp4",
            mime_type="video/mp4",
        )
        await s.commit()
    job_ids = await assets.process_asset(deps, asset.id)
    async with deps.sessionmaker() as s:
        [clip_job] = (
            await s.scalars(
                select(RepurposingJob.id).where(
                    RepurposingJob.id.in_(job_ids), RepurposingJob.job_type == "video_to_shorts"
                )
            )
        ).all()
        credits_before = await s.scalar(
            select(UsageTracking.ai_credits_used).where(UsageTracking.user_id == reg.user.id)
        )

    running = asyncio.create_task(jobs.run_job(deps, clip_job))
    deadline = time.monotonic() + 60
    while True:  # the plan is committed (job processing) and ffmpeg is rendering
        async with deps.sessionmaker() as s:
            status = await s.scalar(select(RepurposingJob.status).where(RepurposingJob.id == clip_job))
        if status == "processing":
            break
        assert not running.done() and time.monotonic() < deadline, status
        await asyncio.sleep(0.02)
    async with deps.sessionmaker() as s:
        stopped = await cancellation.cancel_latest(session=s, user_id=reg.user.id)
        await s.commit()
    assert not running.done(), "the render ended before the cancel; nothing was tested"
    assert await running is None

    assert stopped is not None and stopped.stopped_clips and stopped.arrived == 0 and stopped.upload_refunded
    async with deps.sessionmaker() as s:
        clips = await s.scalar(
            select(func.count()).select_from(GeneratedContent).where(GeneratedContent.repurposing_job_id == clip_job)
        )
        job = await s.get(RepurposingJob, clip_job)
        usage = await s.scalar(select(UsageTracking).where(UsageTracking.user_id == reg.user.id))
    assert clips == 0 and job.status == "cancelled" and job.credits_used == 0
    assert usage.ai_credits_used == credits_before and usage.content_uploads == 0
    assert deps.notifier.sent == []  # nothing was sent for it
