"""Real hostile uploads, made in a few milliseconds: files whose headers promise what a decoder must not
be asked to deliver (gigapixel frames, hours from a few hundred bytes), and archives dressed as text."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

TEXT = (
    "Most creators post once and then disappear for a month. Consistency beats talent when you are "
    "building a personal brand. Write for one person, turn every long video into ten small posts, and "
    "reply to every comment in the first hour. "
) * 4


def png_bomb(width: int, height: int) -> bytes:
    """A real 1-bit PNG of width×height black pixels: tens of KB that decode to `width*height` pixels."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)  # filter byte "none", then the packed bits
    deflate = zlib.compressobj(9)
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def gigapixel_video(path: Path, *, width: int = 16000, height: int = 16000) -> Path:
    """An MP4 with one PNG frame of width×height (256 Mpx by default) in about 32 KB."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("png", rate=1)
        stream.width, stream.height = width, height
        stream.pix_fmt = "monob"
        packet = av.Packet(png_bomb(width, height))
        packet.stream = stream
        packet.time_base = Fraction(1, 1)
        packet.pts = packet.dts = 0
        packet.duration = 1
        out.mux(packet)
    return path


def wide_raw_video(path: Path, *, width: int = 20000, height: int = 16) -> Path:
    """A Matroska file declaring rawvideo frames of width×height (few pixels, an impossible width)."""
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("rawvideo", rate=1)
        stream.width, stream.height = width, height
        stream.pix_fmt = "gray"
        packet = av.Packet(b"\x00" * (width * height))
        packet.stream = stream
        packet.time_base = Fraction(1, 1)
        packet.pts = packet.dts = 0
        packet.duration = 1
        out.mux(packet)
    return path


def _opus_second(stream: av.audio.stream.AudioStream) -> list[av.Packet]:
    frame = av.AudioFrame.from_ndarray(np.zeros((1, 48000), dtype=np.int16), format="s16", layout="mono")
    frame.sample_rate = 48000
    frame.pts = 0
    return [*stream.encode(frame), *stream.encode(None)]


def sparse_audio(path: Path, *, claimed_s: float, fmt: str = "ogg") -> Path:
    """One real second of Opus silence, then one packet stamped at `claimed_s`: a few hundred bytes
    whose container says it runs `claimed_s` seconds."""
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        packets = _opus_second(stream)
        for packet in packets:
            out.mux(packet)
        last = packets[-1]
        assert last.time_base is not None
        tail = av.Packet(bytes(last))
        tail.stream = stream
        tail.time_base = last.time_base
        tail.pts = tail.dts = int(claimed_s / last.time_base)
        tail.duration = last.duration
        out.mux(tail)
    return path


def many_tracks(path: Path, *, tracks: int) -> Path:
    """A Matroska file with `tracks` one-second Opus tracks."""
    with av.open(str(path), "w", format="matroska") as out:
        streams = []
        for _ in range(tracks):
            stream = out.add_stream("libopus", rate=48000)
            stream.layout = "mono"
            streams.append(stream)
        for stream in streams:
            for packet in _opus_second(stream):
                out.mux(packet)
    return path


def zip_of_text() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("talk.txt", TEXT)
    return buffer.getvalue()


def gzip_bomb(expanded_mb: int = 64) -> bytes:
    """gzip of `expanded_mb` MB of spaces: about 1/1000 of that on disk."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip header and trailer
    chunk = b" " * (1024 * 1024)
    body = b"".join(deflate.compress(chunk) for _ in range(expanded_mb)) + deflate.flush()
    assert zlib.decompressobj(31).decompress(body, 16) == b" " * 16  # a real gzip stream of spaces
    return body


def text_with_nuls() -> bytes:
    return TEXT.encode()[:200] + b"\x00\x00\x00\x00" + TEXT.encode()[200:]


def one_line_text(chars: int = 5 * 1024 * 1024) -> bytes:
    """A single 5 MB line (minified JSON, a base64 blob): no line break anywhere."""
    words = (TEXT.replace("\n", " ") + " ") * (chars // len(TEXT) + 1)
    return words[:chars].encode()
