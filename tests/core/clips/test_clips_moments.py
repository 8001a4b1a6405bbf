"""Choosing moments: real Whisper word timings of a generated talk, and hand-made timings for edge cases."""

from __future__ import annotations

import itertools
import wave

import numpy as np
import pytest
from talk_kit import TranscribedTalk

from core.ai.transcription import Word
from core.clips.envelope import load_envelope
from core.clips.errors import ClipError, NoSpeechForClips
from core.clips.moments import (
    WEIGHTS,
    adjust_moment,
    choose_moments,
    moment_for_words,
)
from core.clips.talk import ends_sentence


def _speech_rms(wav_path: str, start: float, end: float) -> float:
    with wave.open(wav_path, "rb") as wav:
        rate = wav.getframerate()
        wav.setpos(max(0, int(start * rate)))
        frames = wav.readframes(max(1, int((end - start) * rate)))
    samples = np.frombuffer(frames, dtype=np.int16).astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


def test_moments_are_whole_sentences_on_word_boundaries(talk: TranscribedTalk) -> None:
    words = talk.words
    moments = choose_moments(
        words,
        talk.analysis,
        count=4,
        min_seconds=6,
        max_seconds=14,
        media_duration=talk.video.duration_s,
        envelope=load_envelope(talk.wav),
    )

    assert 2 <= len(moments) <= 4
    assert [m.score for m in moments] == sorted((m.score for m in moments), reverse=True)
    speech = _speech_rms(str(talk.wav), 0, talk.video.duration_s)
    for m in moments:
        first, last = words[m.first_word], words[m.last_word]
        assert m.words == words[m.first_word : m.last_word + 1]
        # Cuts follow the real silence, so they may differ from Whisper's timings, but never by a word.
        assert first.start + 0.8 >= m.start and m.end >= last.end - 0.8
        if m.first_word > 0:
            assert m.start >= words[m.first_word - 1].start
            assert ends_sentence(words[m.first_word - 1])
        if m.last_word + 1 < len(words):
            assert m.end <= words[m.last_word + 1].end
        assert ends_sentence(last) or m.last_word == len(words) - 1
        assert 6 <= last.end - first.start <= 14
        assert m.text.split() == [w.text for w in m.words]
        # ... and in the real audio, too: the synthesised speech is quiet at both cut points.
        for cut in (m.start, m.end):
            assert _speech_rms(str(talk.wav), cut - 0.02, cut + 0.02) < 0.1 * speech
        expected = 100 * sum(WEIGHTS[k] * v for k, v in m.components.items())
        assert m.score == pytest.approx(expected, abs=0.01)
        assert set(m.components) == {"hook", "keywords", "sentiment", "pace", "question"}
        assert all(0 <= v <= 1 for v in m.components.values())
    for a, b in itertools.combinations(moments, 2):
        assert a.end <= b.start or b.end <= a.start


def test_hooks_open_clips_first(talk: TranscribedTalk) -> None:
    moments = choose_moments(talk.words, talk.analysis, count=3, min_seconds=6, max_seconds=14)
    best = choose_moments(talk.words, talk.analysis, count=1, min_seconds=6, max_seconds=14)

    # Runs opening on a hook are taken before any other run, whatever its score: a single clip is always
    # one of them. (The list is ordered by score, so a filler run may still rank above a hook run.)
    assert best[0].hook_start
    assert (best[0].first_word, best[0].last_word) in {(m.first_word, m.last_word) for m in moments}
    # A sentence opening on a back-reference ("Because ...", "Then ...") never opens a hook clip.
    for m in moments:
        if m.hook_start:
            assert m.text.split()[0].lower() not in {"because", "then", "they", "so", "but"}


def test_count_is_configurable_and_short_talk_gives_fewer(talk: TranscribedTalk) -> None:
    six = choose_moments(talk.words, talk.analysis, count=6, min_seconds=4, max_seconds=8)
    one = choose_moments(talk.words, talk.analysis, count=1, min_seconds=4, max_seconds=8)
    few = choose_moments(talk.words, talk.analysis, count=6, min_seconds=20, max_seconds=30)

    assert len(six) == 6
    assert len(one) == 1
    assert one[0].score == max(m.score for m in six if m.hook_start)
    assert 1 <= len(few) <= 3  # a ~60 s talk holds at most three clips of 20 s or more


def _words(spec: str, *, start: float = 0.0, step: float = 0.4, gap: float = 0.8) -> list[Word]:
    words, t = [], start
    for token in spec.split():
        words.append(Word(token, round(t, 3), round(t + step * 0.8, 3), 0.9))
        t += step + (gap if token.endswith((".", "?", "!")) else 0)
    return words


def test_talk_shorter_than_the_minimum_is_one_clip_of_all_of_it() -> None:
    words = _words("Short talks still count. They make one clip.")

    [moment] = choose_moments(words, min_seconds=15)

    assert (moment.first_word, moment.last_word) == (0, len(words) - 1)
    assert moment.start == 0.0 and moment.end == pytest.approx(words[-1].end + 0.2)


def test_no_words_is_a_clear_error() -> None:
    with pytest.raises(NoSpeechForClips) as caught:
        choose_moments([])
    assert "speech" in caught.value.user_message
    with pytest.raises(ClipError, match="clip length"):
        choose_moments(_words("A b."), min_seconds=10, max_seconds=5)


def test_a_sentence_longer_than_the_maximum_is_split_at_a_clause() -> None:
    text = " ".join(["word"] * 20) + ", " + " ".join(["more"] * 19) + " end."
    words = _words(text.replace(" ,", ","), step=0.5)

    moments = choose_moments(words, count=3, min_seconds=5, max_seconds=12)

    assert moments and all(m.words[-1].end - m.words[0].start <= 12 for m in moments)
    assert any(m.words[-1].text == "word," or m.words[0].text == "more" for m in moments)


def test_adjusting_a_moment_stays_on_word_boundaries(talk: TranscribedTalk) -> None:
    words = talk.words
    base = choose_moments(words, talk.analysis, count=1, min_seconds=8, max_seconds=14)[0]

    later = adjust_moment(words, base, start_shift=3.0)
    earlier_end = adjust_moment(words, base, end_shift=-2.0)
    shorter = adjust_moment(words, base, scale=0.67)
    longer = adjust_moment(words, base, scale=1.5)

    assert later.first_word > base.first_word and later.last_word == base.last_word
    assert words[later.first_word].start == pytest.approx(words[base.first_word].start + 3.0, abs=0.8)
    assert earlier_end.last_word < base.last_word
    assert words[earlier_end.last_word].end == pytest.approx(words[base.last_word].end - 2.0, abs=0.8)
    assert shorter.duration < base.duration and shorter.first_word == base.first_word
    assert ends_sentence(words[shorter.last_word]) or shorter.last_word < base.last_word
    assert longer.duration > base.duration
    for m in (later, earlier_end, shorter, longer):
        assert m.start >= words[m.first_word - 1].end if m.first_word else m.start >= 0
        assert m.start <= words[m.first_word].start and m.end >= words[m.last_word].end
    with pytest.raises(ClipError, match="almost nothing"):
        adjust_moment(words, base, start_shift=base.duration + 30)
    same = moment_for_words(words, base.first_word, base.last_word, talk.analysis)
    assert (same.start, same.end, same.score) == (base.start, base.end, base.score)
