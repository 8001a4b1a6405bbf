"""The platforms Recast publishes to, and what each accepts (checked before a post is scheduled)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Platform(StrEnum):
    LINKEDIN = "linkedin"
    X = "x"
    INSTAGRAM = "instagram"
    YOUTUBE = "youtube"
    TIKTOK = "tiktok"
    FACEBOOK = "facebook"


@dataclass(frozen=True)
class PlatformRules:
    label: str
    max_text: int
    max_hashtags: int | None = None
    # Which draft formats (`core.repurposing.formats`) this platform can carry.
    formats: tuple[str, ...] = ()


RULES: dict[Platform, PlatformRules] = {
    # LinkedIn: commentary up to 3,000 characters.
    Platform.LINKEDIN: PlatformRules("LinkedIn", 3000, None, ("linkedin_post",)),
    # X: 280 characters per post (weighted; URLs count 23).
    Platform.X: PlatformRules("X", 280, None, ("twitter_thread",)),
    # Instagram: caption up to 2,200 characters and 30 hashtags.
    Platform.INSTAGRAM: PlatformRules("Instagram", 2200, 30, ("instagram_caption", "short_video")),
    Platform.YOUTUBE: PlatformRules("YouTube", 5000, 15, ("short_video",)),
    Platform.TIKTOK: PlatformRules("TikTok", 2200, None, ("short_video",)),
    Platform.FACEBOOK: PlatformRules("Facebook", 63206, None, ("linkedin_post", "blog_article")),
}


def label(platform: str) -> str:
    try:
        return RULES[Platform(platform)].label
    except ValueError:
        return platform.title()
