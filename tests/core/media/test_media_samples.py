"""The speech sample generator and the word error rate used to judge transcripts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.media.samples import make_talk_video, normalise_words, word_error_rate
from core.media.speech import synthesize


def test_synthesis_is_real_and_repeatable() -> None:
    first = synthesize("Recast turns one long video into many short posts.")
    second = synthesize("Recast turns one long video into many short posts.")

    assert first.sample_rate == 22_050
    assert 2.0 < first.duration_s < 6.0
    # eSpeak carries a little state between utterances: a few samples differ, the speech does not.
    assert abs(first.duration_s - second.duration_s) < 0.01
    assert [m.text for m in first.words] == [m.text for m in second.words]
    assert int(np.abs(first.samples).max()) > 5_000
    assert [m.text for m in first.words][:3] == ["Recast", "turns", "one"]
    starts = [m.start_s for m in first.words]
    assert starts == sorted(starts)


def test_talk_video_reports_what_it_says(tmp_path: Path) -> None:
    sentences = ["Short videos win.", "Long videos teach."]
    video = make_talk_video(tmp_path / "t.mp4", sentences, width=320, height=240, seconds_between=1.0)

    assert video.path.is_file()
    assert video.words == ["short", "videos", "win", "long", "videos", "teach"]
    (a_start, a_end), (b_start, b_end) = video.sentence_spans
    assert a_start == pytest.approx(0.5)
    assert b_start - a_end == pytest.approx(1.0, abs=0.001)
    assert b_end < video.duration_s
    marks = [m.start_s for m in video.word_marks]
    assert marks == sorted(marks) and a_start <= marks[0] < a_end and b_start <= marks[-1] < b_end


def test_talk_video_needs_sentences(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sentence"):
        make_talk_video(tmp_path / "t.mp4", [])


def test_word_error_rate() -> None:
    assert normalise_words("Hello, World! It's a well-known fact.") == [
        "hello",
        "world",
        "it's",
        "a",
        "well",
        "known",
        "fact",
    ]
    assert word_error_rate("the cat sat", "The cat sat.") == 0.0
    assert word_error_rate("the cat sat on the mat", "the cat sat on mat") == pytest.approx(1 / 6)
    assert word_error_rate("a b c d", "a x c d e") == pytest.approx(2 / 4)
    assert word_error_rate("one two", "") == 1.0
