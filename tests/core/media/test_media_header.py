"""read_header: what a container declares, without decoding a frame larger than the cap."""

from __future__ import annotations

from pathlib import Path

import upload_bombs as bombs

from core.media.probe import read_header
from core.media.samples import make_talk_video

EIGHT_K = 7680 * 4320


def test_an_honest_video_reports_its_frames_tracks_and_duration(tmp_path: Path) -> None:
    talk = make_talk_video(tmp_path / "talk.mp4", ["Hello and welcome to the show."], width=640, height=360)
    header = read_header(talk.path, max_frame_pixels=EIGHT_K)
    assert header.frame_sizes == ((640, 360),) and header.stream_count == 2
    assert header.audio_layouts[0][1] == 1 and header.audio_layouts[0][0] > 8000
    assert header.duration_s is not None and 1 < header.duration_s < 10


def test_a_frame_over_the_cap_is_never_decoded_so_its_size_stays_unknown(tmp_path: Path) -> None:
    video = bombs.gigapixel_video(tmp_path / "giga.mp4")
    # The MP4 leaves the PNG track's pixel format out, so libavformat decodes a frame to learn it;
    # under the cap the decoder refuses the 256 Mpx frame and the stream reports 0×0.
    assert read_header(video, max_frame_pixels=EIGHT_K).frame_sizes == ((0, 0),)
    # With a cap above it the same file decodes and reports what it is: proof the 0×0 is the cap's doing.
    assert read_header(video, max_frame_pixels=16000 * 16000 + 1).frame_sizes == ((16000, 16000),)


def test_a_few_hundred_bytes_can_declare_ten_hours(tmp_path: Path) -> None:
    voice = bombs.sparse_audio(tmp_path / "voice.ogg", claimed_s=10 * 3600)
    header = read_header(voice, max_frame_pixels=EIGHT_K)
    assert voice.stat().st_size < 2048 and header.duration_s is not None and header.duration_s >= 36000
    assert header.audio_layouts == ((48000, 1),) and header.frame_sizes == ()
