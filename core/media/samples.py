"""Media with known content, for tests and the demo: real synthesised speech over an ffmpeg test pattern."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.media.errors import MediaProcessingFailed
from core.media.ffmpeg import find_ffmpeg
from core.media.speech import SpokenWordMark, synthesize

LEAD_IN_S = 0.5
TAIL_S = 0.5
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class TalkVideo:
    path: Path
    sentences: list[str]
    words: list[str]
    """Normalised words as spoken, in order (see ``normalise_words``)."""
    word_marks: list[SpokenWordMark]
    """Where the synthesiser started each word, in seconds from the start of the video (approximate)."""
    sentence_spans: list[tuple[float, float]]
    """Exact (start, end) of each sentence's synthesised audio, in seconds."""
    duration_s: float
    width: int
    height: int
    fps: int


def make_talk_video(
    path: str | os.PathLike[str],
    sentences: list[str],
    *,
    width: int = 1280,
    height: int = 720,
    seconds_between: float = 0.4,
    fps: int = 25,
    voice: str = "en-us",
    rate_wpm: int = 150,
) -> TalkVideo:
    """Speak ``sentences`` (English) over a testsrc2 pattern into an H.264 + AAC MP4 at ``path``."""
    if not sentences:
        raise ValueError("at least one sentence is needed")
    sample_rate = 0
    pieces: list[np.typing.NDArray[np.int16]] = []
    marks: list[SpokenWordMark] = []
    spans: list[tuple[float, float]] = []
    offset_s = LEAD_IN_S
    for index, sentence in enumerate(sentences):
        speech = synthesize(sentence, voice=voice, rate_wpm=rate_wpm)
        sample_rate = speech.sample_rate
        if index == 0:
            pieces.append(np.zeros(round(LEAD_IN_S * sample_rate), dtype=np.int16))
        else:
            gap = np.zeros(round(seconds_between * sample_rate), dtype=np.int16)
            pieces.append(gap)
            offset_s += len(gap) / sample_rate
        pieces.append(speech.samples)
        marks.extend(SpokenWordMark(m.text, round(offset_s + m.start_s, 3)) for m in speech.words)
        spans.append((round(offset_s, 3), round(offset_s + speech.duration_s, 3)))
        offset_s += speech.duration_s
    pieces.append(np.zeros(round(TAIL_S * sample_rate), dtype=np.int16))
    pcm = np.concatenate(pieces)
    duration_s = len(pcm) / sample_rate

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="recast-tts-") as tmp:
        speech_wav = Path(tmp) / "speech.wav"
        with wave.open(str(speech_wav), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            out.writeframes(pcm.tobytes())
        _ffmpeg(
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={width}x{height}:rate={fps}",
            "-i",
            str(speech_wav),
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-t",
            f"{duration_s:.3f}",
            *_H264_AAC,
            str(target),
        )
    return TalkVideo(
        path=target,
        sentences=list(sentences),
        words=normalise_words(" ".join(sentences)),
        word_marks=marks,
        sentence_spans=spans,
        duration_s=duration_s,
        width=width,
        height=height,
        fps=fps,
    )


def make_silent_video(
    path: str | os.PathLike[str],
    *,
    seconds: float = 3.0,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    audio_track: bool = True,
) -> Path:
    """A test-pattern MP4 whose audio track is digital silence (or that has no audio track at all)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    inputs = ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}"]
    if audio_track:
        inputs += ["-f", "lavfi", "-i", "anullsrc=channel_layout=stereo:sample_rate=44100"]
    maps = ["-map", "0:v"] + (["-map", "1:a"] if audio_track else [])
    codecs = _H264_AAC if audio_track else _H264_AAC[: _H264_AAC.index("-c:a")]
    _ffmpeg("-y", *inputs, *maps, "-t", f"{seconds:.3f}", *codecs, str(target))
    return target


def make_corrupt_file(
    path: str | os.PathLike[str], *, source: str | os.PathLike[str] | None = None, size: int = 64_000
) -> Path:
    """A file that no demuxer accepts: an MP4 ``ftyp`` header followed by noise, or a truncated ``source``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if source is not None:
        # An MP4 written without faststart keeps its index (moov) at the end; the first half has none.
        data = Path(source).read_bytes()
        target.write_bytes(data[: len(data) // 2])
    else:
        noise = np.random.default_rng(7).integers(0, 256, size, dtype=np.uint8).tobytes()
        target.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + noise)
    return target


def normalise_words(text: str) -> list[str]:
    """Lower-case words without punctuation, for comparing transcripts."""
    return _WORD.findall(text.lower().replace("-", " "))


def word_error_rate(reference: str | Sequence[str], hypothesis: str | Sequence[str]) -> float:
    """(substitutions + deletions + insertions) / reference words, over normalised words."""
    ref = normalise_words(reference) if isinstance(reference, str) else list(reference)
    hyp = normalise_words(hypothesis) if isinstance(hypothesis, str) else list(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def edit_distance(a: Sequence[object], b: Sequence[object]) -> int:
    """Levenshtein distance: substitutions + deletions + insertions turning ``a`` into ``b`` (words or letters)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, y in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y))
        previous = current
    return previous[-1]


_H264_AAC = [
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    "-b:a",
    "96k",
]


def _ffmpeg(*args: str) -> None:
    command = [find_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", *args]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise MediaProcessingFailed(detail=f"ffmpeg exited with {completed.returncode}: {completed.stderr}")
