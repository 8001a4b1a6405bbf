"""probe_media on real files made with the bundled ffmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.media.errors import CorruptMedia, MediaError, UnsupportedMedia
from core.media.ffmpeg import run_ffmpeg
from core.media.probe import probe_media
from core.media.samples import TalkVideo, make_corrupt_file, make_silent_video, make_talk_video


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> TalkVideo:
    return make_talk_video(
        tmp_path_factory.mktemp("probe") / "talk.mp4",
        ["Hello and welcome to the show.", "Today we talk about video."],
        width=1280,
        height=720,
    )


def test_probe_reads_generated_talk_video(talk: TalkVideo) -> None:
    info = probe_media(talk.path)

    assert (info.width, info.height) == (1280, 720)
    assert info.fps == 25.0
    assert info.video_codec == "h264"
    assert info.audio_codec == "aac"
    assert info.has_video and info.has_audio
    assert info.container == "mp4"
    assert info.mime_type == "video/mp4"
    assert info.size_bytes == talk.path.stat().st_size
    assert info.duration_s == pytest.approx(talk.duration_s, abs=0.1)
    assert info.audio_channels == 1


def test_probe_video_without_audio_track(tmp_path: Path) -> None:
    path = make_silent_video(tmp_path / "mute.mov", seconds=2.0, width=640, height=360, fps=30, audio_track=False)

    info = probe_media(path)

    assert (info.width, info.height, info.fps) == (640, 360, 30.0)
    assert info.has_video and not info.has_audio
    assert info.audio_codec is None
    assert info.container == "mov"
    assert info.mime_type == "video/quicktime"
    assert info.duration_s == pytest.approx(2.0, abs=0.05)


async def test_probe_audio_only_file(tmp_path: Path) -> None:
    path = tmp_path / "tone.mp3"
    await run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1.5", path])

    info = probe_media(path)

    assert not info.has_video and info.has_audio
    assert info.width is None and info.fps is None
    assert info.audio_codec == "mp3"
    assert info.mime_type == "audio/mpeg"
    assert info.duration_s == pytest.approx(1.5, abs=0.1)


@pytest.mark.parametrize("kind", ["noise", "truncated", "text", "empty", "missing"])
def test_unreadable_files_raise_corrupt_media(kind: str, tmp_path: Path, talk: TalkVideo) -> None:
    path = tmp_path / "upload.mp4"
    if kind == "noise":
        make_corrupt_file(path)
    elif kind == "truncated":
        make_corrupt_file(path, source=talk.path)
    elif kind == "text":
        path.write_text("name,views\nfirst post,120\n" * 50)
    elif kind == "empty":
        path.write_bytes(b"")

    with pytest.raises(CorruptMedia) as caught:
        probe_media(path)

    message = str(caught.value)
    assert message == caught.value.user_message
    assert str(tmp_path) not in message and "Errno" not in message
    assert len(message) < 120


async def test_image_raises_unsupported_media(tmp_path: Path) -> None:
    path = tmp_path / "cover.png"
    await run_ffmpeg(["-y", "-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1", path])

    with pytest.raises(UnsupportedMedia, match="image"):
        probe_media(path)


def test_subtitles_only_file_raises_unsupported_media(tmp_path: Path) -> None:
    path = tmp_path / "captions.srt"
    path.write_text("1\n00:00:00,000 --> 00:00:02,000\nHello there\n\n2\n00:00:02,500 --> 00:00:04,000\nBye\n")

    with pytest.raises(UnsupportedMedia) as caught:
        probe_media(path)
    assert isinstance(caught.value, MediaError)
    assert "video or audio" in str(caught.value)
