"""Benchmark: render 5 captioned 9:16 clips from a 10-minute 1080p talk, against plain ffmpeg doing the
same cuts and scaling without captions, in the same run.

    .venv/bin/python bench/clips.py [--minutes 10] [--clips 5]

The talk (speech + testsrc2 at 1920x1080) is generated once and cached under /tmp.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from core.ai.transcription import Word
from core.clips.captions import CaptionStyle
from core.clips.envelope import load_envelope
from core.clips.moments import choose_moments
from core.clips.render import FRAME_SIZES, render_clips
from core.media.audio import extract_audio
from core.media.ffmpeg import run_ffmpeg
from core.media.samples import make_talk_video
from core.seed.data import CAPTION_STYLES

CACHE = Path(tempfile.gettempdir()) / "recast-bench-clips"
LINES = [
    "Most creators waste hours editing videos that nobody watches.",
    "Here is the one mistake I see every single week.",
    "They post the whole talk and hope the algorithm finds the best part.",
    "But short clips with captions get three times more views.",
    "Why do captions matter so much?",
    "Because most people scroll through their feed with the sound turned off.",
    "So you should pick a strong hook for the first three seconds.",
    "Then cut the clip where the sentence ends, never in the middle of a word.",
    "The secret is simple, post often and learn from what works.",
    "Your best ideas deserve more than one post.",
]


def talk(minutes: float) -> tuple[Path, list[Word], Path]:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"talk-{minutes:g}min-1080p.mp4"
    sentences = [LINES[i % len(LINES)] for i in range(int(minutes * 60 / 4.2))]
    # Word timings from the synthesiser's marks (the bench measures rendering, not transcription).
    video = (
        make_talk_video(path.with_suffix(".tmp.mp4"), sentences, width=1920, height=1080, seconds_between=0.6)
        if not path.exists()
        else None
    )
    if video is not None:
        video.path.replace(path)
    marks_source = make_marks(sentences)
    wav = CACHE / f"talk-{minutes:g}min.wav"
    if not wav.exists():
        asyncio.run(extract_audio(path, wav))
    return path, marks_source, wav


def make_marks(sentences: list[str]) -> list[Word]:
    from core.media.samples import LEAD_IN_S
    from core.media.speech import synthesize

    words: list[Word] = []
    offset = LEAD_IN_S
    for index, sentence in enumerate(sentences):
        speech = synthesize(sentence)
        if index:
            offset += round(0.6 * speech.sample_rate) / speech.sample_rate
        tokens = sentence.split()
        marks = speech.words
        for k, mark in enumerate(marks):
            end = marks[k + 1].start_s if k + 1 < len(marks) else speech.duration_s
            text = tokens[k] if len(marks) == len(tokens) else mark.text + ("." if k + 1 == len(marks) else "")
            words.append(Word(text, round(offset + mark.start_s, 3), round(offset + end - 0.02, 3), 1.0))
        offset += speech.duration_s
    return words


async def plain_ffmpeg(src: Path, moments: list, out_dir: Path, concurrency: int) -> None:
    width, height = FRAME_SIZES["9:16"]
    gate = asyncio.Semaphore(concurrency)
    threads = max(1, (os.cpu_count() or 1) // min(concurrency, len(moments)))

    async def one(i: int, start: float, end: float) -> None:
        async with gate:
            await run_ffmpeg(
                [
                    "-y",
                    "-ss",
                    f"{start:.3f}",
                    "-t",
                    f"{end - start:.3f}",
                    "-i",
                    src,
                    "-vf",
                    f"crop=ih*{width}/{height}:ih,scale={width}:{height}",
                    "-c:v",
                    "libx264",
                    "-preset",
                    "veryfast",
                    "-threads",
                    str(threads),
                    "-c:a",
                    "aac",
                    "-b:a",
                    "128k",
                    out_dir / f"plain-{i}.mp4",
                ]
            )

    async with asyncio.TaskGroup() as group:
        for i, m in enumerate(moments):
            group.create_task(one(i, m.start, m.end))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clips", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    src, words, wav = talk(args.minutes)
    print(f"talk: {src} ({time.perf_counter() - started:.1f} s to prepare, cached afterwards)")
    moments = choose_moments(words, count=args.clips, envelope=load_envelope(wav))
    seconds = sum(m.duration for m in moments)
    print(f"{len(moments)} clips, {seconds:.1f} s of video in all: " + ", ".join(f"{m.duration:.1f}" for m in moments))
    style = CaptionStyle.from_config(CAPTION_STYLES[0]["config"], name=CAPTION_STYLES[0]["name"])
    cpus = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="recast-bench-") as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        asyncio.run(plain_ffmpeg(src, moments, out, cpus))
        plain = time.perf_counter() - t0
        results = {}
        for reframe in ("crop", "blur"):
            t0 = time.perf_counter()
            clips = asyncio.run(render_clips(src, moments, style=style, reframe=reframe, out_dir=out / reframe))
            results[reframe] = (time.perf_counter() - t0, clips)
    print(f"plain ffmpeg (cut + crop/scale to 1080x1920, no captions): {plain:.1f} s")
    for reframe, (elapsed, clips) in results.items():
        sizes = ", ".join(f"{c.size_bytes / 1e6:.1f}" for c in clips)
        print(
            f"recast render_clips ({reframe}, captions, thumbnails): {elapsed:.1f} s "
            f"= {elapsed / plain:.2f}x plain ffmpeg; "
            f"{seconds / elapsed:.2f} s of clip per second; MB: {sizes}"
        )


if __name__ == "__main__":
    main()
