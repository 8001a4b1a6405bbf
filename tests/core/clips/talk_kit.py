"""Shared by the clip tests: the talk they all use and reading frames of rendered clips."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from core.ai.analysis.results import ContentAnalysisResult
from core.ai.transcription import Transcript, Word
from core.media.samples import TalkVideo

SENTENCES = [
    "Most creators waste hours editing videos that nobody watches.",
    "Here is the one mistake I see every single week.",
    "They post the whole talk and hope the algorithm finds the best part.",
    "But short clips with captions get three times more views.",
    "Why do captions matter so much?",
    "Because most people scroll through their feed with the sound turned off.",
    "So you should pick a strong hook for the first three seconds.",
    "Then cut the clip where the sentence ends, never in the middle of a word.",
    "The secret is simple: post often and learn from what works.",
    "Your best ideas deserve more than one post.",
]
GAP_S = 1.5


@dataclass(frozen=True)
class TranscribedTalk:
    video: TalkVideo
    wav: Path
    transcript: Transcript
    analysis: ContentAnalysisResult

    @property
    def words(self) -> list[Word]:
        return self.transcript.words


def read_frames(path: Path, times: list[float]) -> dict[float, npt.NDArray[np.uint8]]:
    """RGB frames shown at each of ``times`` (the last frame whose timestamp is not after it)."""
    wanted = sorted(times)
    found: dict[float, npt.NDArray[np.uint8]] = {}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        previous = None
        index = 0
        for frame in container.decode(stream):
            assert frame.time is not None
            while index < len(wanted) and frame.time > wanted[index] + 1e-3:
                if previous is not None:
                    found[wanted[index]] = previous.to_ndarray(format="rgb24")
                index += 1
            previous = frame
            if index >= len(wanted):
                break
        while previous is not None and index < len(wanted):
            found[wanted[index]] = previous.to_ndarray(format="rgb24")
            index += 1
    return found
