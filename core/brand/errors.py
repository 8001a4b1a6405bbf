from __future__ import annotations

from core.common.errors import RecastError

TONE_PRESETS = ("professional", "casual", "viral", "hinglish")
PLATFORMS = ("linkedin", "twitter", "instagram", "youtube", "blog")


class InvalidTone(RecastError):
    user_message = "Pick one of the tones: professional, casual, viral or hinglish."


class InvalidPlatforms(RecastError):
    user_message = "Pick platforms from: linkedin, twitter, instagram, youtube, blog (comma separated)."


class SampleTooShort(RecastError):
    user_message = "That sample is very short. Send a full post you wrote (at least 15 words)."


class BrandMediaRejected(RecastError):
    """A logo that is not an image, or an intro/outro that is not a short video."""
