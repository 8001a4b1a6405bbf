"""Issue 14: nothing estimated is stored as if measured. The plan no longer invents a reach figure, no
adapter shows one, and traffic reaches `seo_metrics` only from a connected search console."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from core.accounts import service as accounts
from core.analytics import seo
from core.analytics.models import SEOMetric
from core.analytics.ports import KeywordRanking, PagePerformance, SearchConsoleError
from core.common.clock import utcnow
from core.content.models import ContentAnalysis, ContentAsset
from core.distribution.models import ScheduledPost
from core.repurposing import planning
from tests.analytics_rows import Piece, upload_with_drafts

REPO = Path(__file__).resolve().parents[3]


async def test_the_plan_stores_no_invented_reach(session) -> None:
    reg = await accounts.register_chat_user(
        session=session, provider="telegram", external_user_id="7461", chat_id="7461", full_name="Asha Rao"
    )
    asset = ContentAsset(user_id=reg.user.id, title="Talk", content_type="document", file_url="file:///x")
    session.add(asset)
    await session.flush()
    analysis = ContentAnalysis(
        content_asset_id=asset.id,
        transcript="a talk",
        platform_scores={"linkedin": 80, "twitter": 90, "instagram": 85, "youtube": 75, "blog": 70},
    )
    session.add(analysis)
    await session.flush()
    strategy = await planning.plan_strategy(session=session, asset=asset, analysis=analysis, brand=None)
    assert strategy.recommended_formats  # the plan itself is made
    assert strategy.estimated_reach is None


def test_no_adapter_or_service_shows_an_estimated_reach() -> None:
    readers = [
        str(path.relative_to(REPO))
        for folder in ("core", "bots", "webhooks", "tasks", "recast")
        for path in (REPO / folder).rglob("*.py")
        if re.search(r"\bestimated_reach\b", path.read_text(encoding="utf-8"))
    ]
    # The column's model, and the planner that now writes NULL into it.
    assert sorted(readers) == ["core/repurposing/models.py", "core/repurposing/planning.py"]
    assert "estimated_reach=None" in (REPO / "core/repurposing/planning.py").read_text(encoding="utf-8")


class _Console:
    """A connected search console (the port's other side) answering for one page."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, list[str]]] = []
        self.down = False

    async def page_performance(self, *, page_url: str, keywords: Sequence[str]) -> PagePerformance:
        self.asked.append((page_url, list(keywords)))
        if self.down:
            raise SearchConsoleError("503 from the console")
        return PagePerformance(
            page_url=page_url,
            organic_clicks=312,
            rankings=[
                KeywordRanking("personal brand", 7.4, impressions=5400, clicks=290),
                KeywordRanking("consistency", None, impressions=0, clicks=0),
            ],
            collected_at=utcnow(),
        )


async def test_traffic_comes_only_from_a_connected_search_console_for_a_published_page(session) -> None:
    reg = await accounts.register_chat_user(
        session=session, provider="telegram", external_user_id="7462", chat_id="7462", full_name="Asha Rao"
    )
    _, [blog] = await upload_with_drafts(
        session,
        reg.user.id,
        [Piece(content_type="blog_article", platform="blog")],
        keywords=["personal brand", "consistency"],
    )
    console = _Console()
    report = await seo.latest_blog_report(session=session, user_id=reg.user.id, console=console)
    assert report is not None
    assert "isn't published at a page address yet" in report.traffic and console.asked == []
    assert report.metric.organic_traffic is None and report.metric.collected_at is None

    session.add(
        ScheduledPost(
            generated_content_id=blog.id,
            user_id=reg.user.id,
            platform="blog",
            scheduled_for=utcnow(),
            published_at=utcnow(),
            status="published",
            platform_post_url="https://asha.example/blog/consistency",
        )
    )
    await session.flush()
    report = await seo.latest_blog_report(session=session, user_id=reg.user.id, console=console)
    assert report is not None
    assert console.asked == [("https://asha.example/blog/consistency", ["personal brand", "consistency"])]
    row = await session.scalar(select(SEOMetric).where(SEOMetric.generated_content_id == blog.id))
    assert row is not None and row.organic_traffic == 312 and row.collected_at is not None
    assert row.keyword_rankings == [
        {"keyword": "personal brand", "position": 7.4, "impressions": 5400, "clicks": 290},
        {"keyword": "consistency", "position": None, "impressions": 0, "clicks": 0},
    ]
    assert report.traffic == (
        "Traffic (search console, https://asha.example/blog/consistency): 312 organic clicks · "
        "rankings: “personal brand” #7.4."
    )
    console.down = True
    later = await seo.latest_blog_report(session=session, user_id=reg.user.id, console=console)
    assert later is not None and "the search console didn't answer just now" in later.traffic
    assert later.metric.organic_traffic == 312  # what was measured stays; nothing is made up
