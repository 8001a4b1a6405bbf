"""Media errors. ``str(err)`` is a short message fit to show a user in chat."""

from __future__ import annotations


class MediaError(Exception):
    """Base of every media failure; ``user_message`` is safe to show, ``detail`` is for logs."""

    default_message = "Something went wrong while processing this media file."

    def __init__(self, user_message: str | None = None, *, detail: str = "") -> None:
        self.user_message = user_message or self.default_message
        self.detail = detail
        super().__init__(self.user_message)

    def __str__(self) -> str:
        return self.user_message


class MediaToolMissing(MediaError):
    default_message = "The media tools are not installed on this server."


class CorruptMedia(MediaError):
    default_message = "This file could not be read. It may be damaged or not a video or audio file."


class UnsupportedMedia(MediaError):
    default_message = "This file type is not supported. Please send a video or audio file."


class NoAudioTrack(MediaError):
    default_message = "This file has no audible sound, so there is nothing to transcribe."


class MediaProcessingFailed(MediaError):
    default_message = "Processing this media file failed. Please try again or send another file."
