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
