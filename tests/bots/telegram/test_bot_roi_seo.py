"""/roi and /seo through the bot (aiogram polling the fake Telegram over HTTP): the ROI of an upload with
every figure traced to its rows, the formula on /roi how, the creator's stated effort, the no-data answer;
a blog draft's checks with the fix for each failed one and no invented traffic."""

from __future__ import annotations

from datetime import timedelta

from chat import reply_to, seed_and_onboard
from sqlalchemy import select
from test_bot_flow import running_bot

from core.accounts.models import ChatIdentity
from core.analytics.models import ROICalculation
from core.repurposing.models import GeneratedContent
from tests.analytics_rows import Piece, upload_with_drafts

CREATOR = 5690001

BLOG = """# How Consistency Builds a Personal Brand That Lasts

You grow when you show up. Post once a week. Reply to each comment. Keep it short and kind.

## Why a personal brand needs a plan

Pick one day. Write one post. Share it at the same time each week.
"""


async def _user_id(deps, external: int):
    async with deps.sessionmaker() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(external)))
        assert identity is not None and identity.user_id is not None
        return identity.user_id


async def test_roi_and_seo_in_the_chat(live_deps, redis_url, run_id) -> None:
    deps = live_deps
    async with running_bot(deps, redis_url, run_id) as tg:
        await seed_and_onboard(deps, tg, CREATOR)
        user_id = await _user_id(deps, CREATOR)
        none = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "seo"), "no blog draft yet")
        assert none.content.startswith("You have no blog draft yet.")

        async with deps.sessionmaker() as s:
            older, _ = await upload_with_drafts(
                s,
                user_id,
                [
                    Piece(published=True, views=5000, likes=200, comments=30, shares=20, collected_saves=[8]),
                    Piece(published=True, views=4400, likes=100, comments=15, shares=5, collected_saves=[2]),
                    Piece(published=True),
                    Piece(content_type="blog_article", platform="blog"),
                ],
                title="Consistency beats talent",
                keywords=["personal brand", "consistency"],
                created_ago=timedelta(days=2),
            )
            await upload_with_drafts(s, user_id, [Piece(), Piece()], title="Hiring your first editor")
            blog = await s.scalar(
                select(GeneratedContent).where(
                    GeneratedContent.content_asset_id == older.id, GeneratedContent.content_type == "blog_article"
                )
            )
            assert blog is not None
            blog.title = "How Consistency Builds a Personal Brand That Lasts"
            blog.content_text = BLOG
            blog.caption = "Show up every week."
            await s.commit()

        latest = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "roi"), "📈 ROI of")
        assert "📈 ROI of “Hiring your first editor”" in latest.content
        assert "None of its 2 drafts is published yet" in latest.content and "Nothing is estimated" in latest.content

        # /roi 2 is the second upload in /history. By hand: C = 3 h x 1500 = 4500 INR; R = 5000 + 4400 = 9400;
        # E = (200+30+20+8) + (100+15+5+2) = 380; V = 9.4 x 150 = 1410; ROI = 1410/4500 = 0.31;
        # CPE = 4500/380 = 11.84; value = 380/3 = 126.67
        shown = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "roi", "2"), "📈 ROI of")
        assert "📈 ROI of “Consistency beats talent”" in shown.content
        for line in (
            "• Cost: ₹4,500 = 3 h × ₹1,500/h (default rate",
            "• 3 of 4 drafts published; 2 with collected figures (1 not collected yet, not counted)",
            "• Reach 9,400 = sum of the views of those 2",
            "• Engagement 380 = 300 likes + 45 comments + 25 shares + 10 saves",
            "• Value ₹1,410 = 9,400 views × ₹150 per 1,000",
            "• ROI 0.31× = value ₹1,410 ÷ cost ₹4,500",
            "• Cost per engagement ₹11.84 = ₹4,500 ÷ 380",
            "• Value score 126.67 engagements per hour = 380 ÷ 3 h",
        ):
            assert line in shown.content, line

        # Telling the real effort: 5 hours, ₹10,000 -> ROI = 1410/10000 = 0.14; CPE = 10000/380 = 26.32; 380/5 = 76
        told = await reply_to(
            tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "roi", "consistency hours 5 cost 10000"), "📈 ROI of"
        )
        assert told.content.startswith("Saved ✅")
        assert "• Time: 5 h (as you told me)" in told.content and "• Cost: ₹10,000 (as you told me)" in told.content
        assert "• ROI 0.14× = value ₹1,410 ÷ cost ₹10,000" in told.content
        assert "• Cost per engagement ₹26.32 = ₹10,000 ÷ 380" in told.content
        async with deps.sessionmaker() as s:
            row = await s.scalar(select(ROICalculation).where(ROICalculation.content_asset_id == older.id))
            assert row is not None and (str(row.roi_multiplier), str(row.cost_per_engagement)) == ("0.14", "26.32")

        how = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "roi", "how"), "How /roi works")
        assert "ROI = V ÷ C · Cost per engagement = C ÷ E · Value score = E ÷ H" in how.content
        assert "/roi 2 (second in /history)" in how.content

        missing = await reply_to(
            tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "roi", "gardening"), "couldn't find that upload"
        )
        assert "/history lists yours" in missing.content

        seo = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "seo"), "🔎 SEO of your blog draft")
        assert "Target keywords (from the talk's analysis): personal brand, consistency" in seo.content
        assert "✅ Title length: 50 characters (50–60 is ideal)" in seo.content
        assert "❌ Meta description: 19 characters, the meta description (120–160 is ideal)" in seo.content
        assert "Fix: Lengthen the description to 120–160 characters" in seo.content
        assert "❌ Keyword in first 100 words: “personal brand” is not in the first 100 words" in seo.content
        assert "Fix: Say “personal brand” in the opening paragraph." in seo.content
        assert "✅ Keyword in a subheading" in seo.content and "✅ Readability: Flesch reading ease" in seo.content
        assert "7 of 9 on-page checks passed" in seo.content
        assert "no search console connected, so they are not measured (left empty, not estimated)" in seo.content

        help_ = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "help"), "/roi")
        assert "/roi how: the formula" in help_.content and "/seo" in help_.content
