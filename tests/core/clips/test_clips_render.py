"""Rendering real clips of the generated talk: frames, codecs, layout and captions on screen."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np
import pytest
from talk_kit import TranscribedTalk, read_frames

from core.clips.captions import CaptionStyle
from core.clips.envelope import load_envelope
from core.clips.moments import ClipMoment, moment_for_words
from core.clips.render import Bumpers, RenderedClip, choose_reframe, render_clip, render_clips
from core.media.audio import extract_audio
from core.media.errors import CorruptMedia, NoAudioTrack
from core.media.ffmpeg import run_ffmpeg
from core.media.probe import probe_media
from core.media.samples import make_corrupt_file, make_silent_video
from core.seed.data import CAPTION_STYLES

STYLES = {s["name"]: CaptionStyle.from_config(s["config"], name=s["name"]) for s in CAPTION_STYLES}
BOLD_POP = STYLES["Bold Pop"]


def _two_sentences(talk: TranscribedTalk, first_sentence: int) -> ClipMoment:
    """Sentences n and n+1 of the transcript (ends found by punctuation), cut on real silence."""
    words = talk.words
    ends = [i for i, w in enumerate(words) if w.text.endswith((".", "?", "!"))]
    first = ends[first_sentence - 1] + 1 if first_sentence else 0
    return moment_for_words(words, first, ends[first_sentence + 1], envelope=load_envelope(talk.wav))


def _top_level_boxes(path: Path) -> list[str]:
    boxes, data, offset = [], path.read_bytes(), 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        boxes.append(kind.decode("latin-1"))
        if size < 8:
            break
        offset += size
    return boxes


@pytest.fixture(scope="module")
def pair(
    talk: TranscribedTalk, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ClipMoment, RenderedClip, RenderedClip]:
    """The same two-sentence moment rendered with Bold Pop captions and without captions."""
    import asyncio

    out = tmp_path_factory.mktemp("render")
    moment = _two_sentences(talk, 3)  # "But short clips ..." + "Why do captions matter so much?"

    async def both() -> list[RenderedClip]:
        return await render_clips(
            talk.video.path, [moment, moment], style=None, reframe="crop", out_dir=out, names=["plain", "plain2"]
        )

    plain = asyncio.run(both())[0]
    captioned = asyncio.run(
        render_clip(talk.video.path, moment, style=BOLD_POP, reframe="crop", out_dir=out, name="bold")
    )
    return moment, captioned, plain


def test_output_is_a_sendable_vertical_mp4(pair: tuple[ClipMoment, RenderedClip, RenderedClip]) -> None:
    moment, clip, _ = pair
    info = probe_media(clip.path)

    assert (clip.width, clip.height) == (info.width, info.height) == (1080, 1920)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.duration_s == pytest.approx(moment.duration, abs=0.1)
    assert clip.size_bytes == clip.path.stat().st_size < 50_000_000
    boxes = _top_level_boxes(clip.path)
    assert boxes.index("moov") < boxes.index("mdat")  # web fast start
    with av.open(str(clip.thumbnail_path)) as thumb:
        frame = next(thumb.decode(video=0))
        assert (frame.width, frame.height) == (1080, 1920)
    assert clip.thumbnail_path.read_bytes()[:2] == b"\xff\xd8"


def test_captions_show_the_spoken_words_while_they_are_spoken(
    talk: TranscribedTalk, pair: tuple[ClipMoment, RenderedClip, RenderedClip]
) -> None:
    moment, captioned, plain = pair
    # Word times in the clip, and the true silence between the two sentences (from the synthesiser).
    spoken = [((w.start + w.end) / 2 - moment.start, w) for w in moment.words if w.end - w.start >= 0.2]
    spans = [s for s in talk.video.sentence_spans if moment.start < s[1] and s[0] < moment.end]
    assert len(spans) == 2
    silence = (spans[0][1] + spans[1][0]) / 2 - moment.start
    times = [t for t, _ in spoken] + [silence]
    with_captions, without = read_frames(captioned.path, times), read_frames(plain.path, times)

    band = slice(1920 // 2 - 200, 1920 // 2 + 200)  # Bold Pop sits in the middle of the frame
    highlight = np.array([0xFF, 0xE1, 0x4D], dtype=np.int16)
    centres: list[tuple[float, float]] = []
    for t, word in spoken:
        a, b = with_captions[t][band].astype(np.int16), without[t][band].astype(np.int16)
        changed = np.abs(a - b).sum(axis=2) > 60
        assert changed.mean() > 0.01, f"no caption on screen while {word.text!r} is spoken at {t:.2f} s"
        yellow = changed & (np.abs(a - highlight).sum(axis=2) < 60)
        assert yellow.sum() > 300, f"{word.text!r} is not highlighted at {t:.2f} s"
        centres.append((t, float(np.nonzero(yellow)[1].mean())))
    a, b = with_captions[silence][band].astype(np.int16), without[silence][band].astype(np.int16)
    assert (np.abs(a - b).sum(axis=2) > 60).mean() < 0.001, "a caption stays on screen in the pause"
    # The highlight walks left to right across each line as the words are said.
    moved_right = sum(1 for (_, x0), (_, x1) in zip(centres, centres[1:], strict=False) if x1 > x0)
    assert moved_right >= len(centres) // 2


async def test_each_caption_style_looks_different(talk: TranscribedTalk, tmp_path: Path) -> None:
    words = talk.words
    ends = [i for i, w in enumerate(words) if w.text.endswith((".", "?", "!"))]
    moment = moment_for_words(words, ends[3] + 1, ends[4])  # "Why do captions matter so much?"
    clips = [
        await render_clip(
            talk.video.path, moment, style=style, reframe="crop", out_dir=tmp_path, name=name.replace(" ", "")
        )
        for name, style in STYLES.items()
    ]
    at = (moment.words[1].start + moment.words[1].end) / 2 - moment.start
    frames = [read_frames(c.path, [at])[at].astype(np.int16) for c in clips]
    for i in range(len(frames)):
        for j in range(i + 1, len(frames)):
            differing = (np.abs(frames[i] - frames[j]).sum(axis=2) > 60).mean()
            assert differing > 0.005, f"{clips[i].path.name} and {clips[j].path.name} look the same"


async def test_square_blurred_fit_keeps_the_whole_picture(talk: TranscribedTalk, tmp_path: Path) -> None:
    moment = _two_sentences(talk, 4)
    clip = await render_clip(
        talk.video.path, moment, style=STYLES["Clean Minimal"], aspect_ratio="1:1", reframe="blur", out_dir=tmp_path
    )
    info = probe_media(clip.path)

    assert (info.width, info.height, clip.reframe) == (1080, 1080, "blur")
    assert info.duration_s == pytest.approx(moment.duration, abs=0.1)
    frame = read_frames(clip.path, [1.0])[1.0].astype(np.int16)
    # The 16:9 picture fills the middle 608 rows; above it is a blurred copy: smooth, no sharp edges.
    top, middle = frame[:200], frame[300:700]
    assert np.abs(np.diff(top, axis=1)).mean() < 0.3 * np.abs(np.diff(middle, axis=1)).mean()


async def test_auto_reframe_crops_a_talking_head_and_fits_busy_footage(talk: TranscribedTalk, tmp_path: Path) -> None:
    head = tmp_path / "head.mp4"
    # A "speaker" (busy picture) in the middle of a plain backdrop, as talking-head footage looks.
    await run_ffmpeg(
        [
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=0x406080:s=1280x720:r=25:d=4",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=360x720:r=25:d=4",
            "-filter_complex",
            "[0:v][1:v]overlay=(W-w)/2:0",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            head,
        ]
    )

    assert choose_reframe(head, probe_media(head), 0.5, 3.5, 9 / 16) == "crop"
    assert choose_reframe(talk.video.path, probe_media(talk.video.path), 5, 15, 9 / 16) == "blur"
    assert choose_reframe(talk.video.path, probe_media(talk.video.path), 5, 15, 16 / 9 * 0.9) == "crop"


async def test_corrupt_and_silent_inputs_give_clear_messages(talk: TranscribedTalk, tmp_path: Path) -> None:
    moment = _two_sentences(talk, 0)
    corrupt = make_corrupt_file(tmp_path / "broken.mp4", source=talk.video.path)
    with pytest.raises(CorruptMedia) as caught:
        await render_clip(corrupt, moment, style=BOLD_POP, out_dir=tmp_path)
    assert "could not be read" in caught.value.user_message

    silent = make_silent_video(tmp_path / "silent.mp4", seconds=3)
    with pytest.raises(NoAudioTrack) as silenced:
        await extract_audio(silent, tmp_path / "silent.wav")
    assert "silent" in silenced.value.user_message


def _audio_rms(path: Path, start: float, end: float) -> float:
    samples = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            assert frame.time is not None
            if start <= frame.time < end:
                samples.append(frame.to_ndarray().astype(np.float32).ravel())
    return float(np.sqrt(np.mean(np.concatenate(samples) ** 2))) if samples else 0.0


async def test_brand_intro_and_outro_are_joined_around_the_captioned_moment(
    talk: TranscribedTalk, pair: tuple[ClipMoment, RenderedClip, RenderedClip], tmp_path: Path
) -> None:
    moment, captioned, _ = pair
    intro, outro = tmp_path / "intro.mp4", tmp_path / "outro.mov"
    # A silent landscape intro and a portrait outro with a tone: other sizes, rates and containers.
    await run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=red:s=640x360:r=24:d=2", "-c:v", "libx264", intro])
    await run_ffmpeg(
        [
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=blue:s=720x1280:r=30:d=1.5",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1.5",
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
            outro,
        ]
    )

    clip = await render_clip(
        talk.video.path,
        moment,
        style=BOLD_POP,
        reframe="crop",
        out_dir=tmp_path,
        name="branded",
        bumpers=Bumpers(intro=intro, outro=outro),
    )
    info = probe_media(clip.path)

    assert (info.width, info.height, info.video_codec, info.audio_codec) == (1080, 1920, "h264", "aac")
    assert (clip.intro_seconds, clip.outro_seconds) == (pytest.approx(2.0, abs=0.05), pytest.approx(1.5, abs=0.05))
    assert info.duration_s == pytest.approx(2.0 + moment.duration + 1.5, abs=0.15)
    word = moment.words[2]
    t = (word.start + word.end) / 2 - moment.start
    frames = read_frames(clip.path, [1.0, 2.0 + t, info.duration_s - 0.5])
    red, blue = frames[1.0].astype(np.int16), frames[info.duration_s - 0.5].astype(np.int16)
    assert red[960, 540, 0] > 200 and red[960, 540, 2] < 60  # intro in the middle...
    assert red[100, 540].sum() < 40  # ...letterboxed, not cropped
    assert blue[960, 540, 2] > 200 and blue[960, 540, 0] < 60
    # Between them, the moment exactly as it renders without bumpers, captions at the same words.
    same = read_frames(captioned.path, [t])[t].astype(np.int16)
    assert np.abs(frames[2.0 + t].astype(np.int16) - same).mean() < 6
    # Silence under the silent intro, the speech in the middle, the outro's tone at the end.
    assert _audio_rms(clip.path, 0.2, 1.8) < 1e-3
    assert _audio_rms(clip.path, info.duration_s - 1.2, info.duration_s - 0.2) > 0.05


async def test_captions_render_on_a_machine_without_fonts_and_with_a_missing_brand_font(
    talk: TranscribedTalk,
    pair: tuple[ClipMoment, RenderedClip, RenderedClip],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moment, _, plain = pair
    # fontconfig with no font directories at all: what a slim container looks like.
    empty = tmp_path / "fonts.conf"
    empty.write_text(f'<?xml version="1.0"?><fontconfig><cachedir>{tmp_path}/fc-cache</cachedir></fontconfig>')
    monkeypatch.setenv("FONTCONFIG_FILE", str(empty))
    bold_pop = next(s for s in CAPTION_STYLES if s["name"] == "Bold Pop")
    branded = CaptionStyle.from_config(bold_pop["config"], name="Bold Pop", fonts={"caption": "Nonexistent Sans"})

    clip = await render_clip(talk.video.path, moment, style=branded, reframe="crop", out_dir=tmp_path, name="nofonts")

    word = moment.words[1]
    t = (word.start + word.end) / 2 - moment.start
    band = slice(1920 // 2 - 200, 1920 // 2 + 200)
    a = read_frames(clip.path, [t])[t][band].astype(np.int16)
    b = read_frames(plain.path, [t])[t][band].astype(np.int16)
    assert (np.abs(a - b).sum(axis=2) > 60).mean() > 0.01, "no caption drawn without system fonts"
