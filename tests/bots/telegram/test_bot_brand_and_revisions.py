"""The Telegram bot end to end, beyond the first draft: the /brand set-up and clip dressing, a real
talk video sent to the bot coming back as drafts and captioned clips, and Revise / Regenerate on both.
Real aiogram polling a local Bot API server, real PostgreSQL, Redis Streams worker, ffmpeg and Whisper."""

from __future__ import annotations

from pathlib import Path

import pytest
from chat import onboard
from sqlalchemy import func, select
from test_bot_flow import running_bot

from core.accounts.models import ChatIdentity
from core.brand.models import BrandProfile, BrandVoiceEmbedding
from core.media.ffmpeg import run_ffmpeg
from core.media.samples import make_talk_video
from core.repurposing.models import BrandTemplate, GeneratedContent
from core.seed.service import apply_seed
from core.workflow.models import Revision

CREATOR = 5560001
SAMPLES = [
    "Shipped our new onboarding today. Three screens instead of nine, and activation went up by a third "
    "in the first week. Fewer choices, faster wins.",
    "Hiring lesson from this quarter: write the job post for the one person you want, not for everyone. "
    "We got fewer applicants and far better ones.",
]
ANSWERS = [
    "Asha Builds",
    "SaaS",
    "early-stage founders in India",
    "leads, authority",
    "linkedin, twitter",
    "casual",
    "No jargon. One emoji at most.",
]
SENTENCES = [
    "Most founders in India post once and then disappear for a month.",
    "Consistency beats talent when you are building a personal brand on LinkedIn.",
    "Write for one person, not for everyone, and your engagement will double.",
    "Turn every long video into ten small posts, because one idea deserves many formats.",
    "Reply to every comment in the first hour, because the algorithm rewards conversations.",
    "Why do most people quit? They measure followers instead of conversations.",
]


async def _brand_of(core_deps, user_id: int) -> BrandProfile:
    async with core_deps.sessionmaker() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(user_id)))
        brand = await s.scalar(select(BrandProfile).where(BrandProfile.user_id == identity.user_id))
    assert brand is not None
    return brand


async def test_brand_setup_samples_and_clip_dressing_from_chat(live_deps, redis_url, run_id, tmp_path: Path):
    core_deps = live_deps
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    logo, long_intro, intro = tmp_path / "logo.png", tmp_path / "long.mp4", tmp_path / "intro.mp4"
    await run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=orange:s=256x256", "-frames:v", "1", logo])
    for path, seconds in ((long_intro, 14), (intro, 2)):
        await run_ffmpeg(
            [
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=s=640x360:d={seconds}",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                path,
            ]
        )
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await onboard(tg, CREATOR, first_name="Asha")
        tg.user_sends_command(CREATOR, "brand")
        await tg.wait_for_message(CREATOR, contains="7 quick questions", timeout=15)
        for answer in ANSWERS:
            tg.user_sends_text(CREATOR, answer)
        await tg.wait_for_message(CREATOR, contains="paste 1–5 posts", timeout=15)
        tg.user_sends_text(CREATOR, "too short")
        await tg.wait_for_message(CREATOR, contains="at least 15 words", timeout=15)
        for sample in SAMPLES:
            tg.user_sends_text(CREATOR, sample)
        await tg.wait_for_message(CREATOR, contains="2 sample(s) saved", timeout=15)
        tg.user_sends_command(CREATOR, "done")
        saved = await tg.wait_for_message(CREATOR, contains="Brand voice saved", timeout=15)
        assert "Tone: casual" in saved.content and "Sample posts: 2" in saved.content

        tg.user_sends_command(CREATOR, "brand", "logo")
        await tg.wait_for_message(CREATOR, contains="Send your logo", timeout=15)
        tg.user_sends_photo(CREATOR, tg.add_file(logo.read_bytes()), width=256, height=256)
        await tg.wait_for_message(CREATOR, contains="Logo saved", timeout=15)
        tg.user_sends_command(CREATOR, "brand", "intro")
        await tg.wait_for_message(CREATOR, contains="Send your intro", timeout=15)
        tg.user_sends_video(CREATOR, tg.add_file(long_intro.read_bytes()), duration=14, file_name="long.mp4")
        await tg.wait_for_message(CREATOR, contains="Keep it to 10 seconds or less", timeout=15)
        tg.user_sends_command(CREATOR, "brand", "intro")
        tg.user_sends_video(CREATOR, tg.add_file(intro.read_bytes()), duration=2, file_name="intro.mp4")
        await tg.wait_for_message(CREATOR, contains="Intro saved", timeout=15)
        tg.user_sends_command(CREATOR, "brand")
        shown = await tg.wait_for_message(CREATOR, contains="Clip dressing", timeout=15)
        assert "logo: ✅ set · intro: ✅ set · outro: —" in shown.content

    brand = await _brand_of(core_deps, CREATOR)
    async with core_deps.sessionmaker() as s:
        samples = await s.scalar(
            select(func.count())
            .select_from(BrandVoiceEmbedding)
            .where(BrandVoiceEmbedding.brand_profile_id == brand.id)
        )
        dressing = await s.scalar(select(BrandTemplate).where(BrandTemplate.brand_profile_id == brand.id))
    assert (brand.name, brand.tone_preset) == ("Asha Builds", "casual")
    assert brand.preferred_platforms == ["linkedin", "twitter"]
    assert brand.content_goals == ["leads", "authority"] and samples == 2
    assert dressing is not None and dressing.logo_url and dressing.intro_video_url and dressing.outro_video_url is None
    assert core_deps.store.local_path(dressing.intro_video_url).read_bytes() == intro.read_bytes()


@pytest.fixture(scope="module")
def talk_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bot-talk") / "talk.mp4"
    make_talk_video(path, SENTENCES, width=480, height=270)
    return path


async def test_a_video_comes_back_as_drafts_and_clips_that_can_be_revised_and_regenerated(
    live_deps, redis_url, run_id, talk_video: Path
):
    core_deps = live_deps
    user = CREATOR + 1
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await onboard(tg, user, first_name="Asha")
        tg.user_sends_video(
            user,
            tg.add_file(talk_video.read_bytes()),
            duration=30,
            width=480,
            height=270,
            file_name="talk.mp4",
            caption="Founder brand talk",
        )
        await tg.wait_for_message(user, contains="100% · Done", timeout=240)
        linkedin = await tg.wait_for_message(user, contains="📝 LinkedIn post", timeout=5)
        clips = [m for m in tg.messages_to(user) if m.media_kind == "video" and m.content.startswith("📝 Short clip")]
        assert clips, "no clip was sent as a video"
        assert all(any(d.startswith("d:r:") for d in c.callback_data) for c in clips)
        # A clip is re-cut from feedback, never regenerated: no Regenerate button that would only refuse.
        assert all(not any(d.startswith("d:g:") for d in c.callback_data) for c in clips)
        assert all("📋 Copy caption" in [b["text"] for b in c.buttons] for c in clips)

        # Regenerate the LinkedIn post: a second version arrives as a new message.
        last = max(m.message_id for m in tg.messages_to(user))
        regenerate = next(d for d in linkedin.callback_data if d.startswith("d:g:"))
        tg.user_presses_button(user, linkedin.message_id, regenerate)
        await tg.wait_for_message(user, contains="📝 LinkedIn post · version 2", timeout=60, since_message_id=last)

        # Revise it with feedback: a revision row and a third version.
        last = max(m.message_id for m in tg.messages_to(user))
        revise = next(d for d in linkedin.callback_data if d.startswith("d:r:"))
        tg.user_presses_button(user, linkedin.message_id, revise)
        await tg.wait_for_message(user, contains="What should I change?", timeout=15, since_message_id=last)
        tg.user_sends_text(user, "shorter and more casual")
        await tg.wait_for_message(user, contains="revising with your feedback", timeout=15, since_message_id=last)
        await tg.wait_for_message(user, contains="📝 LinkedIn post", timeout=60, since_message_id=last + 2)

        # Revise a clip: it is re-cut and sent again as a video.
        clip = clips[0]
        last = max(m.message_id for m in tg.messages_to(user))
        tg.user_presses_button(user, clip.message_id, next(d for d in clip.callback_data if d.startswith("d:r:")))
        await tg.wait_for_message(user, contains="What should I change?", timeout=15, since_message_id=last)
        tg.user_sends_text(user, "make it square")
        recut = await tg.wait_for_message(user, contains="📝 Short clip", timeout=120, since_message_id=last)
        assert recut.media_kind == "video"

    async with core_deps.sessionmaker() as s:
        # This creator's rows only: other tests of the run (live_deps commits) leave their drafts behind.
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(user)))
        drafts = (await s.scalars(select(GeneratedContent).where(GeneratedContent.user_id == identity.user_id))).all()
        revisions = (
            await s.scalars(select(Revision).where(Revision.generated_content_id.in_([d.id for d in drafts])))
        ).all()
    by_format = {}
    for d in drafts:
        by_format.setdefault((d.metadata_ or {}).get("output_format"), []).append(d)
    [post] = by_format["linkedin_post"]
    assert len((post.metadata_ or {})["versions"]) == 2
    assert {r.feedback for r in revisions} == {"shorter and more casual", "make it square"}
    square = next(d for d in by_format["short_video"] if (d.metadata_ or {}).get("aspect_ratio") == "1:1")
    assert (square.metadata_ or {})["width"] == (square.metadata_ or {})["height"] == 1080
