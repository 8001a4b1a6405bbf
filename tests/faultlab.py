"""A fault-injection lab: Recast's real worker processes on their own embedded PostgreSQL and Redis, which
the lab can stop and start, a Bot API stand-in for the creator's chat, and an account of what came out.

Used at small scale by `tests/tasks/test_faults.py` and at full scale by `bench/chaos.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from fakes.telegram_api import FakeTelegram
from redis.asyncio import Redis
from sqlalchemy import func, select

from core.accounts import service as accounts
from core.billing.models import UsageTracking
from core.content import service as content
from core.content.models import ContentAsset
from core.db import migrate
from core.db.session import make_engine, make_sessionmaker, session_scope
from core.infra.embedded import EmbeddedPostgres, EmbeddedRedis, _free_port, with_database
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.seed.service import apply_seed
from core.storage.files import LocalFileStore
from core.work.queue import RedisWorkQueue
from core.work.submit import WorkEnqueue
from tasks.registry import load_all

TERMINAL = ("completed", "failed", "cancelled")
SENTENCES = [
    "Consistency beats talent when you are building a personal brand on LinkedIn.",
    "Write for one person, not for everyone, and your engagement will double.",
    "Turn every long video into ten small posts, because one idea deserves many formats.",
    "Reply to every comment in the first hour, because the algorithm rewards conversations.",
    "Why do most people quit? They measure followers instead of conversations.",
    "The secret is simple: show up every week and share what you learned.",
]


@dataclass
class Tally:
    """What a run produced: every count that must not be duplicated, and what the creator saw."""

    status: str | None
    seconds: float
    jobs: int
    drafts: int
    draft_messages: int
    duplicate_messages: int
    credits_used: int
    credits_charged: int
    non_terminal_assets: int
    failure_messages: int

    @property
    def duplicated(self) -> int:
        """Rows, charges and messages beyond one per unit of work (must be 0)."""
        return (
            max(0, self.draft_messages - self.drafts)
            + self.duplicate_messages
            + max(0, self.credits_used - self.credits_charged)
        )


class Lab:
    def __init__(self, root: Path, *, lease_s: float = 3.0, sweep_s: float = 1.0, grace_s: float = 1.0) -> None:
        self.root = root
        self.lease_s, self.sweep_s, self.grace_s = lease_s, sweep_s, grace_s
        # Not under pytest's basetemp: as root, pgserver runs PostgreSQL as its own user, and every pytest
        # start closes /tmp/pytest-of-root again (see tests/conftest.py's pg_admin_url).
        self.pg_dir = Path(tempfile.mkdtemp(prefix="recast-lab-pg-"))
        self.pg = EmbeddedPostgres(self.pg_dir / "data")
        self.redis_server = EmbeddedRedis(root / "redis", port=_free_port())
        self.workers: list[subprocess.Popen[bytes]] = []
        self.queue = "recast:work"

    async def __aenter__(self) -> Lab:
        admin = self.pg.start()
        conn = await asyncpg.connect(admin)
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = 'recast'"):
                await conn.execute('CREATE DATABASE "recast"')
        finally:
            await conn.close()
        self.database_url = with_database(admin, "recast")
        await asyncio.to_thread(migrate.upgrade, self.database_url)
        self.redis_url = self.redis_server.start()
        self.engine = make_engine(self.database_url, pool_size=4)
        self.sessionmaker = make_sessionmaker(self.engine)
        self.redis = Redis.from_url(self.redis_url)
        self.store = LocalFileStore(self.root / "data" / "media")
        async with session_scope(self.sessionmaker) as session:
            await apply_seed(session=session)
        load_all()
        self.enqueue = WorkEnqueue(self.sessionmaker, RedisWorkQueue(self.redis, self.queue))
        self.telegram = FakeTelegram(strict_chats=False)
        await self.telegram.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for proc in self.workers:
            stop_process(proc)
        await self.telegram.__aexit__(*exc)
        await self.redis.aclose()
        await self.engine.dispose()
        self.redis_server.stop()
        self.pg.stop()
        shutil.rmtree(self.pg_dir, ignore_errors=True)

    # ------------------------------------------------------------ processes

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "RECAST_DATA_DIR": str(self.root / "data"),
            "TASK_QUEUE": self.queue,
            "WORK_LEASE_S": str(self.lease_s),
            "WORK_SWEEP_INTERVAL_S": str(self.sweep_s),
            "WORK_SHUTDOWN_GRACE_S": str(self.grace_s),
            "TELEGRAM_BOT_TOKEN": self.telegram.token,
            "TELEGRAM_API_SERVER": self.telegram.base_url,
            "LOG_LEVEL": "INFO",
            **extra,
        }
        env.pop("OPENAI_API_KEY", None)
        return env

    def start_worker(self, name: str, *, concurrency: int = 1, **extra: str) -> subprocess.Popen[bytes]:
        log = (self.root / f"{name}.log").open("ab")
        proc = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "recast.cli", "worker", "--concurrency", str(concurrency)],
            env=self.env(**extra),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        self.workers.append(proc)
        return proc

    def log_of(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop_postgres(self) -> None:
        self.pg.stop()

    def start_postgres(self) -> None:
        self.pg.start()

    def stop_redis(self) -> None:
        assert self.redis_server._process is not None
        self.redis_server._process.kill()  # noqa: SLF001 - a crash, not a clean shutdown
        self.redis_server._process.wait()  # noqa: SLF001
        self.redis_server._process = None  # noqa: SLF001

    def start_redis(self) -> None:
        self.redis_server.start()

    # ------------------------------------------------------------ work

    async def ingest(self, chat: int, video: Path) -> tuple[Any, Any]:
        async with session_scope(self.sessionmaker) as session:
            reg = await accounts.register_chat_user(
                session=session, provider="telegram", external_user_id=str(chat), chat_id=str(chat), full_name="Lab"
            )
            asset = await content.ingest_file(
                session=session,
                store=self.store,
                user_id=reg.user.id,
                organization_id=reg.organization.id,
                path=video,
                filename=video.name,
                mime_type="video/mp4",
            )
            asset.metadata_ = {**(asset.metadata_ or {}), "chat": {"provider": "telegram", "chat_id": str(chat)}}
        return asset.id, reg.user.id

    async def process(self, asset_id: Any) -> float:
        await self.enqueue("pipeline.process_asset", asset_id=str(asset_id))
        return time.monotonic()

    async def stage(self, asset_id: Any) -> str | None:
        try:
            raw = await self.redis.get(f"job:{asset_id}:status")
        except Exception:
            return None
        return json.loads(raw)["stage"] if raw else None

    async def wait_for_stage(self, asset_id: Any, stages: tuple[str, ...], timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (stage := await self.stage(asset_id)) in stages:
                return stage
            await asyncio.sleep(0.02)
        raise AssertionError(f"never reached {stages}: {self.log_of('w1')[-2000:]}")

    async def wait_terminal(self, asset_id: Any, timeout: float = 300) -> str | None:
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            try:
                async with self.sessionmaker() as session:
                    status = await session.scalar(select(ContentAsset.upload_status).where(ContentAsset.id == asset_id))
            except Exception:  # the database may be down right now: that is the point
                status = None
            if status in TERMINAL:
                return status
            await asyncio.sleep(0.2)
        return status

    async def tally(self, asset_id: Any, user_id: Any, chat: int, started: float, status: str | None) -> Tally:
        seconds = time.monotonic() - started
        await asyncio.sleep(1.0)  # anything still in flight (a duplicate) would land now
        async with self.sessionmaker() as s:
            jobs = await s.scalar(
                select(func.count()).select_from(RepurposingJob).where(RepurposingJob.content_asset_id == asset_id)
            )
            drafts = await s.scalar(
                select(func.count()).select_from(GeneratedContent).where(GeneratedContent.content_asset_id == asset_id)
            )
            used = await s.scalar(
                select(func.coalesce(func.sum(UsageTracking.ai_credits_used), 0)).where(
                    UsageTracking.user_id == user_id
                )
            )
            charged = await s.scalar(
                select(func.coalesce(func.sum(RepurposingJob.credits_used), 0)).where(RepurposingJob.user_id == user_id)
            )
            stuck = await s.scalar(
                select(func.count())
                .select_from(ContentAsset)
                .where(ContentAsset.user_id == user_id, ContentAsset.upload_status.not_in(TERMINAL))
            )
        messages = self.telegram.messages_to(chat)
        draft_texts = [m.content for m in messages if m.content.startswith("📝")]
        return Tally(
            status=status,
            seconds=seconds,
            jobs=jobs or 0,
            drafts=drafts or 0,
            draft_messages=len(draft_texts),
            duplicate_messages=len(draft_texts) - len(set(draft_texts)),
            credits_used=int(used or 0),
            credits_charged=int(charged or 0),
            non_terminal_assets=stuck or 0,
            failure_messages=sum(1 for m in messages if m.content.startswith("⚠️")),
        )


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
