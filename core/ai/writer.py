"""Draft writers: turn a transcript and its analysis into a platform-ready draft in the brand's voice.

`OfflineWriter` is deterministic template-and-extraction writing; `OpenAIWriter` asks a chat model for a
strict-JSON draft. Both return a `Draft` whose word count and quality score are computed locally.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol

import openai
from pydantic import BaseModel, Field, ValidationError

from core.ai import nlp
from core.ai.analysis import ContentAnalysisResult, section_phrase
from core.ai.errors import WriterError
from core.ai.structured import complete_json
from core.ai.tones import Tone, TonePreset, tone

OutputFormat = Literal["linkedin_post", "twitter_thread", "instagram_caption", "youtube_shorts", "blog_article"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = (
    "linkedin_post",
    "twitter_thread",
    "instagram_caption",
    "youtube_shorts",
    "blog_article",
)

LINKEDIN_MAX_CHARS = 3000
TWEET_MAX_CHARS = 280
INSTAGRAM_MAX_CHARS = 2200
INSTAGRAM_MAX_HASHTAGS = 30
SHORTS_TITLE_MAX_CHARS = 100
SHORTS_MIN_SECONDS = 30
SHORTS_MAX_SECONDS = 60
META_DESCRIPTION_MAX_CHARS = 160

# Length norms used by the quality score: (unit, low, high).
LENGTH_NORMS: dict[OutputFormat, tuple[Literal["chars", "words"], int, int]] = {
    "linkedin_post": ("chars", 500, 2200),
    "twitter_thread": ("chars", 500, 2400),
    "instagram_caption": ("chars", 300, 2000),
    "youtube_shorts": ("words", 75, 150),
    "blog_article": ("words", 600, 2500),
}
PLATFORM_RULES: dict[OutputFormat, str] = {
    "linkedin_post": (
        "LinkedIn post: at most 3000 characters; a hook line, 3-5 insight bullets, a takeaway, the CTA and "
        "3-5 hashtags at the end; short paragraphs separated by blank lines."
    ),
    "twitter_thread": (
        "X thread: put each tweet in `tweets`, numbered 'n/N', each at most 280 characters including the "
        "number; hook tweet first, closing CTA tweet last; at most 2 hashtags."
    ),
    "instagram_caption": (
        "Instagram caption: at most 2200 characters; the first line must hook within 125 characters; short "
        "lines; up to 30 hashtags, all at the end."
    ),
    "youtube_shorts": (
        "YouTube Shorts: `title` at most 100 characters; `caption` is the description; `script_beats` is a "
        "30-60 second spoken script (75-150 words) as beats: hook, setup, points, payoff, CTA."
    ),
    "blog_article": (
        "Blog article in Markdown: one H1 title, an intro, H2 sections per topic built from the transcript, "
        "key takeaways, a conclusion; 600+ words when the transcript allows; `caption` is a meta description "
        "of at most 160 characters."
    ),
}

Score = Annotated[int, Field(ge=0, le=100)]


class BrandVoice(BaseModel):
    """The brand a draft is written for."""

    name: str
    industry: str = ""
    target_audience: str = ""
    tone_preset: TonePreset = "professional"
    custom_guidelines: str = ""
    style_examples: list[str] = Field(default_factory=list)


class DraftRequest(BaseModel):
    output_format: OutputFormat
    transcript: str
    analysis: ContentAnalysisResult
    brand: BrandVoice
    hashtags: list[str] = Field(default_factory=list)
    cta: str | None = None
    feedback: str | None = None
    variant: int = Field(default=0, ge=0)


class Draft(BaseModel):
    """A platform-ready draft.

    `caption` is the short companion text: the hook line (LinkedIn), the first tweet (X), the full caption
    (Instagram), the description (Shorts) or the meta description (blog). `hashtags` each carry one '#'.
    """

    title: str
    content_text: str
    caption: str
    hashtags: list[str]
    cta: str | None
    word_count: int
    quality_score: Score
    metadata: dict[str, Any] = Field(default_factory=dict)


class Writer(Protocol):
    """Port: writes one draft for one platform."""

    async def write(self, request: DraftRequest) -> Draft: ...


# --------------------------------------------------------------------------------------------------
# Feedback, style and hashtags
# --------------------------------------------------------------------------------------------------

_SHORTER = re.compile(r"\b(shorter|more concise|too long|shorten|trim|cut it down|brief(?:er)?|tighter)\b", re.I)
_LONGER = re.compile(r"\b(longer|more detail(?:s|ed)?|expand|too short|elaborate|in more depth)\b", re.I)
_CASUAL = re.compile(r"\b(more casual|less formal|friendlier|more relaxed|more conversational)\b", re.I)
_FORMAL = re.compile(r"\b(more formal|more professional|less casual|more serious)\b", re.I)
_VIRAL = re.compile(r"\b(more viral|punchier|more catchy|catchier|bolder|more hype)\b", re.I)
_HINGLISH = re.compile(r"\b(hinglish|add hindi|more hindi|desi touch)\b", re.I)
_NO_EMOJI = re.compile(r"\b(no|without|remove|drop|fewer|less|zero)\s+(?:the\s+)?emojis?\b", re.I)
_EMOJI = re.compile(r"\b(add|more|use|with|include|some)\s+(?:some\s+|a few\s+)?emojis?\b", re.I)
_NO_HASHTAGS = re.compile(r"\b(no|without|remove|drop|skip)\s+(?:the\s+)?hashtags?\b", re.I)
_MENTION = re.compile(
    r"\b(?:mention|shout ?out to|reference|plug)\s+(.+?)(?=[.;!?\n]|,\s|\s+and\s+(?:make|add|use|keep|remove|"
    r"no|drop|be)\b|$)",
    re.I,
)


@dataclass(frozen=True)
class Feedback:
    """Revision instructions understood by the offline writer."""

    length: float = 1.0
    tone: TonePreset | None = None
    emojis: bool | None = None
    hashtags: bool = True
    mentions: tuple[str, ...] = ()
    applied: tuple[str, ...] = ()


def parse_feedback(text: str | None) -> Feedback:
    """Read common revision requests: shorter/longer, more casual/formal/viral, hinglish, add/no emojis,
    no hashtags, and 'mention X'."""
    if not text or not text.strip():
        return Feedback()
    applied: list[str] = []
    length = 1.0
    if _SHORTER.search(text):
        length = 0.6
        applied.append("shorter")
    elif _LONGER.search(text):
        length = 1.5
        applied.append("longer")
    preset: TonePreset | None = None
    tone_patterns: tuple[tuple[re.Pattern[str], TonePreset], ...] = (
        (_CASUAL, "casual"),
        (_FORMAL, "professional"),
        (_VIRAL, "viral"),
        (_HINGLISH, "hinglish"),
    )
    for pattern, name in tone_patterns:
        if pattern.search(text):
            preset = name
            applied.append(f"tone:{name}")
            break
    emojis: bool | None = None
    if _NO_EMOJI.search(text):
        emojis = False
        applied.append("no emojis")
    elif _EMOJI.search(text):
        emojis = True
        applied.append("add emojis")
    hashtags = not _NO_HASHTAGS.search(text)
    if not hashtags:
        applied.append("no hashtags")
    mentions = tuple(nlp.unique(m.strip(" \"'“”‘’") for m in _MENTION.findall(text) if m.strip(" \"'“”‘’")))
    applied.extend(f"mention:{m}" for m in mentions)
    return Feedback(length, preset, emojis, hashtags, mentions, tuple(applied))


def _merge_feedback(guidelines: Feedback, feedback: Feedback) -> Feedback:
    """Revision feedback wins over standing brand guidelines."""
    return Feedback(
        length=feedback.length if feedback.length != 1.0 else guidelines.length,
        tone=feedback.tone or guidelines.tone,
        emojis=feedback.emojis if feedback.emojis is not None else guidelines.emojis,
        hashtags=feedback.hashtags and guidelines.hashtags,
        mentions=tuple(nlp.unique([*guidelines.mentions, *feedback.mentions])),
        applied=(*guidelines.applied, *feedback.applied),
    )


@dataclass(frozen=True)
class StyleProfile:
    """Measurable traits of the brand's own posts."""

    samples: int = 0
    avg_sentence_words: float = 0.0
    emojis_per_sample: float = 0.0
    exclamations_per_sentence: float = 0.0
    line_breaks_per_sentence: float = 0.0

    @property
    def short_sentences(self) -> bool:
        return self.samples > 0 and self.avg_sentence_words <= 12

    @property
    def uses_emojis(self) -> bool:
        return self.samples > 0 and self.emojis_per_sample >= 1

    @property
    def exclaims(self) -> bool:
        return self.samples > 0 and self.exclamations_per_sentence >= 0.2

    @property
    def dense(self) -> bool:
        return self.samples > 0 and self.line_breaks_per_sentence < 0.3

    def traits(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "avg_sentence_words": round(self.avg_sentence_words, 1),
            "emojis_per_sample": round(self.emojis_per_sample, 2),
            "exclamations_per_sentence": round(self.exclamations_per_sentence, 2),
            "line_breaks_per_sentence": round(self.line_breaks_per_sentence, 2),
        }


def style_profile(samples: Sequence[str]) -> StyleProfile:
    """Average sentence length, emoji use, exclamation use and line breaks of the brand samples."""
    texts = [s for s in samples if s.strip()]
    if not texts:
        return StyleProfile()
    sentences = [s for t in texts for line in t.splitlines() for s in nlp.split_sentences(line)]
    n_sentences = max(1, len(sentences))
    return StyleProfile(
        samples=len(texts),
        avg_sentence_words=sum(nlp.word_count(s) for s in sentences) / n_sentences,
        emojis_per_sample=sum(nlp.count_emojis(t) for t in texts) / len(texts),
        exclamations_per_sentence=sum(t.count("!") for t in texts) / n_sentences,
        line_breaks_per_sentence=sum(len([ln for ln in t.splitlines() if ln.strip()]) - 1 for t in texts) / n_sentences,
    )


def normalize_hashtags(tags: Sequence[str]) -> list[str]:
    """'#growth', 'growth', '##growth' -> '#growth' once (case kept); phrases become CamelCase tags."""
    out: list[str] = []
    for raw in tags:
        body = raw.strip().lstrip("#").strip()
        tag = nlp.hashtag(body) if " " in body else "#" + re.sub(r"[^A-Za-z0-9_]", "", body)
        if len(tag) > 1:
            out.append(tag)
    return nlp.unique(out)


def _rank_hashtags(request: DraftRequest, limit: int) -> list[str]:
    """Library hashtags that match the content's keywords first, then tags made from topics and keywords,
    then the remaining library hashtags, in the library's order."""
    if limit <= 0:
        return []
    library = normalize_hashtags(request.hashtags)
    # Key phrases and names make hashtags; a single everyday word ('#Thank', '#work') or a Hindi function word
    # never does. Less common single keywords ('hydration') fill up to the limit after the phrases.
    keywords = request.analysis.keywords[:10]
    specific = [k for k in keywords if " " in k or not k.islower()]
    # A single word is a hashtag only when it is rare in English in all its forms ('hydration', not 'rounds').
    rare = [k for k in keywords if " " not in k and k.islower() and max(nlp._zipf(k), nlp._zipf(nlp.stem(k))) <= 4.0]
    candidates = [*request.analysis.topics, *specific, *rare]
    derived = normalize_hashtags(
        [
            nlp.hashtag(t)
            for t in candidates
            if not (" " not in t.strip() and nlp.generic_word(t))
            and not any(w in nlp.HINGLISH_FUNCTION_WORDS for w in nlp.tokens(t))
        ]
    )
    terms = {w for k in [*request.analysis.keywords, *request.analysis.topics] for w in nlp.tokens(k)}
    derived_keys = {d.lower() for d in derived}

    def relevant(tag: str) -> bool:
        body = tag[1:].lower()
        return body in derived_keys or any(t in body for t in terms if len(t) > 3) or f"#{body}" in derived_keys

    ranked = [t for t in library if relevant(t)] + derived + [t for t in library if not relevant(t)]
    chosen: list[str] = []
    for tag in nlp.unique(ranked):
        # '#Scope' says nothing '#ScopeCreep' did not: a one-word tag inside a chosen tag is skipped.
        if not re.search(r"[a-z][A-Z]", tag[1:]) and any(tag[1:].lower() in c[1:].lower() for c in chosen):
            continue
        chosen.append(tag)
    return chosen[:limit]


# --------------------------------------------------------------------------------------------------
# Quality score
# --------------------------------------------------------------------------------------------------


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
    output_format: OutputFormat, text: str, analysis: ContentAnalysisResult, transcript: str | None = None
) -> QualityReport:
    """Quality 0..100 from checks a draft can fail, each worth `QUALITY_WEIGHTS` points.

    - complete sentences (25): -6 per sentence or bullet that is a fragment (`nlp.fragment_reason`: ',.'
      endings, a dangling 'and', a stutter, an opening clause with no main clause, under four words).
    - no talk frame (15): -8 per greeting, thanks, sign-off or 'let's talk about' line (`nlp.is_frame`).
    - key points (25): 10 x whether the draft names the talk's main topic + 15 x the share of the talk's
      points it keeps (mostly, 60% of content words), full at 80%: the lead sentence of each paragraph of the
      transcript (when given) and the analysis' key insights.
    - platform fit (20): 12 x length fit to `LENGTH_NORMS` (value/low below, 1 - (value-high)/high above)
      + 8 when no hard limit is broken (3000 chars LinkedIn, 280 per tweet, 2200 chars and 30 hashtags on
      Instagram), - 3 per hashtag that is one everyday word ('#Thank', '#work').
    - readability (15): 15 x fit of the average sentence length to 8-22 words, - 5 per near-duplicate
      sentence, - 3 per line leaning on a sentence left out ('Feed it ...'), - the share of 13+-letter words
      beyond 15%.
    """
    checks: dict[str, float] = {}
    reasons: list[str] = []
    units = _draft_units(text)

    fragments = [(u, why) for u in units if (why := nlp.fragment_reason(u))]
    checks["complete sentences"] = max(0.0, 25.0 - 6 * len(fragments))
    if fragments:
        examples = ", ".join(f"{_quote(u)} ({why})" for u, why in fragments[:2])
        reasons.append(f"{len(fragments)} incomplete sentence(s): {examples}")

    frames = [u for u in units if nlp.is_frame(u)]
    checks["no talk frame"] = max(0.0, 15.0 - 8 * len(frames))
    if frames:
        reasons.append(f"{len(frames)} line(s) about the occasion, not the subject: {_quote(frames[0])}")

    draft_stems = {nlp.stem(t) for t in nlp.tokens(text.replace("#", " "))}
    draft_stems |= {nlp.stem(w.lower()) for tag in _HASHTAG.findall(text) for w in re.findall(r"[A-Z][a-z]+", tag)}
    topic = analysis.topics[0] if analysis.topics else ""
    topic_hit = not topic or _covers(draft_stems, topic, 1.0)
    if transcript:
        # The talk's own points, one per paragraph: kept when one of its sentences is mostly (60%) in the draft.
        points = [p[0] for p in _talk_points(transcript) if nlp.word_count(p[0]) >= 6]
        points = [*points, *(i for i in analysis.key_insights[:5] if not any(_same_point(i, p) for p in points))]
        kept_points = sum(1 for p in points if _covers(draft_stems, p, 0.6))
        total = len(points)
    else:
        insights = analysis.key_insights[:5]
        kept_points = sum(1 for i in insights if _covers(draft_stems, i, 0.6))
        total = len(insights)
    share = min(1.0, kept_points / (0.8 * total)) if total else 1.0
    checks["key points"] = 10.0 * topic_hit + 15.0 * share
    if not topic_hit:
        reasons.append(f"does not name the talk's topic ({topic})")
    if share < 1:
        reasons.append(f"keeps {kept_points} of the talk's {total} points")

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
    checks["platform fit"] = max(0.0, 12.0 * fit + 8.0 * (limits == 0) - 3 * len(generic))
    if fit < 1:
        reasons.append(f"length {value} {unit}, the {output_format} norm is {low}-{high}")
    if limits:
        reasons.append(f"{limits} platform limit(s) broken")
    if generic:
        reasons.append("everyday-word hashtags: " + " ".join(f"#{t}" for t in generic[:3]))

    leaning = [u for u in units if nlp.leans_back(u)]
    if leaning:
        reasons.append(f"{len(leaning)} line(s) lean on a sentence left out: {_quote(leaning[0])}")
    avg = sum(nlp.word_count(u) for u in units) / max(1, len(units))
    length_fit = avg / 8 if avg < 8 else 1.0 if avg <= 22 else max(0.0, 1 - (avg - 22) / 22)
    duplicates = sum(1 for i, u in enumerate(units) if any(_same_point(u, o) for o in units[:i]))
    words = nlp.tokens(text)
    long_share = sum(1 for w in words if len(w) >= 13) / max(1, len(words))
    checks["readability"] = max(
        0.0, 15.0 * length_fit - 5 * duplicates - 3 * len(leaning) - 15 * max(0.0, long_share - 0.15)
    )
    if length_fit < 1:
        reasons.append(f"sentences average {avg:.0f} words (8-22 reads best)")
    if duplicates:
        reasons.append(f"{duplicates} sentence(s) repeat an earlier point")

    score = max(0, min(100, round(sum(checks.values()))))
    return QualityReport(score, {k: round(v, 1) for k, v in checks.items()}, reasons)


def quality_score(
    output_format: OutputFormat, text: str, analysis: ContentAnalysisResult, transcript: str | None = None
) -> int:
    """The 0..100 score of `quality_report` (kept for callers that only need the number)."""
    return quality_report(output_format, text, analysis, transcript).score


# --------------------------------------------------------------------------------------------------
# Offline writer
# --------------------------------------------------------------------------------------------------

_SPLIT_POINTS = re.compile(r",\s+(?=(?:and|but|so|because|which|while)\b)|;\s+|\s+-\s+")


@dataclass
class _Kit:
    """Everything the per-platform builders share for one request."""

    request: DraftRequest
    tone: Tone
    feedback: Feedback
    style: StyleProfile
    emojis: bool
    topic: str
    topic_inline: str
    hook: str
    insights: list[str]
    quote: str
    proper_nouns: frozenset[str] = frozenset()
    used: set[str] = field(default_factory=set)

    def pick(self, options: Sequence[str], slot: str) -> str:
        return options[nlp.stable_index(f"{self.request.output_format}:{slot}", self.request.variant, len(options))]

    def fill(self, template: str, **extra: str) -> str:
        values = {
            "topic": self.topic_inline,
            "Topic": self.topic_inline[:1].upper() + self.topic_inline[1:],
            "brand": self.request.brand.name,
            "n": str(len(self.insights)),
        }
        values.update(extra)
        return template.format(**values)

    def count(self, base: int, low: int, high: int) -> int:
        return max(low, min(high, round(base * self.feedback.length)))

    def sentence(self, text: str) -> str:
        """Apply the brand's sentence-length habit to one sentence; a runaway sentence is cut at 400 chars."""
        text = nlp.shorten(text, 400)
        return _split_long(text) if self.style.short_sentences else text

    def opener(self) -> str:
        line = self.fill(self.pick(self.tone.openers, "opener"))
        if self.style.exclaims and line.endswith("."):
            line = line[:-1] + "!"
        if self.emojis:
            line = f"{line} {self.pick(self.tone.emojis, 'emoji')}"
        return line

    def closer(self) -> str:
        line = self.fill(self.pick(self.tone.closers, "closer"))
        return line[:-1] + "!" if self.style.exclaims and line.endswith(".") else line

    def takeaway(self) -> str:
        return self.with_quote(self.pick(self.tone.takeaways, "takeaway"), self.quote)

    def with_quote(self, template: str, quote: str) -> str:
        """Fill a '...: {quote}' template in written casing: 'If you remember one thing: most founders ...'."""
        head, _, tail = template.partition("{quote}")
        label = self.fill(head).rstrip()
        if label.endswith(":"):
            return nlp.sentence_case_after_colon(label, quote, self.proper_nouns) + self.fill(tail)
        return self.fill(template, quote=quote)

    def cta(self) -> str:
        return self.request.cta.strip() if self.request.cta else self.fill(self.tone.cta)

    def mentions(self) -> list[str]:
        # Mentions are names the user typed: their casing is kept as given.
        return [self.fill(self.tone.mention, quote=m.rstrip(".")) for m in self.feedback.mentions]

    def bullet(self) -> str:
        return self.tone.emoji_bullet if self.emojis else self.tone.bullet

    def title(self, items: int) -> str:
        return nlp.title_case(self.fill(self.pick(self.tone.titles, "title"), topic=self.topic, n=str(items)))


def _split_long(sentence: str, max_words: int = 14) -> str:
    """Break a long sentence at a clause boundary (', and', ', but', ';') into two shorter ones, only when
    both halves are complete sentences ('When they know they're only two rounds.' is not)."""
    if nlp.word_count(sentence) <= max_words:
        return sentence
    match = _SPLIT_POINTS.search(sentence)
    if not match or nlp.word_count(sentence[: match.start()]) < 4:
        return sentence
    head = sentence[: match.start()].rstrip(" ,;") + "."
    tail = sentence[match.end() :].strip()
    tail = re.sub(r"^(and|so)\s+", "", tail, flags=re.I)
    tail = f"{tail[:1].upper()}{tail[1:]}"
    if not tail or nlp.fragment_reason(head) or nlp.fragment_reason(tail):
        return sentence
    if re.match(r"(?i)(because|which|while)\b", tail):  # a subordinate clause cannot stand alone
        return sentence
    return f"{head} {tail}"


def _printable(lines: Sequence[str]) -> list[str]:
    """The lines a draft may print: repaired into complete sentences, the talk's frame and unreadable
    transcription debris dropped, near-duplicates removed."""
    out: list[str] = []
    for line in lines:
        fixed = nlp.repair_sentence(line)
        if fixed and not any(_same_point(fixed, o) for o in out):
            out.append(fixed)
    return out


def _same_point(a: str, b: str) -> bool:
    sa = {nlp.stem(t) for t in nlp.tokens(a) if nlp.is_content_word(t)}
    sb = {nlp.stem(t) for t in nlp.tokens(b) if nlp.is_content_word(t)}
    return bool(sa and sb) and len(sa & sb) / len(sa | sb) >= 0.6


def _strip_emojis(text: str) -> str:
    return "\n".join(nlp.strip_emojis(line) if line.strip() else "" for line in text.splitlines())


def _build_kit(request: DraftRequest) -> _Kit:
    feedback = _merge_feedback(parse_feedback(request.brand.custom_guidelines), parse_feedback(request.feedback))
    preset = feedback.tone or request.brand.tone_preset
    kit_tone = tone(preset)
    style = style_profile(request.brand.style_examples)
    if feedback.emojis is not None:
        emojis = feedback.emojis
    elif style.samples:
        emojis = style.uses_emojis
    else:
        emojis = kit_tone.default_emojis
    analysis = request.analysis
    topic = (
        analysis.topics[0]
        if analysis.topics
        else (
            nlp.title_case(analysis.keywords[0])
            if analysis.keywords
            else nlp.title_case(request.brand.industry or "Growth")
        )
    )
    inline = next((k for k in analysis.keywords if k.lower() == topic.lower()), topic)
    if inline.istitle() and inline.lower() not in nlp.KNOWN_ORGS | nlp.KNOWN_LOCATIONS:
        inline = inline.lower()

    hooks = _printable([h.text for h in sorted(analysis.hook_moments, key=lambda h: (-h.score, h.timestamp))])
    hooks = [h for h in hooks if not nlp.leans_back(h)] or hooks  # a hook must stand on its own
    spoken = _printable(nlp.split_sentences(request.transcript))
    if not hooks:
        hooks = spoken[:1] or [f"{topic} matters more than ever."]
    hook = hooks[request.variant % min(3, len(hooks))]

    pool = _printable([*analysis.key_insights, *(q.text for q in analysis.quotable_moments)])
    pool = [p for p in pool if not _same_point(p, hook)]
    if not pool:
        pool = [p for p in spoken if nlp.word_count(p) >= 6 and not _same_point(p, hook)][:5]
    quotes = [q for q in _printable([q.text for q in analysis.quotable_moments]) if not _same_point(q, hook)]
    quote = quotes[request.variant % len(quotes)] if quotes else (pool[-1] if pool else hook)
    insights = [p for p in pool if not _same_point(p, quote)] or pool
    insights = _spread(insights, request.transcript, [hook, quote])
    # Points that stand on their own come first; one that leans on a left-out sentence only fills a gap.
    insights = [p for p in insights if not nlp.leans_back(p)] + [p for p in insights if nlp.leans_back(p)]
    if style.short_sentences:  # a brand that writes short sentences gets the tightest points first
        insights = sorted(insights, key=nlp.word_count)
    proper = frozenset(
        w for s in nlp.split_sentences(request.transcript) for w in nlp.surface_tokens(s)[1:] if w[:1].isupper()
    )
    return _Kit(request, kit_tone, feedback, style, emojis, topic, inline, hook, insights, quote, proper)


def _spread(points: list[str], transcript: str, taken: Sequence[str]) -> list[str]:
    """Order points so the first few cover different parts of the talk: one per paragraph (in talk order)
    before a second from any; a paragraph none of the points comes from adds its lead sentence, when that
    is a complete sentence of six words or more. Paragraphs the hook or quote already cover come last."""
    paragraphs = [p for p in re.split(r"\n\s*\n", transcript) if p.strip()]
    if len(paragraphs) < 3:
        return points
    sentences = [nlp.split_sentences(p) for p in paragraphs]

    def home(point: str) -> int:
        for i, group in enumerate(sentences):
            if any(_same_point(point, s) for s in group):
                return i
        return len(sentences)

    by_paragraph: dict[int, list[str]] = {}
    for point in points:
        by_paragraph.setdefault(home(point), []).append(point)
    covered = {home(t) for t in taken}
    for i, group in enumerate(sentences):
        lead = next((f for f in (nlp.repair_sentence(s) for s in group) if f), None)
        fresh = i not in by_paragraph and i not in covered and not any(_same_point(lead or "", t) for t in taken)
        if fresh and lead and nlp.word_count(lead) >= 6 and not nlp.leans_back(lead):
            by_paragraph[i] = [lead]
    order = sorted(by_paragraph, key=lambda i: (i in covered, i))
    spread: list[str] = []
    while any(by_paragraph.values()):
        for i in order:
            if by_paragraph[i]:
                spread.append(by_paragraph[i].pop(0))
    return spread


def _fit_blocks(blocks: list[str], limit: int, removable: list[int]) -> str:
    """Join blocks with blank lines, dropping removable blocks (last first) until the text fits the limit."""
    kept = list(blocks)
    order = sorted(removable, reverse=True)
    text = "\n\n".join(b for b in kept if b)
    while len(text) > limit and order:
        kept[order.pop(0)] = ""
        text = "\n\n".join(b for b in kept if b)
    return text if len(text) <= limit else nlp.shorten(text, limit)


def _linkedin(kit: _Kit) -> Draft:
    tags = _rank_hashtags(kit.request, kit.count(5, 3, 5)) if kit.feedback.hashtags else []
    cta = kit.cta()
    head = [kit.opener(), kit.sentence(kit.hook)]
    if kit.style.dense:
        head = [" ".join(head)]
    intro = kit.pick(kit.tone.list_intros, "intro")
    n = kit.count(4, 3, 5)
    while True:
        bullets = [f"{kit.bullet()} {kit.sentence(i)}" for i in kit.insights[:n]]
        blocks = [
            *head,
            intro + "\n" + "\n".join(bullets),
            kit.sentence(kit.takeaway()),
            *kit.mentions(),
            kit.closer(),
            cta,
            " ".join(tags),
        ]
        text = "\n\n".join(b for b in blocks if b)
        if len(text) <= LINKEDIN_MAX_CHARS or n <= 1:
            break
        n -= 1
    text = nlp.shorten(text, LINKEDIN_MAX_CHARS)
    return _draft(kit, title=kit.title(n), text=text, caption=head[0], tags=tags, cta=cta, metadata={"bullets": n})


def _numbered(parts: Sequence[str]) -> list[str]:
    total = len(parts)
    tweets: list[str] = []
    for i, part in enumerate(parts, start=1):
        prefix = f"{i}/{total} "
        tweets.append(prefix + nlp.shorten(part, TWEET_MAX_CHARS - len(prefix)))
    return tweets


def _thread(kit: _Kit) -> Draft:
    n = kit.count(4, 2, 6)
    tags = _rank_hashtags(kit.request, 2) if kit.feedback.hashtags else []
    cta = kit.cta()
    first = f"{kit.opener()}\n\n{kit.hook}\n\n{kit.tone.thread_marker}"
    if len(first) > TWEET_MAX_CHARS - 8:
        first = f"{kit.hook}\n\n{kit.tone.thread_marker}"
    parts = [first]
    parts += [kit.sentence(i) for i in kit.insights[:n]]
    parts.append(kit.sentence(kit.takeaway()))
    parts += kit.mentions()
    closing = f"{kit.closer()}\n\n{cta}"
    if tags and len(closing) + len(" ".join(tags)) + 10 <= TWEET_MAX_CHARS:
        closing += "\n\n" + " ".join(tags)
    elif tags:
        tags = []
    parts.append(closing)
    tweets = _numbered(parts)
    text = "\n\n".join(tweets)
    return _draft(
        kit,
        title=kit.title(min(n, len(kit.insights))),
        text=text,
        caption=tweets[0],
        tags=tags,
        cta=cta,
        metadata={"tweets": tweets},
    )


def _instagram(kit: _Kit) -> Draft:
    n = kit.count(4, 2, 6)
    tags = _rank_hashtags(kit.request, kit.count(20, 10, INSTAGRAM_MAX_HASHTAGS)) if kit.feedback.hashtags else []
    hook = kit.hook if len(kit.hook) <= 125 else nlp.shorten(kit.hook, 125)
    cta = kit.cta() if kit.request.cta else "Save this post. " + kit.cta()
    lines = [f"{kit.bullet()} {kit.sentence(i)}" for i in kit.insights[:n]]
    blocks = [
        hook,
        kit.opener(),
        "\n".join(lines),
        kit.sentence(kit.takeaway()),
        *kit.mentions(),
        kit.closer(),
        cta,
    ]
    tag_line = " ".join(tags)
    body_limit = INSTAGRAM_MAX_CHARS - (len(tag_line) + 2 if tag_line else 0)
    body = _fit_blocks(blocks, body_limit, removable=[2])
    text = f"{body}\n\n{tag_line}" if tag_line else body
    return _draft(
        kit,
        title=kit.title(min(n, len(kit.insights))),
        text=text,
        caption=text,
        tags=tags,
        cta=cta,
        metadata={},
    )


def _seconds(text: str) -> float:
    return nlp.word_count(text) / nlp.WORDS_PER_SECOND


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _shorts(kit: _Kit) -> Draft:
    """A 30-60 s script: hook, setup, points, payoff, CTA; points are added or dropped to fit the window."""
    max_seconds = SHORTS_MAX_SECONDS if kit.feedback.length >= 1 else 45
    hook = kit.hook
    setup = nlp.strip_emojis(kit.opener())
    payoff = kit.takeaway()
    cta_line = kit.cta()
    closing = " ".join([*kit.mentions(), cta_line])
    points = [_split_long(p) for p in kit.insights]
    if kit.feedback.length < 1:
        points.sort(key=nlp.word_count)  # "shorter": the tightest points fill the 30 s minimum
    count = min(len(points), kit.count(3, 2, 4))

    def beats_for(k: int) -> list[tuple[str, str]]:
        return [
            ("Hook", hook),
            ("Setup", setup),
            *((f"Point {i + 1}", p) for i, p in enumerate(points[:k])),
            ("Payoff", payoff),
            ("CTA", closing),
        ]

    while count > 1 and sum(_seconds(t) for _, t in beats_for(count)) > max_seconds:
        count -= 1
    # Fill towards 40 s (30 s when asked for shorter) with further points while they fit the window.
    floor = SHORTS_MIN_SECONDS if kit.feedback.length < 1 else 40
    while count < len(points) and sum(_seconds(t) for _, t in beats_for(count)) < floor:
        current = sum(_seconds(t) for _, t in beats_for(count))
        if current >= SHORTS_MIN_SECONDS and sum(_seconds(t) for _, t in beats_for(count + 1)) > max_seconds:
            break
        count += 1
    pairs = beats_for(count)
    if sum(_seconds(t) for _, t in pairs) > max_seconds:
        budget = max_seconds * nlp.WORDS_PER_SECOND
        words_each = max(8, int(budget / len(pairs)))
        pairs = [(label, nlp.shorten(t, words_each * 6)) for label, t in pairs]
    beats: list[dict[str, Any]] = []
    cursor = 0.0
    for label, text in pairs:
        duration = max(2.0, _seconds(text))
        beats.append({"label": label, "start": round(cursor, 1), "end": round(cursor + duration, 1), "text": text})
        cursor += duration
    script = "\n\n".join(f"{b['label'].upper()} ({_clock(b['start'])}-{_clock(b['end'])})\n{b['text']}" for b in beats)
    title = nlp.shorten(kit.title(count), SHORTS_TITLE_MAX_CHARS)
    tags = ["#Shorts", *_rank_hashtags(kit.request, 3)] if kit.feedback.hashtags else []
    tags = nlp.unique(tags)
    description = "\n\n".join([nlp.shorten(kit.hook, 200), payoff, *kit.mentions(), cta_line, " ".join(tags)]).strip()
    metadata = {"beats": beats, "duration_seconds": round(cursor, 1), "description": description}
    return _draft(kit, title=title, text=script, caption=description, tags=tags, cta=cta_line, metadata=metadata)


_TALK_FRAME = re.compile(
    r"\b(thank(?:s| you)|let me start|good (?:morning|afternoon|evening)|welcome(?: everyone)?|for coming|"
    r"cannot wait to|can't wait to)\b",
    re.IGNORECASE,
)


def _segments(transcript: str) -> list[list[str]]:
    """Paragraphs of the transcript (blank-line separated), or runs of five sentences when there are none."""
    paragraphs = [p for p in re.split(r"\n\s*\n", transcript) if p.strip()]
    if len(paragraphs) < 3:
        sentences = nlp.split_sentences(transcript)
        return [sentences[i : i + 5] for i in range(0, len(sentences), 5)]
    return [nlp.split_sentences(p) for p in paragraphs]


def _heading(
    label: str, sentences: Sequence[tuple[float, int, str]], analysis: ContentAnalysisResult, used: set[str]
) -> str:
    """A topic phrase ('Content Marketing') names its section when the section is about it; otherwise the
    phrase the section's own sentences are most about (`section_phrase`), never a sentence lifted from it."""
    if label in analysis.topics and " " in label:
        return nlp.title_case(label)
    keyword_stems = frozenset(nlp.stem(t) for k in analysis.keywords[:8] for t in nlp.tokens(k))
    phrase = section_phrase([s[2] for s in sentences], frozenset(used), keyword_stems)
    if not phrase:
        return nlp.title_case(label)
    return nlp.title_case(phrase)


def _blog(kit: _Kit) -> Draft:
    """Markdown article: the talk's own paragraphs in order, grouped under the topic or keyword each is
    most about (each heading used once); greetings and sign-offs of the talk are dropped."""
    analysis = kit.request.analysis
    labels = nlp.unique([*analysis.topics, *(nlp.title_case(k) for k in analysis.keywords)])
    label_stems = [{nlp.stem(t) for t in nlp.tokens(label) if nlp.is_content_word(t)} for label in labels]
    keyword_stems = {nlp.stem(t) for k in analysis.keywords for t in nlp.tokens(k)}
    groups: list[tuple[str, list[tuple[float, int, str]]]] = []
    used_labels: set[str] = set()
    index = 0
    for segment in _segments(kit.request.transcript):
        kept: list[tuple[float, int, str]] = []
        counts: dict[int, int] = {}
        for raw in segment:
            index += 1
            sentence = nlp.repair_sentence(raw) or ""  # the talk's frame and unreadable debris are dropped
            toks = nlp.tokens(sentence)
            stems = {nlp.stem(t) for t in toks if nlp.is_content_word(t)}
            if len(toks) < 4 or not stems:
                continue
            for li, ls in enumerate(label_stems):
                if ls and ls <= stems:
                    counts[li] = counts.get(li, 0) + 1
            kept.append((len(stems & keyword_stems) / len(stems), index, kit.sentence(sentence)))
        if not kept:
            continue
        ranked = sorted(counts, key=lambda li: (-counts[li], li))
        fresh = [li for li in ranked if labels[li] not in used_labels]
        if groups and (not fresh or (ranked and labels[ranked[0]] == groups[-1][0])):
            groups[-1][1].extend(kept)  # same subject as the previous paragraph: one section
            continue
        label = labels[fresh[0]] if fresh else f"Lesson {len(groups) + 1}"
        used_labels.add(label)
        groups.append((label, kept))
    limit = kit.count(6, 3, 8)
    groups = groups[:limit]
    n_takeaways = min(len(kit.insights), kit.count(5, 3, 6))
    # The takeaways and the closing quote are said once, in their own place, not again in the body.
    reserved = [*kit.insights[:n_takeaways], kit.quote, kit.hook]
    sections: list[str] = []
    headings: list[str] = []
    heading_stems: set[str] = set()
    for g_index, (heading, group) in enumerate(groups):
        sentences = group
        if kit.feedback.length < 1:
            keep = max(2, math.ceil(len(group) * kit.feedback.length))
            sentences = sorted(sorted(group, key=lambda s: (-s[0], s[1]))[:keep], key=lambda s: s[1])
        name = _heading(heading, sentences, analysis, heading_stems)
        if name.lower() in {h.lower() for h in headings}:
            name = _heading(f"Lesson {g_index + 1}", sentences, analysis, heading_stems)
        headings.append(name)
        heading_stems.update(nlp.stem(t) for t in nlp.tokens(name) if nlp.is_content_word(t))
        transition = kit.tone.transitions[(g_index + kit.request.variant) % len(kit.tone.transitions)]
        texts: list[str] = []
        dropped = False
        for s in sentences:
            if any(_same_point(s[2], r) for r in reserved) or (dropped and nlp.leans_back(s[2])):
                dropped = True  # said elsewhere; a 'That fear ...' after it would lean on nothing
                continue
            dropped = False
            texts.append(s[2])
        if not texts:
            texts = [s[2] for s in sentences if not _same_point(s[2], kit.hook)][:1] or [sentences[0][2]]
        paragraphs = [" ".join(texts[i : i + 4]) for i in range(0, len(texts), 4)]
        sections.append(f"## {headings[-1]}")
        sections.append(f"{transition} {paragraphs[0]}" if g_index % 2 == 0 else paragraphs[0])
        sections.extend(paragraphs[1:])
    body: list[str] = [
        f"# {kit.title(n_takeaways)}",
        f"{kit.hook} {kit.fill(kit.tone.blog_intro)}",
        *sections,
    ]
    takeaways = "\n".join(f"- {i}" for i in kit.insights[:n_takeaways])
    body += [
        "## Key Takeaways",
        takeaways,
        "## Conclusion",
        " ".join([kit.takeaway(), *kit.mentions(), kit.closer()]),
    ]
    cta = kit.cta()
    body.append(cta)
    text = "\n\n".join(body)
    tags = _rank_hashtags(kit.request, 5) if kit.feedback.hashtags else []
    meta = nlp.shorten(kit.insights[0] if kit.insights else kit.hook, META_DESCRIPTION_MAX_CHARS)
    metadata = {
        "sections": headings,
        "meta_description": meta,
        "reading_minutes": max(1, math.ceil(nlp.word_count(text) / 200)),
    }
    return _draft(kit, title=kit.title(n_takeaways), text=text, caption=meta, tags=tags, cta=cta, metadata=metadata)


def _draft(
    kit: _Kit, *, title: str, text: str, caption: str, tags: list[str], cta: str, metadata: dict[str, Any]
) -> Draft:
    if not kit.emojis:
        text, caption, title = _strip_emojis(text), _strip_emojis(caption), nlp.strip_emojis(title)
        if "tweets" in metadata:
            metadata["tweets"] = [_strip_emojis(t) for t in metadata["tweets"]]
    metadata.update(
        {
            "tone": kit.tone.name,
            "variant": kit.request.variant,
            "style": kit.style.traits(),
            "feedback_applied": list(kit.feedback.applied),
            "writer": "offline",
        }
    )
    output_format = kit.request.output_format
    report = quality_report(output_format, text, kit.request.analysis, kit.request.transcript)
    metadata["quality_checks"] = report.checks
    metadata["quality_reasons"] = report.reasons
    return Draft(
        title=title,
        content_text=text,
        caption=caption,
        hashtags=tags,
        cta=cta,
        word_count=nlp.word_count(text),
        quality_score=report.score,
        metadata=metadata,
    )


_BUILDERS = {
    "linkedin_post": _linkedin,
    "twitter_thread": _thread,
    "instagram_caption": _instagram,
    "youtube_shorts": _shorts,
    "blog_article": _blog,
}


def write_offline(request: DraftRequest) -> Draft:
    """Write a draft deterministically from the transcript and its analysis."""
    return _BUILDERS[request.output_format](_build_kit(request))


class OfflineWriter:
    """Writer that needs no network: templates by tone plus sentences extracted from the talk."""

    async def write(self, request: DraftRequest) -> Draft:
        return write_offline(request)


# --------------------------------------------------------------------------------------------------
# OpenAI writer
# --------------------------------------------------------------------------------------------------


class _ModelDraft(BaseModel):
    """The JSON a chat model returns; word count and quality are computed locally."""

    title: str
    content_text: str
    caption: str
    hashtags: list[str]
    cta: str | None
    tweets: list[str]
    script_beats: list[str]


def build_system_prompt(request: DraftRequest) -> str:
    """The system prompt: brand voice, tone preset, style examples, platform rules and feedback."""
    brand = request.brand
    preset_name = parse_feedback(request.feedback).tone or brand.tone_preset
    preset = tone(preset_name)
    style = style_profile(brand.style_examples)
    lines = [
        f"You are the ghostwriter for {brand.name}"
        + (f", a brand in {brand.industry}" if brand.industry else "")
        + (f", writing for {brand.target_audience}" if brand.target_audience else "")
        + ".",
        "Turn the talk transcript into one ready-to-post draft. Use only facts from the transcript; "
        "no placeholders, no brackets, no lorem ipsum.",
        f"Tone preset: {preset_name}. {preset.guidance}",
        f"Platform rules: {PLATFORM_RULES[request.output_format]}",
        "Return JSON with title, content_text, caption, hashtags (each starting with one '#'), cta, tweets "
        "(X threads only, else empty) and script_beats (Shorts only, else empty).",
    ]
    if brand.custom_guidelines.strip():
        lines.append(f"Brand guidelines: {brand.custom_guidelines.strip()}")
    if brand.style_examples:
        traits = style.traits()
        lines.append(
            "Match the style of these brand posts (average sentence length "
            f"{traits['avg_sentence_words']} words, {traits['emojis_per_sample']} emojis per post, "
            f"{traits['exclamations_per_sentence']} exclamations per sentence):"
        )
        lines.extend(f"---\n{example.strip()}" for example in brand.style_examples)
        lines.append("---")
    if request.hashtags:
        lines.append(
            "Prefer these hashtags from the brand's library: " + " ".join(normalize_hashtags(request.hashtags))
        )
    lines.append(
        f"Call to action: {request.cta}" if request.cta else "Write a short call to action that fits the brand."
    )
    if request.feedback:
        lines.append(f"Revise according to this feedback: {request.feedback.strip()}")
    if request.variant:
        lines.append(f"This is alternative version {request.variant}: take a different hook and angle than before.")
    return "\n".join(lines)


def build_user_prompt(request: DraftRequest) -> str:
    analysis = request.analysis
    summary = {
        "topics": analysis.topics,
        "keywords": analysis.keywords,
        "key_insights": analysis.key_insights,
        "hooks": [h.text for h in analysis.hook_moments],
        "quotes": [q.text for q in analysis.quotable_moments],
    }
    return f"Analysis:\n{json.dumps(summary, ensure_ascii=False)}\n\nTranscript:\n{request.transcript.strip()}"


def _enforce_limits(output_format: OutputFormat, answer: _ModelDraft) -> tuple[str, str, list[str], list[str]]:
    """Hard platform limits applied to model output: tweet, title, caption and hashtag caps."""
    tags = normalize_hashtags(answer.hashtags)
    title = answer.title
    tweets = [nlp.shorten(t, TWEET_MAX_CHARS) for t in answer.tweets]
    text = answer.content_text
    if output_format == "twitter_thread" and tweets:
        text = "\n\n".join(tweets)
    elif output_format == "linkedin_post":
        text = nlp.shorten(text, LINKEDIN_MAX_CHARS)
    elif output_format == "instagram_caption":
        tags = tags[:INSTAGRAM_MAX_HASHTAGS]
        text = nlp.shorten(text, INSTAGRAM_MAX_CHARS)
    elif output_format == "youtube_shorts":
        title = nlp.shorten(title, SHORTS_TITLE_MAX_CHARS)
    return title, text, tags, tweets


class OpenAIWriter:
    """Writer backed by an OpenAI-compatible chat model answering in a strict JSON schema."""

    def __init__(self, client: openai.AsyncOpenAI, model: str) -> None:
        self._client = client
        self._model = model

    async def write(self, request: DraftRequest) -> Draft:
        raw = await complete_json(
            self._client,
            model=self._model,
            system=build_system_prompt(request),
            user=build_user_prompt(request),
            schema_name="draft",
            schema_model=_ModelDraft,
            error=WriterError,
        )
        try:
            answer = _ModelDraft.model_validate_json(raw)
        except ValidationError as exc:
            raise WriterError(f"OpenAI returned an invalid draft: {exc}") from exc
        title, text, tags, tweets = _enforce_limits(request.output_format, answer)
        metadata: dict[str, Any] = {"writer": "openai", "model": self._model, "variant": request.variant}
        if tweets:
            metadata["tweets"] = tweets
        if answer.script_beats:
            metadata["beats"] = [{"label": f"Beat {i + 1}", "text": b} for i, b in enumerate(answer.script_beats)]
        report = quality_report(request.output_format, text, request.analysis, request.transcript)
        metadata["quality_checks"] = report.checks
        metadata["quality_reasons"] = report.reasons
        return Draft(
            title=title,
            content_text=text,
            caption=answer.caption,
            hashtags=tags,
            cta=answer.cta,
            word_count=nlp.word_count(text),
            quality_score=report.score,
            metadata=metadata,
        )
