"""Reading media metadata with PyAV (the FFmpeg libraries in-process; no ffprobe binary)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import av
import av.error

from core.media.errors import CorruptMedia, UnsupportedMedia

# PyAV reports the demuxer's name list ("mov,mp4,m4a,3gp,3g2,mj2"); the extension picks the member.
_MOV_FAMILY = {".mov": "mov", ".m4a": "m4a", ".m4v": "mp4", ".3gp": "3gp", ".3g2": "3g2"}
_CONTAINER_BY_FORMAT = {
    "matroska,webm": "mkv",
    "mp3": "mp3",
    "wav": "wav",
    "ogg": "ogg",
    "flac": "flac",
    "avi": "avi",
    "mpegts": "ts",
    "aac": "aac",
    "flv": "flv",
    "asf": "asf",
    "mpeg": "mpeg",
}
_VIDEO_MIME = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "m4a": "video/mp4",
    "3gp": "video/3gpp",
    "3g2": "video/3gpp2",
    "mkv": "video/x-matroska",
    "webm": "video/webm",
    "ogg": "video/ogg",
    "avi": "video/x-msvideo",
    "ts": "video/mp2t",
    "flv": "video/x-flv",
    "asf": "video/x-ms-asf",
    "mpeg": "video/mpeg",
}
_AUDIO_MIME = {
    "mp4": "audio/mp4",
    "m4a": "audio/mp4",
    "mov": "audio/mp4",
    "mkv": "audio/x-matroska",
    "webm": "audio/webm",
    "ogg": "audio/ogg",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "aac": "audio/aac",
    "asf": "audio/x-ms-wma",
    "3gp": "audio/3gpp",
}


@dataclass(frozen=True, slots=True)
class MediaInfo:
    duration_s: float
    width: int | None
    height: int | None
    fps: float | None
    video_codec: str | None
    audio_codec: str | None
    has_audio: bool
    has_video: bool
    size_bytes: int
    mime_type: str
    container: str
    audio_sample_rate: int | None = None
    audio_channels: int | None = None


@dataclass(frozen=True, slots=True)
class ContainerHeader:
    """What a container's headers claim, read without decoding a frame: upload guards judge a file by
    this before anything decodes it (a decoder handed a 16000×16000 frame allocates it first)."""

    format_name: str
    duration_s: float | None  # None: neither the container nor any stream states one
    stream_count: int
    frame_sizes: tuple[tuple[int, int], ...]  # (width, height) of every video stream, cover art included
    audio_layouts: tuple[tuple[int, int], ...]  # (sample rate, channels) of every audio stream


def read_header(path: str | os.PathLike[str], *, max_frame_pixels: int) -> ContainerHeader:
    """Open a container and report what its streams declare, decoding nothing bigger than
    ``max_frame_pixels``: libavformat decodes a first frame where the container omits a parameter
    (an MP4 does not state a PNG track's pixel format), and ``max_pixels`` makes the decoder refuse an
    oversized one before allocating it. Such a stream then reports 0×0, which the guards refuse."""
    file = Path(path)
    try:
        container = av.open(str(file), mode="r", options={"max_pixels": str(max_frame_pixels)})
    except av.error.FFmpegError as exc:
        raise CorruptMedia(detail=f"{file}: {exc}") from exc
    with container:
        duration = _duration_s(container) or None
        frames = tuple((s.codec_context.width or 0, s.codec_context.height or 0) for s in container.streams.video)
        audio = tuple((s.codec_context.sample_rate or 0, _channels(s)) for s in container.streams.audio)
        return ContainerHeader(
            format_name=container.format.name,
            duration_s=duration,
            stream_count=len(container.streams),
            frame_sizes=frames,
            audio_layouts=audio,
        )


def _channels(stream: av.audio.stream.AudioStream) -> int:
    layout = stream.codec_context.layout
    return layout.nb_channels if layout is not None else 0


def probe_media(path: str | os.PathLike[str]) -> MediaInfo:
    """Describe an audio or video file; raise CorruptMedia or UnsupportedMedia for anything else."""
    file = Path(path)
    if not file.is_file():
        raise CorruptMedia("The file could not be found.", detail=f"{file} is not a file")
    size = file.stat().st_size
    if size == 0:
        raise CorruptMedia("This file is empty.", detail=f"{file} has 0 bytes")
    try:
        container = av.open(str(file), mode="r")
    except av.error.FFmpegError as exc:
        raise CorruptMedia(detail=f"{file}: {exc}") from exc
    with container:
        format_name = container.format.name
        if "image2" in format_name or format_name.endswith("_pipe"):
            raise UnsupportedMedia("This looks like an image. Please send a video or audio file.", detail=format_name)
        video = next(
            (s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic),
            None,
        )
        audio = container.streams.audio[0] if container.streams.audio else None
        if video is None and audio is None:
            raise UnsupportedMedia(detail=f"{file}: format {format_name} has no audio or video stream")
        _check_decodable(container, video, audio, file)
        duration = _duration_s(container)
        if duration <= 0:
            raise CorruptMedia("This file has no playable content.", detail=f"{file}: zero duration")
        name = _container_name(format_name, file.suffix.lower(), video)
        fps = None
        if video is not None and video.average_rate:
            fps = round(float(video.average_rate), 3)
        return MediaInfo(
            duration_s=duration,
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
            fps=fps,
            video_codec=video.codec_context.codec.canonical_name if video is not None else None,
            audio_codec=audio.codec_context.codec.canonical_name if audio is not None else None,
            has_audio=audio is not None,
            has_video=video is not None,
            size_bytes=size,
            mime_type=(_VIDEO_MIME if video is not None else _AUDIO_MIME).get(name, "application/octet-stream"),
            container=name,
            audio_sample_rate=audio.codec_context.sample_rate if audio is not None else None,
            audio_channels=audio.codec_context.layout.nb_channels if audio is not None else None,
        )


def _duration_s(container: av.container.InputContainer) -> float:
    if container.duration is not None and container.duration > 0:
        return round(container.duration / av.time_base, 3)
    longest = 0.0
    for stream in container.streams:
        if stream.duration is not None and stream.time_base is not None:
            longest = max(longest, float(stream.duration * stream.time_base))
    return round(longest, 3)


def _container_name(format_name: str, suffix: str, video: av.video.stream.VideoStream | None) -> str:
    if format_name.startswith("mov,mp4"):
        return _MOV_FAMILY.get(suffix, "mp4")
    if format_name == "matroska,webm":
        return "webm" if suffix == ".webm" else "mkv"
    return _CONTAINER_BY_FORMAT.get(format_name, format_name.split(",", maxsplit=1)[0])


def _check_decodable(
    container: av.container.InputContainer,
    video: av.video.stream.VideoStream | None,
    audio: av.audio.stream.AudioStream | None,
    file: Path,
) -> None:
    """Decode the first frame of each stream: headers can look fine in front of garbage."""
    for stream in (video, audio):
        if stream is None:
            continue
        if stream.codec_context.codec is None:
            raise UnsupportedMedia("This file uses a codec that is not supported.", detail=f"{file}: no decoder")
        container.seek(0)
        try:
            for frame in container.decode(stream):
                del frame
                break
            else:
                raise CorruptMedia(detail=f"{file}: {stream.type} stream has no decodable frame")
        except av.error.FFmpegError as exc:
            raise CorruptMedia(detail=f"{file}: {exc}") from exc
