"""The ffmpeg command line that renders one clip in a single pass: cut, reframe, captions, logo, intro and
outro, H.264 + AAC with its index first."""

from __future__ import annotations

import os
from pathlib import Path

from core.clips.fonts import FONTS_DIR
from core.media.probe import MediaInfo

AUDIO_KBPS = 128
MAX_FPS = 30.0
CRF = 21

Bumper = tuple[Path, float, bool]
"""A bumper file, its duration and whether it has sound."""


def ffmpeg_args(
    source: Path,
    info: MediaInfo,
    out_path: Path,
    *,
    start: float,
    duration: float,
    width: int,
    height: int,
    reframe: str,
    ass_path: Path | None,
    watermark: Path | None,
    video_kbps: int,
    threads: int,
    bumpers: dict[str, Bumper] | None = None,
) -> list[str | os.PathLike[str]]:
    assert info.width and info.height
    fps = info.fps or 25.0
    chain = [f"fps={MAX_FPS:g}"] if fps > MAX_FPS + 0.5 else []
    graph: list[str] = []
    if reframe == "crop":
        crop_w = min(info.width, round(info.height * width / height)) // 2 * 2
        crop_h = min(info.height, round(info.width * height / width)) // 2 * 2
        chain += [
            f"crop={crop_w}:{crop_h}:{(info.width - crop_w) // 2}:{(info.height - crop_h) // 2}",
            f"scale={width}:{height}:flags=bicubic",
            "setsar=1",
        ]
        graph.append(f"[0:v]{','.join(chain)}[base]")
    else:
        # The background is blurred at an eighth of the size and scaled up: same look, a fraction of the cost.
        bw, bh = width // 8 // 2 * 2, height // 8 // 2 * 2
        graph += [
            f"[0:v]{','.join([*chain, 'split=2'])}[bgsrc][fgsrc]",
            f"[bgsrc]scale={bw}:{bh}:force_original_aspect_ratio=increase,crop={bw}:{bh},"
            f"boxblur=6:2,eq=brightness=-0.08:saturation=0.85,scale={width}:{height}:flags=bilinear[bg]",
            f"[fgsrc]scale={width}:{height}:force_original_aspect_ratio=decrease:force_divisible_by=2"
            ":flags=bicubic[fg]",
            "[bg][fg]overlay=(W-w)/2:(H-h)/2,setsar=1[base]",
        ]
    last = "base"
    if ass_path is not None:
        graph.append(f"[{last}]ass=filename={_filter_path(ass_path)}:fontsdir={_filter_path(FONTS_DIR)}[captioned]")
        last = "captioned"
    inputs: list[str | os.PathLike[str]] = ["-ss", f"{start:.3f}", "-t", f"{duration:.3f}", "-i", source]
    if watermark is not None:
        inputs += ["-i", watermark]
        logo_w = width // 6 // 2 * 2
        margin = width // 27
        graph += [
            f"[1:v]scale={logo_w}:-2,format=rgba,colorchannelmixer=aa=0.85[logo]",
            f"[{last}][logo]overlay=W-w-{margin}:{margin}:eof_action=repeat[marked]",
        ]
        last = "marked"
    out_fps = min(fps, MAX_FPS)
    total = duration
    audio: list[str] = []
    if not bumpers:
        graph.append(f"[{last}]format=yuv420p[vout]")
        if info.has_audio:
            audio = ["-map", "0:a:0", "-c:a", "aac", "-b:a", f"{AUDIO_KBPS}k", "-ac", "2"]
    else:
        # Intro + clip + outro in the same pass: each part scaled into the frame (letterboxed, never
        # cropped: a brand's logo animation must stay whole), at the clip's frame rate, with silence
        # standing in for any part without sound, then concatenated.
        def add_input(*args: str | os.PathLike[str]) -> int:
            inputs.extend(args)
            return inputs.count("-i") - 1

        def silence(seconds: float) -> str:
            return f"{add_input('-f', 'lavfi', '-t', f'{seconds:.3f}', '-i', f'anullsrc=r={_AUDIO_RATE}:cl=stereo')}:a"

        graph.append(f"[{last}]format=yuv420p[mainv]")
        graph.append(f"[{'0:a:0' if info.has_audio else silence(duration)}]{_AUDIO_FORMAT}[maina]")
        parts = []
        for role in ("intro", "main", "outro"):
            if role in bumpers:
                path, seconds, has_audio = bumpers[role]
                index = add_input("-i", path)
                total += seconds
                graph.append(
                    f"[{index}:v]fps={out_fps:g},scale={width}:{height}:force_original_aspect_ratio=decrease"
                    f":force_divisible_by=2,pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,"
                    f"format=yuv420p[{role}v]"
                )
                graph.append(f"[{f'{index}:a:0' if has_audio else silence(seconds)}]{_AUDIO_FORMAT}[{role}a]")
            if role == "main" or role in bumpers:
                parts.append(f"[{role}v][{role}a]")
        graph.append(f"{''.join(parts)}concat=n={len(parts)}:v=1:a=1[vout][aout]")
        audio = ["-map", "[aout]", "-c:a", "aac", "-b:a", f"{AUDIO_KBPS}k", "-ac", "2"]
    gop = round(out_fps * 2)
    return [
        "-y",
        *inputs,
        "-filter_complex",
        ";".join(graph),
        "-map",
        "[vout]",
        *audio,
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-profile:v",
        "high",
        "-crf",
        str(CRF),
        "-maxrate",
        f"{video_kbps}k",
        "-bufsize",
        f"{video_kbps}k",
        "-g",
        str(gop),
        "-threads",
        str(threads),
        "-movflags",
        "+faststart",
        "-sn",
        "-dn",
        "-map_metadata",
        "-1",
        "-t",
        f"{total:.3f}",
        out_path,
    ]


_AUDIO_RATE = 48_000
_AUDIO_FORMAT = f"aformat=sample_rates={_AUDIO_RATE}:channel_layouts=stereo,asetpts=PTS-STARTPTS"


def _filter_path(path: Path) -> str:
    """Quote a path for a filter option: inside '...' only ' itself needs escaping, then the graph level."""
    quoted = "'" + str(path).replace("\\", "/").replace("'", "'\\''") + "'"
    return quoted.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("[", "\\[").replace("]", "\\]")
