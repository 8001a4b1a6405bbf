"""Issue 11, item 5: every message gets an answer — what Recast can take, the nearest command, how
to use /brand, and in the brand set-up what a valid answer is and how to leave the step."""

from __future__ import annotations

from chat import reply_to, seed_and_onboard
from sqlalchemy import select
from test_bot_flow import running_bot

from core.accounts.models import ChatIdentity
from core.brand.models import BrandProfile

CREATOR = 5580001


async def test_photos_stickers_and_unknown_commands_are_answered(live_deps, redis_url, run_id):
    async with running_bot(live_deps, redis_url, run_id) as tg:
        await seed_and_onboard(live_deps, tg, CREATOR)
        photo = tg.add_file(b"\x89PNG fake image")
        reply = await reply_to(tg, CREATOR, lambda: tg.user_sends_photo(CREATOR, photo), "from a photo")
        assert "video" in reply.content and "link" in reply.content
        sticker = tg.add_file(b"RIFF webp")
        reply = await reply_to(tg, CREATOR, lambda: tg.user_sends_sticker(CREATOR, sticker), "Send me a video")
        await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "plan"), "Did you mean /plans?")
        await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "credits"), "Did you mean /usage?")
        reply = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "xyzzy"), "I don't know /xyzzy")
        assert "/help" in reply.content and "/plans" in reply.content


async def test_brand_with_nonsense_arguments_says_how_to_use_it(live_deps, redis_url, run_id):
    async with running_bot(live_deps, redis_url, run_id) as tg:
        await seed_and_onboard(live_deps, tg, CREATOR + 1)
        await reply_to(
            tg, CREATOR + 1, lambda: tg.user_sends_command(CREATOR + 1, "brand", "asdf qwerty"), "/brand works like"
        )
        # The wizard did not start: a plain text now is content, not a brand name.
        await reply_to(tg, CREATOR + 1, lambda: tg.user_sends_text(CREATOR + 1, "Asha Builds"), "at least 80 words")


async def test_an_invalid_brand_answer_says_what_is_valid_and_how_to_leave(live_deps, redis_url, run_id):
    user = CREATOR + 2
    async with running_bot(live_deps, redis_url, run_id) as tg:
        await seed_and_onboard(live_deps, tg, user)
        await reply_to(tg, user, lambda: tg.user_sends_command(user, "brand"), "7 quick questions")
        for text, next_question in [
            ("Asha Builds", "Which industry"),
            ("SaaS", "Who is your audience"),
            ("founders", "content goals"),
            ("leads", "Which platforms"),
        ]:
            await reply_to(tg, user, lambda t=text: tg.user_sends_text(user, t), next_question)
        reply = await reply_to(tg, user, lambda: tg.user_sends_text(user, "myspace"), "Pick platforms from")
        assert "/skip" in reply.content and "/cancel" in reply.content and "/done" in reply.content
        sticker = tg.add_file(b"RIFF webp")
        await reply_to(tg, user, lambda: tg.user_sends_sticker(user, sticker), "I need a text answer here")
        await reply_to(tg, user, lambda: tg.user_sends_command(user, "skip"), "Tone:")
        reply = await reply_to(tg, user, lambda: tg.user_sends_text(user, "loud"), "Pick one of the tones")
        assert "/cancel" in reply.content
        await reply_to(tg, user, lambda: tg.user_sends_text(user, "casual"), "Any guidelines")
        # /done in the middle of the questions finishes with what was answered.
        saved = await reply_to(tg, user, lambda: tg.user_sends_command(user, "done"), "Brand voice saved")
        assert "Asha Builds" in saved.content
    async with live_deps.sessionmaker() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(user)))
        brand = await s.scalar(select(BrandProfile).where(BrandProfile.user_id == identity.user_id))
    assert brand is not None and brand.tone_preset == "casual" and brand.industry == "SaaS"
