"""The OpenAI writer: a chat model asked for a strict-JSON draft; word count and quality are computed
locally and platform limits enforced.

What the model writes is screened before it reaches the chat, with the checks the offline writer's own output
passes (`nlp.repair_sentence`, `nlp.is_frame`, the platform limits): fillers and dangling ',.' / 'and.' endings
are repaired, a greeting, thanks or sign-off and a sentence that is still a fragment are dropped, everyday-word
hashtags ('#work') are dropped, a thread tweet over 280 characters is split at sentences and the thread
renumbered, and a post over its limit loses whole paragraphs from the end rather than end mid-sentence."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    if request.unclear_words:
        # The transcriber's doubts: the offline writer leaves such sentences out, and the model is told to.
        lines.append(
            "The transcription may have misheard these words and phrases; do not quote a sentence holding one, "
            "and do not build a point on it: " + "; ".join(f'"{w}"' for w in request.unclear_words[:40])
        )
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


_TWEET_NUMBER = re.compile(r"^\s*\(?\d+\s*/\s*\d+\)?\s*")
_BULLET = re.compile(r"^(\s*(?:[•✅→👉🔥▪️\-*]+|\d+[.)])\s+)")
_TRAILING_SYMBOLS = re.compile(r"(\s*[^\w\s.!?,;:'\"’”)\]]+)+$")


@dataclass
class Screening:
    """What screening changed in the model's output (kept in the draft's metadata as `screened`)."""

    repaired: int = 0
    dropped: list[str] = field(default_factory=list)
    split_tweets: int = 0
    dropped_hashtags: list[str] = field(default_factory=list)
    repeats: int = 0
    printed: list[str] = field(default_factory=list)
    """The sentences kept so far: a later one saying the same (`nlp.same_point`) is dropped."""

    def fresh(self) -> Screening:
        """Start a new field (caption, text, beats, tweets): repeats are looked for within one field."""
        self.printed = []
        return self

    def as_metadata(self) -> dict[str, Any]:
        return {
            "repaired": self.repaired,
            "dropped": self.dropped[:10],
            "split_tweets": self.split_tweets,
            "dropped_hashtags": self.dropped_hashtags,
            "repeats": self.repeats,
        }


def _screen_sentence(sentence: str, screening: Screening) -> str | None:  # noqa: PLR0911 - one return per outcome
    """A sentence fit for print: repaired, or None for the talk's frame and for a fragment. Emojis at the end
    are kept; a short line ('Here's how 👇') is not a fragment."""
    text = sentence.strip()
    tail_match = _TRAILING_SYMBOLS.search(text)
    tail = tail_match.group(0) if tail_match else ""
    core = text[: len(text) - len(tail)].strip() if tail else text
    if not core:
        return text or None
    if nlp.is_frame(core):
        screening.dropped.append(text)
        return None
    repaired = nlp.repair_sentence(core)
    if repaired is None:
        if nlp.fragment_reason(core) == "too short" and not re.search(r"[,;:]\s*$", core):
            return text  # a short line, not a broken one
        screening.dropped.append(text)
        return None
    if any(nlp.same_point(repaired, earlier) for earlier in screening.printed):
        screening.repeats += 1
        return None
    screening.printed.append(repaired)
    if repaired == core or (core[-1:] not in ".!?" and repaired[:-1] == core):
        return text  # unchanged (a missing full stop after a line of a post is not a defect)
    screening.repaired += 1
    return repaired + tail


def _screen_line(line: str, screening: Screening) -> str | None:
    """One line of a draft: headings, labels and hashtag lines kept; its sentences screened. None when nothing
    of it is left."""
    stripped = line.strip()
    heading = re.match(r"^#{1,6}\s+(.+)$", stripped)
    if heading and nlp.is_frame(heading.group(1)):
        screening.dropped.append(stripped)
        return None
    if heading:  # fillers out of a heading too ('## So, um, pricing' -> '## Pricing')
        marks = stripped[: heading.start(1)]
        words = nlp.clean_spoken(heading.group(1)).rstrip(".")
        if not words:
            return None
        return line.rstrip() if words.lower() == heading.group(1).rstrip(".").lower() else marks + words
    if not stripped or all(w.startswith("#") for w in stripped.split()):
        return line.rstrip()
    bullet = _BULLET.match(line)
    prefix = bullet.group(1) if bullet else ""
    body = line[len(prefix) :].strip()
    if body.endswith(":") and nlp.word_count(body) <= 6:
        return line.rstrip()  # a list label
    kept = [s for s in (_screen_sentence(x, screening) for x in nlp.split_sentences(body)) if s]
    return prefix + " ".join(kept) if kept else None


_HEADING = re.compile(r"^#{2,6}\s+\S")


def screen_text(text: str, screening: Screening) -> str:
    """Every line screened; a paragraph left empty goes with its blank line, and a section heading left with
    nothing under it goes too."""
    out: list[str] = []
    for line in text.splitlines():
        screened = _screen_line(line, screening)
        if screened is not None:
            out.append(screened)
    lines = [line for line in out if line.strip()]
    kept = [
        line
        for i, line in enumerate(lines)
        if not _HEADING.match(line.strip()) or (i + 1 < len(lines) and not _HEADING.match(lines[i + 1].strip()))
    ]
    paragraphs: list[str] = []
    for line in out:
        if not line.strip():
            paragraphs.append("")
        elif line in kept:
            kept.remove(line)
            paragraphs.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(paragraphs)).strip()


def _fit_paragraphs(text: str, limit: int) -> str:
    """Whole paragraphs dropped from the end (the hashtag line kept) until the text fits `limit`."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    tags = [p for p in paragraphs if all(w.startswith("#") for w in p.split())]
    body = [p for p in paragraphs if p not in tags]
    while len(body) > 1 and len("\n\n".join(body + tags)) > limit:
        body.pop()
    fitted = "\n\n".join(body + tags)
    return fitted if len(fitted) <= limit else nlp.shorten(fitted, limit)


def fit_tweets(tweets: Sequence[str], limit: int = TWEET_MAX_CHARS) -> tuple[list[str], int]:
    """Numbered tweets ('1/5 ...') none over `limit`: one too long is split at sentences (a single sentence too
    long is shortened at a word). Returns the tweets and how many were split."""
    bodies: list[str] = []
    split = 0
    room = limit - len("99/99 ")
    for tweet in tweets:
        body = _TWEET_NUMBER.sub("", tweet).strip()
        if not body:
            continue
        if len(body) <= room:
            bodies.append(body)
            continue
        split += 1
        chunk = ""
        for whole in nlp.split_sentences(body):
            sentence = nlp.shorten(whole, room)
            if chunk and len(chunk) + 1 + len(sentence) > room:
                bodies.append(chunk)
                chunk = sentence
            else:
                chunk = f"{chunk} {sentence}".strip()
        if chunk:
            bodies.append(chunk)
    total = len(bodies)
    return [f"{i}/{total} {b}" for i, b in enumerate(bodies, start=1)], split


def screen_hashtags(tags: Sequence[str], screening: Screening, library: Sequence[str] = ()) -> list[str]:
    """Normalised tags without the everyday-word ones ('#work', '#Thank'): they name no subject. A tag from
    the brand's own library stays whatever it is."""
    kept: list[str] = []
    brand = {t.lower() for t in normalize_hashtags(library)}
    for tag in normalize_hashtags(tags):
        body = tag[1:]
        if tag.lower() in brand or tag == "#Shorts":
            kept.append(tag)
        elif not re.search(r"[a-z][A-Z]|\d", body) and nlp.generic_word(body):
            screening.dropped_hashtags.append(tag)
        else:
            kept.append(tag)
    return kept


def _drop_generic_tags_in_text(text: str, dropped: Sequence[str]) -> str:
    for tag in dropped:
        text = re.sub(rf"(?<!\w){re.escape(tag)}(?!\w)\s?", "", text)
    return text.strip()


def _enforce_limits(
    output_format: OutputFormat, answer: _ModelDraft, request: DraftRequest, screening: Screening
) -> tuple[str, str, str, list[str], list[str], list[str]]:
    """The model's output screened (sentences, frame, hashtags) and fitted to the platform's hard limits:
    (title, text, caption, hashtags, tweets, script beats)."""
    tags = screen_hashtags(answer.hashtags, screening, request.hashtags)
    title = answer.title.strip()
    if not title or nlp.is_frame(title):
        topic = request.analysis.topics[0] if request.analysis.topics else ""
        if title:
            screening.dropped.append(title)
        title = nlp.title_case(topic) if topic else ""
    caption = screen_text(answer.caption, screening.fresh())
    text = screen_text(answer.content_text, screening.fresh())
    text = _drop_generic_tags_in_text(text, screening.dropped_hashtags)
    screening.fresh()
    beats = [b for b in (screen_text(x, screening) for x in answer.script_beats) if b]
    tweets: list[str] = []
    if answer.tweets:
        screening.fresh()
        screened = [screen_text(_TWEET_NUMBER.sub("", t), screening) for t in answer.tweets]
        screened = [_drop_generic_tags_in_text(t, screening.dropped_hashtags) for t in screened]
        tweets, screening.split_tweets = fit_tweets([t for t in screened if _TWEET_NUMBER.sub("", t).strip()])
    if output_format == "twitter_thread" and tweets:
        text = "\n\n".join(tweets)
        caption = tweets[0]
    elif output_format == "linkedin_post":
        text = _fit_paragraphs(text, LINKEDIN_MAX_CHARS)
    elif output_format == "instagram_caption":
        tags = tags[:INSTAGRAM_MAX_HASHTAGS]
        text = _fit_paragraphs(text, INSTAGRAM_MAX_CHARS)
    elif output_format == "youtube_shorts":
        title = nlp.shorten(title, SHORTS_TITLE_MAX_CHARS)
    return title, text, caption, tags, tweets, beats


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
        screening = Screening()
        title, text, caption, tags, tweets, beats = _enforce_limits(request.output_format, answer, request, screening)
        metadata: dict[str, Any] = {"writer": "openai", "model": self._model, "variant": request.variant}
        metadata["screened"] = screening.as_metadata()
        if tweets:
            metadata["tweets"] = tweets
        if beats:
            # Spoken at the offline writer's pace, so the 30-60 s window can be checked like its scripts.
            cursor, timed = 0.0, []
            for i, beat in enumerate(beats):
                seconds = max(2.0, nlp.word_count(beat) / nlp.WORDS_PER_SECOND)
                timed.append({"label": f"Beat {i + 1}", "start": round(cursor, 1), "end": round(cursor + seconds, 1)})
                timed[-1]["text"] = beat
                cursor += seconds
            metadata["beats"] = timed
            metadata["duration_seconds"] = round(cursor, 1)
            if request.output_format == "youtube_shorts" and not text.strip():
                text = "\n\n".join(beats)
        report = quality_report(
            request.output_format, text, request.analysis, request.transcript, request.unclear_words
        )
        metadata["quality_checks"] = report.checks
        metadata["quality_reasons"] = report.reasons
        return Draft(
            title=title,
            content_text=text,
            caption=caption,
            hashtags=tags,
            cta=answer.cta,
            word_count=nlp.word_count(text),
            quality_score=report.score,
            metadata=metadata,
        )
