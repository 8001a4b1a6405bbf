"""The quality score of a draft: checks a draft can fail, each worth points, and why it lost them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.ai import nlp
from core.ai.analysis.results import ContentAnalysisResult
from core.ai.writing.ports import (
    INSTAGRAM_MAX_CHARS,
    INSTAGRAM_MAX_HASHTAGS,
    LENGTH_NORMS,
    LINKEDIN_MAX_CHARS,
    TWEET_MAX_CHARS,
    OutputFormat,
)


@dataclass(frozen=True)
class QualityReport:
    """A draft's quality score and why: `checks` maps each check to the points it earned (of its maximum),
    `reasons` says in words what cost points, e.g. '-12 complete sentences: 2 fragments ("When they ...")'."""

    score: int
    checks: dict[str, float]
    reasons: list[str]


QUALITY_WEIGHTS: dict[str, int] = {
    "complete sentences": 25,
    "no talk frame": 15,
    "key points": 25,
    "platform fit": 20,
    "readability": 15,
}
_BEAT_LABEL = re.compile(r"^[A-Z][A-Z0-9 ]+ \(\d+:\d\d-\d+:\d\d\)$")
_HASHTAG = re.compile(r"#(\w+)")


def _draft_units(text: str) -> list[str]:
    """The sentences and bullets a reader sees: headings, list labels ('Key lessons:'), hashtag lines, tweet
    numbers, bullets and Shorts beat labels are stripped."""
    units: list[str] = []
    for raw in text.splitlines():
        line = nlp.strip_emojis(raw.strip())
        line = re.sub(r"^\d+/\d+\s+", "", line).lstrip("•→-* ").strip()
        if not line or line.startswith("#") or _BEAT_LABEL.match(line):
            continue
        if all(w.startswith("#") for w in line.split()):
            continue
        if line.endswith(":") and nlp.word_count(line) <= 6:
            continue  # a list label
        units.extend(s for s in nlp.split_sentences(line) if s.strip())
    return units


def _covers(draft_stems: set[str], point: str, share: float) -> bool:
    stems = {nlp.stem(t) for t in nlp.tokens(point) if nlp.is_content_word(t)}
    return bool(stems) and len(stems & draft_stems) / len(stems) >= share


GARBLED_WORDS = 2
"""A sentence holding this many words no dictionary knows is unreadable (a transcription the model could not
make out), not merely a possible slip."""


def _quote(text: str, limit: int = 60) -> str:
    return '"' + nlp.shorten(text, limit) + '"'


def _talk_points(transcript: str) -> list[list[str]]:
    """The talk's points: its paragraphs (or runs of three sentences), frame and debris removed."""
    paragraphs = [p for p in re.split(r"\n\s*\n", transcript) if p.strip()]
    if len(paragraphs) < 3:
        sentences = nlp.split_sentences(transcript)
        paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
    points = [[s for s in (nlp.repair_sentence(x) for x in nlp.split_sentences(p)) if s] for p in paragraphs]
    return [p for p in points if p]


def quality_report(
    output_format: OutputFormat,
    text: str,
    analysis: ContentAnalysisResult,
    transcript: str | None = None,
    unclear_words: Sequence[str] = (),
) -> QualityReport:
    """Quality 0..100 from checks a draft can fail, each worth `QUALITY_WEIGHTS` points.

    - complete sentences (25): -6 per sentence or bullet that is a fragment (`nlp.fragment_reason`: ',.'
      endings, a dangling 'and', a stutter, an opening clause with no main clause, under four words) or holds
      `GARBLED_WORDS` words no dictionary knows (see readability).
    - no talk frame (15): -8 per greeting, thanks, sign-off or 'let's talk about' line (`nlp.is_frame`).
    - key points (25): 10 x whether the draft names the talk's main topic + 15 x the share of the talk's
      points it keeps (mostly, 60% of content words), full at 80%: the lead sentence of each paragraph of the
      transcript (when given) and the analysis' key insights.
    - platform fit (20): 12 x length fit to `LENGTH_NORMS` (value/low below, 1 - (value-high)/high above)
      + 8 when no hard limit is broken (3000 chars LinkedIn, 280 per tweet, 2200 chars and 30 hashtags on
      Instagram), - 3 per hashtag that is one everyday word ('#Thank', '#work').
    - readability (15): 15 x fit of the average sentence length to 8-22 words, - 5 per near-duplicate
      sentence, - 3 per line leaning on a sentence left out ('Feed it ...'), - the share of 13+-letter words
      beyond 15%, - 5 per sentence that may be a transcription slip: it holds a word the transcriber was
      unsure of (`unclear_words`, see `core.ai.transcription.unclear_words`) or, in an English talk, a word
      no dictionary knows ('a timely hudge'); in a Hindi or Hinglish one, a word neither English nor a common
      Hindi word in Latin script ('maapakobata', `nlp.unknown_romanised_words`).
    """
    units = _draft_units(text)
    non_words = {u: _non_words(u, analysis.language) for u in units}  # both checks read them
    results = {
        "complete sentences": _complete_sentences(units, non_words),
        "no talk frame": _no_talk_frame(units),
        "key points": _key_points(text, analysis, transcript),
        "platform fit": _platform_fit(output_format, text),
        "readability": _readability(text, units, unclear_words, non_words),
    }
    checks = {name: points for name, (points, _) in results.items()}
    reasons = [reason for _, why in results.values() for reason in why]
    score = max(0, min(100, round(sum(checks.values()))))
    return QualityReport(score, {k: round(v, 1) for k, v in checks.items()}, reasons)


_Check = tuple[float, list[str]]
"""The points one check earned and, in words, what cost it points."""


def _non_words(unit: str, language: str) -> list[str]:
    if language == "en":
        return nlp.unknown_words(unit)
    if language in ("hi", "hi-Latn"):
        return nlp.unknown_romanised_words(unit)
    return []


def _complete_sentences(units: Sequence[str], non_words: Mapping[str, list[str]]) -> _Check:
    fragments = [(u, why) for u in units if (why := nlp.fragment_reason(u))]
    for u in units:  # two words no dictionary knows: a garbled sentence, whole or not
        if len(odd := non_words[u]) >= GARBLED_WORDS and not any(u == f for f, _ in fragments):
            fragments.append((u, "unreadable: " + ", ".join(f'"{w}"' for w in odd[:2])))
    reasons: list[str] = []
    if fragments:
        examples = ", ".join(f"{_quote(u)} ({why})" for u, why in fragments[:2])
        reasons.append(f"{len(fragments)} incomplete sentence(s): {examples}")
    return max(0.0, 25.0 - 6 * len(fragments)), reasons


def _no_talk_frame(units: Sequence[str]) -> _Check:
    frames = [u for u in units if nlp.is_frame(u)]
    reasons: list[str] = []
    if frames:
        reasons.append(f"{len(frames)} line(s) about the occasion, not the subject: {_quote(frames[0])}")
    return max(0.0, 15.0 - 8 * len(frames)), reasons


def _key_points(text: str, analysis: ContentAnalysisResult, transcript: str | None) -> _Check:
    draft_stems = {nlp.stem(t) for t in nlp.tokens(text.replace("#", " "))}
    draft_stems |= {nlp.stem(w.lower()) for tag in _HASHTAG.findall(text) for w in re.findall(r"[A-Z][a-z]+", tag)}
    topic = analysis.topics[0] if analysis.topics else ""
    topic_hit = not topic or _covers(draft_stems, topic, 1.0)
    if transcript:
        # The talk's own points, one per paragraph: kept when one of its sentences is mostly (60%) in the draft.
        points = [p[0] for p in _talk_points(transcript) if nlp.word_count(p[0]) >= 6]
        points = [*points, *(i for i in analysis.key_insights[:5] if not any(nlp.same_point(i, p) for p in points))]
        kept_points = sum(1 for p in points if _covers(draft_stems, p, 0.6))
        total = len(points)
    else:
        insights = analysis.key_insights[:5]
        kept_points = sum(1 for i in insights if _covers(draft_stems, i, 0.6))
        total = len(insights)
    share = min(1.0, kept_points / (0.8 * total)) if total else 1.0
    reasons: list[str] = []
    if not topic_hit:
        reasons.append(f"does not name the talk's topic ({topic})")
    if share < 1:
        reasons.append(f"keeps {kept_points} of the talk's {total} points")
    return 10.0 * topic_hit + 15.0 * share, reasons


def _platform_fit(output_format: OutputFormat, text: str) -> _Check:
    unit, low, high = LENGTH_NORMS[output_format]
    value = len(text) if unit == "chars" else nlp.word_count(text)
    fit = value / low if value < low else 1.0 if value <= high else max(0.0, 1 - (value - high) / high)
    limits = 0
    if output_format == "linkedin_post":
        limits += len(text) > LINKEDIN_MAX_CHARS
    elif output_format == "twitter_thread":
        limits += sum(1 for t in re.split(r"\n\s*\n(?=\d+/\d+ )", text) if len(t) > TWEET_MAX_CHARS)
    elif output_format == "instagram_caption":
        limits += (len(text) > INSTAGRAM_MAX_CHARS) + (len(_HASHTAG.findall(text)) > INSTAGRAM_MAX_HASHTAGS)
    generic = [t for t in _HASHTAG.findall(text) if not re.search(r"[a-z][A-Z]", t) and nlp.generic_word(t)]
    reasons: list[str] = []
    if fit < 1:
        reasons.append(f"length {value} {unit}, the {output_format} norm is {low}-{high}")
    if limits:
        reasons.append(f"{limits} platform limit(s) broken")
    if generic:
        reasons.append("everyday-word hashtags: " + " ".join(f"#{t}" for t in generic[:3]))
    return max(0.0, 12.0 * fit + 8.0 * (limits == 0) - 3 * len(generic)), reasons


def _readability(
    text: str, units: Sequence[str], unclear_words: Sequence[str], non_words: Mapping[str, list[str]]
) -> _Check:
    reasons: list[str] = []
    slips: list[tuple[str, str]] = []
    for u in units:
        heard = nlp.unclear_in(u, unclear_words)
        odd = non_words[u]
        if heard or odd:
            slips.append((u, heard or odd[0]))
    if slips:
        heard_as = ", ".join(dict.fromkeys(f'"{w}"' for _, w in slips[:3]))
        reasons.append(
            f"{len(slips)} sentence(s) may be misheard ({heard_as}): check them against the recording, "
            "then fix or drop them"
        )
    leaning = [u for u in units if nlp.leans_back(u)]
    if leaning:
        reasons.append(f"{len(leaning)} line(s) lean on a sentence left out: {_quote(leaning[0])}")
    avg = sum(nlp.word_count(u) for u in units) / max(1, len(units))
    length_fit = avg / 8 if avg < 8 else 1.0 if avg <= 22 else max(0.0, 1 - (avg - 22) / 22)
    duplicates = sum(1 for i, u in enumerate(units) if any(nlp.same_point(u, o) for o in units[:i]))
    words = nlp.tokens(text)
    long_share = sum(1 for w in words if len(w) >= 13) / max(1, len(words))
    if length_fit < 1:
        reasons.append(f"sentences average {avg:.0f} words (8-22 reads best)")
    if duplicates:
        reasons.append(f"{duplicates} sentence(s) repeat an earlier point")
    points = 15.0 * length_fit - 5 * duplicates - 3 * len(leaning) - 15 * max(0.0, long_share - 0.15)
    points -= 5 * len(slips)
    return max(0.0, points), reasons


def quality_score(
    output_format: OutputFormat,
    text: str,
    analysis: ContentAnalysisResult,
    transcript: str | None = None,
    unclear_words: Sequence[str] = (),
) -> int:
    """The 0..100 score of `quality_report` (kept for callers that only need the number)."""
    return quality_report(output_format, text, analysis, transcript, unclear_words).score


_CHECK_OF_REASON: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"incomplete sentence"), "complete sentences"),
    (re.compile(r"about the occasion"), "no talk frame"),
    (re.compile(r"talk's topic|talk's \d+ points"), "key points"),
    (re.compile(r"^length |platform limit|everyday-word hashtags"), "platform fit"),
    (re.compile(r"misheard|lean on a sentence|sentences average|repeat an earlier point"), "readability"),
)


def _advice(reason: str) -> str | None:  # noqa: PLR0911 - one suggestion per kind of reason
    """What the creator can do about one reason, using only what the bot really does."""
    if "incomplete sentence" in reason:
        return "Fix or cut the incomplete sentences before posting."
    if "about the occasion" in reason:
        return "Cut the greeting or thanks: it is about the occasion, not your subject."
    if "talk's topic" in reason or ("talk's" in reason and "points" in reason):
        return "Ask for a revision that is “longer”, or one that should “mention” the point you miss."
    if reason.startswith("length "):
        match = re.search(r"length (\d+) \w+, the \w+ norm is (\d+)-(\d+)", reason)
        if match and int(match.group(1)) > int(match.group(3)):
            return "Ask for a revision that is “shorter”."
        return "Ask for a revision that is “longer” (from a short talk the draft may stay short: that is fine)."
    if "platform limit" in reason:
        return "Ask for a revision that is “shorter”, so it fits the platform's limits."
    if "everyday-word hashtags" in reason:
        return "Swap those hashtags for specific ones, or ask for a revision with “no hashtags”."
    if "misheard" in reason:
        return "Send /transcript to correct the misheard words: your drafts are rewritten from them, free."
    if "lean on a sentence" in reason or "repeat an earlier point" in reason:
        return "Edit or cut the line so it stands on its own, or ask for a revision that is “shorter”."
    if "sentences average" in reason:
        return "Ask for a revision that is “shorter” for punchier sentences."
    return None


def _check_label(name: str) -> str:
    return name[:1].upper() + name[1:].replace("_", " ")


def _points(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def explain_quality(score: float, checks: dict[str, float], reasons: Sequence[str]) -> str:
    """The answer to "why N?": each check with the points it earned (of its maximum, for the draft checks of
    `QUALITY_WEIGHTS`; checks of other kinds, e.g. a clip's, are listed with their points as stored), the
    reasons it lost points in plain words under the check they belong to, and what to do about them."""
    lines = [f"Why {score:.0f}/100? The score adds up checks a draft can fail:"]
    placed: set[int] = set()
    for name, earned in checks.items():
        top = QUALITY_WEIGHTS.get(name)
        mark = "✅" if top is not None and earned >= top else "•"
        lines.append(f"{mark} {_check_label(name)}: {_points(earned)}" + (f"/{top}" if top is not None else ""))
        for i, reason in enumerate(reasons):
            if i not in placed and any(p.search(reason) and check == name for p, check in _CHECK_OF_REASON):
                lines.append(f"    – {reason}")
                placed.add(i)
    rest = [r for i, r in enumerate(reasons) if i not in placed]
    if rest:
        lines.append("Also:")
        lines.extend(f"    – {r}" for r in rest)
    advice = list(dict.fromkeys(a for r in reasons if (a := _advice(r))))
    if advice:
        lines.append("")
        lines.append("What to do:")
        lines.extend(f"• {a}" for a in advice)
    elif not reasons:
        lines.append("")
        lines.append("Nothing cost points: it is ready to post as it is.")
    return "\n".join(lines)
