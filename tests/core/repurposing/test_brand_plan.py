"""The brand's chosen platforms decide what is planned for an upload: text formats and clips alike."""

from __future__ import annotations

import pytest

from core.accounts import service as accounts
from core.brand import service as brand_service
from core.content.models import ContentAnalysis, ContentAsset
from core.repurposing import planning
from core.seed.service import apply_seed

# Every platform a strong fit: whatever is left out is left out because the brand did not choose it.
SCORES = {"linkedin": 80, "twitter": 90, "instagram": 85, "youtube": 75, "blog": 70}


async def _planned(session, external_id: str, platforms: list[str] | None, *, content_type: str = "video"):
    reg = await accounts.register_chat_user(
        session=session,
        provider="telegram",
        external_user_id=external_id,
        chat_id=external_id,
        full_name="Asha Rao",
        username=None,
    )
    brand = None
    if platforms is not None:
        brand = await brand_service.upsert_brand(
            session=session, user_id=reg.user.id, organization_id=reg.organization.id, preferred_platforms=platforms
        )
    asset = ContentAsset(
        user_id=reg.user.id,
        organization_id=reg.organization.id,
        title="Talk",
        content_type=content_type,
        file_url="file:///nowhere",
        upload_status="processing",
        metadata_={"has_video": True},
    )
    session.add(asset)
    await session.flush()
    analysis = ContentAnalysis(content_asset_id=asset.id, transcript="a talk", platform_scores=SCORES)
    session.add(analysis)
    await session.flush()
    strategy = await planning.plan_strategy(session=session, asset=asset, analysis=analysis, brand=brand)
    jobs = await planning.create_jobs(session=session, asset=asset, strategy=strategy)
    return {(j.output_format, tuple(j.target_platforms or [])) for j in jobs}, planning.plan_summary(jobs)


@pytest.mark.parametrize(
    ("platforms", "expected"),
    [
        (
            None,
            {
                ("linkedin_post", ("linkedin",)),
                ("twitter_thread", ("twitter",)),
                ("instagram_caption", ("instagram",)),
                ("youtube_shorts", ("youtube",)),
                ("blog_article", ("blog",)),
                ("short_video", ("instagram", "youtube_shorts")),
            },
        ),
        (
            ["linkedin", "instagram"],
            {("linkedin_post", ("linkedin",)), ("instagram_caption", ("instagram",)), ("short_video", ("instagram",))},
        ),
        (["youtube"], {("youtube_shorts", ("youtube",)), ("short_video", ("youtube_shorts",))}),
        (["linkedin", "blog"], {("linkedin_post", ("linkedin",)), ("blog_article", ("blog",))}),
    ],
)
async def test_only_the_brands_platforms_are_planned(session, platforms, expected):
    await apply_seed(session=session)
    planned, summary = await _planned(session, "7301", platforms)
    assert planned == expected
    assert summary.startswith(f"{len(expected)} drafts planned: ")
    assert summary.count(",") == len(expected) - 1
    if platforms and "twitter" not in platforms:
        assert "X thread" not in summary
    if ("short_video", ("instagram",)) in expected:
        assert "Short clip" in summary


async def test_a_text_upload_gets_no_clip_whatever_the_platforms(session):
    await apply_seed(session=session)
    planned, summary = await _planned(session, "7302", ["instagram"], content_type="document")
    assert planned == {("instagram_caption", ("instagram",))}
    assert summary == "1 draft planned: Instagram caption"
