"""Pipeline benchmark: a 10-minute talk through the whole offline pipeline.

Reports seconds to the first draft, seconds to all drafts, and the ratio of the total pipeline time to
the bare cost of its unavoidable steps (ffmpeg audio extraction + transcription alone), both measured
in this same run on the same file. Uses DATABASE_URL / REDIS_URL, else 127.0.0.1, else embedded servers.

    .venv/bin/python bench/pipeline.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from qdrant_client import AsyncQdrantClient
from redis.asyncio import Redis
from sqlalchemy import select

from core.accounts import service as accounts
from core.ai.providers import build_ai_providers
from core.ai.transcription import LocalWhisperTranscriber, Transcriber
from core.config import Settings
from core.content import service as content
from core.db import migrate
from core.db.session import make_engine, make_sessionmaker, session_scope
from core.deps import CoreDeps
from core.infra.embedded import create_database_sync, infrastructure, port_is_open, with_database
from core.media.audio import extract_audio
from core.media.samples import make_talk_video
from core.notify.ports import ChatRef, OutgoingMessage, RecordingNotifier
from core.pipeline import assets, jobs
from core.repurposing.models import RepurposingJob
from core.seed.service import apply_seed
from core.storage.files import LocalFileStore
from core.vectors.brand_voice import BrandVoiceIndex

SENTENCES = [
    "Most creators post once and then disappear for a month, and that is the biggest mistake.",
    "Consistency beats talent when you are building a personal brand.",
    "Write for one person, not for everyone, and your engagement will follow.",
    "Turn every long video into ten small posts, because one idea deserves many formats.",
    "Reply to every comment in the first hour, because the algorithm rewards conversations.",
    "Why do most people quit? They measure followers instead of conversations.",
    "The secret is simple: show up every week and share what you learned.",
    "Your audience remembers the person who taught them something useful.",
]


@dataclass(frozen=True)
class Measure:
    """Wall seconds and CPU seconds (this process, all threads, plus finished child processes)."""

    wall: float
    cpu: float

    @staticmethod
    def now() -> Measure:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
        return Measure(time.perf_counter(), cpu)

    def __sub__(self, other: Measure) -> Measure:
        return Measure(self.wall - other.wall, self.cpu - other.cpu)


async def _split_jobs(deps: CoreDeps, job_ids: list[uuid.UUID]) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    async with deps.sessionmaker() as session:
        kinds = dict(
            (
                await session.execute(
                    select(RepurposingJob.id, RepurposingJob.job_type).where(RepurposingJob.id.in_(job_ids))
                )
            ).all()
        )
    return [j for j in job_ids if kinds[j] != "video_to_shorts"], [j for j in job_ids if kinds[j] == "video_to_shorts"]


class TimedNotifier(RecordingNotifier):
    def __init__(self) -> None:
        super().__init__()
        self.first_draft_at: float | None = None
        self.last_text_at: float | None = None
        self.last_clip_at: float | None = None
        self.clips = 0

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        now = time.perf_counter()
        if message.buttons and self.first_draft_at is None:
            self.first_draft_at = now
        if message.buttons and message.video is not None:
            self.last_clip_at, self.clips = now, self.clips + 1
        elif message.buttons:
            self.last_text_at = now
        return await super().send(chat, message)


async def run(database_url: str, redis_url: str, talk: Path, work: Path) -> None:
    settings = Settings(_env_file=None, recast_data_dir=work / "data")
    ai = build_ai_providers(settings)
    engine = make_engine(database_url)
    redis = Redis.from_url(redis_url)
    qdrant = AsyncQdrantClient(location=":memory:")
    notifier = TimedNotifier()

    async def enqueue(name: str, /, **kwargs: object) -> None:  # tasks run inline, in order
        return None

    deps = CoreDeps(
        settings=settings,
        sessionmaker=make_sessionmaker(engine),
        redis=redis,
        store=LocalFileStore(work / "media"),
        notifier=notifier,
        enqueue=enqueue,
        ai=ai,
        brand_index=BrandVoiceIndex(qdrant, ai.embedder),
    )
    # Warm the model once so every measurement pays the same (zero) load cost.
    await ai.transcriber.transcribe(await extract_audio(talk, work / "warm.wav"))

    # tiny.en alone, as WHISPER_MODEL=packaged:tiny.en (the default before `auto`): what the language
    # detection and base's second hearing of murky stretches cost on an English talk.
    tiny_only = LocalWhisperTranscriber("packaged:tiny.en")
    await tiny_only.transcribe(work / "warm.wav")

    async def bare_run(name: str, transcriber: Transcriber = ai.transcriber) -> Measure:
        start = Measure.now()
        wav = await extract_audio(talk, work / f"{name}.wav")
        await transcriber.transcribe(wav)
        return Measure.now() - start

    # Baseline before and after the pipeline; the faster of the two is the one compared (the machine
    # is shared, so load can only make a run slower). CPU seconds (this process and its ffmpeg
    # children) are reported too: they hardly move with load.
    bare_before = await bare_run("bare1")
    tiny_before = await bare_run("tiny1", tiny_only)

    async with session_scope(deps.sessionmaker) as session:
        await apply_seed(session=session)
        reg = await accounts.register_chat_user(
            session=session, provider="telegram", external_user_id=uuid.uuid4().hex[:12], chat_id="1", full_name="Bench"
        )
    start = Measure.now()
    async with session_scope(deps.sessionmaker) as session:
        asset = await content.ingest_file(
            session=session,
            store=deps.store,
            user_id=reg.user.id,
            organization_id=reg.organization.id,
            path=talk,
            filename=talk.name,
            mime_type="video/mp4",
        )
        asset.metadata_ = {**(asset.metadata_ or {}), "chat": {"provider": "telegram", "chat_id": "1"}}
    job_ids = await assets.process_asset(deps, asset.id)
    text_jobs, clip_jobs = await _split_jobs(deps, job_ids)
    for job_id in text_jobs:
        await jobs.run_job(deps, job_id)
    texts = Measure.now() - start
    for job_id in clip_jobs:
        await jobs.run_job(deps, job_id)
    total = Measure.now() - start
    bare_after = await bare_run("bare2")
    tiny_after = await bare_run("tiny2", tiny_only)
    bare = min(bare_before, bare_after, key=lambda m: m.wall)
    tiny = min(tiny_before, tiny_after, key=lambda m: m.wall)
    first = (notifier.first_draft_at or time.perf_counter()) - start.wall
    print(f"talk: {talk.name}")
    print("| measure | wall s | CPU s |\n|---|---|---|")
    print(f"| bare, tiny.en alone: ffmpeg extraction + transcription (best of 2) | {tiny.wall:.1f} | {tiny.cpu:.1f} |")
    print(f"| bare, `auto`: + language detection, second hearings (best of 2) | {bare.wall:.1f} | {bare.cpu:.1f} |")
    print(f"| ratio `auto` / tiny.en alone | {bare.wall / tiny.wall:.2f} | {bare.cpu / tiny.cpu:.2f} |")
    print(f"| Recast: upload to first draft | {first:.1f} | |")
    print(f"| Recast: upload to all text drafts | {texts.wall:.1f} | {texts.cpu:.1f} |")
    print(f"| Recast: upload to all drafts incl. {notifier.clips} clips | {total.wall:.1f} | {total.cpu:.1f} |")
    print(f"| ratio text drafts / bare | {texts.wall / bare.wall:.2f} | {texts.cpu / bare.cpu:.2f} |")
    print(f"| ratio all drafts incl. clips / bare | {total.wall / bare.wall:.2f} | {total.cpu / bare.cpu:.2f} |")
    print(f"(bare runs: {bare_before.wall:.1f} s and {bare_after.wall:.1f} s wall; tiny.en alone ", end="")
    print(f"{tiny_before.wall:.1f} s and {tiny_after.wall:.1f} s)")
    await qdrant.close()
    await redis.aclose()
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    cache = Path(tempfile.gettempdir()) / "recast-bench"
    cache.mkdir(exist_ok=True)
    talk = cache / f"talk-{args.minutes:g}min.mp4"
    if not talk.exists():
        print(f"generating a {args.minutes:g}-minute talk…")
        sentences: list[str] = []
        while len(" ".join(sentences).split()) < args.minutes * 150:
            sentences += SENTENCES
        make_talk_video(talk, sentences, width=640, height=360)
    admin = os.environ.get("DATABASE_URL") or (
        "postgresql://postgres@127.0.0.1:5432/postgres" if port_is_open("127.0.0.1", 5432) else None
    )
    redis_url = os.environ.get("REDIS_URL") or ("redis://127.0.0.1:6379/0" if port_is_open("127.0.0.1", 6379) else None)
    with (
        tempfile.TemporaryDirectory() as tmp,
        infrastructure(data_dir=Path(tmp), database_url=admin, redis_url=redis_url) as (db_admin, redis),
    ):
        name = f"recast_bench_{uuid.uuid4().hex[:8]}"
        create_database_sync(with_database(db_admin, "postgres"), name)
        url = with_database(db_admin, name)
        migrate.upgrade(url)
        try:
            asyncio.run(run(url, redis, talk, Path(tmp)))
        finally:
            asyncio.run(_drop(with_database(db_admin, "postgres"), name))


async def _drop(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
