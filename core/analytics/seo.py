"""SEO of blog drafts: a `seo_metrics` row per blog draft with the talk's target keywords, the on-page checks
and, only when a search console is connected (`core.analytics.ports.SearchConsole`), traffic and rankings.

On-page checks, each passed or failed with the fix (`Check`):
- title length: 50-60 characters (what search results show whole);
- meta description: 120-160 characters, the writer's meta field (a blog draft's `caption`), else the first
  paragraph;
- headings: exactly one H1, at least one H2, no level skipped on the way down (H2 -> H4);
- focus keyword (the analysis' first keyword) in the title, in the first 100 words, in a subheading (H2-H6);
- readability: Flesch reading ease >= 60 (plain English), computed here: 206.835 - 1.015 x words per sentence
  - 84.6 x syllables per word, over the body without headings and Markdown marks; syllables are vowel groups
  less a silent final 'e' (`core.clips.captions.count_syllables`). No package is used.

With no search console connected, `organic_traffic`, `backlinks_count`, `keyword_rankings` and
`collected_at` are stored NULL (the design's defaults would write 0, a zero nobody measured).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import null, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ai import nlp
from core.analytics.models import SEOMetric
from core.analytics.ports import SearchConsole, SearchConsoleError
from core.clips.captions import count_syllables
from core.common.clock import utcnow
from core.content.models import ContentAnalysis
from core.distribution.models import ScheduledPost
from core.repurposing.models import GeneratedContent

log = logging.getLogger(__name__)

BLOG = "blog_article"
TITLE_RANGE = (50, 60)
META_RANGE = (120, 160)
INTRO_WORDS = 100
READING_EASE_MIN = 60.0
TARGET_KEYWORDS = 5

Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    status: Status
    detail: str
    fix: str | None = None


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def headings(markdown: str) -> list[tuple[int, str]]:
    """(level, text) of the ATX headings outside fenced code."""
    found: list[tuple[int, str]] = []
    fenced = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced and (m := _HEADING.match(line.strip())):
            found.append((len(m.group(1)), m.group(2)))
    return found


def body_text(markdown: str) -> str:
    """The prose: no headings, code fences, list bullets, emphasis or link targets."""
    lines: list[str] = []
    fenced = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced or _HEADING.match(line.strip()):
            continue
        prose = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line)
        prose = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", prose)
        lines.append(re.sub(r"[*_`>]+", "", prose))
    return "\n".join(lines)


def first_paragraph(markdown: str) -> str:
    for block in re.split(r"\n\s*\n", body_text(markdown)):
        if block.strip():
            return " ".join(block.split())
    return ""


def reading_ease(text: str) -> float | None:
    """Flesch reading ease of `text` (None without words)."""
    sentences = [s for s in nlp.split_sentences(text) if nlp.tokens(s)]
    words = [w for w in nlp.tokens(text) if any(ch.isalpha() for ch in w)]
    if not sentences or not words:
        return None
    syllables = sum(count_syllables(w) for w in words)
    return round(206.835 - 1.015 * len(words) / len(sentences) - 84.6 * syllables / len(words), 1)


def _stems(text: str) -> list[str]:
    return [nlp.stem(t) for t in nlp.tokens(text)]


def has_phrase(text: str, phrase: str) -> bool:
    """The phrase's words in a row in `text`, case and plurals aside ('personal brands' has 'personal brand')."""
    needle, hay = _stems(phrase), _stems(text)
    return bool(needle) and any(hay[i : i + len(needle)] == needle for i in range(len(hay) - len(needle) + 1))


def _length_check(key: str, label: str, text: str, bounds: tuple[int, int], what: str, source: str) -> Check:
    low, high = bounds
    n = len(text)
    detail = f"{n} characters{source} ({low}–{high} is ideal)"
    if low <= n <= high:
        return Check(key, label, "pass", detail)
    if n == 0:
        return Check(key, label, "fail", detail, f"Write {what} of {low}–{high} characters.")
    verb = "Shorten" if n > high else "Lengthen"
    why = " so search results show it whole" if n > high else " so it says enough in search results"
    return Check(key, label, "fail", detail, f"{verb} {what} to {low}–{high} characters{why}.")


def on_page_checks(
    *, title: str, markdown: str, meta_description: str | None, keywords: Sequence[str], language: str = "en"
) -> list[Check]:
    """The on-page checks of one blog draft, in the order the creator reads them."""
    checks = [_length_check("title_length", "Title length", title.strip(), TITLE_RANGE, "the title", "")]
    if meta_description and meta_description.strip():
        meta, source = " ".join(meta_description.split()), ", the meta description"
    else:
        meta, source = first_paragraph(markdown), ", the first paragraph (there is no meta description)"
    checks.append(_length_check("meta_description", "Meta description", meta, META_RANGE, "the description", source))
    found = headings(markdown)
    checks += _heading_checks(found)
    checks += _keyword_checks(title, markdown, found, keywords[0] if keywords else None)
    if language.lower().startswith("en"):
        checks.append(_readability_check(markdown))
    else:  # Flesch's weights were fitted to English words and sentences
        detail = f"not checked: Flesch reading ease is for English, and this talk is in '{language}'"
        checks.append(Check("readability", "Readability", "skip", detail))
    return checks


def _heading_checks(found: Sequence[tuple[int, str]]) -> list[Check]:
    checks: list[Check] = []
    n_h1 = sum(1 for level, _ in found if level == 1)
    if n_h1 == 1:
        checks.append(Check("one_h1", "One H1", "pass", "one H1 heading"))
    elif not n_h1:
        checks.append(Check("one_h1", "One H1", "fail", "no H1 heading", "Start the article with one '# Title' line."))
    else:
        fix = "Keep one '# ' heading; make the others '## '."
        checks.append(Check("one_h1", "One H1", "fail", f"{n_h1} H1 headings", fix))
    n_h2 = sum(1 for level, _ in found if level == 2)
    if n_h2:
        checks.append(Check("h2_present", "Sections (H2)", "pass", f"{n_h2} H2 heading{'s' if n_h2 != 1 else ''}"))
    else:
        fix = "Split the body into '## ' sections."
        checks.append(Check("h2_present", "Sections (H2)", "fail", "no H2 headings", fix))
    skips = [(a, b, t) for (a, _), (b, t) in zip(found, found[1:], strict=False) if b > a + 1]
    if skips:
        a, b, t = skips[0]
        detail = f"H{a} is followed by H{b} (“{t[:40]}”)"
        fix = f"Make “{t[:40]}” an H{a + 1}, or add the H{a + 1} it belongs under."
        checks.append(Check("heading_levels", "Heading levels", "fail", detail, fix))
    else:
        checks.append(Check("heading_levels", "Heading levels", "pass", "no level skipped"))
    return checks


def _keyword_checks(title: str, markdown: str, found: Sequence[tuple[int, str]], focus: str | None) -> list[Check]:
    subheadings = "\n".join(t for level, t in found if level >= 2)
    intro = " ".join(nlp.surface_tokens(body_text(markdown))[:INTRO_WORDS])
    checks: list[Check] = []
    for key, label, where, text, fix in (
        ("keyword_in_title", "Keyword in title", "the title", title, "Work “{k}” into the title."),
        (
            "keyword_in_intro",
            f"Keyword in first {INTRO_WORDS} words",
            f"the first {INTRO_WORDS} words",
            intro,
            "Say “{k}” in the opening paragraph.",
        ),
        (
            "keyword_in_heading",
            "Keyword in a subheading",
            "an H2–H6 heading",
            subheadings,
            "Use “{k}” in one of the '## ' headings.",
        ),
    ):
        if focus is None:
            checks.append(Check(key, label, "skip", "not checked: the talk's analysis found no keywords"))
        elif has_phrase(text, focus):
            checks.append(Check(key, label, "pass", f"“{focus}” is in {where}"))
        else:
            checks.append(Check(key, label, "fail", f"“{focus}” is not in {where}", fix.format(k=focus)))
    return checks


def _readability_check(markdown: str) -> Check:
    ease = reading_ease(body_text(markdown))
    if ease is None:
        return Check("readability", "Readability", "skip", "not checked: no prose")
    detail = f"Flesch reading ease {ease} ({READING_EASE_MIN:.0f}+ is plain English)"
    if ease >= READING_EASE_MIN:
        return Check("readability", "Readability", "pass", detail)
    return Check("readability", "Readability", "fail", detail, "Use shorter sentences and shorter words.")


async def keywords_and_language(*, session: AsyncSession, asset_id: uuid.UUID | None) -> tuple[list[str], str]:
    """The first keywords of the asset's latest analysis (the talk's own words, ranked by the analyser), and
    the talk's language."""
    if asset_id is None:
        return [], "en"
    row = (
        await session.execute(
            select(ContentAnalysis.keywords, ContentAnalysis.transcript_language)
            .where(ContentAnalysis.content_asset_id == asset_id)
            .order_by(ContentAnalysis.analyzed_at.desc().nulls_last())
            .limit(1)
        )
    ).first()
    if row is None:
        return [], "en"
    return list(row[0] or [])[:TARGET_KEYWORDS], row[1] or "en"


async def _metric_row(session: AsyncSession, draft_id: uuid.UUID) -> SEOMetric | None:
    return await session.scalar(
        select(SEOMetric)
        .where(SEOMetric.generated_content_id == draft_id)
        .order_by(SEOMetric.checked_at.desc().nulls_last())
        .limit(1)
    )


async def check_blog_draft(*, session: AsyncSession, draft: GeneratedContent) -> SEOMetric | None:
    """Write (or refresh) the draft's `seo_metrics` row with its target keywords and on-page checks.
    Not a blog draft: None. Traffic fields are left as they are (NULL until a search console gives them)."""
    if draft.content_type != BLOG:
        return None
    keywords, language = await keywords_and_language(session=session, asset_id=draft.content_asset_id)
    checks = on_page_checks(
        title=draft.title or "",
        markdown=draft.content_text or "",
        meta_description=draft.caption or (draft.metadata_ or {}).get("meta_description"),
        keywords=keywords,
        language=language,
    )
    row = await _metric_row(session, draft.id)
    new = row is None
    if row is None:
        # Explicit NULLs: the design's defaults would store traffic 0, backlinks 0 and a collection time.
        # (SQL NULL, not None: SQLAlchemy leaves None out of the INSERT and the server default applies.)
        row = SEOMetric(generated_content_id=draft.id)
        row.organic_traffic = row.backlinks_count = null()
        row.collected_at = null()
        session.add(row)
    row.target_keywords = keywords
    row.on_page_checks = [asdict(c) for c in checks]
    row.checked_at = utcnow()
    await session.flush()
    if new:  # the NULLs were SQL expressions: load what was stored
        await session.refresh(row, ["organic_traffic", "backlinks_count", "collected_at"])
    return row


async def published_url(*, session: AsyncSession, draft_id: uuid.UUID) -> str | None:
    return await session.scalar(
        select(ScheduledPost.platform_post_url)
        .where(
            ScheduledPost.generated_content_id == draft_id,
            ScheduledPost.status == "published",
            ScheduledPost.platform_post_url.is_not(None),
        )
        .order_by(ScheduledPost.published_at.desc().nulls_last())
        .limit(1)
    )


@dataclass(frozen=True)
class SeoReport:
    draft: GeneratedContent
    metric: SEOMetric
    checks: list[Check]
    traffic: str  # what is known about traffic and rankings, in words


async def collect_traffic(
    *, session: AsyncSession, metric: SEOMetric, draft_id: uuid.UUID, console: SearchConsole | None
) -> str:
    """Fill traffic and rankings from the connected search console; say why not when it can't."""
    if console is None:
        return (
            "Traffic and rankings: no search console connected, so they are not measured (left empty, not estimated)."
        )
    url = await published_url(session=session, draft_id=draft_id)
    if url is None:
        return "Traffic and rankings: this draft isn't published at a page address yet, so there is nothing to look up."
    try:
        performance = await console.page_performance(page_url=url, keywords=list(metric.target_keywords or []))
    except SearchConsoleError as exc:
        log.warning("search console failed for %s: %s", url, exc)
        return (
            "Traffic and rankings: the search console didn't answer just now, so nothing new is stored. Try /seo later."
        )
    metric.organic_traffic = performance.organic_clicks
    metric.keyword_rankings = [
        {"keyword": r.keyword, "position": r.position, "impressions": r.impressions, "clicks": r.clicks}
        for r in performance.rankings
    ]
    metric.collected_at = performance.collected_at
    await session.flush()
    ranked = [r for r in performance.rankings if r.position is not None]
    where = ", ".join(f"“{r.keyword}” #{Decimal(str(r.position)):.1f}" for r in ranked) or "no keyword ranks yet"
    return f"Traffic (search console, {url}): {performance.organic_clicks:,} organic clicks · rankings: {where}."


async def latest_blog_report(
    *, session: AsyncSession, user_id: uuid.UUID, console: SearchConsole | None
) -> SeoReport | None:
    """The user's latest blog draft with its checks (re-made if the draft changed since) and traffic."""
    draft = await session.scalar(
        select(GeneratedContent)
        .where(
            GeneratedContent.user_id == user_id,
            GeneratedContent.content_type == BLOG,
            GeneratedContent.deleted_at.is_(None),
        )
        .order_by(GeneratedContent.created_at.desc())
        .limit(1)
    )
    if draft is None:
        return None
    metric = await _metric_row(session, draft.id)
    stale = (
        metric is None
        or metric.on_page_checks is None
        or metric.checked_at is None
        or (draft.updated_at is not None and draft.updated_at > metric.checked_at)
    )
    if stale:  # drafts written before the checks existed, or changed since
        metric = await check_blog_draft(session=session, draft=draft)
    assert metric is not None
    traffic = await collect_traffic(session=session, metric=metric, draft_id=draft.id, console=console)
    checks = [Check(**c) for c in _as_list(metric.on_page_checks)]
    return SeoReport(draft, metric, checks, traffic)


def _as_list(value: Any) -> list[dict[str, Any]]:
    return [dict(c) for c in value] if isinstance(value, list) else []


def describe(report: SeoReport) -> str:
    """The `/seo` answer: the keywords, each check passed or failed with its fix, what traffic is known."""
    keywords = list(report.metric.target_keywords or [])
    passed = sum(1 for c in report.checks if c.status == "pass")
    lines = [
        f"🔎 SEO of your blog draft “{(report.draft.title or 'Untitled')[:80]}”",
        "Target keywords (from the talk's analysis): " + (", ".join(keywords) if keywords else "none found"),
        f"{passed} of {len(report.checks)} on-page checks passed:",
        "",
    ]
    mark = {"pass": "✅", "fail": "❌", "skip": "➖"}
    for c in report.checks:
        lines.append(f"{mark[c.status]} {c.label}: {c.detail}" + (f"\n   Fix: {c.fix}" if c.fix else ""))
    lines += ["", report.traffic]
    return "\n".join(lines)
