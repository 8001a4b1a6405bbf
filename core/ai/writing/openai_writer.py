"""The OpenAI writer: a chat model asked for a strict-JSON draft; word count and quality are computed
locally and platform limits enforced."""

from __future__ import annotations

import json
from typing import Any

import openai
from pydantic import BaseModel, ValidationError

from core.ai import nlp
from core.ai.errors import WriterError
from core.ai.structured import complete_json
from core.ai.tones import tone
from core.ai.writing.feedback import parse_revision_feedback
from core.ai.writing.hashtags import normalize_hashtags
from core.ai.writing.ports import (
    INSTAGRAM_MAX_CHARS,
    INSTAGRAM_MAX_HASHTAGS,
    LINKEDIN_MAX_CHARS,
    PLATFORM_RULES,
    SHORTS_TITLE_MAX_CHARS,
    TWEET_MAX_CHARS,
    Draft,
    DraftRequest,
    OutputFormat,
)
from core.ai.writing.quality import quality_report
from core.ai.writing.style import style_profile


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
    preset_name = parse_revision_feedback(request.feedback).tone or brand.tone_preset
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
        report = quality_report(
            request.output_format, text, request.analysis, request.transcript, request.unclear_words
        )
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
