"""A worker stopped in the middle of a pipeline run, by SIGKILL (its lease expires and a sweeper re-drives
the unit) or by SIGTERM (it releases the unit at once): another worker process finishes the work, with
no duplicate rows, chat messages or charges."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes.telegram_api import FakeTelegram
from sqlalchemy import func, select

from core.accounts import service as accounts
from core.billing.models import UsageTracking
from core.content import service as content
from core.content.models import ContentAnalysis, ContentAsset
from core.db.session import make_engine, make_sessionmaker, session_scope
from core.media.samples import make_talk_video
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.seed.service import apply_seed
from core.storage.files import LocalFileStore
from core.work.queue import RedisWorkQueue
from core.work.submit import WorkEnqueue
from tasks.registry import load_all

SENTENCES = [
    "Consistency beats talent when you are building a personal brand on LinkedIn.",
    "Write for one person, not for everyone, and your engagement will double.",
    "Turn every long video into ten small posts, because one idea deserves many formats.",
    "Reply to every comment in the first hour, because the algorithm rewards conversations.",
    "Why do most people quit? They measure followers instead of conversations.",
    "The secret is simple: show up every week and share what you learned.",
]
CHATS = {"SIGKILL": 8800001, "SIGTERM": 8800002}


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "recast.cli", "worker", "--concurrency", "1"],
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )


@pytest.fixture(scope="module")
def talk_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("talk") / "talk.mp4"
    make_talk_video(path, SENTENCES, width=320, height=240)
    return path


@pytest.mark.parametrize("fault", ["SIGKILL", "SIGTERM"])
async def test_a_worker_stopped_mid_transcription_is_finished_by_the_next_without_duplicates(
    fault, database_url, redis_url, run_id, tmp_path, talk_video, redis_client
):
    chat = CHATS[fault]
    data_dir = tmp_path / "data"
    queue = f"recast-crash-{run_id}-{fault}"
    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    store = LocalFileStore(data_dir / "media")
    async with FakeTelegram(strict_chats=False) as tg:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "RECAST_DATA_DIR": str(data_dir),
            "TASK_QUEUE": queue,
            # SIGKILL: only the lease's expiry can free the unit, so keep it short. SIGTERM: a lease far
            # longer than the test's patience, so only the worker's release lets the next one start.
            "WORK_LEASE_S": "3" if fault == "SIGKILL" else "900",
            "WORK_SWEEP_INTERVAL_S": "1",
            "WORK_SHUTDOWN_GRACE_S": "0.5",
            "TELEGRAM_BOT_TOKEN": tg.token,
            "TELEGRAM_API_SERVER": tg.base_url,
            "OPENAI_API_KEY": "",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("OPENAI_API_KEY")
        async with session_scope(sessionmaker) as session:
            await apply_seed(session=session)
            reg = await accounts.register_chat_user(
                session=session, provider="telegram", external_user_id=str(chat), chat_id=str(chat), full_name="Ravi"
            )
            asset = await content.ingest_file(
                session=session,
                store=store,
                user_id=reg.user.id,
                organization_id=reg.organization.id,
                path=talk_video,
                filename="talk.mp4",
                mime_type="video/mp4",
            )
            asset.metadata_ = {**(asset.metadata_ or {}), "chat": {"provider": "telegram", "chat_id": str(chat)}}

        load_all()
        enqueue = WorkEnqueue(sessionmaker, RedisWorkQueue(redis_client, queue))
        first = _start_worker(env, tmp_path / "worker1.log")
        second = None
        try:
            await enqueue("pipeline.process_asset", asset_id=str(asset.id))
            # Kill the worker the moment it is transcribing (the slowest step).
            for _ in range(3000):
                raw = await redis_client.get(f"job:{asset.id}:status")
                if raw and json.loads(raw)["stage"] in ("transcribing", "analysing"):
                    break
                await asyncio.sleep(0.02)
            else:
                pytest.fail(
                    "the first worker never started transcribing: "
                    + (first.stderr.read(2000).decode() if first.poll() is not None else "")
                )
            stopped = time.monotonic()
            os.killpg(first.pid, signal.SIGKILL if fault == "SIGKILL" else signal.SIGTERM)
            first.wait(timeout=20)
            async with sessionmaker() as session:
                assert (
                    await session.scalar(
                        select(func.count())
                        .select_from(GeneratedContent)
                        .where(GeneratedContent.content_asset_id == asset.id)
                    )
                    == 0
                )

            second = _start_worker(env, tmp_path / "worker2.log")
            for _ in range(1200):
                async with sessionmaker() as session:
                    status = await session.scalar(select(ContentAsset.upload_status).where(ContentAsset.id == asset.id))
                if status in ("completed", "failed"):
                    break
                await asyncio.sleep(0.1)
            assert status == "completed", (tmp_path / "worker2.log").read_text()[-3000:]
            recovered_in = time.monotonic() - stopped
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        os.killpg(proc.pid, signal.SIGKILL)
            await redis_client.delete(queue)

        async with sessionmaker() as session:
            analyses = await session.scalar(
                select(func.count()).select_from(ContentAnalysis).where(ContentAnalysis.content_asset_id == asset.id)
            )
            jobs = await session.scalar(
                select(func.count()).select_from(RepurposingJob).where(RepurposingJob.content_asset_id == asset.id)
            )
            drafts = (
                await session.scalars(
                    select(GeneratedContent.content_type).where(GeneratedContent.content_asset_id == asset.id)
                )
            ).all()
        draft_messages = [m for m in tg.messages_to(chat) if m.content.startswith("📝")]
        async with sessionmaker() as session:
            used = await session.scalar(
                select(func.sum(UsageTracking.ai_credits_used)).where(UsageTracking.user_id == reg.user.id)
            )
            charged = await session.scalar(
                select(func.sum(RepurposingJob.credits_used)).where(RepurposingJob.content_asset_id == asset.id)
            )
    await engine.dispose()
    clips = [d for d in drafts if d == "short_video"]
    assert (analyses, jobs, len(drafts) - len(clips)) == (1, 6, 5)
    assert len(clips) >= 1
    assert len(draft_messages) == len(drafts)
    assert used == charged and charged > 0  # every job charged once, however often it ran
    assert recovered_in < 120  # a lease of 3 s and a 1 s sweep, plus the whole pipeline on 2 busy cores
    # The second worker was stopped with SIGTERM: a clean exit that closed the notifier's bot session.
    assert second is not None and second.returncode == 0
    assert "Unclosed client session" not in (tmp_path / "worker2.log").read_text()
