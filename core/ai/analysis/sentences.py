"""A transcript as timed sentences: segments a transcriber cut mid-sentence joined, time shared out by
word count."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.ai import nlp
from core.ai.analysis.results import (
    SentenceInput,
    TimedSentence,
)


@dataclass(frozen=True)
class Sentence:
    index: int
    text: str
    start: float
    end: float
    tokens: tuple[str, ...]
    stems: frozenset[str]  # stems of content words

    @property
    def words(self) -> int:
        return len(self.tokens)


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


def timed_sentences(transcript: str, segments: Sequence[SentenceInput] | None) -> list[Sentence]:
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
    result: list[Sentence] = []
    for text, start, end in pieces:
        toks = tuple(nlp.tokens(text))
        if not toks:
            continue
        stems = frozenset(nlp.stem(t) for t in toks if nlp.is_content_word(t))
        result.append(Sentence(len(result), text, round(start, 2), round(end, 2), toks, stems))
    return result
