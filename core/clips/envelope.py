"""Loudness of the speech track, to put a clip's cuts where it is really quiet."""

from __future__ import annotations

import os
import wave
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.ai.transcription import Word


@dataclass(frozen=True, slots=True)
class SpeechEnvelope:
    """Loudness of the speech track in 10 ms frames, to put cuts where it is really quiet: word
    timings from a transcriber can be a few hundred milliseconds off."""

    rms: npt.NDArray[np.float64]
    frame_s: float = 0.01

    @property
    def quiet(self) -> float:
        """Below this a frame counts as silence: 3% of the loud (95th percentile) speech level."""
        return 0.03 * float(np.percentile(self.rms, 95)) if self.rms.size else 0.0


def load_envelope(wav_path: str | os.PathLike[str]) -> SpeechEnvelope:
    """The envelope of a 16-bit PCM WAV (e.g. ``core.media.audio.extract_audio``'s output)."""
    with wave.open(os.fspath(wav_path), "rb") as wav:
        rate, channels = wav.getframerate(), wav.getnchannels()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    mono = samples.reshape(-1, channels).mean(axis=1) if channels > 1 else samples.astype(np.float64)
    hop = max(1, rate // 100)
    frames = len(mono) // hop
    blocks = mono[: frames * hop].astype(np.float64).reshape(frames, hop)
    return SpeechEnvelope(rms=np.sqrt((blocks**2).mean(axis=1)), frame_s=hop / rate)


SNAP_SECONDS = 0.8
"""How far from the transcript's cut the audio is searched for silence (small models drift this much)."""


def snap_to_silence(
    env: SpeechEnvelope, words: Sequence[Word], first: int, last: int, start: float, end: float, pad: float
) -> tuple[float, float]:
    """Move each cut into the longest real silence near it (sentence pauses are the longest): the start
    to just before the speech that opens the clip, the end to just after the speech that closes it,
    keeping up to ``pad`` of the silence. Without any silence nearby the quietest frame is used."""
    rms, step, quiet = env.rms, env.frame_s, env.quiet
    if not rms.size:
        return start, end

    def longest_silence(lo: float, hi: float, nominal: float) -> tuple[int, int] | int | None:
        window = range(max(0, int(lo / step)), min(len(rms), int(hi / step) + 1))
        if not window:
            return None
        runs: list[tuple[int, int]] = []
        for i in window:
            if rms[i] <= quiet:
                if runs and runs[-1][1] == i - 1:
                    runs[-1] = (runs[-1][0], i)
                else:
                    runs.append((i, i))
        if not runs:
            return min(window, key=lambda i: rms[i])
        nominal_frame = nominal / step
        return max(runs, key=lambda r: (r[1] - r[0], -min(abs(r[0] - nominal_frame), abs(r[1] - nominal_frame))))

    first_word, last_word = words[first], words[last]
    lo = max(start - SNAP_SECONDS, words[first - 1].start if first else 0.0)
    found = longest_silence(lo, first_word.start + SNAP_SECONDS, start)
    if isinstance(found, tuple):
        start = max(found[0] * step, (found[1] + 1) * step - pad)
    elif found is not None:
        start = found * step
    following = words[last + 1] if last + 1 < len(words) else None
    hi = min(end + SNAP_SECONDS, following.end if following else end + SNAP_SECONDS)
    found = longest_silence(last_word.end - SNAP_SECONDS, hi, end)
    if isinstance(found, tuple):
        end = min((found[1] + 1) * step, found[0] * step + pad)
    elif found is not None:
        end = found * step
    return start, max(end, start + step)
