"""The OpenAI analyser: a chat model answering in the strict JSON schema of `ContentAnalysisResult`.

Its hooks, key insights and quotes are screened like the offline analyser's before any writer sees them: the
talk's frame (a greeting, thanks, a sign-off, 'let's talk about') is dropped, and each line is repaired with
`nlp.repair_sentence` (fillers, ',.' endings, a dangling 'and') or dropped when it is still a fragment."""

from __future__ import annotations

from collections.abc import Sequence

import openai
from pydantic import ValidationError

from core.ai import nlp
from core.ai.analysis.results import (
    ContentAnalysisResult,
    SentenceInput,
)
from core.ai.analysis.sentences import Sentence, timed_sentences
from core.ai.errors import AnalysisError
from core.ai.structured import complete_json

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


def _analysis_user_message(transcript: str, timed: Sequence[Sentence]) -> str:
    lines = [f"[{s.start:.1f}-{s.end:.1f}] {s.text}" for s in timed]
    return "Transcript:\n" + transcript.strip() + "\n\nTimed segments (seconds):\n" + "\n".join(lines)


async def analyse_with_openai(
    client: openai.AsyncOpenAI,
    model: str,
    transcript: str,
    sentences: Sequence[SentenceInput] | None = None,
) -> ContentAnalysisResult:
    """Analyse with an OpenAI chat model in a strict JSON schema; raises AnalysisError on bad output."""
    timed = timed_sentences(transcript, sentences)
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
        result = ContentAnalysisResult.model_validate_json(raw)
    except ValidationError as exc:
        raise AnalysisError(f"OpenAI returned an invalid content analysis: {exc}") from exc
    return screen_analysis(result)


def screen_analysis(result: ContentAnalysisResult) -> ContentAnalysisResult:
    """Hooks, insights and quotes as printable sentences: the frame and fragments dropped, the rest repaired."""
    hooks = [h.model_copy(update={"text": t}) for h in result.hook_moments if (t := nlp.repair_sentence(h.text))]
    quotes = [q.model_copy(update={"text": t}) for q in result.quotable_moments if (t := nlp.repair_sentence(q.text))]
    insights = nlp.unique(t for i in result.key_insights if (t := nlp.repair_sentence(i)))
    topics = [t for t in result.topics if t.strip() and not nlp.is_frame(t)]
    return result.model_copy(
        update={"hook_moments": hooks, "quotable_moments": quotes, "key_insights": insights, "topics": topics}
    )


class OpenAIAnalyser:
    """Analyser backed by an OpenAI-compatible chat completions endpoint."""

    def __init__(self, client: openai.AsyncOpenAI, model: str) -> None:
        self._client = client
        self._model = model

    async def analyse(
        self, transcript: str, sentences: Sequence[SentenceInput] | None = None, *, heard_language: str | None = None
    ) -> ContentAnalysisResult:
        return await analyse_with_openai(self._client, self._model, transcript, sentences)  # the model reads it
