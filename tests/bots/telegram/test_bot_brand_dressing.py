"""A creator's brand reaches what the bot makes from their uploads: every upload (video, paste, link) is
linked to their brand profile at ingest, so their clips carry their logo, intro and outro — and another
creator's clips of the same video don't. Real aiogram against the Bot API stand-in, real PostgreSQL,
Redis, worker, Whisper and ffmpeg renders; the delivered clip files are decoded and measured."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import numpy as np
import pytest
from aiohttp import web
from chat import onboard
from fakes.site import local_site
from sqlalchemy import select
from test_bot_brand_and_revisions import SENTENCES, _brand_of
from test_bot_flow import TALK, running_bot

from core.accounts.models import ChatIdentity
from core.content.models import ContentAsset
from core.media.ffmpeg import run_ffmpeg
from core.media.probe import probe_media
from core.media.samples import make_talk_video
from core.seed.service import apply_seed

CREATOR = 5710001
OTHER = 5710002
# The renderer's logo box on a 1080-wide frame: 1/6 of the width, a 1/27 margin, top right.
LOGO_BOX = (slice(60, 200), slice(880, 1020))
MIRROR_BOX = (slice(60, 200), slice(60, 200))  # the same box in the top-left corner: no logo there


@pytest.fixture(scope="module")
def tiny_talk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dressing-talk") / "talk.mp4"
    make_talk_video(path, SENTENCES, width=320, height=240)
    return path


async def _set_up_brand(tg, user: int, name: str, *, platforms: str | None = None, guidelines: str | None = None):
    """/brand: the name, optionally the platforms and guidelines, the rest skipped."""
    tg.user_sends_command(user, "brand")
    await tg.wait_for_message(user, contains="7 quick questions", timeout=15)
    tg.user_sends_text(user, name)
    for _ in range(3):  # industry, audience, goals
        tg.user_sends_command(user, "skip")
    await tg.wait_for_message(user, contains="Which platforms?", timeout=15)
    if platforms is None:
        tg.user_sends_command(user, "skip")
    else:
        tg.user_sends_text(user, platforms)
    await tg.wait_for_message(user, contains="Tone:", timeout=15)
    tg.user_sends_command(user, "skip")
    await tg.wait_for_message(user, contains="Any guidelines?", timeout=15)
    if guidelines is None:
        tg.user_sends_command(user, "done")
    else:
        tg.user_sends_text(user, guidelines)
        await tg.wait_for_message(user, contains="paste 1–5 posts", timeout=15)
        tg.user_sends_command(user, "done")
    await tg.wait_for_message(user, contains="Brand voice saved", timeout=15)


def _frame_at(path: Path, seconds: float) -> np.ndarray:
    """The first decoded frame at or after `seconds`, as RGB."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= seconds:
                return frame.to_ndarray(format="rgb24").astype(np.int16)
    raise AssertionError(f"{path} has no frame at {seconds} s")


def _first_clip(tg, user: int, folder: Path) -> Path:
    clip = next(m for m in tg.messages_to(user) if m.media_kind == "video" and m.content.startswith("📝 Short clip"))
    path = folder / f"clip-{user}.mp4"
    path.write_bytes(tg.file_bytes(clip.media["file_id"]))
    return path


async def _asset_of(core_deps, user: int) -> list[ContentAsset]:
    async with core_deps.sessionmaker() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(user)))
        rows = await s.scalars(
            select(ContentAsset).where(ContentAsset.user_id == identity.user_id).order_by(ContentAsset.created_at)
        )
        return list(rows)


async def test_a_creators_logo_intro_and_outro_dress_their_clips_and_no_one_elses(
    live_deps, redis_url, run_id, tmp_path: Path, tiny_talk: Path
):
    core_deps = live_deps
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    logo, intro, outro = tmp_path / "logo.png", tmp_path / "intro.mp4", tmp_path / "outro.mp4"
    await run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=magenta:s=256x256", "-frames:v", "1", logo])
    for path, colour in ((intro, "red"), (outro, "blue")):
        await run_ffmpeg(
            [
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"color=c={colour}:s=320x240:r=25:d=1",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                path,
            ]
        )
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await onboard(tg, CREATOR, first_name="Asha")
        await _set_up_brand(tg, CREATOR, "Asha Builds")
        for role, path in (("logo", logo), ("intro", intro), ("outro", outro)):
            tg.user_sends_command(CREATOR, "brand", role)
            await tg.wait_for_message(CREATOR, contains=f"Send your {role}", timeout=15)
            if role == "logo":
                tg.user_sends_photo(CREATOR, tg.add_file(path.read_bytes()), width=256, height=256)
            else:
                tg.user_sends_video(CREATOR, tg.add_file(path.read_bytes()), duration=1, file_name=f"{role}.mp4")
            await tg.wait_for_message(CREATOR, contains=f"{role.title()} saved ✅", timeout=15)

        await onboard(tg, OTHER, first_name="Asha")
        for user in (CREATOR, OTHER):
            tg.user_sends_video(
                user,
                tg.add_file(tiny_talk.read_bytes()),
                duration=25,
                width=320,
                height=240,
                file_name="talk.mp4",
                caption="Founder talk",
            )
            await tg.wait_for_message(user, contains="100% · Done", timeout=300)
        branded, plain = _first_clip(tg, CREATOR, tmp_path), _first_clip(tg, OTHER, tmp_path)

    brand = await _brand_of(core_deps, CREATOR)
    [mine] = await _asset_of(core_deps, CREATOR)
    [theirs] = await _asset_of(core_deps, OTHER)
    assert mine.brand_profile_id == brand.id and theirs.brand_profile_id is None

    # The same moment, framed by the 1 s intro and the 1 s outro.
    long, short = await asyncio.to_thread(probe_media, branded), await asyncio.to_thread(probe_media, plain)
    assert long.duration_s == pytest.approx(short.duration_s + 2.0, abs=0.2)
    first, last = _frame_at(branded, 0.3), _frame_at(branded, long.duration_s - 0.4)
    assert first[960, 540, 0] > 200 and first[960, 540, 1:].max() < 60, "the clip does not open on the intro"
    assert last[960, 540, 2] > 200 and last[960, 540, :2].max() < 60, "the clip does not close on the outro"
    assert not (_frame_at(plain, 0.3)[960, 540, 0] > 200 and _frame_at(plain, 0.3)[960, 540, 1:].max() < 60)

    # During the moment: the magenta logo sits in the top-right corner of the branded clip only; the
    # opposite corner, without a logo, looks the same in both.
    ours, other = _frame_at(branded, 1.0 + 2.0), _frame_at(plain, 2.0)
    corner = ours[LOGO_BOX].reshape(-1, 3).mean(axis=0)
    assert corner[0] > 170 and corner[2] > 170 and corner[1] < 90, f"no magenta logo: mean RGB {corner}"
    assert np.abs(ours[LOGO_BOX] - other[LOGO_BOX]).mean() > 60
    assert np.abs(ours[MIRROR_BOX] - other[MIRROR_BOX]).mean() < 20


async def test_pastes_and_links_are_linked_to_the_creators_brand(live_deps, redis_url, run_id):
    core_deps = live_deps
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    page = f"<html><head><title>Consistency</title></head><body><article><p>{TALK}</p></article></body></html>"

    async def article(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    user = CREATOR + 10
    async with local_site([web.get("/post", article)]) as base, running_bot(core_deps, redis_url, run_id) as tg:
        await onboard(tg, user, first_name="Asha")
        await _set_up_brand(tg, user, "Asha Writes", platforms="linkedin")
        tg.user_sends_text(user, TALK)
        await tg.wait_for_message(user, contains="100% · Done", timeout=60)
        last = max(m.message_id for m in tg.messages_to(user))
        tg.user_sends_text(user, f"{base}/post")
        await tg.wait_for_message(user, contains="100% · Done", timeout=60, since_message_id=last)
    brand = await _brand_of(core_deps, user)
    assets = await _asset_of(core_deps, user)
    assert [(a.source_url is not None, a.brand_profile_id) for a in assets] == [(False, brand.id), (True, brand.id)]


async def test_saving_a_logo_says_what_it_will_do_only_as_far_as_it_is_true(
    live_deps, redis_url, run_id, tmp_path: Path, tiny_talk: Path
):
    core_deps = live_deps
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    logo = tmp_path / "logo.png"
    await run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=magenta:s=128x128", "-frames:v", "1", logo])
    user = CREATOR + 20
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await onboard(tg, user, first_name="Asha")
        tg.user_sends_command(user, "brand", "logo")
        await tg.wait_for_message(user, contains="Set up your brand first with /brand", timeout=15)

        # A brand for LinkedIn and X only gets no clips: saying the next clips will use the logo would be false.
        await _set_up_brand(tg, user, "Asha Text", platforms="linkedin, twitter")
        tg.user_sends_command(user, "brand", "logo")
        await tg.wait_for_message(user, contains="Send your logo", timeout=15)
        tg.user_sends_photo(user, tg.add_file(logo.read_bytes()), width=128, height=128)
        saved = await tg.wait_for_message(user, contains="Logo saved", timeout=15)
        assert "✅" not in saved.content and "no clips" in saved.content and "/brand edit" in saved.content
        tg.user_sends_command(user, "brand")
        shown = await tg.wait_for_message(user, contains="Clip dressing", timeout=15)
        assert "logo: ✅ set" in shown.content and "your platforms get no clips" in shown.content
        tg.user_sends_video(
            user, tg.add_file(tiny_talk.read_bytes()), duration=25, width=320, height=240, file_name="talk.mp4"
        )
        await tg.wait_for_message(user, contains="100% · Done", timeout=180)
        assert not [m for m in tg.messages_to(user) if m.media_kind == "video"], "the message was right: no clips"

        # Once the brand wants Instagram, the same logo is promised on the next clips.
        last = max(m.message_id for m in tg.messages_to(user))
        tg.user_sends_command(user, "brand", "edit")
        await tg.wait_for_message(user, contains="7 quick questions", timeout=15, since_message_id=last)
        for answer in ["-", "-", "-", "-", "linkedin, instagram", "-", "-"]:
            tg.user_sends_text(user, answer)
        await tg.wait_for_message(user, contains="paste 1–5 posts", timeout=15, since_message_id=last)
        tg.user_sends_command(user, "done")
        await tg.wait_for_message(user, contains="Platforms: linkedin, instagram", timeout=15, since_message_id=last)
        tg.user_sends_command(user, "brand", "logo")
        tg.user_sends_photo(user, tg.add_file(logo.read_bytes()), width=128, height=128)
        again = await tg.wait_for_message(user, contains="Logo saved ✅", timeout=15, since_message_id=last)
        assert "Clips from the videos you send from now on will have it in the corner" in again.content
