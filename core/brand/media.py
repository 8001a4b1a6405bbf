"""The brand's clip dressing: a logo watermark and intro/outro videos, kept on the brand's general
`brand_templates` row (the one without a caption template) so every clip style picks them up."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial
from pathlib import Path
from typing import Literal

import av
import av.error
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.brand.errors import BrandMediaRejected
from core.brand.models import BrandProfile
from core.content import guards
from core.content.guards import UploadLimits
from core.media.errors import MediaError
from core.media.probe import probe_media, read_header
from core.repurposing.formats import clip_platforms
from core.repurposing.models import BrandTemplate
from core.storage.files import FileStore

BrandMediaRole = Literal["logo", "intro", "outro"]
ROLES: tuple[BrandMediaRole, ...] = ("logo", "intro", "outro")
MAX_BUMPER_SECONDS = 10.0
"""Intros and outros play on every clip: longer ones eat the clip's attention span."""
MAX_LOGO_PIXELS = 4096
LOGO_EXTENSIONS = {"png": ".png", "mjpeg": ".jpg", "webp": ".webp", "gif": ".gif"}
_COLUMN = {"logo": "logo_url", "intro": "intro_video_url", "outro": "outro_video_url"}


async def general_template(*, session: AsyncSession, brand: BrandProfile) -> BrandTemplate:
    """The brand's template without a caption style, created on first use."""
    row = await session.scalar(
        select(BrandTemplate)
        .where(BrandTemplate.brand_profile_id == brand.id, BrandTemplate.template_id.is_(None))
        .order_by(BrandTemplate.created_at)
        .limit(1)
    )
    if row is None:
        row = BrandTemplate(brand_profile_id=brand.id)
        session.add(row)
        await session.flush()
    return row


async def set_brand_media(
    *,
    session: AsyncSession,
    store: FileStore,
    brand: BrandProfile,
    role: BrandMediaRole,
    path: Path,
    limits: UploadLimits = UploadLimits(),  # noqa: B008 - frozen, safe to share
) -> BrandTemplate:
    """Check and store a logo (an image) or an intro/outro (a video of at most 10 s) for the brand."""
    if role not in ROLES:
        raise ValueError(f"unknown brand media role {role!r}")
    if role == "logo":
        codec, width, height = await asyncio.to_thread(_probe_image, path)
        extension = LOGO_EXTENSIONS.get(codec or "")
        if extension is None:
            raise BrandMediaRejected(_wanted(role), detail=f"logo codec {codec!r}")
        if max(width, height) > MAX_LOGO_PIXELS:
            raise BrandMediaRejected(f"That logo is {width}×{height}; send one up to {MAX_LOGO_PIXELS} px.")
    else:
        # The upload guards judge the headers first: a gigapixel "intro" is refused before it is decoded.
        header = await asyncio.to_thread(partial(read_header, path, max_frame_pixels=limits.max_frame_pixels))
        guards.check_media_header(header, size=path.stat().st_size, limits=limits)
        try:
            info = await asyncio.to_thread(probe_media, path)
        except MediaError as exc:
            raise BrandMediaRejected(_wanted(role), detail=f"{role}: {exc.detail}") from exc
        if not info.has_video or not info.duration_s:
            raise BrandMediaRejected(_wanted(role), detail=f"{role} has no picture")
        if info.duration_s > MAX_BUMPER_SECONDS:
            raise BrandMediaRejected(
                f"That {role} is {info.duration_s:.0f} seconds. Keep it to {MAX_BUMPER_SECONDS:.0f} seconds or less: "
                "it plays on every clip."
            )
        extension = Path(path).suffix.lower() or ".mp4"
    template = await general_template(session=session, brand=brand)
    # A new key per upload: drafts already rendered keep pointing at the files they were made with.
    url = store.put_path(path, f"brand/{brand.id}/{role}-{uuid.uuid4().hex[:8]}{extension}")
    setattr(template, _COLUMN[role], url)
    await session.flush()
    return template


async def clear_brand_media(*, session: AsyncSession, brand: BrandProfile, role: BrandMediaRole) -> None:
    template = await general_template(session=session, brand=brand)
    setattr(template, _COLUMN[role], None)
    await session.flush()


async def describe_brand_media(*, session: AsyncSession, brand: BrandProfile) -> str:
    template = await general_template(session=session, brand=brand)
    marks = [f"{role}: {'✅ set' if getattr(template, _COLUMN[role]) else '—'}" for role in ROLES]
    note = "" if makes_clips(brand) else " (your platforms get no clips: add instagram or youtube with /brand edit)"
    return "Clip dressing · " + " · ".join(marks) + note


_USE = {"logo": "will have it in the corner", "intro": "will open with it", "outro": "will close with it"}


def makes_clips(brand: BrandProfile) -> bool:
    """Whether the brand's videos get clips at all: its platforms include Instagram or YouTube."""
    return bool(clip_platforms(brand.preferred_platforms))


def saved_message(brand: BrandProfile, role: BrandMediaRole) -> str:
    """What saving a logo, intro or outro changes, said only as far as it is true: uploads from now on are
    the brand's (linked at ingest), so their clips use it — if the brand's platforms get clips at all."""
    if not makes_clips(brand):
        platforms = ", ".join(brand.preferred_platforms or [])
        return (
            f"{role.title()} saved, but your videos get no clips to put it on: your brand's platforms are "
            f"{platforms}, and clips are made for Instagram and YouTube. Send /brand edit and add instagram or "
            f"youtube at the platforms question to get clips with your {role}."
        )
    return (
        f"{role.title()} saved ✅ Clips from the videos you send from now on {_USE[role]}. "
        f"(/brand {role} off removes it.)"
    )


def _probe_image(path: Path) -> tuple[str | None, int, int]:
    """(codec, width, height) of a still image, or (None, 0, 0) when it is not one."""
    try:
        # max_pixels: libavcodec refuses to decode (and allocate) an image over the cap, even to probe it.
        with av.open(str(path), options={"max_pixels": str(MAX_LOGO_PIXELS * MAX_LOGO_PIXELS)}) as container:
            if not container.streams.video:
                return None, 0, 0
            stream = container.streams.video[0]
            if not stream.codec_context.width:
                raise BrandMediaRejected(
                    f"That image is bigger than {MAX_LOGO_PIXELS}×{MAX_LOGO_PIXELS} or damaged. "
                    f"Send your logo as a PNG or JPEG up to {MAX_LOGO_PIXELS} px.",
                    detail=f"logo {stream.codec_context.name} of unknown size",
                )
            frame = next(container.decode(stream))
            return stream.codec_context.name, frame.width, frame.height
    except (av.error.FFmpegError, StopIteration, UnicodeDecodeError):
        return None, 0, 0


def _wanted(role: BrandMediaRole) -> str:
    if role == "logo":
        return "That doesn't look like an image. Send your logo as a PNG or JPEG (a transparent PNG works best)."
    return f"That doesn't look like a video. Send your {role} as a short MP4 (up to {MAX_BUMPER_SECONDS:.0f} s)."
