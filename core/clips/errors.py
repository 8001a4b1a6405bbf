"""Clip errors. They are media errors, so adapters already show their ``user_message`` in chat."""

from __future__ import annotations

from core.media.errors import MediaError


class ClipError(MediaError):
    default_message = "I couldn't make short clips from this video."


class NoSpeechForClips(ClipError):
    default_message = "I couldn't hear any speech in this video, so there is nothing to cut into captioned clips."


class ClipFeedbackNotUnderstood(ClipError):
    default_message = (
        "I can re-cut a clip with feedback like 'shorter', 'longer', 'start 3 seconds later', "
        "'end 2 seconds earlier', 'square' or 'blur background'."
    )


class ClipTooLarge(ClipError):
    default_message = "This clip came out too large to send. Try asking for a shorter clip."
