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
class MediaRules:
    """What a platform's API accepts as a post's video or image (its published upload limits)."""

    kinds: tuple[str, ...] = ("image", "video")
    min_video_s: float = 0.0
    max_video_s: float | None = None
    max_video_bytes: int | None = None
    max_image_bytes: int | None = None
    # Width / height, inclusive; None: any shape.
    min_aspect: float | None = None
    max_aspect: float | None = None
    video_codecs: tuple[str, ...] = ("h264",)
    containers: tuple[str, ...] = ("mp4", "mov")
    required: bool = False  # a post there is a video or an image, never text alone


@dataclass(frozen=True)
class PlatformRules:
    label: str
    max_text: int
    max_hashtags: int | None = None
    # Which draft formats (`core.repurposing.formats`) this platform can carry.
    formats: tuple[str, ...] = ()
    media: MediaRules = MediaRules()
    max_parts: int = 1  # posts in one thread
    max_title: int | None = None
    # Posts an account may publish through the API in any 24 hours (None: no documented cap; the platform's
    # answer is still honoured at publish time).
    daily_posts: int | None = None


MB = 1024 * 1024

RULES: dict[Platform, PlatformRules] = {
    # LinkedIn: commentary up to 3,000 characters; videos 3 s to 30 min and up to 500 MB (MP4); images
    # up to 36,152,320 pixels (JPG, PNG, GIF).
    Platform.LINKEDIN: PlatformRules(
        "LinkedIn",
        3000,
        None,
        ("linkedin_post", "short_video"),
        MediaRules(min_video_s=3, max_video_s=1800, max_video_bytes=500 * MB, max_image_bytes=36 * MB),
        daily_posts=150,  # member posts a day
    ),
    # X: 280 characters per post (weighted; URLs count 23); videos up to 140 s and 512 MB, images 5 MB.
    Platform.X: PlatformRules(
        "X",
        280,
        None,
        ("twitter_thread", "short_video"),
        MediaRules(min_video_s=0.5, max_video_s=140, max_video_bytes=512 * MB, max_image_bytes=5 * MB),
        max_parts=25,
    ),
    # Instagram: caption up to 2,200 characters and 30 hashtags; Reels 3 s to 15 min, up to 300 MB, aspect
    # 0.01:1 to 10:1 (9:16 shown full screen); images JPEG up to 8 MB, aspect 4:5 to 1.91:1.
    Platform.INSTAGRAM: PlatformRules(
        "Instagram",
        2200,
        30,
        ("instagram_caption", "short_video"),
        MediaRules(
            min_video_s=3,
            max_video_s=900,
            max_video_bytes=300 * MB,
            max_image_bytes=8 * MB,
            min_aspect=0.01,
            max_aspect=10.0,
            video_codecs=("h264", "hevc"),
            required=True,
        ),
        daily_posts=100,  # content_publishing_limit's quota_total, also queried before each post
    ),
    # YouTube: title up to 100 characters, description up to 5,000; Shorts are vertical or square and up to
    # 3 minutes; tags up to 500 characters in all.
    Platform.YOUTUBE: PlatformRules(
        "YouTube",
        5000,
        15,
        ("short_video",),
        MediaRules(
            kinds=("video",),
            min_video_s=1,
            max_video_s=43200,
            required=True,
            video_codecs=("h264", "hevc", "vp9", "av1"),
        ),
        max_title=100,
    ),
    # TikTok (Content Posting API): caption up to 2,200 characters; videos 3 s to 10 min, up to 4 GB.
    Platform.TIKTOK: PlatformRules(
        "TikTok",
        2200,
        None,
        ("short_video",),
        MediaRules(
            kinds=("video",),
            min_video_s=3,
            max_video_s=600,
            max_video_bytes=4096 * MB,
            required=True,
            video_codecs=("h264", "hevc", "vp8", "vp9"),
        ),
        daily_posts=15,  # TikTok's per-creator cap through the Content Posting API
    ),
    # Facebook Pages: up to 63,206 characters; videos up to 240 min and 10 GB.
    Platform.FACEBOOK: PlatformRules(
        "Facebook",
        63206,
        None,
        ("linkedin_post", "blog_article", "short_video"),
        MediaRules(max_video_s=14400, max_video_bytes=10240 * MB, max_image_bytes=10 * MB),
    ),
}


def label(platform: str) -> str:
    try:
        return RULES[Platform(platform)].label
    except ValueError:
        return platform.title()
