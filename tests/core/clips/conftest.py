"""One real talk for the clip tests: synthesised speech with known sentences over a test pattern,
transcribed by the packaged Whisper model (the timings the pipeline really has)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from talk_kit import GAP_S, SENTENCES, TranscribedTalk

from core.ai.analysis.offline_analyser import analyse_offline
from core.ai.transcription import LocalWhisperTranscriber, Transcript
from core.media.audio import extract_audio
from core.media.samples import make_talk_video


@pytest.fixture(scope="session")
def talk(tmp_path_factory: pytest.TempPathFactory) -> TranscribedTalk:
    folder = tmp_path_factory.mktemp("clips-talk")
    video = make_talk_video(folder / "talk.mp4", SENTENCES, seconds_between=GAP_S, rate_wpm=140)

    async def transcribe() -> tuple[Path, Transcript]:
        wav = await extract_audio(video.path, folder / "talk.wav")
        return wav, await LocalWhisperTranscriber("packaged:tiny.en").transcribe(wav)

    wav, transcript = asyncio.run(transcribe())
    analysis = analyse_offline(transcript.text, [(s.text, s.start, s.end) for s in transcript.segments])
    return TranscribedTalk(video=video, wav=wav, transcript=transcript, analysis=analysis)
