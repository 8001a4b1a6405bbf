"""The media toolkit port that core services depend on, and its ffmpeg/PyAV implementation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol, runtime_checkable

from core.media.audio import extract_audio
from core.media.probe import MediaInfo, probe_media


@runtime_checkable
class MediaToolkit(Protocol):
    async def probe(self, path: Path) -> MediaInfo: ...

    async def extract_audio(self, src: Path, dst: Path) -> Path: ...


class FfmpegMediaToolkit:
    """PyAV for metadata, the ffmpeg CLI (imageio-ffmpeg's binary by default) for conversion."""

    def __init__(self, *, timeout: float = 600.0) -> None:
        self._timeout = timeout

    async def probe(self, path: Path) -> MediaInfo:
        return await asyncio.to_thread(probe_media, path)

    async def extract_audio(self, src: Path, dst: Path) -> Path:
        return await extract_audio(src, dst, timeout=self._timeout)
