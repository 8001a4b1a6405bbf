"""The video_to_shorts job on a real database: rows written once, styles from templates, re-cut on feedback."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from talk_kit import TranscribedTalk

from core.clips.errors import ClipFeedbackNotUnderstood
from core.clips.service import generate_clips_for_job, rerender_clip
from core.media.probe import probe_media
from core.repurposing.models import GeneratedContent, RepurposingJob, Template
from core.seed.service import apply_seed
from core.storage.files import LocalFileStore


async def _job(session: AsyncSession, **config: object) -> RepurposingJob:
    job = RepurposingJob(
        job_type="video_to_shorts", output_format="short_video", target_platforms=["youtube_shorts"],
        config={"count": 2, "min_seconds": 5, "max_seconds": 9, "reframe": "crop", **config}, status="queued",
    )  # fmt: skip
    session.add(job)
    await session.flush()
    return job


async def test_clips_are_written_exactly_once(session: AsyncSession, talk: TranscribedTalk, tmp_path: Path) -> None:
    await apply_seed(session=session)
    store = LocalFileStore(tmp_path / "media")
    job = await _job(session)
    default_style = await session.scalar(
        select(Template).where(Template.template_type == "caption_style", Template.is_public.is_(True))
        .order_by(Template.created_at, Template.name).limit(1)
    )  # fmt: skip
    assert default_style is not None

    rows = await generate_clips_for_job(
        session=session, store=store, job_id=job.id, transcript_words=talk.words, analysis=talk.analysis,
        media_path=talk.video.path,
    )  # fmt: skip
    again = await generate_clips_for_job(
        session=session, store=store, job_id=job.id, transcript_words=talk.words, analysis=talk.analysis,
        media_path=talk.video.path,
    )  # fmt: skip

    assert [r.id for r in again] == [r.id for r in rows] and len(rows) == 2
    count = await session.scalar(
        select(func.count()).select_from(GeneratedContent).where(GeneratedContent.repurposing_job_id == job.id)
    )
    assert count == 2 and job.status == "completed"
    for rank, row in enumerate(rows, start=1):
        meta = row.metadata_ or {}
        assert (row.content_type, row.target_platform) == ("short_video", "youtube_shorts")
        assert meta["rank"] == rank and meta["caption_style"]["name"] == default_style.name
        said = talk.words[meta["last_word"]].end - talk.words[meta["first_word"]].start
        assert 5 <= said <= 9 and set(meta["components"]) == {
            "hook", "keywords", "sentiment", "pace"
        }  # fmt: skip
        assert float(row.quality_score or 0) == pytest.approx(meta["score"], abs=0.01)
        video = store.local_path(row.file_url or "")
        assert video.is_file() and row.file_size == video.stat().st_size
        assert store.local_path(row.thumbnail_url or "").is_file()
        assert row.duration == round(probe_media(video).duration_s)
    assert rows[0].metadata_ and rows[1].metadata_
    assert rows[0].metadata_["score"] >= rows[1].metadata_["score"]


async def test_style_by_name_and_feedback_recuts(session: AsyncSession, talk: TranscribedTalk, tmp_path: Path) -> None:
    await apply_seed(session=session)
    store = LocalFileStore(tmp_path / "media")
    job = await _job(session, count=1, caption_style="boxed karaoke")
    [row] = await generate_clips_for_job(
        session=session, store=store, job_id=job.id, transcript_words=talk.words, analysis=None,
        media_path=talk.video.path,
    )  # fmt: skip
    before = dict(row.metadata_ or {})
    assert before["caption_style"]["name"] == "Boxed Karaoke"

    later = await rerender_clip(
        session=session, store=store, draft_id=row.id, feedback="Start 2 seconds later and make it square",
        media_path=talk.video.path, transcript_words=talk.words,
    )  # fmt: skip
    after = later.metadata_ or {}
    assert after["first_word"] > before["first_word"] and after["last_word"] == before["last_word"]
    assert after["start"] > before["start"]
    assert (after["width"], after["height"], after["aspect_ratio"]) == (1080, 1080, "1:1")
    info = probe_media(store.local_path(later.file_url or ""))
    assert (info.width, info.height) == (1080, 1080)
    assert info.duration_s == pytest.approx(after["end"] - after["start"], abs=0.1)
    [previous] = after["versions"]
    assert previous["start"] == before["start"] and previous["file_url"] != later.file_url
    assert store.local_path(previous["file_url"]).is_file()
    assert after["last_feedback"] == "Start 2 seconds later and make it square"

    with pytest.raises(ClipFeedbackNotUnderstood):
        await rerender_clip(
            session=session, store=store, draft_id=row.id, feedback="make it pop",
            media_path=talk.video.path, transcript_words=talk.words,
        )  # fmt: skip
