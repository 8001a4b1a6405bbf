"""Upload guards: every check an upload passes before anything downloads, decodes, stores or charges it.

A file is judged by what it claims — its declared size, its container headers, its first bytes — so a
tiny file that expands to hours of media or to gigapixel frames, or an archive renamed `.txt`, is
refused with a message that says what to send instead, and no worker (or decoder) ever touches it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from core.config import Settings
from core.content.errors import (
    DocumentTooLong,
    FrameTooLarge,
    ImplausibleMedia,
    NotPlainText,
    NotUtf8,
    PathologicalText,
    RecordingTooLong,
    TooManyStreams,
    UploadTooBig,
)
from core.media.probe import ContainerHeader

MB = 1024 * 1024
# Sanity bounds, not policy: no recording has more (the highest studio rate is 384 kHz; 22.2 sound is 24).
MAX_SAMPLE_RATE = 384_000
MAX_CHANNELS = 32
# How much of a "text" file may be control characters other than tabs and line breaks before it is binary.
MAX_CONTROL_SHARE = 0.01
# Enough of a file's start to recognise any signature below (tar's sits at offset 257).
SNIFF_BYTES = 4096
# Control characters (Unicode category Cc) other than tab, line feed, vertical tab, form feed, carriage return.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """The hard limits of this server, whatever the plan (plans may be stricter). Built from `Settings`;
    the defaults here equal the settings' defaults (tests/core/content/test_upload_guards.py checks)."""

    max_bytes: int = 2048 * MB
    max_document_bytes: int = 50 * MB
    max_media_minutes: int = 600
    max_frame_pixels: int = 7680 * 4320
    max_frame_side: int = 16384
    max_streams: int = 16
    min_bytes_per_second: int = 100
    sparse_check_after_s: int = 60
    max_text_chars: int = 500_000
    max_line_chars: int = 50_000
    max_text_lines: int = 50_000
    max_pdf_pages: int = 500

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        return cls(
            max_bytes=settings.upload_max_mb * MB,
            max_document_bytes=settings.upload_max_document_mb * MB,
            max_media_minutes=settings.upload_max_media_minutes,
            max_frame_pixels=settings.upload_max_frame_pixels,
            max_frame_side=settings.upload_max_frame_side,
            max_streams=settings.upload_max_streams,
            min_bytes_per_second=settings.upload_min_bytes_per_second,
            sparse_check_after_s=settings.upload_sparse_check_after_s,
            max_text_chars=settings.upload_max_text_chars,
            max_line_chars=settings.upload_max_line_chars,
            max_text_lines=settings.upload_max_text_lines,
            max_pdf_pages=settings.upload_max_pdf_pages,
        )


def human_size(n: int) -> str:
    """ "3.1 GB", "48 KB": the size as a creator reads it."""
    for unit, scale in (("GB", 1024**3), ("MB", MB), ("KB", 1024)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f} {unit}".replace(".0 ", " ") if value < 10 else f"{value:.0f} {unit}"
    return f"{n} bytes"


def human_duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours".replace(".0 ", " ")
    if seconds >= 60:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} seconds"


def check_size(size: int, *, content_type: str, limits: UploadLimits) -> None:
    """Refuse more bytes than this server takes; called with the size the chat app declares, before downloading."""
    cap = limits.max_document_bytes if content_type == "document" else limits.max_bytes
    if size > cap:
        what = "document" if content_type == "document" else "file"
        raise UploadTooBig(
            f"That {what} is {human_size(size)}; the most I can take is {human_size(cap)}. "
            + (
                "Send the text itself or a smaller PDF."
                if content_type == "document"
                else "Send a shorter cut or a compressed version, or a link to it."
            ),
            detail=f"{size} bytes > {cap}",
        )


def check_duration(seconds: float, *, limits: UploadLimits) -> None:
    if seconds > limits.max_media_minutes * 60:
        raise RecordingTooLong(
            f"That recording runs {human_duration(seconds)}; the most I process is "
            f"{human_duration(limits.max_media_minutes * 60)}. Send a shorter cut, or split it into parts.",
            detail=f"{seconds:.0f} s > {limits.max_media_minutes} min",
        )


def check_media_header(header: ContainerHeader, *, size: int, limits: UploadLimits) -> float:
    """Judge a container by its headers alone; return the duration it declares, in seconds."""
    if header.stream_count > limits.max_streams:
        raise TooManyStreams(
            f"That file has {header.stream_count} tracks; a recording has a few (the most I take is "
            f"{limits.max_streams}). Export it again with one video and one audio track.",
            detail=f"{header.format_name}: {header.stream_count} streams",
        )
    for width, height in header.frame_sizes:
        if width <= 0 or height <= 0:
            raise FrameTooLarge(
                "I can't read that video's frame size: its frames are either bigger than "
                f"{limits.max_frame_pixels / 1e6:.0f} megapixels or damaged. "
                "Export it at 4K or 1080p and send it again.",
                detail=f"{header.format_name}: video stream of unknown size",
            )
        if max(width, height) > limits.max_frame_side or width * height > limits.max_frame_pixels:
            raise FrameTooLarge(
                f"That video's frames are {width}×{height} ({width * height / 1e6:.0f} megapixels); the most I "
                f"take is {limits.max_frame_pixels / 1e6:.0f} megapixels. Export it at 4K or 1080p and send it again.",
                detail=f"{header.format_name}: {width}x{height}",
            )
    for rate, channels in header.audio_layouts:
        if rate > MAX_SAMPLE_RATE or channels > MAX_CHANNELS:
            raise ImplausibleMedia(
                f"That file's audio claims {rate:,} Hz and {channels} channels, which no recording has; "
                "it looks damaged. Export it again (any normal setting) and send that.",
                detail=f"{header.format_name}: {rate} Hz, {channels} ch",
            )
    duration = header.duration_s
    if duration is None:
        raise ImplausibleMedia(
            "I can't tell how long that recording is from its file, so it may be damaged or cut off. "
            "Export or save it again and send that.",
            detail=f"{header.format_name}: no duration",
        )
    # Real codecs spend at least ~100 bytes per second even on silence; a file far below that claims
    # hours it does not hold (a header lying about its length, or a decompression bomb).
    if duration > limits.sparse_check_after_s and size / duration < limits.min_bytes_per_second:
        raise ImplausibleMedia(
            f"That file is only {human_size(size)} but claims to run {human_duration(duration)}, "
            "which no real recording does: it looks damaged or crafted. Export the recording again and send that.",
            detail=f"{header.format_name}: {size} bytes / {duration:.0f} s",
        )
    check_duration(duration, limits=limits)
    return duration


# (offset, signature, what it is): files that are never plain text, whatever their name says.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"PK\x03\x04", "a ZIP archive (Word, Excel and ePub files are ZIPs too)"),
    (0, b"PK\x05\x06", "an empty ZIP archive"),
    (0, b"PK\x07\x08", "a ZIP archive"),
    (0, b"\x1f\x8b", "a gzip-compressed file"),
    (0, b"\xfd7zXZ\x00", "an xz-compressed file"),
    (0, b"(\xb5/\xfd", "a zstd-compressed file"),
    (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (0, b"Rar!\x1a\x07", "a RAR archive"),
    (257, b"ustar", "a tar archive"),
    (0, b"%PDF-", "a PDF"),
    (0, b"\x7fELF", "a program"),
    (0, b"MZ\x90\x00", "a Windows program"),
    (0, b"\xcf\xfa\xed\xfe", "a program"),
    (0, b"\xca\xfe\xba\xbe", "a program"),
    (0, b"\x89PNG\r\n\x1a\n", "an image"),
    (0, b"\xff\xd8\xff", "an image"),
    (0, b"GIF8", "an image"),
    (0, b"SQLite format 3\x00", "a database"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document"),
    (4, b"ftyp", "a video"),
    (0, b"\x1aE\xdf\xa3", "a video"),
    (0, b"OggS", "an audio file"),
    (0, b"fLaC", "an audio file"),
)


def sniff(head: bytes) -> str | None:
    """What a file's first bytes say it is ("a ZIP archive"), or None for no known binary signature."""
    for offset, signature, what in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return what
    if head[:3] == b"BZh" and head[4:10] == b"1AY&SY":
        return "a bzip2-compressed file"
    return None


def _disguised(name: str, what: str, expected: str) -> NotPlainText:
    advice = (
        "I don't open archives: unpack it and send the text file itself, or paste the text."
        if "compressed" in what or "archive" in what
        else "Send the text as a .txt or .md file or a PDF, or paste it."
    )
    return NotPlainText(f"“{name}” is named like {expected}, but inside it's {what}. {advice}", detail=what)


def check_pdf_head(head: bytes, *, name: str) -> None:
    # The PDF specification lets the header sit anywhere in the first 1024 bytes.
    if b"%PDF-" not in head[:1024]:
        raise _disguised(name, sniff(head) or "not a PDF", "a PDF")


def decode_text_file(data: bytes, *, name: str) -> str:
    """The text of a text upload: refuse archives and binaries whatever the extension, and anything but UTF-8."""
    what = sniff(data[:SNIFF_BYTES])
    if what is not None:
        raise _disguised(name, what, "a text file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # a UTF-16 byte-order mark: text with NULs in it
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _not_utf8(name, exc) from exc
    else:
        if b"\x00" in data:
            raise NotPlainText(
                f"“{name}” has binary data in it (NUL bytes), so it isn't plain text. "
                "Send a .txt or .md file saved as text, a PDF, or paste the text.",
                detail=f"NUL at byte {data.find(0)}",
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _not_utf8(name, exc) from exc
    control = len(_CONTROL.findall(text))
    if text and control / len(text) > MAX_CONTROL_SHARE:
        raise NotPlainText(
            f"“{name}” is mostly binary data, not text. "
            "Send a .txt or .md file saved as text, a PDF, or paste the text.",
            detail=f"{control} control characters of {len(text)}",
        )
    return text


def _not_utf8(name: str, exc: UnicodeDecodeError) -> NotUtf8:
    return NotUtf8(
        f"“{name}” isn't saved as UTF-8 text, so I'd garble it. Save it again with the encoding UTF-8 "
        "(in most editors: Save As → Encoding) and send it, or paste the text.",
        detail=str(exc),
    )


def check_text(text: str, *, limits: UploadLimits) -> None:
    """Refuse text shaped unlike prose (one giant line, endless lines) or too long for one asset."""
    longest = max((len(line) for line in text.splitlines()), default=0)
    if longest > limits.max_line_chars:
        raise PathologicalText(
            f"One line of that text is {longest:,} characters long (the most I take is {limits.max_line_chars:,}), "
            "so it isn't prose I can work with. If it's data (JSON, a CSV, a log), send the writing it belongs to.",
            detail=f"line of {longest} chars",
        )
    lines = text.count("\n") + 1
    if lines > limits.max_text_lines:
        raise PathologicalText(
            f"That text has {lines:,} lines; the most I take is {limits.max_text_lines:,}. "
            "If it's data (a list, a log, a spreadsheet export), send the writing it belongs to instead.",
            detail=f"{lines} lines",
        )
    if len(text) > limits.max_text_chars:
        raise DocumentTooLong(
            f"That text is {len(text):,} characters; the most I take at once is {limits.max_text_chars:,} "
            "(a long book chapter). Split it into parts and send them one at a time.",
            detail=f"{len(text)} chars",
        )


def check_pdf_pages(pages: int, *, limits: UploadLimits) -> None:
    if pages > limits.max_pdf_pages:
        raise DocumentTooLong(
            f"That PDF has {pages:,} pages; the most I take is {limits.max_pdf_pages:,}. "
            "Send the chapter or section you want repurposed.",
            detail=f"{pages} pages",
        )


def read_head(path: Path, n: int = SNIFF_BYTES) -> bytes:
    with path.open("rb") as f:
        return f.read(n)
