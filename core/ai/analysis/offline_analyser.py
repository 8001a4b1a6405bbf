"""The offline analyser: deterministic lexicon NLP (the same input always yields the same result, with no
randomness, downloads or model weights)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.ai import lexicon, nlp, transliteration
from core.ai.analysis.results import (
    ContentAnalysisResult,
    Entities,
    HookMoment,
    PlatformScores,
    QuotableMoment,
    SentenceInput,
    TimedSentence,
)
from core.ai.analysis.sentences import Sentence, timed_sentences
from core.ai.analysis.signals import (
    clamp,
    document_sentiment,
    emotion_levels,
    find_entities,
    score_hook,
    sentence_sentiment,
)
from core.ai.analysis.terms import extract_keywords, key_phrases, topics_of

OFFLINE_MODEL = "recast-offline-lexicon-v2"

_ADVICE = re.compile(
    r"\b(should|need to|have to|must|the key|secret|what works|lesson|learn(?:ed|t)|rule|important|"
    r"matters|if you|stop|don't|do not|focus|remember|the trick|the truth|instead|the real)\b",
    re.IGNORECASE,
)
# An insight, hook or quote cannot open on a back-reference, nor on "Here ..." (pointing at a slide).
_LINE_DANGLING_STARTS = lexicon.DANGLING_STARTS | lexicon.words("here")
_REPORTED_SPEECH = re.compile(r"^(?:he|she|they|my \w+) (?:said|says|told me)(?: that)?,?\s+", re.IGNORECASE)
_UNIVERSAL = lexicon.words("always never every everyone nobody people you your most")


def _self_contained(text: str) -> bool:
    toks = nlp.tokens(nlp.clean_spoken(text))
    return bool(toks) and toks[0] not in _LINE_DANGLING_STARTS


def _insights(sentences: Sequence[Sentence], keyword_stems: frozenset[str], limit: int = 5) -> list[str]:
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
        pool = [item for item in pool if not any(nlp.same_point(item[2], other[2]) for other in best)]
        if not pool:
            break
        pick = max(
            pool,
            key=lambda item: (
                item[0] - 20 * max((nlp.content_overlap(item[2], o[2]) for o in best), default=0.0),
                -item[1],
            ),
        )
        best.append(pick)
        pool.remove(pick)
    return nlp.unique(text for _, _, text in sorted(best, key=lambda item: item[1]))


def _quotables(sentences: Sequence[Sentence], keyword_stems: frozenset[str], limit: int = 5) -> list[QuotableMoment]:
    """Short, self-contained lines: 0.5 x hook score + 25 x |sentiment| + 15 for a universal word
    ('always', 'never', 'you', 'people') + 10 for 8-18 words; only 6-25-word sentences that do not start
    with a back-reference ('This', 'It', 'They')."""
    scored: list[tuple[int, Sentence, str]] = []
    for s in sentences:
        text = nlp.repair_sentence(s.text)
        if text is None or not 6 <= s.words <= 25 or not _self_contained(text) or text.endswith("?"):
            continue
        score = 0.5 * score_hook(text, keyword_stems) + 25 * abs(sentence_sentiment(s.tokens))
        score += 15 * any(t in _UNIVERSAL for t in s.tokens) + 10 * (8 <= s.words <= 18)
        scored.append((clamp(score), s, text))
    best = sorted(scored, key=lambda item: (-item[0], item[1].index))[:limit]
    return [QuotableMoment(timestamp=s.start, text=text, score=score) for score, s, text in best]


def _language(transcript: str, tokens: Sequence[str]) -> str:
    """'hi' for Devanagari text, 'hi-Latn' when >= 8% of words are common Hindi words, else 'en'."""
    if re.search(r"[\u0900-\u097f]", transcript):
        return "hi"
    if tokens and sum(1 for t in tokens if t in lexicon.HINDI_MARKERS) / len(tokens) >= 0.08:
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
    if transliteration.has_devanagari(transcript):
        # Hindi and Hinglish are written in Latin script (Romanised Hindi, as most Indian creators post):
        # analyse (and quote) the talk the way the drafts will print it.
        transcript = transliteration.to_latin(transcript)
        sentences = [
            (transliteration.to_latin(t.text), t.start, t.end)
            for t in (
                s if isinstance(s, TimedSentence) else TimedSentence(text=s[0], start=s[1], end=s[2])
                for s in sentences or []
            )
        ] or None
        language = "hi-Latn"
    timed = timed_sentences(transcript, sentences)
    content = [s for s in timed if not nlp.is_frame(s.text)]
    text_for_terms = [s.text for s in content]
    keywords = [
        k
        for k in extract_keywords(text_for_terms, limit=16)
        if not (len(k.stems) == 1 and nlp.generic_word(k.display))
        and not any(w in lexicon.HINGLISH_FUNCTION_WORDS for w in nlp.tokens(k.display))
    ][:12]
    keyword_stems = frozenset(stem for k in keywords[:8] for stem in k.stems)
    topics = [nlp.title_case(t) for t in key_phrases([s.text for s in timed])] or topics_of(keywords)

    printable = [(s, text) for s in content if (text := nlp.repair_sentence(s.text))]
    hooks = sorted(
        ((score_hook(text, keyword_stems), s, text) for s, text in printable if _self_contained(text)),
        key=lambda item: (-item[0], item[1].index),
    )[:5]
    hook_moments = [HookMoment(timestamp=s.start, end=s.end, text=text, score=score) for score, s, text in hooks]
    insights = _insights(content, keyword_stems)
    quotables = _quotables(content, keyword_stems)
    sentiment = document_sentiment(timed)
    emotions = emotion_levels(timed)

    all_tokens = [t for s in timed for t in s.tokens]
    words = len(all_tokens)
    hook_strength = sum(score for score, _, _ in hooks[:3]) / max(1, min(3, len(hooks)))
    emotion_level = 100 * min(1.0, sum(emotions.values()))
    magnitude = abs(sentiment)
    quote_strength = sum(q.score for q in quotables) / max(1, len(quotables))
    questions = sum(1 for s in timed if s.text.rstrip().endswith("?")) / max(1, len(timed))
    you_share = sum(1 for t in all_tokens if t in lexicon.SECOND_PERSON) / max(1, words)
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
        linkedin=clamp(
            0.35 * repurposing
            + 0.25 * min(100, 25 * len(insights))
            + 0.20 * min(100.0, 200 * emotions["trust"])
            + 0.20 * hook_strength
        ),
        twitter=clamp(0.45 * hook_strength + 0.30 * quote_strength + 0.25 * short_share),
        instagram=clamp(0.35 * emotion_level + 0.30 * quote_strength + 0.20 * magnitude + 0.15 * you_score),
        youtube=clamp(0.45 * hook_strength + 0.25 * emotion_level + 0.30 * engagement),
        blog=clamp(0.40 * min(100.0, words / 8) + 0.35 * seo + 0.25 * min(100, 25 * len(topics))),
    )
    found = find_entities(timed)
    return ContentAnalysisResult(
        topics=topics,
        keywords=[k.display for k in keywords],
        entities=Entities(**found),
        sentiment_score=sentiment,
        emotions=emotions,
        hook_moments=hook_moments,
        key_insights=insights,
        quotable_moments=quotables,
        virality_score=clamp(virality),
        repurposing_value=clamp(repurposing),
        seo_score=clamp(seo),
        engagement_potential=clamp(engagement),
        platform_scores=platform,
        language=language or _language(transcript, all_tokens),
        model=OFFLINE_MODEL,
    )


class OfflineAnalyser:
    """Analyser that runs the deterministic lexicon pipeline in-process."""

    async def analyse(
        self, transcript: str, sentences: Sequence[SentenceInput] | None = None, *, heard_language: str | None = None
    ) -> ContentAnalysisResult:
        # Hindi heard and written in Latin script (Whisper base often romanises it) is Hinglish to the writer,
        # however few of its words the Hindi word list recognises.
        hinglish = heard_language == "hi" and not transliteration.has_devanagari(transcript)
        return analyse_offline(transcript, sentences, language="hi-Latn" if hinglish else None)
