"""Choosing the moments of a talk worth posting as short clips, from word timings and the analysis.

A moment is a run of whole sentences: it starts on a sentence that works as a hook and ends where a
sentence ends, and its cut points sit in the silence around words, so no word is ever cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from core.ai.analysis.results import ContentAnalysisResult
from core.ai.analysis.signals import score_hook
from core.ai.transcription import Word
from core.clips.envelope import SpeechEnvelope
from core.clips.errors import ClipError, NoSpeechForClips
from core.clips.talk import Talk, build_talk, cut_points, ends_sentence, join_words

DEFAULT_COUNT = 6
DEFAULT_MIN_SECONDS = 15.0
DEFAULT_MAX_SECONDS = 60.0
PAD_SECONDS = 0.2
IDEAL_PACE_WPS = 3.0
WEIGHTS = {"hook": 0.40, "keywords": 0.25, "sentiment": 0.20, "pace": 0.15, "question": 0.0}
"""Recast's prior weights of the features, summing to 1. Opening on a question earns nothing by default; a
creator's own results can give it weight (`core.analytics.learning.clip_learning`)."""
FEATURES = tuple(WEIGHTS)


@dataclass(frozen=True, slots=True)
class ClipMoment:
    """One clip: ``start``/``end`` are cut points in seconds of the source, ``words`` what is said."""

    start: float
    end: float
    text: str
    words: list[Word]
    score: float
    """0..100, see ``score_span``."""
    components: dict[str, float]
    """hook, keywords, sentiment, pace, question: each 0..1."""
    first_word: int = 0
    """Index of the first word in the talk's word list (for re-cutting on feedback)."""
    last_word: int = 0
    hook_start: bool = True
    """Whether it opens on a hook sentence (a strong, self-contained opener)."""
    weights: dict[str, float] | None = None
    """The feature weights it was scored with (None: Recast's `WEIGHTS`)."""

    @property
    def duration(self) -> float:
        return round(self.end - self.start, 3)

    def to_metadata(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "duration": self.duration,
            "score": self.score,
            "components": dict(self.components),
            "first_word": self.first_word,
            "last_word": self.last_word,
            "hook_start": self.hook_start,
            "text": self.text,
            "weights": dict(self.weights or WEIGHTS),
        }

    @property
    def points(self) -> dict[str, float]:
        """Each feature's points in ``score`` (100 x weight x value); they add up to the score."""
        weights = self.weights or WEIGHTS
        return {name: round(100 * weights.get(name, 0.0) * value, 2) for name, value in self.components.items()}

    @property
    def question_seconds(self) -> float | None:
        """Seconds from the clip's first word to the end of its opening question; None when it opens otherwise."""
        for word in self.words:
            if ends_sentence(word):
                return round(word.end - self.words[0].start, 2) if _is_question(word) else None
        return None


def choose_moments(
    words: Sequence[Word],
    analysis: ContentAnalysisResult | None = None,
    *,
    count: int = DEFAULT_COUNT,
    min_seconds: float = DEFAULT_MIN_SECONDS,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    media_duration: float | None = None,
    pad: float = PAD_SECONDS,
    envelope: SpeechEnvelope | None = None,
    weights: dict[str, float] | None = None,
) -> list[ClipMoment]:
    """The best ``count`` non-overlapping moments, best first (fewer when the talk is short), scored with
    ``weights`` (Recast's ``WEIGHTS`` when None; a creator's learned ones from ``clip_learning``).

    Candidates are runs of whole sentences lasting ``min_seconds``..``max_seconds``. Runs that open on a
    hook sentence (a self-contained sentence whose hook score is at least the talk's median and 20) are
    taken first, best score first, skipping any that overlap one already taken; only when too few of
    those fit are runs opening on other sentences used. A talk shorter than ``min_seconds`` gives one
    clip of all of it. Raises NoSpeechForClips when there are no words.
    """
    if count < 1:
        raise ClipError("Ask for at least one clip.", detail=f"count={count}")
    if min_seconds <= 0 or max_seconds < min_seconds:
        raise ClipError("The clip length settings are invalid.", detail=f"min={min_seconds} max={max_seconds}")
    talk = build_talk(
        words, analysis, media_duration=media_duration, pad=pad, max_seconds=max_seconds, envelope=envelope
    )
    sentences = talk.sentences
    spoken = words[-1].end - words[0].start
    if spoken < min_seconds:
        return [_moment(talk, 0, len(sentences) - 1, weights)]

    chosen = _non_overlapping(_candidates(talk, min_seconds, max_seconds, weights), count)
    chosen.sort(key=lambda m: (-m.score, m.start))
    return chosen


def score_span(
    *,
    hook: float,
    keyword_hits: int,
    content_words: int,
    sentiments: Sequence[float],
    words: int,
    seconds: float,
    question: bool = False,
    weights: dict[str, float] | None = None,
) -> tuple[float, dict[str, float]]:
    """Score of a clip, 0..100, and its components (each 0..1).

    score = 100 x (0.40 H + 0.25 K + 0.20 S + 0.15 P + 0 Q) with Recast's ``WEIGHTS`` (or ``weights``), where
    - H, hook strength = hook score of the opening sentence / 100 (``core.ai.analysis.signals.score_hook``, or the
      analysis' hook moment covering that sentence when higher);
    - K, keyword density = min(1, 4 x share of the clip's content words that are top analysis keywords);
    - S, sentiment intensity = min(1, 2 x mean |sentence sentiment|) (lexicon sentiment, -1..1 each);
    - P, pace = max(0, 1 - |words per second - 3.0| / 2.0): brisk speech holds attention, a gabble does not;
    - Q, question = 1 when the clip opens with a question, else 0.
    """
    h = max(0.0, min(1.0, hook / 100))
    k = min(1.0, 4 * keyword_hits / content_words) if content_words else 0.0
    s = min(1.0, 2 * sum(sentiments) / len(sentiments)) if sentiments else 0.0
    pace = words / seconds if seconds > 0 else 0.0
    p = max(0.0, 1 - abs(pace - IDEAL_PACE_WPS) / 2.0)
    components = {
        "hook": round(h, 4),
        "keywords": round(k, 4),
        "sentiment": round(s, 4),
        "pace": round(p, 4),
        "question": 1.0 if question else 0.0,
    }
    chosen = weights or WEIGHTS
    total = 100 * sum(chosen.get(name, 0.0) * value for name, value in components.items())
    return round(total, 2), components


def moment_for_words(
    words: Sequence[Word],
    first: int,
    last: int,
    analysis: ContentAnalysisResult | None = None,
    *,
    media_duration: float | None = None,
    pad: float = PAD_SECONDS,
    envelope: SpeechEnvelope | None = None,
    weights: dict[str, float] | None = None,
) -> ClipMoment:
    """The moment spanning words ``first``..``last`` (inclusive), scored like ``choose_moments`` does."""
    if not words:
        raise NoSpeechForClips()
    if not 0 <= first <= last < len(words):
        raise ClipError("That would leave nothing of the clip.", detail=f"words {first}..{last}")
    talk = build_talk(words, analysis, media_duration=media_duration, pad=pad, max_seconds=None, envelope=envelope)
    return _moment_for_range(talk, first, last, weights)


def adjust_moment(
    words: Sequence[Word],
    moment: ClipMoment,
    *,
    start_shift: float = 0.0,
    end_shift: float = 0.0,
    scale: float | None = None,
    analysis: ContentAnalysisResult | None = None,
    media_duration: float | None = None,
    min_seconds: float = 1.0,
    pad: float = PAD_SECONDS,
    envelope: SpeechEnvelope | None = None,
) -> ClipMoment:
    """Re-cut ``moment`` (scored with its own weights): move its start/end by seconds, or scale its length,
    always to word boundaries.

    A shift moves the cut to the word whose start (or end) is nearest the shifted time, and at least one
    word in the asked direction. Scaling keeps the start and ends on the sentence end (or, failing that,
    the word end) nearest the scaled length, strictly shorter or longer than before.
    """
    if not words:
        raise NoSpeechForClips()
    first = min(max(moment.first_word, 0), len(words) - 1)
    last = min(max(moment.last_word, first), len(words) - 1)
    if start_shift:
        first = _shift_index(words, first, start_shift, use_end=False)
    if end_shift:
        last = _shift_index(words, last, end_shift, use_end=True)
    if scale is not None and scale > 0 and scale != 1:
        last = _scaled_last(words, first, last, scale)
    if last < first or words[last].end - words[first].start < min_seconds:
        raise ClipError(
            "That change would leave almost nothing of the clip. Try a smaller change.",
            detail=f"words {first}..{last}",
        )
    return moment_for_words(
        words,
        first,
        last,
        analysis,
        media_duration=media_duration,
        pad=pad,
        envelope=envelope,
        weights=moment.weights,
    )


# ----------------------------------------------------------------------------------------- internals


def _candidates(
    talk: Talk, min_seconds: float, max_seconds: float, weights: dict[str, float] | None = None
) -> list[ClipMoment]:
    """Every run of whole sentences lasting ``min_seconds``..``max_seconds``, flagged when it opens on a hook
    sentence; single sentences when no run fits."""
    sentences = talk.sentences
    hook_bar = max(20.0, _median([s.hook for s in sentences if not s.dangling] or [0.0]))
    candidates: list[ClipMoment] = []
    for i, opener in enumerate(sentences):
        for j in range(i, len(sentences)):
            duration = sentences[j].end - opener.start
            if duration > max_seconds:
                break
            if duration >= min_seconds:
                moment = _moment(talk, i, j, weights)
                hook_start = not opener.dangling and opener.hook >= hook_bar
                candidates.append(_with_hook_flag(moment, hook_start))
    if not candidates:
        # Sentences too long to combine within the limits: single sentences are the only clean cuts.
        candidates = [_with_hook_flag(_moment(talk, i, i, weights), not s.dangling) for i, s in enumerate(sentences)]
    return candidates


def _non_overlapping(candidates: list[ClipMoment], count: int) -> list[ClipMoment]:
    """Up to ``count`` candidates, hook openers first and best first, none overlapping another; in talk order,
    two cut in one short silence meeting in its middle."""
    candidates.sort(key=lambda m: (not m.hook_start, -m.score, m.start))
    chosen: list[ClipMoment] = []
    for moment in candidates:
        if len(chosen) == count:
            break
        if all(moment.last_word < c.first_word or moment.first_word > c.last_word for c in chosen):
            chosen.append(moment)
    chosen.sort(key=lambda m: m.start)
    # Two clips cut in one short silence could each reach past the other's cut: meet in the middle.
    for i in range(len(chosen) - 1):
        a, b = chosen[i], chosen[i + 1]
        if a.end > b.start:
            middle = round((a.end + b.start) / 2, 3)
            chosen[i], chosen[i + 1] = replace(a, end=middle), replace(b, start=middle)
    return chosen


def _moment(talk: Talk, i: int, j: int, weights: dict[str, float] | None = None) -> ClipMoment:
    return _moment_for_range(talk, talk.sentences[i].first, talk.sentences[j].last, weights)


def _moment_for_range(talk: Talk, first: int, last: int, weights: dict[str, float] | None = None) -> ClipMoment:
    words = talk.words
    inside = [s for s in talk.sentences if s.last >= first and s.first <= last]
    opener = next((s for s in inside if s.first == first), None)
    if opener is not None:
        hook = opener.hook
    else:  # a cut inside a sentence (after feedback): judge the words it opens with
        hook = float(score_hook(join_words(words[first : inside[0].last + 1]), talk.keyword_stems))
    span_words = list(words[first : last + 1])
    start, end = cut_points(talk, first, last)
    score, components = score_span(
        hook=hook,
        keyword_hits=sum(s.keyword_hits for s in inside),
        content_words=sum(s.content_words for s in inside),
        sentiments=[s.sentiment for s in inside],
        words=len(span_words),
        seconds=span_words[-1].end - span_words[0].start,
        question=_opens_with_question(span_words),
        weights=weights,
    )
    return ClipMoment(
        start=start,
        end=end,
        text=join_words(span_words),
        words=span_words,
        score=score,
        components=components,
        first_word=first,
        last_word=last,
        hook_start=opener is not None and not opener.dangling,
        weights=dict(weights) if weights else None,
    )


def _opens_with_question(words: Sequence[Word]) -> bool:
    """Whether the first sentence of ``words`` is a question."""
    for word in words:
        if ends_sentence(word):
            return _is_question(word)
    return False


def _is_question(word: Word) -> bool:
    return word.text.strip().rstrip("\"')”’»").endswith("?")


def opens_with_question(text: str) -> bool:
    """The same test on a clip's text (clips stored before the question feature was scored)."""
    ends = [ch for ch in text if ch in ".!?"]
    return bool(ends) and ends[0] == "?"


def _with_hook_flag(moment: ClipMoment, hook_start: bool) -> ClipMoment:
    if moment.hook_start == hook_start:
        return moment
    return replace(moment, hook_start=hook_start)


def _shift_index(words: Sequence[Word], index: int, shift: float, *, use_end: bool) -> int:
    def at(i: int) -> float:
        return words[i].end if use_end else words[i].start

    target = at(index) + shift
    best = min(range(len(words)), key=lambda i: (abs(at(i) - target), i))
    if best == index:
        best = index + (1 if shift > 0 else -1)
    return min(max(best, 0), len(words) - 1)


def _scaled_last(words: Sequence[Word], first: int, last: int, scale: float) -> int:
    current = words[last].end - words[first].start
    target = words[first].start + current * scale
    options = range(first, last) if scale < 1 else range(last + 1, len(words))
    if not options:
        return last
    sentence_ends = [i for i in options if ends_sentence(words[i])]
    pool = sentence_ends or list(options)
    return min(pool, key=lambda i: (abs(words[i].end - target), i))


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
