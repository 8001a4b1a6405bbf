"""The plan weights each format by the creator's own engagement once they have 3 published drafts of it with
figures (the analysis' fit fading as n / (n + 5)), and keeps each format's reason in the strategy row."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import service as accounts
from core.content.models import ContentAnalysis, ContentAsset
from core.repurposing import planning
from core.repurposing.models import GeneratedContent

SCORES = {"linkedin": 50, "twitter": 70, "instagram": 65, "youtube": 40, "blog": 30}


async def _creator(session: AsyncSession, external: str):  # type: ignore[no-untyped-def]
    return await accounts.register_chat_user(
        session=session, provider="telegram", external_user_id=external, chat_id=external, full_name="Asha Rao"
    )


async def _plan(session: AsyncSession, reg) -> tuple[list[dict], list]:  # type: ignore[no-untyped-def,type-arg]
    asset = ContentAsset(
        user_id=reg.user.id,
        organization_id=reg.organization.id,
        title="Talk",
        content_type="text",
        file_url="file:///nowhere",
        upload_status="processing",
    )
    session.add(asset)
    await session.flush()
    analysis = ContentAnalysis(content_asset_id=asset.id, transcript="a talk", platform_scores=SCORES)
    session.add(analysis)
    await session.flush()
    strategy = await planning.plan_strategy(session=session, asset=asset, analysis=analysis, brand=None)
    jobs = await planning.create_jobs(session=session, asset=asset, strategy=strategy)
    return list(strategy.recommended_formats), jobs


async def test_without_results_of_their_own_the_analysis_fit_ranks_the_formats(session: AsyncSession) -> None:
    formats, jobs = await _plan(session, await _creator(session, "6410201"))
    assert "From your results" not in planning.plan_summary(jobs)
    assert [f["format"] for f in formats] == [
        "twitter_thread",
        "instagram_caption",
        "linkedin_post",
        "youtube_shorts",
        "blog_article",
    ]
    x = formats[0]
    assert (x["fit_score"], x["analysis_fit"], x["own_results"], x["priority"]) == (70.0, 70.0, None, "high")
    assert x["reasons"] == [
        "X thread: fit 70 from the talk's analysis; your own results count once 3 of your X threads have "
        "figures (you have 0)."
    ]


async def test_a_creators_own_engagement_per_format_reorders_the_plan(session: AsyncSession) -> None:
    reg = await _creator(session, "6410202")
    for fmt, platform, rate, n in (("linkedin_post", "linkedin", 6, 4), ("twitter_thread", "twitter", 2, 4)):
        for _ in range(n):
            session.add(
                GeneratedContent(
                    user_id=reg.user.id,
                    content_type="social_post",
                    target_platform=platform,
                    is_published=True,
                    engagement_rate=Decimal(rate),
                    metadata_={"output_format": fmt},
                )
            )
    session.add(  # one Instagram caption with figures: too few to count, but it is in the average
        GeneratedContent(
            user_id=reg.user.id,
            content_type="social_post",
            target_platform="instagram",
            is_published=True,
            engagement_rate=Decimal(4),
            metadata_={"output_format": "instagram_caption"},
        )
    )
    await session.flush()
    formats, jobs = await _plan(session, reg)
    by = {f["format"]: f for f in formats}
    # Average (4 x 6 + 4 x 2 + 4) / 9 = 4.0. LinkedIn: lift 1.5, share 4/9: 50 x (1 + 4/9 x 0.5) = 61.1.
    # X: lift 0.5: 70 x (1 - 4/9 x 0.5) = 54.4. Instagram: 1 caption, its fit stands at 65.
    assert (by["linkedin_post"]["fit_score"], by["twitter_thread"]["fit_score"]) == (61.1, 54.4)
    assert by["instagram_caption"]["fit_score"] == 65.0
    assert [f["format"] for f in formats][:3] == ["instagram_caption", "linkedin_post", "twitter_thread"]
    assert (by["linkedin_post"]["priority"], by["twitter_thread"]["priority"]) == ("high", "medium")
    assert by["linkedin_post"]["own_results"] == {
        "pieces": 4,
        "engagement_rate": 6.0,
        "average_rate": 4.0,
        "counted": True,
        "weight": 0.44,
        "lift": 1.5,
    }
    assert by["instagram_caption"]["own_results"]["counted"] is False
    assert by["linkedin_post"]["reasons"] == [
        "LinkedIn post: your LinkedIn posts got 1.5× your average engagement rate (6.00% vs 4.00%, 4 with "
        "figures), so its fit went from 50 to 61 (your results weigh 44%)."
    ]
    assert planning.plan_reasons_of(formats)[1] == by["linkedin_post"]["reasons"][0]
    # The jobs follow: LinkedIn is now written at high priority, the X thread at medium.
    priority = {j.output_format: j.priority for j in jobs}
    assert (priority["linkedin_post"], priority["twitter_thread"]) == (8, 5)
    config = {j.output_format: j.config for j in jobs}
    assert config["linkedin_post"] == {"variant": 0, "own_results": {"lift": 1.5, "pieces": 4, "fit": 61.1}}
    assert config["instagram_caption"] == {"variant": 0}  # one caption: nothing learned, nothing kept
    # The progress message says what the creator's results did.
    assert planning.plan_summary(jobs) == (
        "5 drafts planned: Instagram caption, LinkedIn post, X thread, YouTube Shorts, Blog article. "
        "From your results: LinkedIn posts 1.5×, X threads 0.5× your average engagement rate"
    )
