"""Telegram's length limits, and cutting a long text into parts that fit them at natural boundaries.

Telegram counts UTF-16 code units (an emoji outside the basic plane is two), so lengths here do too.
Cuts prefer, in order, a paragraph break, a line break, the end of a sentence, a clause, a word; only
a text with none of these in the second half of the window is cut mid-word.
"""

from __future__ import annotations

TEXT_LIMIT = 4096  # a text message
CAPTION_LIMIT = 1024  # a photo, video or document caption

_BREAKS = ("\n\n", "\n", ". ", "! ", "? ", "… ", "; ", ": ", ", ", " ")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fitting(text: str, limit: int) -> int:
    """The largest index ``i`` with ``utf16_len(text[:i]) <= limit``."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


def cut(text: str, limit: int) -> tuple[str, str]:
    """Split ``text`` into a head that fits ``limit`` and the rest ("" when it all fits)."""
    text = text.strip()
    if utf16_len(text) <= limit:
        return text, ""
    end = _fitting(text, limit)
    window = text[:end]
    at = -1
    for earliest in (end // 2, 1):
        for sep in _BREAKS:
            found = window.rfind(sep)
            if found >= earliest:
                # Keep the sentence's punctuation with the head; drop the whitespace.
                at = found + len(sep.rstrip())
                break
        if at > 0:
            break
    if at <= 0:
        at = end
    return text[:at].rstrip(), text[at:].strip()


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Every part of ``text``, in order, each within ``limit``."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        head, rest = cut(rest, limit)
        parts.append(head)
    return parts


def preview(text: str, limit: int, *, suffix: str) -> str:
    """The start of ``text`` cut at a boundary, then ``suffix``, within ``limit``; ``…`` marks a cut
    that did not fall at the end of a sentence."""
    head, rest = cut(text, limit - utf16_len(suffix) - 1)
    ellipsis = "…" if rest and not head.endswith((".", "!", "?", "…")) else ""
    return f"{head}{ellipsis}{suffix}"
