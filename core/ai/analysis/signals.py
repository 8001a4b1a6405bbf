"""Lexicon signals of a talk's sentences: named entities, sentiment, emotions and hook strength."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from core.ai import lexicon, nlp
from core.ai.analysis.results import (
    EMOTIONS,
)
from core.ai.analysis.sentences import Sentence

_LOCATION_CUES = frozenset({"in", "from", "across", "near", "to"})
_CAPITALISED_RUN = re.compile(r"[A-Z][\w'’&.\-]*(?:\s+(?:of|and|&|de|for)\s+[A-Z][\w'’&.\-]*|\s+[A-Z][\w'’&.\-]*)*")
_NOT_ORG_ACRONYMS = lexicon.words("ai ceo cto b2b b2c ui ux seo roi pm ok dm dms cta kpi faq tv")


def clamp(value: float, low: int = 0, high: int = 100) -> int:
    return max(low, min(high, round(value)))


def find_entities(sentences: Sequence[Sentence]) -> dict[str, list[str]]:
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
            if words and at_start and words[0].lower() in lexicon.STOP_WORDS | lexicon.NON_ENTITY_CAPITALS:
                words.pop(0)
                at_start = False
            while words and words[0].lower() in lexicon.NON_ENTITY_CAPITALS:
                words.pop(0)
            while words and words[-1].lower() in lexicon.NON_ENTITY_CAPITALS:
                words.pop()
            if not words:
                continue
            name = " ".join(words)
            lower = name.lower()
            lowered = [w.lower() for w in words]
            before = nlp.tokens(text[: match.start()])[-2:]
            known_org = any(w in lexicon.KNOWN_ORGS for w in lowered) or lowered[-1] in lexicon.ORG_SUFFIXES
            acronym = len(words) == 1 and words[0].isupper() and len(words[0]) >= 2
            if acronym and lowered[0] in _NOT_ORG_ACRONYMS:
                continue
            if known_org or acronym:
                found["organizations"].append(name)
            elif lower in lexicon.KNOWN_LOCATIONS or all(w in lexicon.KNOWN_LOCATIONS for w in lowered):
                found["locations"].append(name)
            elif at_start and len(words) == 1:
                continue
            elif before and before[-1] in _LOCATION_CUES and len(words) <= 2 and before[-1] != "to":
                found["locations"].append(name)
            elif 2 <= len(words) <= 3 or (before and before[-1] in lexicon.PERSON_CUES):
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
        value = lexicon.POSITIVE_WORDS.get(token) or lexicon.NEGATIVE_WORDS.get(token)
        if not value:
            continue
        if i > 0 and tokens[i - 1] in lexicon.INTENSIFIERS:
            value *= lexicon.INTENSIFIERS[tokens[i - 1]]
        if any(t in lexicon.NEGATIONS for t in tokens[max(0, i - 3) : i]):
            value *= -0.74
        total += value
    return total / math.sqrt(total * total + 15)


def document_sentiment(sentences: Sequence[Sentence]) -> int:
    """sentiment_score = 100 x S / sqrt(S^2 + n/2), S = sum of sentence sentiments, n = sentence count."""
    if not sentences:
        return 0
    total = sum(sentence_sentiment(s.tokens) for s in sentences)
    return clamp(100 * total / math.sqrt(total * total + len(sentences) / 2), -100, 100)


def emotion_levels(sentences: Sequence[Sentence]) -> dict[str, float]:
    """Per emotion: r = un-negated lexicon hits per 100 content words; level = r / (r + 2), in 0..1."""
    hits: Counter[str] = Counter()
    content_words = 0
    for sentence in sentences:
        toks = sentence.tokens
        for i, token in enumerate(toks):
            if nlp.is_content_word(token):
                content_words += 1
            if any(t in lexicon.NEGATIONS for t in toks[max(0, i - 2) : i]):
                continue
            for emotion, words in lexicon.EMOTION_WORDS.items():
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
    if any(t[0].isdigit() or t in lexicon.NUMBER_WORDS for t in toks):
        score += 15
    if any(t in lexicon.SECOND_PERSON for t in toks):
        score += 12
    if any(t in lexicon.STRONG_CLAIM_WORDS for t in toks):
        score += 10
    if any(t in lexicon.CONTRAST_WORDS for t in toks):
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
        if token not in lexicon.FILLER_WORDS:
            break
        leading += 1
    score -= 8 * leading
    return clamp(score)
