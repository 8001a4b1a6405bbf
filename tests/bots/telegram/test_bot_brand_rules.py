"""A creator's brand rules reach their drafts through the bot: the brand's platforms decide which formats
are planned (and the progress message names them), and the brand's guidelines are kept where they can be
checked. Real aiogram against the Bot API stand-in, real PostgreSQL, Redis and worker."""

from __future__ import annotations

from chat import onboard
from sqlalchemy import select
from test_bot_brand_dressing import _asset_of, _set_up_brand
from test_bot_flow import TALK, running_bot

from core.content.models import ContentAnalysis
from core.pipeline.render import full_text
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.seed.service import apply_seed

CREATOR = 5720001
OTHER = 5720002


def _planned_line(tg, user: int) -> str:
    """The "… drafts planned: …" line the progress message showed at some point."""
    for message in tg.messages_to(user):
        for text in [*message.history, message.content]:
            for line in (text or "").splitlines():
                if "planned:" in line:
                    return line
    raise AssertionError(f"no progress message to {user} said what was planned")


async def test_the_brands_platforms_decide_the_formats_and_the_progress_names_them(live_deps, redis_url, run_id):
    core_deps = live_deps
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await onboard(tg, CREATOR, first_name="Asha")
        await _set_up_brand(tg, CREATOR, "Asha Posts", platforms="linkedin, instagram")
        await onboard(tg, OTHER, first_name="Asha")
        for user in (CREATOR, OTHER):
            tg.user_sends_text(user, TALK)
            await tg.wait_for_message(user, contains="100% · Done", timeout=90)
        mine = [m.content.splitlines()[0] for m in tg.messages_to(CREATOR) if m.content.startswith("📝")]
        theirs = [m.content.splitlines()[0] for m in tg.messages_to(OTHER) if m.content.startswith("📝")]
        planned = _planned_line(tg, CREATOR)

    # The talk suits X well: without the brand's choice an X thread is written.
    [asset] = await _asset_of(core_deps, CREATOR)
    async with core_deps.sessionmaker() as s:
        analysis = await s.scalar(select(ContentAnalysis).where(ContentAnalysis.content_asset_id == asset.id))
        jobs = (await s.scalars(select(RepurposingJob).where(RepurposingJob.content_asset_id == asset.id))).all()
    assert float(analysis.platform_scores["twitter"]) >= 60
    assert any(t.startswith("📝 X thread") for t in theirs)

    assert {j.output_format for j in jobs} == {"linkedin_post", "instagram_caption"}
    assert sorted(t.split(" · ")[0] for t in mine) == ["📝 Instagram caption", "📝 LinkedIn post"]
    assert planned.startswith("2 drafts planned: ") and "X thread" not in planned
    assert sorted(planned.removeprefix("2 drafts planned: ").split(", ")) == ["Instagram caption", "LinkedIn post"]


GUIDELINES = "Sign off with -A. Avoid the words algorithm and hustle."


async def _text_drafts(core_deps, user: int) -> list[GeneratedContent]:
    [asset] = await _asset_of(core_deps, user)
    async with core_deps.sessionmaker() as s:
        rows = await s.scalars(
            select(GeneratedContent).where(
                GeneratedContent.content_asset_id == asset.id, GeneratedContent.content_type != "short_video"
            )
        )
        return list(rows)


async def test_the_brands_sign_off_ends_every_text_draft_and_its_avoided_words_never_appear(
    live_deps, redis_url, run_id
):
    core_deps = live_deps
    user, control = CREATOR + 2, CREATOR + 3
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await onboard(tg, user, first_name="Asha")
        await _set_up_brand(tg, user, "Asha Signs", guidelines=GUIDELINES)
        await onboard(tg, control, first_name="Asha")
        for who in (user, control):
            tg.user_sends_text(who, TALK)
            await tg.wait_for_message(who, contains="100% · Done", timeout=90)
        linkedin = await tg.wait_for_message(user, contains="📝 LinkedIn post", timeout=5)
        assert linkedin.content.endswith("\n\n-A")
        # A regenerated version keeps the rules too.
        last = max(m.message_id for m in tg.messages_to(user))
        regenerate = next(d for d in linkedin.callback_data if d.startswith("d:g:"))
        tg.user_presses_button(user, linkedin.message_id, regenerate)
        again = await tg.wait_for_message(user, contains="LinkedIn post · version 2", timeout=60, since_message_id=last)
        assert again.content.endswith("\n\n-A") and "algorithm" not in again.content.lower()

    # Without the brand the same talk gives drafts with the word and no sign-off: the rules made the difference.
    plain = await _text_drafts(core_deps, control)
    assert any("algorithm" in full_text(d).lower() for d in plain)
    assert not any(full_text(d).endswith("-A") for d in plain)

    drafts = await _text_drafts(core_deps, user)
    assert {(d.metadata_ or {})["output_format"] for d in drafts} == {
        "linkedin_post",
        "twitter_thread",
        "instagram_caption",
        "youtube_shorts",
        "blog_article",
    }
    for draft in drafts:
        text = full_text(draft)
        assert text.endswith("\n\n-A"), f"{(draft.metadata_ or {})['output_format']} ends {text[-80:]!r}"
        assert text.count("-A") == 1
        everything = " ".join([text, draft.title or "", draft.caption or "", " ".join(draft.hashtags or [])]).lower()
        assert "algorithm" not in everything and "hustle" not in everything
    thread = next(d for d in drafts if (d.metadata_ or {})["output_format"] == "twitter_thread")
    tweets = (thread.metadata_ or {})["tweets"]
    assert all(len(t) <= 280 for t in tweets) and tweets[-1].endswith("\n\n-A")
    assert [t.split(" ", 1)[0] for t in tweets] == [f"{i}/{len(tweets)}" for i in range(1, len(tweets) + 1)]
