from __future__ import annotations

from core.common.errors import RecastError


class UnsupportedInput(RecastError):
    user_message = (
        "I can't work with that file type. Send a video, a voice note, an audio file, a PDF, "
        "a text file, a link, or paste the text itself."
    )


class FileTooLarge(RecastError):
    pass


class TooLong(RecastError):
    pass


class TextTooShort(RecastError):
    user_message = (
        "That's a bit short to repurpose. Send at least a few paragraphs (about 80 words), or a video or voice note."
    )


class LinkUnreachable(RecastError):
    user_message = (
        "I couldn't fetch that link from here (no network, or the site refused). "
        "Please send the video file or paste the text instead."
    )


class EmptyDocument(RecastError):
    user_message = "I couldn't find any text in that document. If it's a scan, paste the text instead."


class LinkTooLarge(RecastError):
    pass


class UploadRefused(RecastError):
    """An upload a guard (`core.content.guards`) refused before any work: nothing stored, nothing charged.
    Each subclass's message says what the file is and what to send instead."""

    user_message = "I can't take that file. Please send a different one."


class UploadTooBig(UploadRefused):
    """More bytes than this server takes at all (plans may take fewer: `FileTooLarge`)."""


class RecordingTooLong(UploadRefused):
    """A recording whose header claims more minutes than this server processes at all."""


class FrameTooLarge(UploadRefused):
    """A video (or cover image) whose frames are bigger than any camera makes."""


class TooManyStreams(UploadRefused):
    """A container with more tracks than a recording has."""


class ImplausibleMedia(UploadRefused):
    """Headers that cannot be true: a tiny file claiming hours, an absurd sample rate or channel count."""


class NotPlainText(UploadRefused):
    """A "text" or "PDF" upload that is something else inside (an archive, a program, binary data)."""


class NotUtf8(UploadRefused):
    """A text file in an encoding other than UTF-8 (guessing would garble the drafts)."""


class DocumentTooLong(UploadRefused):
    """More characters (or PDF pages) than one asset takes."""


class PathologicalText(UploadRefused):
    """Text whose shape is not prose: one enormous line, or millions of lines."""
