"""The video_to_shorts job on a real database: rows written once, styles from templates, re-cut on feedback."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from talk_kit import TranscribedTalk

from core.accounts.service import register_chat_user
from core.billing.errors import OverPlanLimit
from core.billing.usage import current_usage
from core.brand.models import BrandProfile
from core.clips.errors import ClipFeedbackNotUnderstood
from core.clips.service import JOB_CREDITS, RECUT_CREDITS, generate_clips_for_job, rerender_clip
from core.content.models import ContentAsset
from core.media.ffmpeg import run_ffmpeg
from core.media.probe import probe_media
from core.repurposing.models import BrandTemplate, GeneratedContent, RepurposingJob, Template
from core.seed.service import apply_seed
from core.storage.files import LocalFileStore


async def _job(session: AsyncSession, **config: object) -> RepurposingJob:
    job = RepurposingJob(
        job_type="video_to_shorts",
        output_format="short_video",
        target_platforms=["youtube_shorts"],
        config={"count": 2, "min_seconds": 5, "max_seconds": 9, "reframe": "crop", **config},
        status="queued",
    )
    session.add(job)
    await session.flush()
    return job


async def test_clips_are_written_exactly_once(session: AsyncSession, talk: TranscribedTalk, tmp_path: Path) -> None:
    await apply_seed(session=session)
    store = LocalFileStore(tmp_path / "media")
    job = await _job(session)
    default_style = await session.scalar(
        select(Template)
        .where(Template.template_type == "caption_style", Template.is_public.is_(True))
        .order_by(Template.created_at, Template.name)
        .limit(1)
    )
    assert default_style is not None

    rows = await generate_clips_for_job(
        session=session,
        store=store,
        job_id=job.id,
        transcript_words=talk.words,
        analysis=talk.analysis,
        media_path=talk.video.path,
    )
    again = await generate_clips_for_job(
        session=session,
        store=store,
        job_id=job.id,
        transcript_words=talk.words,
        analysis=talk.analysis,
        media_path=talk.video.path,
    )

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
        assert 5 <= said <= 9 and set(meta["components"]) == {"hook", "keywords", "sentiment", "pace", "question"}
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
        session=session,
        store=store,
        job_id=job.id,
        transcript_words=talk.words,
        analysis=None,
        media_path=talk.video.path,
    )
    before = dict(row.metadata_ or {})
    assert before["caption_style"]["name"] == "Boxed Karaoke"

    later = await rerender_clip(
        session=session,
        store=store,
        draft_id=row.id,
        feedback="Start 2 seconds later and make it square",
        media_path=talk.video.path,
        transcript_words=talk.words,
    )
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
            session=session,
            store=store,
            draft_id=row.id,
            feedback="make it pop",
            media_path=talk.video.path,
            transcript_words=talk.words,
        )


async def _creator_job(session: AsyncSession, store: LocalFileStore, talk: TranscribedTalk, **config: object):
    """A creator (free plan) with a brand profile, their uploaded talk and a one-clip job for it."""
    reg = await register_chat_user(
        session=session,
        provider="telegram",
        external_user_id="7001",
        chat_id="7001",
        full_name="Asha Rao",
        username="asha",
    )
    brand = BrandProfile(user_id=reg.user.id, name="Asha Builds")
    session.add(brand)
    await session.flush()
    asset = ContentAsset(
        user_id=reg.user.id,
        organization_id=reg.organization.id,
        brand_profile_id=brand.id,
        title="talk",
        content_type="video",
        file_url=store.put_path(talk.video.path, "uploads/talk.mp4"),
    )
    session.add(asset)
    await session.flush()
    job = await _job(session, count=1, **config)
    job.user_id, job.content_asset_id = reg.user.id, asset.id
    await session.flush()
    return reg.user, brand, asset, job


async def test_a_clip_job_costs_its_credits_once_and_a_recut_one_more(
    session: AsyncSession, talk: TranscribedTalk, tmp_path: Path
) -> None:
    await apply_seed(session=session)
    store = LocalFileStore(tmp_path / "media")
    user, _, _, job = await _creator_job(session, store, talk)

    for _ in range(2):  # a redelivered task must not charge twice
        [row] = await generate_clips_for_job(
            session=session,
            store=store,
            job_id=job.id,
            transcript_words=talk.words,
            analysis=None,
            media_path=talk.video.path,
        )
    usage = await current_usage(session=session, user_id=user.id)
    assert usage.ai_credits_used == JOB_CREDITS == job.credits_used == 3

    await rerender_clip(
        session=session,
        store=store,
        draft_id=row.id,
        feedback="shorter",
        media_path=talk.video.path,
        transcript_words=talk.words,
    )
    usage = await current_usage(session=session, user_id=user.id)
    assert usage.ai_credits_used == JOB_CREDITS + RECUT_CREDITS


async def test_a_creator_out_of_credits_gets_the_upgrade_message_before_any_rendering(
    session: AsyncSession, talk: TranscribedTalk, tmp_path: Path
) -> None:
    await apply_seed(session=session)
    store = LocalFileStore(tmp_path / "media")
    user, _, _, job = await _creator_job(session, store, talk)
    usage = await current_usage(session=session, user_id=user.id)
    assert usage.credit_limit is not None
    usage.ai_credits_used = usage.credit_limit - 1
    await session.flush()

    with pytest.raises(OverPlanLimit) as caught:
        await generate_clips_for_job(
            session=session,
            store=store,
            job_id=job.id,
            transcript_words=talk.words,
            analysis=None,
            media_path=talk.video.path,
        )

    assert "/upgrade" in caught.value.user_message
    assert not (tmp_path / "media" / "clips").exists()
    count = await session.scalar(
        select(func.count()).select_from(GeneratedContent).where(GeneratedContent.repurposing_job_id == job.id)
    )
    assert count == 0 and job.credits_used in (None, 0)


async def test_the_brands_intro_and_outro_frame_every_clip(
    session: AsyncSession, talk: TranscribedTalk, tmp_path: Path
) -> None:
    await apply_seed(session=session)
    store = LocalFileStore(tmp_path / "media")
    _, brand, _, job = await _creator_job(session, store, talk)
    intro = tmp_path / "intro.mp4"
    await run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=red:s=1080x1920:r=30:d=1", "-c:v", "libx264", intro])
    session.add(
        BrandTemplate(
            brand_profile_id=brand.id,
            intro_video_url=store.put_path(intro, "brand/intro.mp4"),
            outro_video_url=store.put_path(intro, "brand/outro.mp4"),
        )
    )
    await session.flush()

    [row] = await generate_clips_for_job(
        session=session,
        store=store,
        job_id=job.id,
        transcript_words=talk.words,
        analysis=None,
        media_path=talk.video.path,
    )

    meta = row.metadata_ or {}
    spoken = meta["end"] - meta["start"]
    assert meta["intro_seconds"] == pytest.approx(1.0, abs=0.05) == meta["outro_seconds"]
    info = probe_media(store.local_path(row.file_url or ""))
    assert info.duration_s == pytest.approx(spoken + 2.0, abs=0.15)
    # A re-cut keeps the brand's intro and outro.
    later = await rerender_clip(
        session=session,
        store=store,
        draft_id=row.id,
        feedback="shorter",
        media_path=talk.video.path,
        transcript_words=talk.words,
    )
    assert (later.metadata_ or {})["intro_seconds"] == pytest.approx(1.0, abs=0.05)


async def test_a_brands_caption_style_of_its_own_keeps_the_brands_logo_intro_and_outro(
    session: AsyncSession, talk: TranscribedTalk, tmp_path: Path
) -> None:
    """/brand logo, intro and outro live on the brand's general template; a template customising the caption
    style the clip uses wins for the style, and the logo, intro and outro still come from the general one."""
    await apply_seed(session=session)
    store = LocalFileStore(tmp_path / "media")
    _, brand, _, job = await _creator_job(session, store, talk)
    intro, logo = tmp_path / "intro.mp4", tmp_path / "logo.png"
    await run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=red:s=320x240:r=25:d=1", "-c:v", "libx264", intro])
    await run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=magenta:s=128x128", "-frames:v", "1", logo])
    default_style = await session.scalar(
        select(Template)
        .where(Template.template_type == "caption_style", Template.is_public.is_(True))
        .order_by(Template.created_at, Template.name)
        .limit(1)
    )
    assert default_style is not None
    session.add(
        BrandTemplate(
            brand_profile_id=brand.id,
            logo_url=store.put_path(logo, "brand/logo.png"),
            intro_video_url=store.put_path(intro, "brand/intro.mp4"),
        )
    )
    await session.flush()
    styled = BrandTemplate(brand_profile_id=brand.id, template_id=default_style.id, brand_colors={"primary": "#FFD400"})
    session.add(styled)
    await session.flush()

    [row] = await generate_clips_for_job(
        session=session,
        store=store,
        job_id=job.id,
        transcript_words=talk.words,
        analysis=None,
        media_path=talk.video.path,
    )

    meta = row.metadata_ or {}
    assert meta["brand_template_id"] == str(styled.id)
    assert meta["intro_seconds"] == pytest.approx(1.0, abs=0.05) and meta["outro_seconds"] == 0
    with av.open(str(store.local_path(row.file_url or ""))) as container:
        frames = [f for f in container.decode(video=0) if f.time is not None and f.time >= 1.5]
        corner = frames[0].to_ndarray(format="rgb24")[60:200, 880:1020].reshape(-1, 3).mean(axis=0)
    assert corner[0] > 170 and corner[2] > 170 and corner[1] < 90, f"no logo in the corner: mean RGB {corner}"
