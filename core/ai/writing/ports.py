"""The writing port: output formats and their platform limits, the brand voice, a draft request and the
draft a `Writer` returns."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, Field

from core.ai.analysis.results import ContentAnalysisResult
from core.ai.tones import TonePreset

OutputFormat = Literal["linkedin_post", "twitter_thread", "instagram_caption", "youtube_shorts", "blog_article"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = (
    "linkedin_post",
    "twitter_thread",
    "instagram_caption",
    "youtube_shorts",
    "blog_article",
)

LINKEDIN_MAX_CHARS = 3000
TWEET_MAX_CHARS = 280
INSTAGRAM_MAX_CHARS = 2200
INSTAGRAM_MAX_HASHTAGS = 30
SHORTS_TITLE_MAX_CHARS = 100
SHORTS_MIN_SECONDS = 30
SHORTS_MAX_SECONDS = 60
META_DESCRIPTION_MAX_CHARS = 160

# Length norms used by the quality score: (unit, low, high).
LENGTH_NORMS: dict[OutputFormat, tuple[Literal["chars", "words"], int, int]] = {
    "linkedin_post": ("chars", 500, 2200),
    "twitter_thread": ("chars", 500, 2400),
    "instagram_caption": ("chars", 300, 2000),
    "youtube_shorts": ("words", 75, 150),
    "blog_article": ("words", 600, 2500),
}
PLATFORM_RULES: dict[OutputFormat, str] = {
    "linkedin_post": (
        "LinkedIn post: at most 3000 characters; a hook line, 3-5 insight bullets, a takeaway, the CTA and "
        "3-5 hashtags at the end; short paragraphs separated by blank lines."
    ),
    "twitter_thread": (
        "X thread: put each tweet in `tweets`, numbered 'n/N', each at most 280 characters including the "
        "number; hook tweet first, closing CTA tweet last; at most 2 hashtags."
    ),
    "instagram_caption": (
        "Instagram caption: at most 2200 characters; the first line must hook within 125 characters; short "
        "lines; up to 30 hashtags, all at the end."
    ),
    "youtube_shorts": (
        "YouTube Shorts: `title` at most 100 characters; `caption` is the description; `script_beats` is a "
        "30-60 second spoken script (75-150 words) as beats: hook, setup, points, payoff, CTA."
    ),
    "blog_article": (
        "Blog article in Markdown: one H1 title, an intro, H2 sections per topic built from the transcript, "
        "key takeaways, a conclusion; 600+ words when the transcript allows; `caption` is a meta description "
        "of at most 160 characters."
    ),
}

Score = Annotated[int, Field(ge=0, le=100)]


class BrandVoice(BaseModel):
    """The brand a draft is written for."""

    name: str
    industry: str = ""
    target_audience: str = ""
    tone_preset: TonePreset = "professional"
    custom_guidelines: str = ""
    style_examples: list[str] = Field(default_factory=list)


class DraftRequest(BaseModel):
    output_format: OutputFormat
    transcript: str
    analysis: ContentAnalysisResult
    brand: BrandVoice
    hashtags: list[str] = Field(default_factory=list)
    cta: str | None = None
    feedback: str | None = None
    variant: int = Field(default=0, ge=0)
    unclear_words: list[str] = Field(default_factory=list)
    """Words the transcriber was unsure of (`core.ai.transcription.unclear_words`): the score flags sentences
    that hold one."""


class Draft(BaseModel):
    """A platform-ready draft.

    `caption` is the short companion text: the hook line (LinkedIn), the first tweet (X), the full caption
    (Instagram), the description (Shorts) or the meta description (blog). `hashtags` each carry one '#'.
    """

    title: str
    content_text: str
    caption: str
    hashtags: list[str]
    cta: str | None
    word_count: int
    quality_score: Score
    metadata: dict[str, Any] = Field(default_factory=dict)


class Writer(Protocol):
    """Port: writes one draft for one platform."""

    async def write(self, request: DraftRequest) -> Draft: ...
