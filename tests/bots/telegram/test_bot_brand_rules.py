"""A creator's brand rules reach their drafts through the bot: the brand's platforms decide which formats
are planned (and the progress message names them), and the brand's guidelines are kept where they can be
checked. Real aiogram against the Bot API stand-in, real PostgreSQL, Redis and worker."""

from __future__ import annotations

from sqlalchemy import select
from test_bot_brand_and_revisions import _onboard
from test_bot_brand_dressing import _asset_of, _set_up_brand
from test_bot_flow import TALK, running_bot

from core.content.models import ContentAnalysis
from core.repurposing.models import RepurposingJob
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
        await _onboard(tg, CREATOR)
        await _set_up_brand(tg, CREATOR, "Asha Posts", platforms="linkedin, instagram")
        await _onboard(tg, OTHER)
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
