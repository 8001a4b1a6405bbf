"""The brand's measurable writing habits, read from its own posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.ai import nlp


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
