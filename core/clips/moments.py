"""Choosing the moments of a talk worth posting as short clips, from word timings and the analysis.

A moment is a run of whole sentences: it starts on a sentence that works as a hook and ends where a
sentence ends, and its cut points sit in the silence around words, so no word is ever cut.
"""

from __future__ import annotations

import os
import re
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from core.ai import lexicon, nlp
from core.ai.analysis.results import ContentAnalysisResult
from core.ai.analysis.signals import score_hook, sentence_sentiment
from core.ai.analysis.terms import extract_keywords
from core.ai.transcription import Word
from core.clips.errors import ClipError, NoSpeechForClips

DEFAULT_COUNT = 6
DEFAULT_MIN_SECONDS = 15.0
DEFAULT_MAX_SECONDS = 60.0
PAD_SECONDS = 0.2
SENTENCE_PAUSE_SECONDS = 1.2
"""A pause this long ends a sentence even without punctuation (transcripts of unpunctuated speech)."""
IDEAL_PACE_WPS = 3.0
WEIGHTS = {"hook": 0.40, "keywords": 0.25, "sentiment": 0.20, "pace": 0.15}

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_CLAUSE_END = re.compile(r"[,;:\u2014\u2013][\"'”’)\]]*$")
# A clip cannot open on a back-reference, nor on a conjunction continuing the sentence before.
_CLIP_DANGLING_STARTS = lexicon.DANGLING_STARTS | lexicon.words("and but so because or")


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
    """hook, keywords, sentiment, pace: each 0..1."""
    first_word: int = 0
    """Index of the first word in the talk's word list (for re-cutting on feedback)."""
    last_word: int = 0
    hook_start: bool = True
    """Whether it opens on a hook sentence (a strong, self-contained opener)."""

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
        }


@dataclass(frozen=True, slots=True)
class SpeechEnvelope:
    """Loudness of the speech track in 10 ms frames, to put cuts where it is really quiet: word
    timings from a transcriber can be a few hundred milliseconds off."""

    rms: npt.NDArray[np.float64]
    frame_s: float = 0.01

    @property
    def quiet(self) -> float:
        """Below this a frame counts as silence: 3% of the loud (95th percentile) speech level."""
        return 0.03 * float(np.percentile(self.rms, 95)) if self.rms.size else 0.0


def load_envelope(wav_path: str | os.PathLike[str]) -> SpeechEnvelope:
    """The envelope of a 16-bit PCM WAV (e.g. ``core.media.audio.extract_audio``'s output)."""
    with wave.open(os.fspath(wav_path), "rb") as wav:
        rate, channels = wav.getframerate(), wav.getnchannels()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    mono = samples.reshape(-1, channels).mean(axis=1) if channels > 1 else samples.astype(np.float64)
    hop = max(1, rate // 100)
    frames = len(mono) // hop
    blocks = mono[: frames * hop].astype(np.float64).reshape(frames, hop)
    return SpeechEnvelope(rms=np.sqrt((blocks**2).mean(axis=1)), frame_s=hop / rate)


@dataclass(frozen=True, slots=True)
class _Sentence:
    first: int
    last: int
    start: float
    end: float
    text: str
    hook: float
    """0..100."""
    dangling: bool
    sentiment: float
    """|sentence sentiment|, 0..1."""
    content_words: int
    keyword_hits: int


@dataclass(slots=True)
class _Context:
    words: Sequence[Word]
    sentences: list[_Sentence]
    media_duration: float | None
    pad: float
    keyword_stems: frozenset[str] = field(default_factory=frozenset)
    envelope: SpeechEnvelope | None = None


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
) -> list[ClipMoment]:
    """The best ``count`` non-overlapping moments, best first (fewer when the talk is short).

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
    ctx = _context(words, analysis, media_duration=media_duration, pad=pad, max_seconds=max_seconds, envelope=envelope)
    sentences = ctx.sentences
    spoken = words[-1].end - words[0].start
    if spoken < min_seconds:
        return [_moment(ctx, 0, len(sentences) - 1)]

    hook_bar = max(20.0, _median([s.hook for s in sentences if not s.dangling] or [0.0]))
    candidates: list[ClipMoment] = []
    for i, opener in enumerate(sentences):
        for j in range(i, len(sentences)):
            duration = sentences[j].end - opener.start
            if duration > max_seconds:
                break
            if duration >= min_seconds:
                moment = _moment(ctx, i, j)
                hook_start = not opener.dangling and opener.hook >= hook_bar
                candidates.append(_with_hook_flag(moment, hook_start))
    if not candidates:
        # Sentences too long to combine within the limits: single sentences are the only clean cuts.
        candidates = [_with_hook_flag(_moment(ctx, i, i), not s.dangling) for i, s in enumerate(sentences)]

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
) -> tuple[float, dict[str, float]]:
    """Score of a clip, 0..100, and its components (each 0..1).

    score = 100 x (0.40 H + 0.25 K + 0.20 S + 0.15 P), where
    - H, hook strength = hook score of the opening sentence / 100 (``core.ai.analysis.signals.score_hook``, or the
      analysis' hook moment covering that sentence when higher);
    - K, keyword density = min(1, 4 x share of the clip's content words that are top analysis keywords);
    - S, sentiment intensity = min(1, 2 x mean |sentence sentiment|) (lexicon sentiment, -1..1 each);
    - P, pace = max(0, 1 - |words per second - 3.0| / 2.0): brisk speech holds attention, a gabble does not.
    """
    h = max(0.0, min(1.0, hook / 100))
    k = min(1.0, 4 * keyword_hits / content_words) if content_words else 0.0
    s = min(1.0, 2 * sum(sentiments) / len(sentiments)) if sentiments else 0.0
    pace = words / seconds if seconds > 0 else 0.0
    p = max(0.0, 1 - abs(pace - IDEAL_PACE_WPS) / 2.0)
    components = {"hook": round(h, 4), "keywords": round(k, 4), "sentiment": round(s, 4), "pace": round(p, 4)}
    total = 100 * sum(WEIGHTS[name] * value for name, value in components.items())
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
) -> ClipMoment:
    """The moment spanning words ``first``..``last`` (inclusive), scored like ``choose_moments`` does."""
    if not words:
        raise NoSpeechForClips()
    if not 0 <= first <= last < len(words):
        raise ClipError("That would leave nothing of the clip.", detail=f"words {first}..{last}")
    ctx = _context(words, analysis, media_duration=media_duration, pad=pad, max_seconds=None, envelope=envelope)
    return _moment_for_range(ctx, first, last)


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
    """Re-cut ``moment``: move its start/end by seconds, or scale its length, always to word boundaries.

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
    return moment_for_words(words, first, last, analysis, media_duration=media_duration, pad=pad, envelope=envelope)


# ----------------------------------------------------------------------------------------- internals


def ends_sentence(word: Word) -> bool:
    return bool(_SENTENCE_END.search(word.text.strip()))


def _context(
    words: Sequence[Word],
    analysis: ContentAnalysisResult | None,
    *,
    media_duration: float | None,
    pad: float,
    max_seconds: float | None,
    envelope: SpeechEnvelope | None = None,
) -> _Context:
    if not any(w.text.strip() for w in words):
        raise NoSpeechForClips()
    spans = _sentence_spans(words)
    if max_seconds is not None:
        spans = [piece for span in spans for piece in _split_long(words, span, max_seconds)]
    texts = [_join(words[a : b + 1]) for a, b in spans]
    if analysis is not None and analysis.keywords:
        keyword_texts = analysis.keywords
    else:
        keyword_texts = [k.display for k in extract_keywords(texts)]
    stems = frozenset(
        nlp.stem(t) for keyword in keyword_texts[:8] for t in nlp.tokens(keyword) if nlp.is_content_word(t)
    )
    hooks = analysis.hook_moments if analysis is not None else []
    sentences: list[_Sentence] = []
    for (a, b), text in zip(spans, texts, strict=True):
        start, end = words[a].start, words[b].end
        hook = float(score_hook(text, stems))
        for moment in hooks:
            length = max(moment.end - moment.timestamp, 0.01)
            inside = min(end, moment.end) - max(start, moment.timestamp)
            if inside / length >= 0.5:
                hook = max(hook, float(moment.score))
        tokens = nlp.tokens(text)
        content = [nlp.stem(t) for t in tokens if nlp.is_content_word(t)]
        sentences.append(
            _Sentence(
                first=a,
                last=b,
                start=start,
                end=end,
                text=text,
                hook=hook,
                dangling=not tokens or tokens[0] in _CLIP_DANGLING_STARTS,
                sentiment=abs(sentence_sentiment(tokens)),
                content_words=len(content),
                keyword_hits=sum(1 for t in content if t in stems),
            )
        )
    return _Context(
        words=words, sentences=sentences, media_duration=media_duration, pad=pad, keyword_stems=stems, envelope=envelope
    )


def _sentence_spans(words: Sequence[Word]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    first = 0
    for i, word in enumerate(words):
        last_word = i == len(words) - 1
        pause = not last_word and words[i + 1].start - word.end >= SENTENCE_PAUSE_SECONDS
        if last_word or ends_sentence(word) or pause:
            spans.append((first, i))
            first = i + 1
    return spans


def _split_long(words: Sequence[Word], span: tuple[int, int], max_seconds: float) -> list[tuple[int, int]]:
    """Split a sentence longer than ``max_seconds`` at its best inner break (a clause mark or a pause)."""
    a, b = span
    if words[b].end - words[a].start <= max_seconds or a == b:
        return [span]
    total = words[b].end - words[a].start
    best, best_value = a, -1.0
    for i in range(a, b):
        before = words[i].end - words[a].start
        if not 0.25 * total <= before <= 0.75 * total:
            continue
        value = (words[i + 1].start - words[i].end) + (0.5 if _CLAUSE_END.search(words[i].text) else 0.0)
        if value > best_value:
            best, best_value = i, value
    if best_value < 0:
        best = (a + b) // 2
    return _split_long(words, (a, best), max_seconds) + _split_long(words, (best + 1, b), max_seconds)


def _moment(ctx: _Context, i: int, j: int) -> ClipMoment:
    return _moment_for_range(ctx, ctx.sentences[i].first, ctx.sentences[j].last)


def _moment_for_range(ctx: _Context, first: int, last: int) -> ClipMoment:
    words = ctx.words
    inside = [s for s in ctx.sentences if s.last >= first and s.first <= last]
    opener = next((s for s in inside if s.first == first), None)
    if opener is not None:
        hook = opener.hook
    else:  # a cut inside a sentence (after feedback): judge the words it opens with
        hook = float(score_hook(_join(words[first : inside[0].last + 1]), ctx.keyword_stems))
    span_words = list(words[first : last + 1])
    start, end = _cut_points(ctx, first, last)
    score, components = score_span(
        hook=hook,
        keyword_hits=sum(s.keyword_hits for s in inside),
        content_words=sum(s.content_words for s in inside),
        sentiments=[s.sentiment for s in inside],
        words=len(span_words),
        seconds=span_words[-1].end - span_words[0].start,
    )
    return ClipMoment(
        start=start,
        end=end,
        text=_join(span_words),
        words=span_words,
        score=score,
        components=components,
        first_word=first,
        last_word=last,
        hook_start=opener is not None and not opener.dangling,
    )


def _cut_points(ctx: _Context, first: int, last: int) -> tuple[float, float]:
    """Pad around the words, but never past the middle of the silence to a neighbouring word, so
    adjacent clips cannot overlap and no neighbouring word is heard half."""
    words, pad = ctx.words, ctx.pad
    start = words[first].start - pad
    if first > 0:
        start = max(start, (words[first - 1].end + words[first].start) / 2)
    end = words[last].end + pad
    if last + 1 < len(words):
        end = min(end, (words[last].end + words[last + 1].start) / 2)
    if ctx.envelope is not None:
        start, end = _snap_to_silence(ctx, first, last, start, end)
    if ctx.media_duration is not None:
        end = min(end, ctx.media_duration)
    return round(max(0.0, start), 3), round(end, 3)


SNAP_SECONDS = 0.8
"""How far from the transcript's cut the audio is searched for silence (small models drift this much)."""


def _snap_to_silence(ctx: _Context, first: int, last: int, start: float, end: float) -> tuple[float, float]:
    """Move each cut into the longest real silence near it (sentence pauses are the longest): the start
    to just before the speech that opens the clip, the end to just after the speech that closes it,
    keeping up to ``pad`` of the silence. Without any silence nearby the quietest frame is used."""
    assert ctx.envelope is not None
    env, words = ctx.envelope, ctx.words
    rms, step, quiet = env.rms, env.frame_s, env.quiet
    if not rms.size:
        return start, end

    def longest_silence(lo: float, hi: float, nominal: float) -> tuple[int, int] | int | None:
        window = range(max(0, int(lo / step)), min(len(rms), int(hi / step) + 1))
        if not window:
            return None
        runs: list[tuple[int, int]] = []
        for i in window:
            if rms[i] <= quiet:
                if runs and runs[-1][1] == i - 1:
                    runs[-1] = (runs[-1][0], i)
                else:
                    runs.append((i, i))
        if not runs:
            return min(window, key=lambda i: rms[i])
        nominal_frame = nominal / step
        return max(runs, key=lambda r: (r[1] - r[0], -min(abs(r[0] - nominal_frame), abs(r[1] - nominal_frame))))

    first_word, last_word = words[first], words[last]
    lo = max(start - SNAP_SECONDS, words[first - 1].start if first else 0.0)
    found = longest_silence(lo, first_word.start + SNAP_SECONDS, start)
    if isinstance(found, tuple):
        start = max(found[0] * step, (found[1] + 1) * step - ctx.pad)
    elif found is not None:
        start = found * step
    following = words[last + 1] if last + 1 < len(words) else None
    hi = min(end + SNAP_SECONDS, following.end if following else end + SNAP_SECONDS)
    found = longest_silence(last_word.end - SNAP_SECONDS, hi, end)
    if isinstance(found, tuple):
        end = min((found[1] + 1) * step, found[0] * step + ctx.pad)
    elif found is not None:
        end = found * step
    return start, max(end, start + step)


def _with_hook_flag(moment: ClipMoment, hook_start: bool) -> ClipMoment:
    if moment.hook_start == hook_start:
        return moment
    return ClipMoment(
        start=moment.start,
        end=moment.end,
        text=moment.text,
        words=moment.words,
        score=moment.score,
        components=moment.components,
        first_word=moment.first_word,
        last_word=moment.last_word,
        hook_start=hook_start,
    )


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


def _join(words: Sequence[Word]) -> str:
    return " ".join(w.text.strip() for w in words if w.text.strip())


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
