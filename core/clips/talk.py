"""A talk as clip material: its words grouped into whole sentences, each scored (hook, keywords, sentiment),
and the cut points around a run of words."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.ai import lexicon, nlp
from core.ai.analysis.results import ContentAnalysisResult
from core.ai.analysis.signals import score_hook, sentence_sentiment
from core.ai.analysis.terms import extract_keywords
from core.ai.transcription import Word
from core.clips.envelope import SpeechEnvelope, snap_to_silence
from core.clips.errors import NoSpeechForClips

SENTENCE_PAUSE_SECONDS = 1.2
"""A pause this long ends a sentence even without punctuation (transcripts of unpunctuated speech)."""

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_CLAUSE_END = re.compile(r"[,;:\u2014\u2013][\"'”’)\]]*$")
# A clip cannot open on a back-reference, nor on a conjunction continuing the sentence before.
_CLIP_DANGLING_STARTS = lexicon.DANGLING_STARTS | lexicon.words("and but so because or")


@dataclass(frozen=True, slots=True)
class TalkSentence:
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
class Talk:
    words: Sequence[Word]
    sentences: list[TalkSentence]
    media_duration: float | None
    pad: float
    keyword_stems: frozenset[str] = field(default_factory=frozenset)
    envelope: SpeechEnvelope | None = None


def ends_sentence(word: Word) -> bool:
    return bool(_SENTENCE_END.search(word.text.strip()))


def build_talk(
    words: Sequence[Word],
    analysis: ContentAnalysisResult | None,
    *,
    media_duration: float | None,
    pad: float,
    max_seconds: float | None,
    envelope: SpeechEnvelope | None = None,
) -> Talk:
    if not any(w.text.strip() for w in words):
        raise NoSpeechForClips()
    spans = _sentence_spans(words)
    if max_seconds is not None:
        spans = [piece for span in spans for piece in _split_long(words, span, max_seconds)]
    texts = [join_words(words[a : b + 1]) for a, b in spans]
    if analysis is not None and analysis.keywords:
        keyword_texts = analysis.keywords
    else:
        keyword_texts = [k.display for k in extract_keywords(texts)]
    stems = frozenset(
        nlp.stem(t) for keyword in keyword_texts[:8] for t in nlp.tokens(keyword) if nlp.is_content_word(t)
    )
    hooks = analysis.hook_moments if analysis is not None else []
    sentences: list[TalkSentence] = []
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
            TalkSentence(
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
    return Talk(
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


def cut_points(talk: Talk, first: int, last: int) -> tuple[float, float]:
    """Pad around the words, but never past the middle of the silence to a neighbouring word, so
    adjacent clips cannot overlap and no neighbouring word is heard half."""
    words, pad = talk.words, talk.pad
    start = words[first].start - pad
    if first > 0:
        start = max(start, (words[first - 1].end + words[first].start) / 2)
    end = words[last].end + pad
    if last + 1 < len(words):
        end = min(end, (words[last].end + words[last + 1].start) / 2)
    if talk.envelope is not None:
        start, end = snap_to_silence(talk.envelope, words, first, last, start, end, pad)
    if talk.media_duration is not None:
        end = min(end, talk.media_duration)
    return round(max(0.0, start), 3), round(end, 3)


def join_words(words: Sequence[Word]) -> str:
    return " ".join(w.text.strip() for w in words if w.text.strip())
