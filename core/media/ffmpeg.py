"""Locating and running the ffmpeg binary (shipped by imageio-ffmpeg; no system ffmpeg needed)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.media.errors import MediaProcessingFailed, MediaToolMissing

STDERR_TAIL_CHARS = 2000


@dataclass(frozen=True, slots=True)
class FfmpegResult:
    returncode: int
    stdout: bytes
    stderr: str


def find_ffmpeg() -> str:
    """Path of an ffmpeg binary: $FFMPEG_BINARY, then imageio-ffmpeg's, then one on PATH."""
    if configured := os.environ.get("FFMPEG_BINARY"):
        if Path(configured).is_file() or shutil.which(configured):
            return configured
        raise MediaToolMissing(detail=f"FFMPEG_BINARY={configured!r} does not exist")
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        pass
    if found := shutil.which("ffmpeg"):
        return found
    raise MediaToolMissing(detail="no ffmpeg found: install imageio-ffmpeg, put ffmpeg on PATH or set FFMPEG_BINARY")


async def run_ffmpeg(args: Sequence[str | os.PathLike[str]], timeout: float = 600.0) -> FfmpegResult:
    """Run ffmpeg with ``args`` (without the binary); raise MediaProcessingFailed on error or timeout."""
    command = [find_ffmpeg(), "-hide_banner", "-nostdin", "-nostats", *(os.fspath(a) for a in args)]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr_bytes = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError as exc:
        await _kill(process)
        raise MediaProcessingFailed(
            "Processing this media file took too long.", detail=f"ffmpeg timed out after {timeout} s"
        ) from exc
    except asyncio.CancelledError:
        await _kill(process)
        raise
    stderr = stderr_bytes.decode("utf-8", errors="replace")
    if process.returncode != 0:
        raise MediaProcessingFailed(detail=f"ffmpeg exited with {process.returncode}: {stderr[-STDERR_TAIL_CHARS:]}")
    return FfmpegResult(returncode=0, stdout=stdout, stderr=stderr)


async def _kill(process: asyncio.subprocess.Process) -> None:
    # Never leave an orphaned encoder behind: it would keep a core busy after the task is gone.
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    await process.wait()
