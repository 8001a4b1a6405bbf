"""A clip job across two machines sharing an S3-compatible bucket (moto's server over real HTTP): the
source uploaded on one is rendered from on the other, the clip and its thumbnail go to the bucket, any
machine plays them back from its own copy, and a platform fetches the clip by its presigned link."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from fakes.s3 import ACCESS_KEY, SECRET_KEY, S3Server
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession
from talk_kit import TranscribedTalk
from yarl import URL

from core.clips.service import generate_clips_for_job
from core.config import Settings
from core.media.probe import probe_media
from core.repurposing.models import RepurposingJob
from core.seed.service import apply_seed
from core.storage.factory import file_store
from core.storage.s3 import S3FileStore


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = S3Server()
    server.start()
    yield server
    server.stop()


def _machine(s3: S3Server, data_dir: Path, bucket: str) -> S3FileStore:
    settings = Settings(
        storage_backend="s3",
        s3_endpoint_url=s3.endpoint,
        s3_bucket=bucket,
        s3_access_key_id=ACCESS_KEY,
        s3_secret_access_key=SecretStr(SECRET_KEY),
        s3_create_bucket=True,
        recast_data_dir=data_dir,
        _env_file=None,  # type: ignore[call-arg]
    )
    store = file_store(settings)
    assert isinstance(store, S3FileStore)
    return store


async def test_a_clip_rendered_on_one_machine_plays_on_another_and_a_platform_fetches_it(
    session: AsyncSession, talk: TranscribedTalk, s3: S3Server, tmp_path: Path
) -> None:
    await apply_seed(session=session)
    bucket = f"clips-{uuid.uuid4().hex[:12]}"
    ingest, render, deliver = (_machine(s3, tmp_path / name, bucket) for name in ("ingest", "render", "deliver"))
    source_url = ingest.put_path(talk.video.path, "assets/talk/source.mp4")
    job = RepurposingJob(
        job_type="video_to_shorts",
        output_format="short_video",
        target_platforms=["youtube_shorts"],
        config={"count": 1, "min_seconds": 5, "max_seconds": 9, "reframe": "crop"},
        status="queued",
    )
    session.add(job)
    await session.flush()

    [row] = await generate_clips_for_job(
        session=session,
        store=render,
        job_id=job.id,
        transcript_words=talk.words,
        analysis=talk.analysis,
        media_path=render.local_path(source_url),  # downloaded from the bucket on this machine
    )

    assert (row.file_url or "").startswith(f"s3://{bucket}/") and (row.thumbnail_url or "").endswith(".jpg")
    video = deliver.local_path(row.file_url or "")
    assert video.is_relative_to(deliver.cache_dir) and video.suffix == ".mp4"
    assert row.file_size == video.stat().st_size and row.duration == round(probe_media(video).duration_s)
    assert deliver.local_path(row.thumbnail_url or "").read_bytes()[:2] == b"\xff\xd8"
    link = deliver.fetchable_url(row.file_url or "", expires_s=300)
    async with aiohttp.ClientSession() as platform, platform.get(URL(link, encoded=True)) as response:
        assert response.status == 200 and response.headers["Content-Type"] == "video/mp4"
        assert await response.read() == video.read_bytes()
