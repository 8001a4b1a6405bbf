"""The quality talks as real speech: eSpeak NG reads each talk, the packaged Whisper model transcribes it.

Audio and transcripts are made at run time from the text (nothing big is committed) and cached under the
system temp dir, keyed by the text, the voice and the model, so a second run costs nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sys
import tempfile
import wave
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.ai.transcription import LocalWhisperTranscriber, Segment, Transcript, Word  # noqa: E402
from core.media.speech import synthesize  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "recast-bench-speech"
_PAUSE_S = {"sentence": 0.35, "paragraph": 0.9}


def speak(text: str, *, voice: str = "en-us", rate_wpm: int = 160) -> Path:
    """A 16-bit mono WAV of ``text`` read sentence by sentence, a longer pause between paragraphs."""
    key = hashlib.sha256(f"{voice}|{rate_wpm}|{text}".encode()).hexdigest()[:16]
    path = CACHE / f"{key}.wav"
    if path.is_file():
        return path
    pieces: list[np.typing.NDArray[np.int16]] = []
    rate = 22050
    for paragraph in (p for p in re.split(r"\n\s*\n", text) if p.strip()):
        for sentence in re.split(r"(?<=[.!?])\s+", paragraph.strip()):
            speech = synthesize(sentence, voice=voice, rate_wpm=rate_wpm)
            rate = speech.sample_rate
            pieces += [speech.samples, np.zeros(round(_PAUSE_S["sentence"] * rate), dtype=np.int16)]
        pieces.append(np.zeros(round(_PAUSE_S["paragraph"] * rate), dtype=np.int16))
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    with wave.open(str(partial), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.concatenate(pieces).tobytes())
    partial.replace(path)
    return path


def transcribe(text: str, *, voice: str = "en-us", model: str = "auto") -> Transcript:
    """``text`` spoken by eSpeak NG and transcribed by the real offline transcriber (cached)."""
    audio = speak(text, voice=voice)
    key = hashlib.sha256(f"{audio.name}|{model}".encode()).hexdigest()[:16]
    cached = CACHE / f"{key}.json"
    if cached.is_file():
        raw = json.loads(cached.read_text())
        segments = [
            Segment(s["text"], s["start"], s["end"], [Word(**w) for w in s["words"]], s.get("second_opinion"))
            for s in raw["segments"]
        ]
        return Transcript(raw["text"], raw["language"], raw["confidence"], segments, raw["model"])
    transcript = asyncio.run(LocalWhisperTranscriber(model).transcribe(audio))
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(asdict(transcript)))
    return transcript


def voice_for(text: str) -> str:
    """The eSpeak NG voice that reads a talk: Hindi for Devanagari text, else American English."""
    return "hi" if re.search(r"[\u0900-\u097f]", text) else "en-us"
