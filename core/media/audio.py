"""Extracting the speech track: 16 kHz mono 16-bit WAV, the input Whisper models expect."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from core.media.errors import NoAudioTrack
from core.media.ffmpeg import run_ffmpeg
from core.media.probe import probe_media

SAMPLE_RATE = 16_000
SILENCE_THRESHOLD_DB = -60.0
_MAX_VOLUME = re.compile(r"max_volume:\s*(-?inf|-?\d+(?:\.\d+)?) dB")


async def extract_audio(src: str | os.PathLike[str], dst: str | os.PathLike[str], *, timeout: float = 600.0) -> Path:
    """Write the first audio track of ``src`` to ``dst`` as 16 kHz mono WAV; NoAudioTrack if none/silent."""
    source, target = Path(src), Path(dst)
    info = await asyncio.to_thread(probe_media, source)
    if not info.has_audio:
        raise NoAudioTrack("This video has no sound track, so there is nothing to transcribe.")
    target.parent.mkdir(parents=True, exist_ok=True)
    # volumedetect runs on the converted stream in the same pass, so silence costs no second decode.
    result = await run_ffmpeg(
        [
            "-y",
            "-i",
            source,
            "-map",
            "0:a:0",
            "-vn",
            "-sn",
            "-dn",
            "-af",
            "volumedetect",
            "-ac",
            "1",
            "-ar",
            str(SAMPLE_RATE),
            "-c:a",
            "pcm_s16le",
            "-f",
            "wav",
            target,
        ],
        timeout=timeout,
    )
    max_volume = parse_max_volume(result.stderr)
    if max_volume is None or max_volume < SILENCE_THRESHOLD_DB:
        target.unlink(missing_ok=True)
        raise NoAudioTrack(
            "The sound track of this file is silent, so there is nothing to transcribe.",
            detail=f"max_volume={max_volume} dB",
        )
    return target


def parse_max_volume(ffmpeg_stderr: str) -> float | None:
    """The ``max_volume`` that ffmpeg's volumedetect filter logged, in dB (``-inf`` for digital silence)."""
    match = _MAX_VOLUME.search(ffmpeg_stderr)
    if match is None:
        return None
    return float(match.group(1))
