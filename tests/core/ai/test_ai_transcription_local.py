"""LocalWhisperTranscriber on real synthesised speech, with the packaged tiny.en model."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from core.ai.transcription import (
    LocalWhisperTranscriber,
    Transcriber,
    TranscriberUnavailable,
    Transcript,
    resolve_model_path,
)
from core.media.audio import extract_audio
from core.media.samples import TalkVideo, make_talk_video, normalise_words, word_error_rate

SENTENCES = [
    "Good morning and welcome to the weekly team meeting.",
    "Today we will talk about our plans for the new product launch.",
    "Our customers want simple tools that save them time every day.",
    "Please send your ideas to the marketing team before Friday.",
]


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> TalkVideo:
    return make_talk_video(
        tmp_path_factory.mktemp("stt") / "talk.mp4", SENTENCES, width=640, height=360, seconds_between=1.0
    )


@pytest.fixture(scope="module")
def transcriber() -> LocalWhisperTranscriber:
    return LocalWhisperTranscriber("packaged:tiny.en")


async def test_transcribes_generated_speech(
    talk: TalkVideo, transcriber: LocalWhisperTranscriber, tmp_path: Path
) -> None:
    wav = await extract_audio(talk.path, tmp_path / "talk.wav")

    transcript = await transcriber.transcribe(wav)

    assert isinstance(transcriber, Transcriber)
    assert isinstance(transcript, Transcript)
    assert word_error_rate(talk.words, transcript.text) < 0.25
    assert transcript.language == "en"
    assert transcript.model == "packaged:tiny.en"
    assert 50 < transcript.confidence <= 100
    assert transcript.text == " ".join(s.text for s in transcript.segments)

    words = transcript.words
    assert len(words) >= 0.75 * len(talk.words)
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    for word in words:
        assert 0.0 <= word.start <= word.end <= talk.duration_s + 0.05
        assert 0.0 <= word.probability <= 1.0
    for segment in transcript.segments:
        assert segment.start <= segment.words[0].start and segment.words[-1].end <= segment.end + 0.05


async def test_word_timestamps_fall_in_their_sentence(
    talk: TalkVideo, transcriber: LocalWhisperTranscriber, tmp_path: Path
) -> None:
    """Sentences are one second apart: words timed in the wrong place land in the wrong sentence."""
    wav = await extract_audio(talk.path, tmp_path / "talk.wav")
    transcript = await transcriber.transcribe(wav)

    for sentence, (start, end) in zip(SENTENCES, talk.sentence_spans, strict=True):
        heard = [w.text for w in transcript.words if start - 0.4 <= (w.start + w.end) / 2 <= end + 0.4]
        assert word_error_rate(normalise_words(sentence), normalise_words(" ".join(heard))) < 0.34, (
            sentence,
            heard,
        )


async def test_silence_gives_an_empty_transcript(transcriber: LocalWhisperTranscriber, tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(np.zeros(16_000 * 3, dtype=np.int16).tobytes())

    transcript = await transcriber.transcribe(path)

    assert transcript.segments == [] and transcript.text == ""
    assert transcript.confidence == 0.0


def test_model_setting_is_resolved(tmp_path: Path) -> None:
    packaged = resolve_model_path("packaged:tiny.en")
    assert (packaged / "model.bin").is_file()
    assert resolve_model_path(str(packaged)) == packaged
    with pytest.raises(TranscriberUnavailable, match="large-v3"):
        resolve_model_path("packaged:large-v3")
    with pytest.raises(TranscriberUnavailable, match="model.bin"):
        LocalWhisperTranscriber(str(tmp_path))
