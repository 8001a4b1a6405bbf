"""A post's video or image, checked against the platform's upload limits when the post is scheduled.

What the platform would refuse at publish time is found at schedule time: a clip too long or too short
for the platform can't be fixed without changing it, so the creator is told then, with the limit. What a
re-encode fixes without changing what the viewer sees (a codec or container the platform doesn't take, a
file over its size limit, a shape outside its aspect range) is fixed ahead of the due time by a
`distribution.prepare_media` unit, and the publisher uses the prepared file (preparing it then if the
unit has not run yet).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.distribution.errors import NotPublishable
from core.distribution.platforms.names import RULES, MediaRules, Platform
from core.media.errors import MediaError
from core.media.ffmpeg import run_ffmpeg
from core.media.probe import MediaInfo, probe_media
from core.repurposing.models import GeneratedContent

PREPARE = "distribution.prepare_media"
_VIDEO_FORMATS = ("short_video",)
_AUDIO_KBPS = 128


class MediaNotAccepted(NotPublishable):
    user_message = "The platform won't take this media."


@dataclass(frozen=True)
class PostMedia:
    """What a scheduled post carries (kept in `scheduled_posts.post_metadata["media"]`)."""

    url: str  # storage url of the original
    kind: str  # video | image
    fixes: tuple[str, ...] = ()  # what preparing changes, in words; empty: posted as it is
    prepared_url: str | None = None

    @property
    def ready_url(self) -> str | None:
        """The file to post, or None while a needed preparation hasn't been done."""
        return self.prepared_url if self.fixes else self.url

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "kind": self.kind, "fixes": list(self.fixes), "prepared_url": self.prepared_url}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> PostMedia | None:
        if not data or not data.get("url"):
            return None
        return cls(
            str(data["url"]), str(data.get("kind") or "video"), tuple(data.get("fixes") or ()), data.get("prepared_url")
        )


def media_of(draft: GeneratedContent) -> tuple[str, str] | None:
    """The draft's own media as (storage url, kind): a clip's video; None for a text draft."""
    fmt = str((draft.metadata_ or {}).get("output_format") or draft.content_type or "")
    if draft.file_url and fmt in _VIDEO_FORMATS:
        return draft.file_url, "video"
    return None


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB"


def check_video(info: MediaInfo, platform: Platform) -> tuple[str, ...]:
    """The fixes this video needs for the platform; raises `MediaNotAccepted` with the limit and what to do
    when no re-encode can make it acceptable."""
    rules = RULES[platform]
    media, name = rules.media, rules.label
    if "video" not in media.kinds:
        raise MediaNotAccepted(f"{name} posts here can't carry a video.")
    if info.duration_s < media.min_video_s:
        raise MediaNotAccepted(
            f"{name} takes videos of {_duration(media.min_video_s)} or more and this one is "
            f"{_duration(info.duration_s)}. Make a longer clip, then schedule it again."
        )
    if media.max_video_s is not None and info.duration_s > media.max_video_s:
        raise MediaNotAccepted(
            f"{name} takes videos up to {_duration(media.max_video_s)} and this one is "
            f"{_duration(info.duration_s)}. Ask for a shorter clip (reply with e.g. “shorter”), then schedule it."
        )
    fixes: list[str] = []
    if (info.video_codec or "") not in media.video_codecs or info.container not in media.containers:
        fixes.append(f"re-encoded as H.264 MP4 ({name} doesn't take {info.video_codec} in {info.container})")
    aspect = (info.width or 1) / (info.height or 1)
    if media.min_aspect is not None and aspect < media.min_aspect:
        fixes.append(f"padded to {media.min_aspect:g}:1 ({name}'s narrowest shape)")
    elif media.max_aspect is not None and aspect > media.max_aspect:
        fixes.append(f"padded to {media.max_aspect:g}:1 ({name}'s widest shape)")
    if media.max_video_bytes is not None and info.size_bytes > media.max_video_bytes:
        fixes.append(f"compressed to fit {name}'s {_mb(media.max_video_bytes)} limit (it is {_mb(info.size_bytes)})")
    return tuple(fixes)


def check_image(path: Path, platform: Platform) -> tuple[str, ...]:
    rules = RULES[platform]
    if "image" not in rules.media.kinds:
        raise MediaNotAccepted(f"{rules.label} posts here need a video, not a picture.")
    limit = rules.media.max_image_bytes
    if limit is not None and path.stat().st_size > limit:
        raise MediaNotAccepted(
            f"{rules.label} takes pictures up to {_mb(limit)} and this one is {_mb(path.stat().st_size)}."
        )
    return ()


def check_media(path: Path, kind: str, platform: Platform) -> tuple[str, ...]:
    if kind == "image":
        return check_image(path, platform)
    try:
        info = probe_media(path)
    except MediaError as exc:
        raise MediaNotAccepted(f"The clip's file can't be read ({exc.user_message}); make the clip again.") from exc
    return check_video(info, platform)


def require_media(platform: Platform, has_media: bool) -> None:
    rules = RULES[platform]
    if rules.media.required and not has_media:
        raise MediaNotAccepted(
            f"{rules.label} posts need a video or a picture, and this draft has none. Publish one of this talk's "
            f"clips to {rules.label} instead."
        )


def _target_aspect(info: MediaInfo, media: MediaRules) -> float | None:
    aspect = (info.width or 1) / (info.height or 1)
    if media.min_aspect is not None and aspect < media.min_aspect:
        return media.min_aspect
    if media.max_aspect is not None and aspect > media.max_aspect:
        return media.max_aspect
    return None


def prepare_args(src: Path, dst: Path, info: MediaInfo, platform: Platform) -> list[str]:
    """One ffmpeg pass that applies every fix: H.264/AAC in MP4, padding to the allowed shape, and a bitrate
    cap that fits the size limit (90% of it, for the container's overhead)."""
    media = RULES[platform].media
    filters = []
    if (target := _target_aspect(info, media)) is not None and info.width and info.height:
        if target > info.width / info.height:  # too narrow: widen with bars
            width, height = math.ceil(info.height * target / 2) * 2, info.height
        else:  # too wide: add height
            width, height = info.width, math.ceil(info.width / target / 2) * 2
        filters.append(f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black")
    filters.append("scale=trunc(iw/2)*2:trunc(ih/2)*2")
    args: list[str] = ["-y", "-i", str(src), "-vf", ",".join(filters), "-c:v", "libx264", "-preset", "veryfast"]
    args += ["-pix_fmt", "yuv420p"]
    if media.max_video_bytes is not None and info.size_bytes > media.max_video_bytes:
        total_kbps = media.max_video_bytes * 8 * 0.9 / 1000 / max(info.duration_s, 0.1)
        video_kbps = max(100, int(total_kbps - _AUDIO_KBPS))
        args += ["-b:v", f"{video_kbps}k", "-maxrate", f"{video_kbps}k", "-bufsize", f"{video_kbps * 2}k"]
    args += ["-c:a", "aac", "-b:a", f"{_AUDIO_KBPS}k", "-movflags", "+faststart", str(dst)]
    return args


async def prepare(src: Path, dst: Path, platform: Platform) -> None:
    """Write the platform-ready copy of `src` to `dst` (via a temporary name: a reader never sees half)."""
    info = probe_media(src)
    tmp = dst.with_name(dst.stem + ".part.mp4")
    dst.parent.mkdir(parents=True, exist_ok=True)
    await run_ffmpeg(prepare_args(src, tmp, info, platform))
    tmp.replace(dst)
