"""The output formats Recast writes, the platform each targets and what each costs in AI credits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class OutputFormat:
    key: str
    platform: str
    content_type: str  # generated_content.content_type
    label: str
    credits: int


FORMATS: dict[str, OutputFormat] = {
    f.key: f
    for f in (
        OutputFormat("linkedin_post", "linkedin", "social_post", "LinkedIn post", 1),
        OutputFormat("twitter_thread", "twitter", "social_post", "X thread", 1),
        OutputFormat("instagram_caption", "instagram", "social_post", "Instagram caption", 1),
        OutputFormat("youtube_shorts", "youtube", "short_script", "YouTube Shorts", 1),
        OutputFormat("blog_article", "blog", "blog_article", "Blog article", 2),
        OutputFormat("short_video", "instagram", "short_video", "Short clip", 3),
    )
}
# The text format written for each platform (clips are planned separately, for video sources only).
PLATFORM_FORMAT = {f.platform: f.key for f in FORMATS.values() if f.content_type != "short_video"}
SHORTS_PLATFORMS = ["instagram", "youtube_shorts"]
_BRAND_PLATFORM_OF_SHORTS = {"instagram": "instagram", "youtube_shorts": "youtube"}


def clip_platforms(brand_platforms: Sequence[str] | None) -> list[str]:
    """Where clips are made for: the short-video platforms among the brand's chosen ones (all of them
    when the brand chose none). Empty when the brand wants neither Instagram nor YouTube."""
    if not brand_platforms:
        return list(SHORTS_PLATFORMS)
    return [p for p in SHORTS_PLATFORMS if _BRAND_PLATFORM_OF_SHORTS[p] in brand_platforms]


def job_type_for(source_content_type: str, output_format: str) -> str:
    """`video_to_social`, `audio_to_blog`, `text_to_social`, ... as in the seed's job_type examples."""
    if output_format == "short_video":
        return "video_to_shorts"
    source = {"video": "video", "audio": "podcast", "document": "blog"}.get(source_content_type, "content")
    target = {"blog_article": "blog", "youtube_shorts": "shorts_script"}.get(output_format, "social")
    return f"{source}_to_{target}"
