"""Issue 14, SEO: a blog draft's on-page checks (title and meta lengths, headings, keyword placement,
readability), each passing on a good short draft and failing on a draft broken in that one way; the
`seo_metrics` row written with the draft, traffic left NULL with no search console connected."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from core.accounts import service as accounts
from core.ai.writing.offline_writer import OfflineWriter
from core.analytics import seo
from core.analytics.models import SEOMetric
from core.brand import service as brand_service
from core.content import service as content
from core.content.models import ContentAnalysis
from core.pipeline import assets
from core.repurposing import drafting, rewriting
from core.repurposing.models import RepurposingJob
from core.seed.service import apply_seed
from tests.core.workflow.builders import TALK

TITLE = "How Consistency Builds a Personal Brand That Lasts"  # 50 characters
META = (  # 138 characters
    "Your personal brand grows when you show up: post once a week, reply to each comment in the first hour, "
    "and keep your posts short and kind."
)
GOOD = """# How Consistency Builds a Personal Brand That Lasts

Your personal brand grows when you show up. Post once a week. Reply to each comment. Keep it short and kind.

## Why a personal brand needs a plan

Pick one day. Write one post. Share it at the same time each week.

### One small habit

Reply in the first hour. People see that you care.
"""
KEYWORDS = ["personal brand", "consistency"]
LONG_WINDED = (
    "Organisational communication effectiveness necessitates comprehensive understanding of interdependent "
    "institutional considerations, particularly regarding multidimensional personal brand positioning "
    "methodologies, collaborative implementation responsibilities, and sophisticated evaluation capabilities."
)


def _failed(title: str = TITLE, markdown: str = GOOD, meta: str | None = META, keywords=KEYWORDS) -> set[str]:
    checks = seo.on_page_checks(title=title, markdown=markdown, meta_description=meta, keywords=keywords)
    assert [c.key for c in checks] == [
        "title_length",
        "meta_description",
        "one_h1",
        "h2_present",
        "heading_levels",
        "keyword_in_title",
        "keyword_in_intro",
        "keyword_in_heading",
        "readability",
    ]
    assert all(c.fix for c in checks if c.status == "fail"), "every failed check says how to fix it"
    return {c.key for c in checks if c.status == "fail"}


def test_a_good_short_blog_draft_passes_every_check() -> None:
    assert _failed() == set()


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        ({"title": TITLE + " for Founders Everywhere"}, {"title_length"}),  # 74 characters
        ({"title": "A Personal Brand That Lasts"}, {"title_length"}),  # 27 characters
        ({"meta": "Show up every week."}, {"meta_description"}),
        ({"meta": META + " " + META}, {"meta_description"}),
        ({"meta": None}, {"meta_description"}),  # the first paragraph (108 characters) stands in
        ({"markdown": GOOD.replace("# How", "How", 1)}, {"one_h1"}),
        ({"markdown": GOOD + "\n# A second title\n\nMore.\n"}, {"one_h1"}),
        (
            {"markdown": GOOD.replace("## Why", "Why", 1).replace("### One", "One", 1)},
            {"h2_present", "keyword_in_heading"},
        ),
        ({"markdown": GOOD.replace("### One", "#### One", 1)}, {"heading_levels"}),
        ({"title": "How Showing Up Every Week Builds an Audience That Lasts"}, {"keyword_in_title"}),
        ({"markdown": GOOD.replace("Your personal brand grows", "You grow", 1)}, {"keyword_in_intro"}),
        (
            {"markdown": GOOD.replace("## Why a personal brand needs a plan", "## Why you need a plan")},
            {"keyword_in_heading"},
        ),
        (
            {
                "markdown": GOOD.replace(
                    "Pick one day. Write one post. Share it at the same time each week.", LONG_WINDED
                )
            },
            {"readability"},
        ),
    ],
)
def test_each_check_fails_on_a_draft_broken_that_way(change: dict, failed: set[str]) -> None:
    assert _failed(**change) == failed


def test_the_first_paragraph_stands_in_for_a_missing_meta_description() -> None:
    [meta] = [
        c
        for c in seo.on_page_checks(title=TITLE, markdown=GOOD, meta_description=None, keywords=KEYWORDS)
        if c.key == "meta_description"
    ]
    assert meta.detail == "108 characters, the first paragraph (there is no meta description) (120–160 is ideal)"
    assert meta.fix == "Lengthen the description to 120–160 characters so it says enough in search results."


def test_no_keywords_means_the_keyword_checks_are_not_run_rather_than_failed() -> None:
    checks = seo.on_page_checks(title=TITLE, markdown=GOOD, meta_description=META, keywords=[])
    assert {c.key for c in checks if c.status == "skip"} == {
        "keyword_in_title",
        "keyword_in_intro",
        "keyword_in_heading",
    }


def test_readability_is_not_scored_for_a_talk_in_another_language() -> None:
    checks = seo.on_page_checks(title=TITLE, markdown=GOOD, meta_description=META, keywords=KEYWORDS, language="hi")
    [readability] = [c for c in checks if c.key == "readability"]
    assert readability.status == "skip" and "Flesch reading ease is for English" in readability.detail


def test_flesch_reading_ease_by_hand() -> None:
    # 6 words, 1 sentence, 6 syllables: 206.835 - 1.015 x 6 - 84.6 x 1 = 116.145
    assert seo.reading_ease("The cat sat on the mat.") == 116.1
    # 8 words, 2 sentences, 13 syllables (con-sis-ten-cy 4, to-day 2, beats 1, ta-lent 2 ...):
    # "Consistency beats talent. Show up every single day." -> con·sis·ten·cy(4) beats(1) ta·lent(2)
    # show(1) up(1) ev·e·ry(3) sin·gle(2) day(1) = 15 syllables, 8 words, 2 sentences
    # 206.835 - 1.015 x 4 - 84.6 x 15/8 = 206.835 - 4.06 - 158.625 = 44.15
    assert seo.reading_ease("Consistency beats talent. Show up every single day.") == 44.2
    assert seo.has_phrase("Two personal brands, one plan", "personal brand")
    assert not seo.has_phrase("a brand that is personal", "personal brand")


async def _blog_job(core_deps, session, external_id: str) -> RepurposingJob:
    await apply_seed(session=session)
    reg = await accounts.register_chat_user(
        session=session, provider="telegram", external_user_id=external_id, chat_id=external_id, full_name="Asha Rao"
    )
    await brand_service.upsert_brand(
        session=session, user_id=reg.user.id, organization_id=reg.organization.id, preferred_platforms=["blog"]
    )
    asset = await content.ingest_text(
        session=session, store=core_deps.store, user_id=reg.user.id, organization_id=reg.organization.id, text=TALK
    )
    await session.commit()
    await assets.process_asset(core_deps, asset.id)
    job = await session.scalar(
        select(RepurposingJob).where(
            RepurposingJob.content_asset_id == asset.id, RepurposingJob.output_format == "blog_article"
        )
    )
    assert job is not None
    return job


async def test_a_blog_draft_gets_its_checks_when_written_and_again_when_revised(core_deps, session) -> None:
    job = await _blog_job(core_deps, session, "7451")
    draft = await drafting.generate_for_job(session=session, writer=OfflineWriter(), index=None, job_id=job.id)
    assert draft is not None and draft.content_type == "blog_article"

    row = await session.scalar(select(SEOMetric).where(SEOMetric.generated_content_id == draft.id))
    assert row is not None and row.checked_at is not None
    analysis_keywords = await session.scalar(
        select(ContentAnalysis.keywords).where(ContentAnalysis.content_asset_id == job.content_asset_id)
    )
    assert analysis_keywords and row.target_keywords == analysis_keywords[:5]
    expected = seo.on_page_checks(
        title=draft.title or "",
        markdown=draft.content_text or "",
        meta_description=draft.caption,
        keywords=row.target_keywords,
    )
    assert row.on_page_checks == [c.__dict__ for c in expected]
    # Nothing measured, nothing stored as if it were: NULL, not the design's default 0.
    traffic = (
        await session.execute(
            text(
                "SELECT organic_traffic, backlinks_count, keyword_rankings, collected_at"
                " FROM seo_metrics WHERE id = :id"
            ),
            {"id": row.id},
        )
    ).one()
    assert tuple(traffic) == (None, None, None, None)

    first_check = row.checked_at
    revised = await rewriting.rewrite_draft(
        session=session, writer=OfflineWriter(), index=None, draft_id=draft.id, requested_by=None, feedback="shorter"
    )
    rows = list(await session.scalars(select(SEOMetric).where(SEOMetric.generated_content_id == draft.id)))
    assert len(rows) == 1 and rows[0].checked_at > first_check
    again = seo.on_page_checks(
        title=revised.title or "",
        markdown=revised.content_text or "",
        meta_description=revised.caption,
        keywords=rows[0].target_keywords or [],
    )
    assert rows[0].on_page_checks == [c.__dict__ for c in again]


async def test_other_drafts_get_no_seo_row_and_the_report_says_no_search_console(core_deps, session) -> None:
    job = await _blog_job(core_deps, session, "7452")
    draft = await drafting.generate_for_job(session=session, writer=OfflineWriter(), index=None, job_id=job.id)
    assert draft is not None and draft.user_id is not None
    # A blog draft written before the checks existed gets them when asked for.
    await session.execute(text("DELETE FROM seo_metrics WHERE generated_content_id = :id"), {"id": draft.id})
    report = await seo.latest_blog_report(session=session, user_id=draft.user_id, console=None)
    assert report is not None and report.draft.id == draft.id
    shown = seo.describe(report)
    assert "no search console connected, so they are not measured (left empty, not estimated)" in shown
    for check in report.checks:
        assert f"{check.label}: {check.detail}" in shown
        if check.fix:
            assert f"Fix: {check.fix}" in shown
    social = draft.__class__(user_id=draft.user_id, content_type="social_post", title="x", content_text="y")
    session.add(social)
    await session.flush()
    assert await seo.check_blog_draft(session=session, draft=social) is None
    assert timedelta(0) <= (report.metric.checked_at - draft.created_at)  # checked after it was written
