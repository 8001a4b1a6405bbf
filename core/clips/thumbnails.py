"""Thumbnails: a rendered clip's best key frame as its JPEG cover, and small previews for chat apps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
import numpy.typing as npt

from core.clips.errors import ClipError
from core.media.errors import CorruptMedia


def write_thumbnail(video: Path, target: Path, *, candidates: int = 12) -> Path:
    """Save the best key frame of ``video`` as a JPEG: the sharpest (mean gradient) among well-exposed
    frames (mean luma 40..215), from the first ``candidates`` key frames."""
    best: av.VideoFrame | None = None
    best_score = -1.0
    try:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            stream.codec_context.skip_frame = "NONKEY"
            for index, frame in enumerate(container.decode(stream)):
                gray = frame.to_ndarray(width=270, height=round(270 * frame.height / frame.width), format="gray")
                score = _sharpness(gray)
                if not 40 <= float(gray.mean()) <= 215:
                    score *= 0.3
                if score > best_score:
                    best, best_score = frame, score
                if index + 1 >= candidates:
                    break
    except av.error.FFmpegError as exc:
        raise CorruptMedia(detail=f"{video}: {exc}") from exc
    if best is None:
        raise ClipError("The rendered clip has no picture.", detail=str(video))
    with av.open(str(target), mode="w", format="image2") as out:
        jpeg = out.add_stream("mjpeg")
        jpeg.width, jpeg.height, jpeg.pix_fmt = best.width, best.height, "yuvj420p"
        # Fixed quantiser 3 (like ffmpeg -q:v 3): a sharp thumbnail of modest size.
        jpeg.codec_context.qscale = True
        jpeg.codec_context.global_quality = 3 * 118  # FF_QP2LAMBDA
        picture = best.reformat(format="yuvj420p")
        picture.pts = None
        for packet in jpeg.encode(picture):
            out.mux(packet)
        for packet in jpeg.encode(None):
            out.mux(packet)
    return target


def preview_thumbnail(source: Path, target: Path, *, max_side: int = 320) -> Path:
    """A small JPEG copy of the image ``source`` whose longer side is at most ``max_side`` (the size chat
    apps accept as a video's preview picture)."""
    try:
        with av.open(str(source)) as container:
            frame = next(container.decode(video=0))
    except (av.error.FFmpegError, StopIteration) as exc:
        raise CorruptMedia(detail=f"{source}: {exc}") from exc
    scale = min(1.0, max_side / max(frame.width, frame.height))
    width, height = max(2, round(frame.width * scale) // 2 * 2), max(2, round(frame.height * scale) // 2 * 2)
    with av.open(str(target), mode="w", format="image2") as out:
        jpeg = out.add_stream("mjpeg")
        jpeg.width, jpeg.height, jpeg.pix_fmt = width, height, "yuvj420p"
        jpeg.codec_context.qscale = True
        jpeg.codec_context.global_quality = 4 * 118  # FF_QP2LAMBDA
        picture = frame.reformat(width=width, height=height, format="yuvj420p")
        picture.pts = None
        for packet in jpeg.encode(picture):
            out.mux(packet)
        for packet in jpeg.encode(None):
            out.mux(packet)
    return target


def _sharpness(gray: npt.NDArray[Any]) -> float:
    values = gray.astype(np.float32)
    return float(np.abs(np.diff(values, axis=1)).mean() + np.abs(np.diff(values, axis=0)).mean())
