"""What content analysis returns (`ContentAnalysisResult` and its parts) and the `Analyser` port."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

EMOTIONS: tuple[str, ...] = ("joy", "surprise", "fear", "anger", "sadness", "trust")

Score = Annotated[int, Field(ge=0, le=100)]

# A free-form dict cannot be expressed in OpenAI's strict schemas, so the wire schema names the six emotions.
Emotions = Annotated[
    dict[str, float],
    WithJsonSchema(
        {
            "type": "object",
            "properties": {name: {"type": "number", "minimum": 0, "maximum": 1} for name in EMOTIONS},
            "required": list(EMOTIONS),
            "additionalProperties": False,
        }
    ),
]


class TimedSentence(BaseModel):
    """One transcript segment with its start and end in seconds."""

    model_config = ConfigDict(frozen=True)

    text: str
    start: float = Field(ge=0)
    end: float = Field(ge=0)


SentenceInput = TimedSentence | tuple[str, float, float]


class Entities(BaseModel):
    persons: list[str]
    organizations: list[str]
    locations: list[str]


class HookMoment(BaseModel):
    timestamp: float
    end: float
    text: str
    score: Score


class QuotableMoment(BaseModel):
    timestamp: float
    text: str
    score: Score


class PlatformScores(BaseModel):
    linkedin: Score
    twitter: Score
    instagram: Score
    youtube: Score
    blog: Score


class ContentAnalysisResult(BaseModel):
    """What the repurposing pipeline knows about one piece of content."""

    topics: list[str]
    keywords: list[str]
    entities: Entities
    sentiment_score: Annotated[int, Field(ge=-100, le=100)]
    emotions: Emotions
    hook_moments: list[HookMoment]
    key_insights: list[str]
    quotable_moments: list[QuotableMoment]
    virality_score: Score
    repurposing_value: Score
    seo_score: Score
    engagement_potential: Score
    platform_scores: PlatformScores
    language: str
    model: str

    @field_validator("emotions")
    @classmethod
    def _emotions_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for name, level in value.items():
            if not 0.0 <= level <= 1.0:
                raise ValueError(f"emotion {name!r} must be within 0..1, got {level}")
        return value


class Analyser(Protocol):
    """Port: turns a transcript (and optional timed segments) into a ContentAnalysisResult."""

    async def analyse(
        self, transcript: str, sentences: Sequence[SentenceInput] | None = None, *, heard_language: str | None = None
    ) -> ContentAnalysisResult:
        """``heard_language``: the ISO 639-1 code the transcriber heard the talk in, when it was spoken."""
        ...
