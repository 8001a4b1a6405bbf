"""A clip goes out with its post: checked against the platform's limits when it is scheduled (what can't be
fixed is refused then, with the limit), re-encoded ahead of time when only its format is wrong, uploaded
through the platform's own upload flow (LinkedIn's initialize/parts/finalize, X's chunked INIT/APPEND/
FINALIZE/STATUS), and an X account's used-up daily cap moves the post to when the cap resets."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.deps import CoreDeps
from core.distribution import publishing
from core.distribution.errors import ContentRejected, NotPublishable, QuotaExhausted
from core.distribution.models import PostStatus
from core.distribution.platforms.http import error_for
from core.distribution.platforms.names import Platform
from core.distribution.platforms.x import XClient
from core.distribution.ports import Credentials, PostContent
from core.distribution.post_media import MediaNotAccepted, PostMedia, check_video, prepare_args
from core.media.probe import MediaInfo, probe_media
from core.repurposing.models import GeneratedContent
from tests.distribution_fixtures import Creator, clip_draft, connect_linkedin, make_clip, now, wait_for_message
from tests.fakes.linkedin_api import FakeLinkedIn
from tests.fakes.x_api import FakeX


async def _schedule_and_publish(deps: CoreDeps, connection, draft_id: uuid.UUID) -> publishing.PublishOutcome:  # type: ignore[no-untyped-def]
    async with deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, draft_id)
        assert draft is not None
        post, _ = await publishing.schedule(
            session, draft=draft, connection=connection, when=now(), timezone="Asia/Kolkata", store=deps.store
        )
        await session.commit()
    async with deps.sessionmaker() as session:
        return await publishing.publish_post(session, deps.settings, post.id, store=deps.store)


async def test_a_clip_goes_to_linkedin_through_the_multipart_video_upload(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, tmp_path: Path
) -> None:
    linkedin.video_part_bytes = 64 * 1024  # several parts for a small clip
    clip = await make_clip(tmp_path / "clip.mp4", seconds=4)
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    outcome = await _schedule_and_publish(publish_deps, connection, await clip_draft(publish_deps, creator, clip))
    assert outcome.result == publishing.Result.PUBLISHED, outcome.reason
    [post] = linkedin.posts
    [(urn, video)] = linkedin.videos.items()
    assert post["content"]["media"]["id"] == urn and post["content"]["media"]["title"] == "Show up every week"
    assert len(video["parts"]) > 1 and video["data"] == clip.read_bytes()  # posted as it is: no fixes needed


async def test_a_clip_linkedin_cant_take_is_reencoded_before_it_is_uploaded(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, tmp_path: Path
) -> None:
    clip = await make_clip(tmp_path / "clip.webm", seconds=4, codec="libvpx-vp9")
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    draft_id = await clip_draft(publish_deps, creator, clip)
    async with publish_deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, draft_id)
        assert draft is not None
        post, _ = await publishing.schedule(
            session, draft=draft, connection=connection, when=now(), timezone="UTC", store=publish_deps.store
        )
        await session.commit()
        media = PostMedia.from_json(post.post_metadata["media"])
    assert media is not None and media.fixes and "H.264" in media.fixes[0] and media.ready_url is None
    async with publish_deps.sessionmaker() as session:
        outcome = await publishing.publish_post(session, publish_deps.settings, post.id, store=publish_deps.store)
    assert outcome.result == publishing.Result.PUBLISHED, outcome.reason
    [video] = linkedin.videos.values()
    uploaded = tmp_path / "uploaded.mp4"
    uploaded.write_bytes(video["data"])
    info = probe_media(uploaded)
    assert (info.video_codec, info.container, info.audio_codec) == ("h264", "mp4", "aac")
    assert abs(info.duration_s - 4) < 0.3


async def test_a_clip_too_short_for_linkedin_is_refused_when_scheduled_with_the_limit(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, tmp_path: Path
) -> None:
    clip = await make_clip(tmp_path / "short.mp4", seconds=2)
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    draft_id = await clip_draft(publish_deps, creator, clip)
    async with publish_deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, draft_id)
        assert draft is not None
        with pytest.raises(MediaNotAccepted) as refused:
            await publishing.schedule(
                session, draft=draft, connection=connection, when=now(), timezone="UTC", store=publish_deps.store
            )
    assert "LinkedIn takes videos of 3.0 s or more and this one is 2.0 s" in refused.value.user_message
    assert linkedin.posts == [] and linkedin.videos == {}


def _info(**overrides: object) -> MediaInfo:
    base: dict[str, object] = dict(
        duration_s=30.0, width=1080, height=1920, fps=30.0, video_codec="h264", audio_codec="aac", has_audio=True,
        has_video=True, size_bytes=5_000_000, mime_type="video/mp4", container="mp4",
    )  # fmt: skip
    return MediaInfo(**{**base, **overrides})  # type: ignore[arg-type]


def test_each_platform_limit_is_sorted_into_a_fix_or_a_refusal() -> None:
    assert check_video(_info(), Platform.INSTAGRAM) == ()
    with pytest.raises(MediaNotAccepted, match=r"X takes videos up to 2 min 20 s and this one is 3 min 10 s"):
        check_video(_info(duration_s=190), Platform.X)
    with pytest.raises(MediaNotAccepted, match="TikTok takes videos of 3.0 s or more"):
        check_video(_info(duration_s=1.5), Platform.TIKTOK)
    oversized = check_video(_info(size_bytes=400 * 1024 * 1024), Platform.INSTAGRAM)
    assert oversized == ("compressed to fit Instagram's 300 MB limit (it is 400 MB)",)
    too_wide = check_video(_info(width=4000, height=300), Platform.INSTAGRAM)
    assert too_wide == ("padded to 10:1 (Instagram's widest shape)",)


def test_the_prepare_pass_pads_to_the_allowed_shape_and_caps_the_bitrate_to_fit() -> None:
    args = prepare_args(
        Path("in.mp4"), Path("out.mp4"), _info(width=4000, height=300, size_bytes=400 * 1024 * 1024), Platform.INSTAGRAM
    )
    assert "pad=4000:400:(ow-iw)/2:(oh-ih)/2:color=black" in args[args.index("-vf") + 1]
    video_kbps = int(args[args.index("-b:v") + 1].removesuffix("k"))
    # 300 MB * 0.9 over 30 s, less the audio's 128 kb/s
    assert video_kbps == int(300 * 1024 * 1024 * 8 * 0.9 / 1000 / 30 - 128)


def test_thread_length_and_hashtag_limits_are_refused_before_scheduling() -> None:
    with pytest.raises(NotPublishable, match="X threads here take up to 25 posts and this one has 26"):
        publishing.check_publishable("x", [f"{n}/26 tip" for n in range(1, 27)])
    caption = "Bake slow. " + " ".join(f"#tag{n}" for n in range(31))
    with pytest.raises(NotPublishable, match="Instagram takes up to 30 hashtags and this draft has 31"):
        publishing.check_publishable("instagram", [caption])
    publishing.check_publishable("instagram", ["Bake slow. " + " ".join(f"#tag{n}" for n in range(30))])


@pytest.fixture
async def x() -> FakeX:
    async with FakeX() as fake:
        yield fake  # type: ignore[misc]


async def _x_credentials(x: FakeX) -> Credentials:
    token = "x-token-" + uuid.uuid4().hex
    x.tokens.add(token)
    return Credentials(access_token=token, platform_user_id=x.user_id)


async def test_a_clip_goes_to_x_in_chunks_and_waits_for_processing(x: FakeX, tmp_path: Path) -> None:
    clip = await make_clip(tmp_path / "clip.mp4", seconds=3)
    client = XClient(client_id=x.client_id, client_secret=x.client_secret, api_base=x.base_url, chunk_bytes=32 * 1024)
    content = PostContent(text="Show up every week.", media=clip, media_kind="video")
    published = await client.publish(await _x_credentials(x), content)
    [tweet] = x.tweets
    [(media_id, item)] = x.media.items()
    assert tweet["id"] == published.post_id and tweet["media_ids"] == [media_id]
    assert len(item["chunks"]) > 1 and item["data"] == clip.read_bytes()
    assert item["polls"] == x.processing_polls + 1  # asked STATUS until it succeeded


async def test_media_x_fails_to_process_is_a_rejection_with_xs_reason_and_nothing_is_posted(
    x: FakeX, tmp_path: Path
) -> None:
    x.reject_media = "Video duration is too long"
    clip = await make_clip(tmp_path / "clip.mp4", seconds=3)
    client = XClient(client_id=x.client_id, client_secret=x.client_secret, api_base=x.base_url)
    with pytest.raises(ContentRejected) as rejected:
        await client.publish(await _x_credentials(x), PostContent(text="Hi", media=clip, media_kind="video"))
    assert rejected.value.user_message == "X rejected the media: Video duration is too long."
    assert x.tweets == []


def test_xs_daily_cap_headers_make_a_move_to_the_reset_not_a_retry() -> None:
    reset = int(datetime(2026, 12, 3, 4, 30, tzinfo=UTC).timestamp())
    headers = {"x-user-limit-24hour-remaining": "0", "x-user-limit-24hour-reset": str(reset)}
    error = error_for(429, "{}", headers, label="X", creates=True)
    assert isinstance(error, QuotaExhausted) and error.until == datetime(2026, 12, 3, 4, 30, tzinfo=UTC)
    plain = error_for(429, "{}", {"Retry-After": "7"}, label="X", creates=True)
    assert not isinstance(plain, QuotaExhausted) and plain.retry_after == 7


async def test_an_x_post_over_the_daily_cap_moves_to_the_reset_and_the_creator_is_told(
    publish_deps: CoreDeps, x: FakeX, creator: Creator
) -> None:
    from core.distribution import notices
    from core.notify import outbox
    from tests.core.distribution.test_x_threads import _connect_x

    deps = publish_deps
    deps.settings = deps.settings.model_copy(
        update={
            "x_client_id": x.client_id,
            "x_client_secret": SecretStr(x.client_secret),
            "x_api_base": x.base_url,
            "x_authorize_url": f"{x.base_url}/i/oauth2/authorize",
        }
    )
    connection = await _connect_x(deps, creator)
    reset = (now() + timedelta(hours=5)).replace(microsecond=0)
    x.daily_cap, x.cap_reset_epoch = 1, int(reset.timestamp())
    x.tweets.append({"id": "1", "text": "earlier today", "in_reply_to": None, "media_ids": []})
    async with deps.sessionmaker() as session:
        draft = GeneratedContent(
            user_id=creator.user_id,
            title="One tip",
            content_type="social_post",
            content_text=f"Write for one person. ({uuid.uuid4().hex[:6]})",
            metadata_={"output_format": "twitter_thread", "tweets": [f"Write for one person. {uuid.uuid4().hex[:6]}"]},
        )
        session.add(draft)
        await session.flush()
        post, _ = await publishing.schedule(
            session, draft=draft, connection=connection, when=now(), timezone="Asia/Kolkata"
        )
        await session.commit()
    async with deps.sessionmaker() as session:
        outcome = await publishing.publish_post(session, deps.settings, post.id)
        units = await notices.record_outcome(session, outcome)
        await session.commit()
    await outbox.flush(deps, units)
    assert outcome.result == publishing.Result.MOVED and outcome.moved_to == reset
    async with deps.sessionmaker() as session:
        moved = await session.get(type(post), post.id)
        assert moved is not None and moved.status == PostStatus.SCHEDULED and moved.scheduled_for == reset
    told = await wait_for_message(deps, creator.chat, "daily posting limit")
    assert notices.local_time(reset, "Asia/Kolkata") in told.text and len(x.tweets) == 1
