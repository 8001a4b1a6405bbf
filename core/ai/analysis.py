"""Content analysis of a talk transcript: offline lexicon NLP or an OpenAI structured-output call.

Both paths return the same `ContentAnalysisResult`. The offline path is deterministic: the same input
always yields the same result, with no randomness, downloads or model weights.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Protocol

import openai
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator

from core.ai import nlp
from core.ai.errors import AnalysisError
from core.ai.structured import complete_json

OFFLINE_MODEL = "recast-offline-lexicon-v2"
EMOTIONS: tuple[str, ...] = ("joy", "surprise", "fear", "anger", "sadness", "trust")

Score = Annotated[int, Field(ge=0, le=100)]

# A free-form dict cannot be expressed in OpenAI's strict schemas, so the wire schema names the six emotions.
Emotions = Annotated[
    dict[str, float],
    WithJsonSchema(
        {
            "type": "object",
            "properties": {name: {"type": "number", "minimum": 0, "maximum": 1} for name in EMOTIONS},
            "required": list(EMOTIONS),
            "additionalProperties": False,
        }
    ),
]


class TimedSentence(BaseModel):
    """One transcript segment with its start and end in seconds."""

    model_config = ConfigDict(frozen=True)

    text: str
    start: float = Field(ge=0)
    end: float = Field(ge=0)


SentenceInput = TimedSentence | tuple[str, float, float]


class Entities(BaseModel):
    persons: list[str]
    organizations: list[str]
    locations: list[str]


class HookMoment(BaseModel):
    timestamp: float
    end: float
    text: str
    score: Score


class QuotableMoment(BaseModel):
    timestamp: float
    text: str
    score: Score


class PlatformScores(BaseModel):
    linkedin: Score
    twitter: Score
    instagram: Score
    youtube: Score
    blog: Score


class ContentAnalysisResult(BaseModel):
    """What the repurposing pipeline knows about one piece of content."""

    topics: list[str]
    keywords: list[str]
    entities: Entities
    sentiment_score: Annotated[int, Field(ge=-100, le=100)]
    emotions: Emotions
    hook_moments: list[HookMoment]
    key_insights: list[str]
    quotable_moments: list[QuotableMoment]
    virality_score: Score
    repurposing_value: Score
    seo_score: Score
    engagement_potential: Score
    platform_scores: PlatformScores
    language: str
    model: str

    @field_validator("emotions")
    @classmethod
    def _emotions_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for name, level in value.items():
            if not 0.0 <= level <= 1.0:
                raise ValueError(f"emotion {name!r} must be within 0..1, got {level}")
        return value


class Analyser(Protocol):
    """Port: turns a transcript (and optional timed segments) into a ContentAnalysisResult."""

    async def analyse(
        self, transcript: str, sentences: Sequence[SentenceInput] | None = None
    ) -> ContentAnalysisResult: ...


# --------------------------------------------------------------------------------------------------
# Offline analysis
# --------------------------------------------------------------------------------------------------

_ADVICE = re.compile(
    r"\b(should|need to|have to|must|the key|secret|what works|lesson|learn(?:ed|t)|rule|important|"
    r"matters|if you|stop|don't|do not|focus|remember|the trick|the truth|instead|the real)\b",
    re.IGNORECASE,
)
_DANGLING_STARTS = nlp.words("this that it they these those he she him her them which also then there here its their")
_REPORTED_SPEECH = re.compile(r"^(?:he|she|they|my \w+) (?:said|says|told me)(?: that)?,?\s+", re.IGNORECASE)
_UNIVERSAL = nlp.words("always never every everyone nobody people you your most")
_LOCATION_CUES = frozenset({"in", "from", "across", "near", "to"})
_CAPITALISED_RUN = re.compile(r"[A-Z][\w'’&.\-]*(?:\s+(?:of|and|&|de|for)\s+[A-Z][\w'’&.\-]*|\s+[A-Z][\w'’&.\-]*)*")
_NOT_ORG_ACRONYMS = nlp.words("ai ceo cto b2b b2c ui ux seo roi pm ok dm dms cta kpi faq tv")


@dataclass(frozen=True)
class _Sentence:
    index: int
    text: str
    start: float
    end: float
    tokens: tuple[str, ...]
    stems: frozenset[str]  # stems of content words

    @property
    def words(self) -> int:
        return len(self.tokens)


@dataclass
class _TermStats:
    count: int = 0
    first_position: int = 0
    surfaces: Counter[str] = field(default_factory=Counter)
    sentences: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class _Keyword:
    display: str
    stems: tuple[str, ...]
    score: float
    count: int
    sentences: frozenset[int]


def _clamp(value: float, low: int = 0, high: int = 100) -> int:
    return max(low, min(high, round(value)))


def _coerce(item: SentenceInput) -> TimedSentence:
    if isinstance(item, TimedSentence):
        return item
    text, start, end = item
    return TimedSentence(text=text, start=start, end=end)


def _whole_sentences(segments: Sequence[TimedSentence]) -> list[TimedSentence]:
    """Join segments a transcriber cut mid-sentence ('When they know they're only two rounds,' + 'clients
    give better feedback.') so that no sentence is split across two; a joined segment spans both times."""
    joined: list[TimedSentence] = []
    for segment in segments:
        text = segment.text.strip()
        if not text:
            continue
        if joined and not re.search(r"[.!?…][\"”’')\]]*$", joined[-1].text):
            last = joined.pop()
            joined.append(TimedSentence(text=f"{last.text} {text}", start=last.start, end=max(last.end, segment.end)))
        else:
            joined.append(segment)
    return joined


def _timed_sentences(transcript: str, segments: Sequence[SentenceInput] | None) -> list[_Sentence]:
    """Split segments (or the transcript) into sentences; time is shared out by word count."""
    pieces: list[tuple[str, float, float]] = []
    if segments:
        for segment in _whole_sentences([_coerce(s) for s in segments]):
            parts = nlp.split_sentences(segment.text)
            total = sum(max(1, nlp.word_count(p)) for p in parts) or 1
            cursor = segment.start
            span = max(0.0, segment.end - segment.start)
            for part in parts:
                duration = span * max(1, nlp.word_count(part)) / total
                pieces.append((part, cursor, cursor + duration))
                cursor += duration
    else:
        cursor = 0.0
        for part in nlp.split_sentences(transcript):
            duration = max(1, nlp.word_count(part)) / nlp.WORDS_PER_SECOND
            pieces.append((part, cursor, cursor + duration))
            cursor += duration
    result: list[_Sentence] = []
    for text, start, end in pieces:
        toks = tuple(nlp.tokens(text))
        if not toks:
            continue
        stems = frozenset(nlp.stem(t) for t in toks if nlp.is_content_word(t))
        result.append(_Sentence(len(result), text, round(start, 2), round(end, 2), toks, stems))
    return result


def _display(stats: _TermStats, fallback: str) -> str:
    if not stats.surfaces:
        return fallback
    best = max(stats.surfaces.items(), key=lambda kv: (kv[1], kv[0].islower()))
    return best[0]


def extract_keywords(sentences: Sequence[str], limit: int = 12) -> list[_Keyword]:
    """Rank content words and two-word phrases.

    unigram score = count x position weight x length weight, where the position weight is
    1 + 0.5 x (1 - first position / total tokens) (early terms frame a talk) and the length weight is
    min(1.4, 0.6 + len/10) (longer words carry more meaning). A unigram mostly seen inside a kept phrase
    is damped by max(0.35, 1 - phrase count / its count). Phrases (adjacent content words in one clause,
    seen at least twice) score count x 2.5 x position weight. Surface casing seen mid-sentence is kept
    ('LinkedIn'), otherwise terms are lower case.
    """
    unigrams: dict[str, _TermStats] = {}
    bigrams: dict[tuple[str, str], _TermStats] = {}
    position = 0
    for index, sentence in enumerate(sentences):
        first_in_sentence = True
        for clause in re.split(r"[,;:()\u2014\u2013\"“”]|\s-\s", sentence):
            previous: tuple[str, str] | None = None
            for surface in nlp.surface_tokens(clause):
                token = surface.lower()
                position += 1
                if not nlp.is_content_word(token):
                    previous = None
                    first_in_sentence = False
                    continue
                word_stem = nlp.stem(token)
                stats = unigrams.setdefault(word_stem, _TermStats(first_position=position))
                stats.count += 1
                stats.sentences.add(index)
                # Sentence-initial capitals say nothing about a word; inner capitals ('LinkedIn') do.
                shown = token if first_in_sentence and surface[1:].islower() else surface
                stats.surfaces[shown] += 1
                if previous is not None and previous[0] != word_stem:
                    key = (previous[0], word_stem)
                    pair = bigrams.setdefault(key, _TermStats(first_position=position - 1))
                    pair.count += 1
                    pair.sentences.add(index)
                    pair.surfaces[f"{previous[1]} {shown}"] += 1
                previous = (word_stem, shown)
                first_in_sentence = False
    total = max(position, 1)
    min_count = 2 if total >= 80 else 1

    def position_weight(stats: _TermStats) -> float:
        return 1 + 0.5 * (1 - stats.first_position / total)

    candidates: list[_Keyword] = []
    phrase_share: Counter[str] = Counter()
    for (left, right), stats in bigrams.items():
        if stats.count < max(2, min_count):
            continue
        phrase_share[left] = max(phrase_share[left], stats.count)
        phrase_share[right] = max(phrase_share[right], stats.count)
        display = _display(stats, f"{left} {right}")
        candidates.append(
            _Keyword(
                display,
                (left, right),
                stats.count * 2.5 * position_weight(stats),
                stats.count,
                frozenset(stats.sentences),
            )
        )
    for word_stem, stats in unigrams.items():
        if stats.count < min_count:
            continue
        damp = max(0.35, 1 - phrase_share[word_stem] / stats.count)
        length_weight = min(1.4, 0.6 + len(word_stem) / 10)
        score = stats.count * position_weight(stats) * length_weight * damp
        candidates.append(
            _Keyword(_display(stats, word_stem), (word_stem,), score, stats.count, frozenset(stats.sentences))
        )
    candidates.sort(key=lambda k: (-k.score, k.display.lower()))
    chosen: list[_Keyword] = []
    seen: set[str] = set()
    for keyword in candidates:
        if keyword.display.lower() in seen:
            continue
        seen.add(keyword.display.lower())
        chosen.append(keyword)
        if len(chosen) >= limit:
            break
    return chosen


def _specificity(word: str) -> float:
    """How much a word says about a subject: 7 - its Zipf frequency, within 1..5 ('the' 1, 'sourdough' 4.2)."""
    return max(1.0, min(5.0, 7.0 - nlp.zipf(word)))


def key_phrases(sentences: Sequence[str], limit: int = 5) -> list[str]:
    """The talk's subjects as key phrases, best first.

    Candidates are runs of one to three adjacent content words inside one clause (no Hindi function words).
    score = sentences it occurs in x mean specificity of its words (7 - Zipf frequency from wordfreq, 1..5)
    x 2.2 for a phrase of two or more words x 4 when it is the whole run the speaker announces ('Let's talk
    about scope creep', 'Today I will explain how database indexes ...'). A single everyday word (Zipf >= 5:
    'work', 'thank'; nor one above Zipf 4.7, a word counting as its most common form) is never a subject, nor
    a phrase made only of everyday words ('good morning'); a candidate needs two sentences unless announced.
    Frame sentences (greetings, thanks, sign-offs) count only for announcements.
    A candidate sharing a word with a better one is skipped, so the list names distinct subjects. A short
    announced subject with a preposition ('consistency on LinkedIn', 'public speaking for introverts') is
    named first, as said.
    """
    stats: dict[tuple[str, ...], _TermStats] = {}
    announced: set[tuple[str, ...]] = set()
    named = ""  # a short announced subject with a preposition: 'consistency on LinkedIn'
    for index, sentence in enumerate(sentences):
        subject = nlp.announced_subject(sentence)
        if subject and not named and _NAMED_SUBJECT.match(subject) and nlp.word_count(subject) <= 4:
            named = " ".join(w if w[1:] != w[1:].lower() or w.isupper() else w.lower() for w in subject.split())
        if subject:
            for subject_run in _content_runs(subject):
                announced.add(tuple(stem for stem, _ in subject_run[:3]))
        if nlp.is_frame(sentence) and not subject:
            continue
        for clause in re.split(r"[,;:()\u2014\u2013\"“”?!]|\s-\s|\band\b|\bbut\b", sentence):
            run: list[tuple[str, str]] = []
            for surface in [*nlp.surface_tokens(clause), ""]:
                token = surface.lower()
                if token and nlp.is_content_word(token) and token not in nlp.HINGLISH_FUNCTION_WORDS:
                    run.append((nlp.stem(token), surface))
                    continue
                for size in (1, 2, 3):
                    for start in range(0, len(run) - size + 1):
                        gram = run[start : start + size]
                        key = tuple(stem for stem, _ in gram)
                        if len(set(key)) < size:
                            continue
                        term = stats.setdefault(key, _TermStats(first_position=index))
                        term.count += 1
                        term.sentences.add(index)
                        shown = " ".join(w if w[1:] != w[1:].lower() or w.isupper() else w.lower() for _, w in gram)
                        term.surfaces[shown] += 1
                run = []
    scored: list[tuple[float, int, tuple[str, ...]]] = []
    for key, term in stats.items():
        forms = next(iter(term.surfaces)).split()
        # A word is as common as its most common form: 'posts' counts as 'post'.
        words = [max(forms[i].lower(), key[i], key=nlp.zipf) for i in range(len(key))]
        if all(nlp.generic_word(w) for w in words):
            continue
        if len(key) == 1 and (nlp.zipf(words[0]) > 4.7 or nlp.generic_word(words[0])):
            continue  # 'starts', 'learned', 'minutes': too common to name a subject alone
        is_announced = key in announced
        if len(term.sentences) < 2 and not is_announced:
            continue
        specificity = sum(_specificity(w) for w in words) / len(words)
        score = len(term.sentences) * specificity * (2.2 if len(key) > 1 else 1.0) * (4.0 if is_announced else 1.0)
        scored.append((score, term.first_position, key))
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    chosen: list[str] = [named] if named else []
    used: set[str] = {nlp.stem(t) for t in nlp.tokens(named) if nlp.is_content_word(t)}
    for _, _, key in scored:
        if used & set(key):
            continue
        used |= set(key)
        chosen.append(_display(stats[key], " ".join(key)))
        if len(chosen) >= limit:
            break
    return chosen


def section_phrase(
    sentences: Sequence[str], avoid: frozenset[str] = frozenset(), boost: frozenset[str] = frozenset()
) -> str:
    """The phrase a few sentences are most about, for a heading: one or two adjacent content words (not ending
    in an '-ly' adverb)
    scored by sentences holding them x mean specificity x (1 + 0.8 per extra word) x 2 when they hold one of the
    talk's keyword stems (`boost`); phrases of everyday words only, and stems in `avoid`, are skipped.
    '' when nothing qualifies."""
    counts: dict[tuple[str, ...], set[int]] = {}
    shown: dict[tuple[str, ...], str] = {}
    for index, sentence in enumerate(sentences):
        for run in _content_runs(sentence):
            for size in (1, 2):
                for start in range(0, len(run) - size + 1):
                    gram = run[start : start + size]
                    key = tuple(stem for stem, _ in gram)
                    if len(set(key)) < size or set(key) & avoid or gram[-1][1].lower().endswith("ly"):
                        continue
                    counts.setdefault(key, set()).add(index)
                    shown.setdefault(key, " ".join(w if not w[1:].islower() else w.lower() for _, w in gram))
    best: tuple[float, str] = (0.0, "")
    for key, where in counts.items():
        words = [max(w, stem, key=nlp.zipf) for w, stem in zip(shown[key].lower().split(), key, strict=True)]
        if all(nlp.generic_word(w) for w in words) or (
            len(words) == 1 and (nlp.zipf(words[0]) > 4.7 or nlp.generic_word(words[0]))
        ):
            continue
        specificity = sum(_specificity(w) for w in words) / len(words)
        score = len(where) * specificity * (1.0 + 0.8 * (len(key) - 1)) * (2.0 if set(key) & boost else 1.0)
        if score > best[0]:
            best = (score, shown[key])
    return best[1]


_NAMED_SUBJECT = re.compile(r"^[A-Za-z][\w'-]+(?: [A-Za-z][\w'-]+)? (?:on|for|in|with) [A-Za-z][\w'-]+$")


def _content_runs(text: str) -> list[list[tuple[str, str]]]:
    """Runs of adjacent content words (stem, surface) in a piece of text."""
    runs: list[list[tuple[str, str]]] = [[]]
    for surface in nlp.surface_tokens(text):
        token = surface.lower()
        if nlp.is_content_word(token) and token not in nlp.HINGLISH_FUNCTION_WORDS:
            runs[-1].append((nlp.stem(token), surface))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _topics(keywords: Sequence[_Keyword], limit: int = 5) -> list[str]:
    """Greedy clusters of keywords: a keyword joins the highest-ranked seed it shares a stem with or
    co-occurs with in at least half of its sentences; each cluster is named by its best phrase (or seed)."""
    clusters: list[list[_Keyword]] = []
    for keyword in keywords[:10]:
        for cluster in clusters:
            seed = cluster[0]
            shared = set(seed.stems) & set(keyword.stems)
            overlap = len(seed.sentences & keyword.sentences) / max(1, min(len(seed.sentences), len(keyword.sentences)))
            if shared or overlap >= 0.5:
                cluster.append(keyword)
                break
        else:
            clusters.append([keyword])
    topics: list[str] = []
    for cluster in clusters:
        phrases = [k for k in cluster if len(k.stems) > 1]
        name = (phrases[0] if phrases else cluster[0]).display
        topics.append(nlp.title_case(name))
    return nlp.unique(topics)[:limit]


def _entities(sentences: Sequence[_Sentence]) -> dict[str, list[str]]:
    """Capitalised runs classified with hints: known organisations, corporate suffixes and acronyms make
    an organisation; a gazetteer or a preposition cue ('in', 'from') makes a location; two- or three-word
    names, or one word after a person cue ('my friend Priya'), make a person."""
    found: dict[str, list[str]] = {"persons": [], "organizations": [], "locations": []}
    for sentence in sentences:
        text = sentence.text
        for match in _CAPITALISED_RUN.finditer(text):
            words = [w.rstrip(".").removesuffix("'s").removesuffix("’s") for w in match.group(0).split()]
            at_start = not text[: match.start()].strip(" \"'“‘(")
            words = [w for w in words if w]
            # A sentence-initial common word ('Today', 'When') is capitalised only by position.
            if words and at_start and words[0].lower() in nlp.STOP_WORDS | nlp.NON_ENTITY_CAPITALS:
                words.pop(0)
                at_start = False
            while words and words[0].lower() in nlp.NON_ENTITY_CAPITALS:
                words.pop(0)
            while words and words[-1].lower() in nlp.NON_ENTITY_CAPITALS:
                words.pop()
            if not words:
                continue
            name = " ".join(words)
            lower = name.lower()
            lowered = [w.lower() for w in words]
            before = nlp.tokens(text[: match.start()])[-2:]
            known_org = any(w in nlp.KNOWN_ORGS for w in lowered) or lowered[-1] in nlp.ORG_SUFFIXES
            acronym = len(words) == 1 and words[0].isupper() and len(words[0]) >= 2
            if acronym and lowered[0] in _NOT_ORG_ACRONYMS:
                continue
            if known_org or acronym:
                found["organizations"].append(name)
            elif lower in nlp.KNOWN_LOCATIONS or all(w in nlp.KNOWN_LOCATIONS for w in lowered):
                found["locations"].append(name)
            elif at_start and len(words) == 1:
                continue
            elif before and before[-1] in _LOCATION_CUES and len(words) <= 2 and before[-1] != "to":
                found["locations"].append(name)
            elif 2 <= len(words) <= 3 or (before and before[-1] in nlp.PERSON_CUES):
                found["persons"].append(name)
    return {kind: nlp.unique(names) for kind, names in found.items()}


def sentence_sentiment(tokens: Sequence[str]) -> float:
    """Lexicon sentiment of one sentence in -1..1.

    Each polar word counts +-1, multiplied by a preceding intensifier ('very' 1.5, 'slightly' 0.6) and
    by -0.74 when a negation ('not', "don't", 'never') occurs in the three tokens before it; the sum s is
    normalised as s / sqrt(s^2 + 15) (the VADER normalisation).
    """
    total = 0.0
    for i, token in enumerate(tokens):
        value = nlp.POSITIVE_WORDS.get(token) or nlp.NEGATIVE_WORDS.get(token)
        if not value:
            continue
        if i > 0 and tokens[i - 1] in nlp.INTENSIFIERS:
            value *= nlp.INTENSIFIERS[tokens[i - 1]]
        if any(t in nlp.NEGATIONS for t in tokens[max(0, i - 3) : i]):
            value *= -0.74
        total += value
    return total / math.sqrt(total * total + 15)


def _document_sentiment(sentences: Sequence[_Sentence]) -> int:
    """sentiment_score = 100 x S / sqrt(S^2 + n/2), S = sum of sentence sentiments, n = sentence count."""
    if not sentences:
        return 0
    total = sum(sentence_sentiment(s.tokens) for s in sentences)
    return _clamp(100 * total / math.sqrt(total * total + len(sentences) / 2), -100, 100)


def _emotions(sentences: Sequence[_Sentence]) -> dict[str, float]:
    """Per emotion: r = un-negated lexicon hits per 100 content words; level = r / (r + 2), in 0..1."""
    hits: Counter[str] = Counter()
    content_words = 0
    for sentence in sentences:
        toks = sentence.tokens
        for i, token in enumerate(toks):
            if nlp.is_content_word(token):
                content_words += 1
            if any(t in nlp.NEGATIONS for t in toks[max(0, i - 2) : i]):
                continue
            for emotion, words in nlp.EMOTION_WORDS.items():
                if token in words:
                    hits[emotion] += 1
    result: dict[str, float] = {}
    for emotion in EMOTIONS:
        rate = 100 * hits[emotion] / max(content_words, 1)
        result[emotion] = round(rate / (rate + 2), 3)
    return result


def score_hook(text: str, keyword_stems: frozenset[str] = frozenset()) -> int:
    """How well a sentence works as an opening hook, 0..100.

    10 base; +20 question; +15 a number ('5', 'three', 'lakh', '%'); +12 speaks to 'you'; +10 a strong
    claim ('never', 'only', 'biggest'); +12 contrast or curiosity ('but', 'actually', 'secret',
    'mistake'); + up to 20 for keyword density (share of content words that are top keywords x 40);
    brevity +12 for 6-20 words, +5 for 21-30, -10 under 5 or over 35; -8 per leading filler ('so', 'um').
    """
    toks = nlp.tokens(text)
    if not toks:
        return 0
    score = 10.0
    if text.rstrip().endswith("?"):
        score += 20
    if any(t[0].isdigit() or t in nlp.NUMBER_WORDS for t in toks):
        score += 15
    if any(t in nlp.SECOND_PERSON for t in toks):
        score += 12
    if any(t in nlp.STRONG_CLAIM_WORDS for t in toks):
        score += 10
    if any(t in nlp.CONTRAST_WORDS for t in toks):
        score += 12
    content = [nlp.stem(t) for t in toks if nlp.is_content_word(t)]
    if content and keyword_stems:
        score += min(20.0, 40 * sum(1 for t in content if t in keyword_stems) / len(content))
    words = len(toks)
    if 6 <= words <= 20:
        score += 12
    elif 21 <= words <= 30:
        score += 5
    elif words < 5 or words > 35:
        score -= 10
    leading = 0
    for token in toks[:3]:
        if token not in nlp.FILLER_WORDS:
            break
        leading += 1
    score -= 8 * leading
    return _clamp(score)


def _self_contained(text: str) -> bool:
    toks = nlp.tokens(nlp.clean_spoken(text))
    return bool(toks) and toks[0] not in _DANGLING_STARTS


def _insights(sentences: Sequence[_Sentence], keyword_stems: frozenset[str], limit: int = 5) -> list[str]:
    """Advice-like sentences: 30 for an advice marker ('should', 'the key', 'if you', 'mistake') + 40 x
    keyword density + 0.3 x hook score, minus 25 when the sentence leans on the previous one ('This ...');
    7-40 words; the best `limit` are returned in talk order, lightly cleaned of fillers."""
    scored: list[tuple[float, int, str]] = []
    for s in sentences:
        if not 7 <= s.words <= 40:
            continue
        text = nlp.repair_sentence(_REPORTED_SPEECH.sub("", s.text))
        if text is None:
            continue  # the talk's frame, or a fragment that cannot be repaired
        density = len(s.stems & keyword_stems) / max(1, len(s.stems))
        score = 30 * bool(_ADVICE.search(s.text)) + 40 * density + 0.3 * score_hook(s.text, keyword_stems)
        if not _self_contained(text):
            score -= 25
        scored.append((score, s.index, text))
    # Greedy, so the points spread over the talk: a candidate loses 20 x its content-word overlap (Jaccard)
    # with the closest point already chosen, and a near-duplicate is never chosen.
    best: list[tuple[float, int, str]] = []
    pool = sorted(scored, key=lambda item: (-item[0], item[1]))
    while pool and len(best) < limit:
        pool = [item for item in pool if not any(_near_duplicate(item[2], other[2]) for other in best)]
        if not pool:
            break
        pick = max(
            pool, key=lambda item: (item[0] - 20 * max((_overlap(item[2], o[2]) for o in best), default=0.0), -item[1])
        )
        best.append(pick)
        pool.remove(pick)
    return nlp.unique(text for _, _, text in sorted(best, key=lambda item: item[1]))


def _overlap(a: str, b: str) -> float:
    sa = {nlp.stem(t) for t in nlp.tokens(a) if nlp.is_content_word(t)}
    sb = {nlp.stem(t) for t in nlp.tokens(b) if nlp.is_content_word(t)}
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def _near_duplicate(a: str, b: str) -> bool:
    """Two lines saying the same thing: content-word Jaccard overlap of at least 0.6."""
    return _overlap(a, b) >= 0.6


def _quotables(sentences: Sequence[_Sentence], keyword_stems: frozenset[str], limit: int = 5) -> list[QuotableMoment]:
    """Short, self-contained lines: 0.5 x hook score + 25 x |sentiment| + 15 for a universal word
    ('always', 'never', 'you', 'people') + 10 for 8-18 words; only 6-25-word sentences that do not start
    with a back-reference ('This', 'It', 'They')."""
    scored: list[tuple[int, _Sentence, str]] = []
    for s in sentences:
        text = nlp.repair_sentence(s.text)
        if text is None or not 6 <= s.words <= 25 or not _self_contained(text) or text.endswith("?"):
            continue
        score = 0.5 * score_hook(text, keyword_stems) + 25 * abs(sentence_sentiment(s.tokens))
        score += 15 * any(t in _UNIVERSAL for t in s.tokens) + 10 * (8 <= s.words <= 18)
        scored.append((_clamp(score), s, text))
    best = sorted(scored, key=lambda item: (-item[0], item[1].index))[:limit]
    return [QuotableMoment(timestamp=s.start, text=text, score=score) for score, s, text in best]


def _language(transcript: str, tokens: Sequence[str]) -> str:
    """'hi' for Devanagari text, 'hi-Latn' when >= 8% of words are common Hindi words, else 'en'."""
    if re.search(r"[\u0900-\u097f]", transcript):
        return "hi"
    if tokens and sum(1 for t in tokens if t in nlp.HINDI_MARKERS) / len(tokens) >= 0.08:
        return "hi-Latn"
    return "en"


def analyse_offline(
    transcript: str, sentences: Sequence[SentenceInput] | None = None, *, language: str | None = None
) -> ContentAnalysisResult:
    """Analyse a transcript with deterministic lexicon NLP.

    Feature scores (all 0..100): H = mean of the top-3 hook scores, E = 100 x min(1, sum of emotion
    levels), S = |sentiment_score|, Q = mean quotable score, W = words in the transcript.
    - virality_score = 0.40 H + 0.20 E + 0.20 Q + 0.20 S
    - repurposing_value = 35 min(1, W/600) + 25 min(1, insights/5) + 20 min(1, quotables/5)
      + 20 min(1, topics/4)
    - seo_score = 30 min(1, phrases/3) + 30 density fit (top keyword at 0.5-3 per 100 words scores 1)
      + 25 min(1, W/800) + 15 min(1, topics/4)
    - engagement_potential = 0.35 H + 0.20 min(100, 500 x question share) + 0.15 min(100, 2000 x 'you'
      share of tokens) + 0.15 S + 0.15 E
    - platform scores: linkedin = 0.35 repurposing + 0.25 min(100, 25 x insights) + 0.20 min(100, 200 x
      trust) + 0.20 H; twitter = 0.45 H + 0.30 Q + 0.25 share of sentences of <= 25 words;
      instagram = 0.35 E + 0.30 Q + 0.20 S + 0.15 'you' score; youtube = 0.45 H + 0.25 E + 0.30 engagement;
      blog = 0.40 min(100, W/8) + 0.35 seo + 0.25 min(100, 25 x topics).
    """
    timed = _timed_sentences(transcript, sentences)
    content = [s for s in timed if not nlp.is_frame(s.text)]
    text_for_terms = [s.text for s in content]
    keywords = [
        k
        for k in extract_keywords(text_for_terms, limit=16)
        if not (len(k.stems) == 1 and nlp.generic_word(k.display))
        and not any(w in nlp.HINGLISH_FUNCTION_WORDS for w in nlp.tokens(k.display))
    ][:12]
    keyword_stems = frozenset(stem for k in keywords[:8] for stem in k.stems)
    topics = [nlp.title_case(t) for t in key_phrases([s.text for s in timed])] or _topics(keywords)

    printable = [(s, text) for s in content if (text := nlp.repair_sentence(s.text))]
    hooks = sorted(
        ((score_hook(text, keyword_stems), s, text) for s, text in printable if _self_contained(text)),
        key=lambda item: (-item[0], item[1].index),
    )[:5]
    hook_moments = [HookMoment(timestamp=s.start, end=s.end, text=text, score=score) for score, s, text in hooks]
    insights = _insights(content, keyword_stems)
    quotables = _quotables(content, keyword_stems)
    sentiment = _document_sentiment(timed)
    emotions = _emotions(timed)

    all_tokens = [t for s in timed for t in s.tokens]
    words = len(all_tokens)
    hook_strength = sum(score for score, _, _ in hooks[:3]) / max(1, min(3, len(hooks)))
    emotion_level = 100 * min(1.0, sum(emotions.values()))
    magnitude = abs(sentiment)
    quote_strength = sum(q.score for q in quotables) / max(1, len(quotables))
    questions = sum(1 for s in timed if s.text.rstrip().endswith("?")) / max(1, len(timed))
    you_share = sum(1 for t in all_tokens if t in nlp.SECOND_PERSON) / max(1, words)
    you_score = min(100.0, 2000 * you_share)
    phrases = sum(1 for k in keywords if len(k.stems) > 1)
    top_density = 100 * keywords[0].count / max(1, words) if keywords else 0.0
    if top_density < 0.5:
        density_fit = top_density / 0.5
    elif top_density <= 3:
        density_fit = 1.0
    else:
        density_fit = max(0.0, 1 - (top_density - 3) / 3)

    virality = 0.40 * hook_strength + 0.20 * emotion_level + 0.20 * quote_strength + 0.20 * magnitude
    repurposing = (
        35 * min(1.0, words / 600)
        + 25 * min(1.0, len(insights) / 5)
        + 20 * min(1.0, len(quotables) / 5)
        + 20 * min(1.0, len(topics) / 4)
    )
    seo = 30 * min(1.0, phrases / 3) + 30 * density_fit + 25 * min(1.0, words / 800) + 15 * min(1.0, len(topics) / 4)
    engagement = (
        0.35 * hook_strength
        + 0.20 * min(100.0, 500 * questions)
        + 0.15 * you_score
        + 0.15 * magnitude
        + 0.15 * emotion_level
    )
    short_share = 100 * sum(1 for s in timed if s.words <= 25) / max(1, len(timed))
    platform = PlatformScores(
        linkedin=_clamp(
            0.35 * repurposing
            + 0.25 * min(100, 25 * len(insights))
            + 0.20 * min(100.0, 200 * emotions["trust"])
            + 0.20 * hook_strength
        ),
        twitter=_clamp(0.45 * hook_strength + 0.30 * quote_strength + 0.25 * short_share),
        instagram=_clamp(0.35 * emotion_level + 0.30 * quote_strength + 0.20 * magnitude + 0.15 * you_score),
        youtube=_clamp(0.45 * hook_strength + 0.25 * emotion_level + 0.30 * engagement),
        blog=_clamp(0.40 * min(100.0, words / 8) + 0.35 * seo + 0.25 * min(100, 25 * len(topics))),
    )
    found = _entities(timed)
    return ContentAnalysisResult(
        topics=topics,
        keywords=[k.display for k in keywords],
        entities=Entities(**found),
        sentiment_score=sentiment,
        emotions=emotions,
        hook_moments=hook_moments,
        key_insights=insights,
        quotable_moments=quotables,
        virality_score=_clamp(virality),
        repurposing_value=_clamp(repurposing),
        seo_score=_clamp(seo),
        engagement_potential=_clamp(engagement),
        platform_scores=platform,
        language=language or _language(transcript, all_tokens),
        model=OFFLINE_MODEL,
    )


# --------------------------------------------------------------------------------------------------
# OpenAI analysis
# --------------------------------------------------------------------------------------------------

ANALYSIS_SYSTEM_PROMPT = """You analyse talk transcripts for a content-repurposing tool for Indian creators.
Return only JSON matching the schema. Rules:
- topics: 3-5 short noun phrases; keywords: 8-12 terms or two-word phrases that occur in the transcript.
- entities: people, organisations and places named in the transcript (empty lists when none).
- sentiment_score: -100 (very negative) .. 100 (very positive).
- emotions: joy, surprise, fear, anger, sadness, trust, each 0..1.
- hook_moments: up to 5 sentences that would open a short video or post well, with their start and end
  seconds taken from the timed segments, and a 0..100 score.
- key_insights: up to 5 self-contained, actionable lessons, in the speaker's words, lightly cleaned.
- quotable_moments: up to 5 short, self-contained lines with their start second and a 0..100 score.
- virality_score, repurposing_value, seo_score, engagement_potential and platform_scores: 0..100.
- language: a BCP-47 code ('en', 'hi', 'hi-Latn' for Hinglish); model: the model name you are."""


def _analysis_user_message(transcript: str, timed: Sequence[_Sentence]) -> str:
    lines = [f"[{s.start:.1f}-{s.end:.1f}] {s.text}" for s in timed]
    return "Transcript:\n" + transcript.strip() + "\n\nTimed segments (seconds):\n" + "\n".join(lines)


async def analyse_with_openai(
    client: openai.AsyncOpenAI,
    model: str,
    transcript: str,
    sentences: Sequence[SentenceInput] | None = None,
) -> ContentAnalysisResult:
    """Analyse with an OpenAI chat model in a strict JSON schema; raises AnalysisError on bad output."""
    timed = _timed_sentences(transcript, sentences)
    raw = await complete_json(
        client,
        model=model,
        system=ANALYSIS_SYSTEM_PROMPT,
        user=_analysis_user_message(transcript, timed),
        schema_name="content_analysis",
        schema_model=ContentAnalysisResult,
        error=AnalysisError,
    )
    try:
        return ContentAnalysisResult.model_validate_json(raw)
    except ValidationError as exc:
        raise AnalysisError(f"OpenAI returned an invalid content analysis: {exc}") from exc


class OfflineAnalyser:
    """Analyser that runs the deterministic lexicon pipeline in-process."""

    async def analyse(self, transcript: str, sentences: Sequence[SentenceInput] | None = None) -> ContentAnalysisResult:
        return analyse_offline(transcript, sentences)


class OpenAIAnalyser:
    """Analyser backed by an OpenAI-compatible chat completions endpoint."""

    def __init__(self, client: openai.AsyncOpenAI, model: str) -> None:
        self._client = client
        self._model = model

    async def analyse(self, transcript: str, sentences: Sequence[SentenceInput] | None = None) -> ContentAnalysisResult:
        return await analyse_with_openai(self._client, self._model, transcript, sentences)
