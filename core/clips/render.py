"""Rendering a moment as a vertical (or square) clip in one ffmpeg pass: cut, reframe, captions, encode.

Every clip is H.264 + AAC in an MP4 with its index first (web fast start), with a bitrate chosen from
its duration so the file stays under Telegram's 50 MB limit for bots.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av
import av.error
import numpy as np
import numpy.typing as npt

from core.clips.captions import CaptionStyle, build_ass
from core.clips.errors import ClipError, ClipTooLarge
from core.clips.ffmpeg_command import AUDIO_KBPS, Bumper, ffmpeg_args
from core.clips.moments import ClipMoment
from core.clips.thumbnails import write_thumbnail
from core.media.errors import CorruptMedia
from core.media.ffmpeg import run_ffmpeg
from core.media.probe import MediaInfo, probe_media

AspectRatio = Literal["9:16", "1:1", "4:5"]
Reframe = Literal["auto", "crop", "blur"]
FRAME_SIZES: dict[str, tuple[int, int]] = {"9:16": (1080, 1920), "1:1": (1080, 1080), "4:5": (1080, 1350)}
REFRAMES = ("auto", "crop", "blur")
SIZE_LIMIT_BYTES = 50 * 1000 * 1000
"""Telegram's limit for files a bot sends (50 MB; the decimal reading is the stricter one)."""
SIZE_BUDGET = 0.85
"""Share of the limit a clip may plan to use: x264's rate control overshoots a little on short clips."""
MAX_VIDEO_KBPS = 8_000
MIN_VIDEO_KBPS = 400
CROP_KEEP_SHARE = 0.8
"""'auto' always crops when the crop keeps at least this share of the picture (aspects already close)."""
SIDE_DETAIL_RATIO = 0.55
"""'auto' crops when the sides carry less than this share of the centre's detail (a talking head)."""


@dataclass(frozen=True, slots=True)
class RenderedClip:
    path: Path
    thumbnail_path: Path
    width: int
    height: int
    duration: float
    size_bytes: int
    aspect_ratio: str = "9:16"
    reframe: str = "crop"
    """The reframing used: 'crop' or 'blur' ('auto' resolved)."""
    video_kbps: int = 0
    intro_seconds: float = 0.0
    """Length of the brand intro joined before the moment (the moment starts this late in the clip)."""
    outro_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Bumpers:
    """A brand's intro and outro clips, joined before and after every clip (either may be missing)."""

    intro: Path | None = None
    outro: Path | None = None

    def __bool__(self) -> bool:
        return self.intro is not None or self.outro is not None


def video_bitrate_kbps(duration: float, *, limit_bytes: int = SIZE_LIMIT_BYTES) -> int:
    """Video bitrate cap for a clip of ``duration`` seconds: the size budget spread over the duration,
    less audio and 2% container overhead, within MIN_VIDEO_KBPS..MAX_VIDEO_KBPS."""
    total_kbps = limit_bytes * SIZE_BUDGET * 8 / 1000 / max(duration, 1.0)
    video = total_kbps * 0.98 - AUDIO_KBPS
    return int(max(MIN_VIDEO_KBPS, min(MAX_VIDEO_KBPS, video)))


async def render_clip(
    src: str | os.PathLike[str],
    moment: ClipMoment,
    *,
    style: CaptionStyle | None,
    aspect_ratio: str = "9:16",
    reframe: str = "auto",
    out_dir: str | os.PathLike[str],
    watermark_path: str | os.PathLike[str] | None = None,
    bumpers: Bumpers | None = None,
    name: str | None = None,
    threads: int = 0,
    timeout: float = 900.0,
) -> RenderedClip:
    """Render ``moment`` of ``src`` into ``out_dir`` (``style=None``: no captions); a JPEG thumbnail too."""
    if aspect_ratio not in FRAME_SIZES:
        raise ClipError("Clips can be 9:16, 1:1 or 4:5.", detail=f"aspect_ratio={aspect_ratio!r}")
    if reframe not in REFRAMES:
        raise ClipError("Reframing can be auto, crop or blur.", detail=f"reframe={reframe!r}")
    source = Path(src)
    info = await asyncio.to_thread(probe_media, source)
    if not info.has_video or not info.width or not info.height:
        raise ClipError("This file has no picture, so it can't be cut into video clips.", detail=str(source))
    start = max(0.0, moment.start)
    end = min(moment.end, info.duration_s)
    duration = round(end - start, 3)
    if duration <= 0.1:
        raise ClipError("This moment is outside the video.", detail=f"{start}..{end} of {info.duration_s}")
    width, height = FRAME_SIZES[aspect_ratio]
    if reframe == "auto":
        reframe = await asyncio.to_thread(choose_reframe, source, info, start, end, width / height)
    target_dir = Path(out_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    stem = name or f"clip-{round(start * 1000)}-{round(end * 1000)}"
    out_path = target_dir / f"{stem}.mp4"
    thumb_path = target_dir / f"{stem}.jpg"
    joined = await _probe_bumpers(bumpers)
    total = duration + sum(d for _, d, _ in joined.values())
    kbps = video_bitrate_kbps(total)
    with tempfile.TemporaryDirectory(prefix="recast-clip-") as tmp:
        ass_path: Path | None = None
        if style is not None:
            ass_path = Path(tmp) / "captions.ass"
            ass_path.write_text(
                build_ass(moment.words, style, width=width, height=height, offset=start, duration=duration),
                encoding="utf-8",
            )
        for attempt in range(2):
            args = ffmpeg_args(
                source,
                info,
                out_path,
                start=start,
                duration=duration,
                width=width,
                height=height,
                reframe=reframe,
                ass_path=ass_path,
                watermark=Path(watermark_path) if watermark_path else None,
                video_kbps=kbps,
                threads=threads,
                bumpers=joined,
            )
            await run_ffmpeg(args, timeout=timeout)
            size = out_path.stat().st_size
            if size < SIZE_LIMIT_BYTES:
                break
            if attempt == 1:
                out_path.unlink(missing_ok=True)
                raise ClipTooLarge(detail=f"{size} bytes at {kbps} kbps for {duration} s")
            kbps = max(MIN_VIDEO_KBPS, int(kbps * SIZE_LIMIT_BYTES * 0.8 / size))
    rendered = await asyncio.to_thread(probe_media, out_path)
    await asyncio.to_thread(write_thumbnail, out_path, thumb_path)
    return RenderedClip(
        path=out_path,
        thumbnail_path=thumb_path,
        width=rendered.width or width,
        height=rendered.height or height,
        duration=rendered.duration_s,
        size_bytes=out_path.stat().st_size,
        aspect_ratio=aspect_ratio,
        reframe=reframe,
        video_kbps=kbps,
        intro_seconds=joined["intro"][1] if "intro" in joined else 0.0,
        outro_seconds=joined["outro"][1] if "outro" in joined else 0.0,
    )


async def render_clips(
    src: str | os.PathLike[str],
    moments: Sequence[ClipMoment],
    *,
    style: CaptionStyle | None,
    aspect_ratio: str = "9:16",
    reframe: str = "auto",
    out_dir: str | os.PathLike[str],
    watermark_path: str | os.PathLike[str] | None = None,
    bumpers: Bumpers | None = None,
    names: Sequence[str] | None = None,
    concurrency: int | None = None,
) -> list[RenderedClip]:
    """Render several moments, at most ``concurrency`` (default: the CPU count) ffmpeg processes at once;
    results are in the order of ``moments``. If one fails the others are cancelled and the error raised."""
    if names is not None and len(names) != len(moments):
        raise ValueError("names must match moments")
    limit = max(1, concurrency or os.cpu_count() or 1)
    parallel = min(limit, len(moments)) or 1
    # Split the cores between the encoders running side by side instead of letting each take them all.
    threads = max(1, (os.cpu_count() or 1) // parallel)
    gate = asyncio.Semaphore(limit)

    async def one(index: int, moment: ClipMoment) -> RenderedClip:
        async with gate:
            return await render_clip(
                src,
                moment,
                style=style,
                aspect_ratio=aspect_ratio,
                reframe=reframe,
                out_dir=out_dir,
                watermark_path=watermark_path,
                bumpers=bumpers,
                name=names[index] if names is not None else None,
                threads=threads,
            )

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(i, m)) for i, m in enumerate(moments)]
    return [task.result() for task in tasks]


def choose_reframe(source: Path, info: MediaInfo, start: float, end: float, target_aspect: float) -> str:
    """'crop' or 'blur' for one clip.

    Crop when the crop keeps at least CROP_KEEP_SHARE of the picture, or when the parts a centre crop
    would cut away carry little detail (mean gradient below SIDE_DETAIL_RATIO of the kept centre's), as
    with a speaker in front of a plain or soft background; otherwise (slides, screen recordings, wide
    shots) fit the whole picture over a blurred copy of itself.
    """
    assert info.width and info.height
    source_aspect = info.width / info.height
    keep = min(source_aspect, target_aspect) / max(source_aspect, target_aspect)
    if keep >= CROP_KEEP_SHARE:
        return "crop"
    frames = _sample_gray(source, [start + (end - start) * f for f in (0.2, 0.5, 0.8)], width=320)
    if not frames:
        return "blur"
    ratios = []
    for gray in frames:
        energy = np.abs(np.diff(gray, axis=1))[:-1, :] + np.abs(np.diff(gray, axis=0))[:, :-1]
        h, w = energy.shape
        if source_aspect > target_aspect:
            kept = round(h * target_aspect)
            left = (w - kept) // 2
            centre = energy[:, left : left + kept]
            sides = np.concatenate([energy[:, :left], energy[:, left + kept :]], axis=1)
        else:
            kept = round(w / target_aspect)
            top = (h - kept) // 2
            centre = energy[top : top + kept, :]
            sides = np.concatenate([energy[:top, :], energy[top + kept :, :]], axis=0)
        ratios.append(float(sides.mean()) / max(float(centre.mean()), 1e-6))
    return "crop" if float(np.median(ratios)) < SIDE_DETAIL_RATIO else "blur"


# ----------------------------------------------------------------------------------------- internals


async def _probe_bumpers(bumpers: Bumpers | None) -> dict[str, Bumper]:
    """Probe the intro/outro once per clip; a bumper that is not a playable video is a clear error."""
    found: dict[str, Bumper] = {}
    for role, path in (("intro", bumpers.intro if bumpers else None), ("outro", bumpers.outro if bumpers else None)):
        if path is None:
            continue
        try:
            info = await asyncio.to_thread(probe_media, path)
        except CorruptMedia as exc:
            raise ClipError(
                f"Your brand {role} video could not be read. Upload it again, or remove it in /brand.",
                detail=f"{path}: {exc.detail}",
            ) from exc
        if not info.has_video or info.duration_s <= 0:
            raise ClipError(
                f"Your brand {role} has no picture. Upload a video for it, or remove it in /brand.", detail=str(path)
            )
        found[role] = (path, info.duration_s, info.has_audio)
    return found


def _sample_gray(source: Path, times: Sequence[float], *, width: int) -> list[npt.NDArray[np.float32]]:
    """The key frame at or before each time, as small grey arrays (key frames only: cheap to decode)."""
    frames: list[npt.NDArray[np.float32]] = []
    try:
        with av.open(str(source)) as container:
            stream = container.streams.video[0]
            stream.codec_context.skip_frame = "NONKEY"
            for moment in times:
                container.seek(int(moment * av.time_base), any_frame=False, backward=True)
                for frame in container.decode(stream):
                    height = max(2, round(width * frame.height / frame.width))
                    frames.append(frame.to_ndarray(width=width, height=height, format="gray").astype(np.float32))
                    break
    except av.error.FFmpegError as exc:
        raise CorruptMedia(detail=f"{source}: {exc}") from exc
    return frames
