"""Audio extraction and the ffmpeg runner, with the real ffmpeg binary."""

from __future__ import annotations

import math
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from core.media.audio import extract_audio, parse_max_volume
from core.media.errors import CorruptMedia, MediaProcessingFailed, MediaToolMissing, NoAudioTrack
from core.media.ffmpeg import find_ffmpeg, run_ffmpeg
from core.media.probe import probe_media
from core.media.samples import TalkVideo, make_corrupt_file, make_silent_video, make_talk_video
from core.media.toolkit import FfmpegMediaToolkit, MediaToolkit


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> TalkVideo:
    return make_talk_video(
        tmp_path_factory.mktemp("audio") / "talk.mp4",
        ["This is a short test of the audio track.", "It should come out at sixteen kilohertz."],
        width=640,
        height=360,
    )


async def test_extract_audio_writes_16khz_mono_wav(talk: TalkVideo, tmp_path: Path) -> None:
    out = await extract_audio(talk.path, tmp_path / "nested" / "speech.wav")

    assert out == tmp_path / "nested" / "speech.wav"
    with wave.open(str(out), "rb") as wav:
        assert wav.getframerate() == 16_000
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        duration = wav.getnframes() / wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    assert duration == pytest.approx(talk.duration_s, abs=0.1)
    rms = math.sqrt(float(np.mean(samples.astype(np.float64) ** 2)))
    assert rms > 300  # speech, not silence
    info = probe_media(out)
    assert (info.container, info.mime_type, info.audio_codec) == ("wav", "audio/wav", "pcm_s16le")
    assert (info.audio_sample_rate, info.audio_channels) == (16_000, 1)


async def test_silent_audio_track_raises_no_audio_track(tmp_path: Path) -> None:
    video = make_silent_video(tmp_path / "silent.mp4", seconds=2.0)
    dst = tmp_path / "silent.wav"

    with pytest.raises(NoAudioTrack, match="silent"):
        await extract_audio(video, dst)
    assert not dst.exists()


async def test_missing_audio_track_raises_no_audio_track(tmp_path: Path) -> None:
    video = make_silent_video(tmp_path / "mute.mp4", seconds=1.0, audio_track=False)

    with pytest.raises(NoAudioTrack, match="no sound track"):
        await extract_audio(video, tmp_path / "mute.wav")


async def test_quiet_but_audible_tone_is_not_silence(tmp_path: Path) -> None:
    src = tmp_path / "quiet.wav"
    # -40 dBFS: quiet, but well above the -60 dB silence threshold.
    await run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=frequency=300:duration=1", "-af", "volume=-31dB", src])

    out = await extract_audio(src, tmp_path / "out.wav")
    assert out.exists()


async def test_corrupt_file_raises_corrupt_media(tmp_path: Path) -> None:
    with pytest.raises(CorruptMedia):
        await extract_audio(make_corrupt_file(tmp_path / "bad.mp4"), tmp_path / "bad.wav")


def test_parse_max_volume() -> None:
    log = "[Parsed_volumedetect_0 @ 0x1] mean_volume: -20.5 dB\n[Parsed_volumedetect_0 @ 0x1] max_volume: -3.2 dB"
    assert parse_max_volume(log) == -3.2
    assert parse_max_volume("max_volume: -inf dB") == float("-inf")
    assert parse_max_volume("no filter output") is None


async def test_run_ffmpeg_failure_carries_stderr(tmp_path: Path) -> None:
    with pytest.raises(MediaProcessingFailed) as caught:
        await run_ffmpeg(["-i", tmp_path / "does-not-exist.mp4", "-f", "null", "-"])
    assert "does-not-exist.mp4" in caught.value.detail
    assert "does-not-exist" not in str(caught.value)


async def test_run_ffmpeg_timeout_kills_the_process() -> None:
    started = time.monotonic()
    with pytest.raises(MediaProcessingFailed, match="too long"):
        # An endless source: only the timeout can end it.
        await run_ffmpeg(["-re", "-f", "lavfi", "-i", "testsrc2", "-f", "null", "-"], timeout=0.5)
    assert time.monotonic() - started < 5


def test_find_ffmpeg_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = find_ffmpeg()
    assert Path(real).is_file()
    monkeypatch.setenv("FFMPEG_BINARY", real)
    assert find_ffmpeg() == real
    monkeypatch.setenv("FFMPEG_BINARY", str(tmp_path / "no-ffmpeg"))
    with pytest.raises(MediaToolMissing) as caught:
        find_ffmpeg()
    assert "no-ffmpeg" in caught.value.detail


async def test_ffmpeg_toolkit_implements_the_port(talk: TalkVideo, tmp_path: Path) -> None:
    toolkit: MediaToolkit = FfmpegMediaToolkit(timeout=60)
    assert isinstance(toolkit, MediaToolkit)

    info = await toolkit.probe(talk.path)
    wav = await toolkit.extract_audio(talk.path, tmp_path / "a.wav")

    assert (info.width, info.height) == (640, 360)
    assert probe_media(wav).duration_s == pytest.approx(info.duration_s, abs=0.1)
