"""Ingest: every upload, link or text becomes one `content_assets` row plus its file in storage.

All-or-nothing: the row, the stored file and the usage count are created together; on any error
the transaction rolls back and the stored file is removed, so nothing half-created is left.
(A little over 400 lines, on purpose: every way content arrives shares that one transaction discipline.)
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import usage as billing_usage
from core.brand import service as brand_service
from core.content import guards, links
from core.content.address_policy import FetchPolicy
from core.content.errors import EmptyDocument, FileTooLarge, TextTooShort, TooLong, UnsupportedInput
from core.content.guards import UploadLimits
from core.content.models import ContentAnalysis, ContentAsset
from core.media.probe import MediaInfo, probe_media, read_header
from core.storage.files import FileStore, off_loop
from core.system import audit

MB = 1024 * 1024
MIN_TEXT_WORDS = 80
VIDEO_EXT = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".3gp"}
AUDIO_EXT = {".mp3", ".m4a", ".aac", ".wav", ".ogg", ".oga", ".opus", ".flac", ".weba"}
TEXT_EXT = {".txt", ".md", ".markdown"}
PDF_EXT = {".pdf"}


@dataclass(frozen=True)
class UploadKind:
    content_type: str  # video | audio | document
    extension: str


def classify_upload(filename: str | None, mime_type: str | None) -> UploadKind:
    """Decide what an upload is from its name and declared type; refuse anything else."""
    ext = Path(filename or "").suffix.lower()
    mime = (mime_type or mimetypes.guess_type(filename or "")[0] or "").lower()
    if ext in VIDEO_EXT or mime.startswith("video/"):
        return UploadKind("video", ext or ".mp4")
    if ext in AUDIO_EXT or mime.startswith("audio/"):
        return UploadKind("audio", ext or ".ogg")
    if ext in PDF_EXT or mime == "application/pdf":
        return UploadKind("document", ".pdf")
    if ext in TEXT_EXT or mime.startswith("text/"):
        return UploadKind("document", ext or ".txt")
    raise UnsupportedInput()


def _human_mb(n: int) -> str:
    return f"{n / MB:.0f} MB"


async def _check_plan(session: AsyncSession, user_id: uuid.UUID, size: int, minutes: float | None) -> None:
    limits = await billing_usage.plan_limits(session=session, user_id=user_id)
    max_bytes = limits.get("max_upload_bytes")
    if max_bytes and size > max_bytes:
        raise FileTooLarge(
            f"This file is {_human_mb(size)}; your plan accepts files up to {_human_mb(max_bytes)}. "
            "Trim or compress it, or send /upgrade for bigger uploads."
        )
    max_minutes = limits.get("max_media_minutes")
    if minutes is not None and max_minutes and minutes > max_minutes:
        raise TooLong(
            f"This recording is {minutes:.0f} minutes long; your plan handles up to {max_minutes} minutes. "
            "Send a shorter cut, or /upgrade for longer recordings."
        )


async def check_upload_before_download(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    filename: str | None,
    mime_type: str | None,
    size: int | None,
    declared_duration_s: float | None = None,
    limits: UploadLimits = UploadLimits(),  # noqa: B008 - frozen, safe to share
) -> UploadKind:
    """Refuse an upload from what the chat app declares (type, bytes, seconds), before it is downloaded."""
    kind = classify_upload(filename, mime_type)
    if size:
        guards.check_size(size, content_type=kind.content_type, limits=limits)
    minutes = None
    if declared_duration_s and kind.content_type != "document":
        guards.check_duration(declared_duration_s, limits=limits)
        minutes = declared_duration_s / 60
    await _check_plan(session, user_id, size or 0, minutes)
    return kind


# Names apps give a recording when the creator gave none: "voice.ogg", "video.mp4", "VID_20260101_0930.mp4".
_PLACEHOLDER_NAME = re.compile(
    r"^(voice|video|audio|video_note|recording|upload|file|untitled|clip|movie|"
    r"(img|vid|mov|dsc|pxl|rec|audio|video|voice)[-_ ]?\d[\w-]*)$",
    re.IGNORECASE,
)


def is_placeholder_name(filename: str | None) -> bool:
    return filename is None or bool(_PLACEHOLDER_NAME.match(Path(filename).stem))


def retitle_from_topics(asset: ContentAsset, topics: list[str]) -> bool:
    """Replace a placeholder title ("voice", "video") with the content's topics once analysis knows them."""
    meta = dict(asset.metadata_ or {})
    if not meta.get("provisional_title") or not topics:
        return False
    asset.title = ", ".join(t.strip() for t in topics[:2] if t.strip())[:120] or asset.title
    meta.pop("provisional_title")
    asset.metadata_ = meta
    return True


def kind_label(asset: ContentAsset) -> str:
    """What a creator would call this upload: "pasted text", "PDF", "article", "voice note", "video"…"""
    meta = asset.metadata_ or {}
    if asset.content_type == "document":
        if meta.get("origin") == "pasted":
            return "pasted text"
        if asset.source_url:
            return "article"
        return "PDF" if asset.mime_type == "application/pdf" else "text file"
    if asset.content_type == "audio" and str(meta.get("original_filename") or "").startswith("voice."):
        return "voice note"
    if asset.content_type == "video" and str(meta.get("original_filename") or "").startswith("video_note."):
        return "video note"
    return asset.content_type


def _title_from_text(text: str) -> str:
    first = re.split(r"(?<=[.!?])\s|\n", text.strip(), maxsplit=1)[0]
    return (first[:120] + "…") if len(first) > 120 else first or "Untitled"


async def _create_asset(
    *,
    session: AsyncSession,
    store: FileStore,
    user_id: uuid.UUID,
    organization_id: uuid.UUID | None,
    brand_profile_id: uuid.UUID | None,
    title: str,
    content_type: str,
    mime_type: str | None,
    size: int,
    source_platform: str,
    source_url: str | None,
    metadata: dict[str, Any],
    put: Any,
    extension: str,
) -> ContentAsset:
    asset_id = uuid.uuid4()
    if brand_profile_id is None:
        # Linked at ingest: the clip renderer dresses clips with the asset's brand (logo, intro, outro).
        brand = await brand_service.brand_for_upload(session=session, user_id=user_id, organization_id=organization_id)
        brand_profile_id = brand.id if brand is not None else None
    key = f"assets/{asset_id}/source{extension}"
    file_url = store.url_for(key)
    try:
        await billing_usage.consume(session=session, user_id=user_id, uploads=1, storage_bytes=size)
        asset = ContentAsset(
            id=asset_id,
            user_id=user_id,
            organization_id=organization_id,
            brand_profile_id=brand_profile_id,
            title=title[:500],
            content_type=content_type,
            file_url=file_url,
            file_size=size,
            duration=round(metadata["duration_s"]) if metadata.get("duration_s") else None,
            mime_type=mime_type,
            source_platform=source_platform,
            source_url=source_url,
            upload_status="pending",
            metadata_=metadata,
        )
        session.add(asset)
        await session.flush()
        await off_loop(partial(put, key))  # an upload with S3 storage: off the event loop
        await audit.record(
            session=session,
            action="content_uploaded",
            user_id=user_id,
            organization_id=organization_id,
            resource_type="content",
            resource_id=asset_id,
            metadata={"content_type": content_type, "size": size},
        )
    except BaseException:
        store.delete_prefix(f"assets/{asset_id}")
        raise
    return asset


def media_metadata(info: MediaInfo) -> dict[str, Any]:
    return {
        "duration_s": round(info.duration_s, 3),
        "width": info.width,
        "height": info.height,
        "fps": info.fps,
        "codec": info.video_codec,
        "audio_codec": info.audio_codec,
        "has_audio": info.has_audio,
        "has_video": info.has_video,
        "container": info.container,
        "size": info.size_bytes,
        "mime": info.mime_type,
    }


async def ingest_file(
    *,
    session: AsyncSession,
    store: FileStore,
    user_id: uuid.UUID,
    organization_id: uuid.UUID | None,
    path: Path,
    filename: str | None,
    mime_type: str | None,
    brand_profile_id: uuid.UUID | None = None,
    source_platform: str = "upload",
    title: str | None = None,
    source_url: str | None = None,
    limits: UploadLimits = UploadLimits(),  # noqa: B008 - frozen, safe to share
) -> ContentAsset:
    """Store an uploaded file as a content asset with probed metadata, or raise a friendly error.

    The guards run first, on the file's size, container headers and first bytes: a refused file is
    never decoded, stored or charged, and no work is queued for it."""
    kind = classify_upload(filename, mime_type)
    size = path.stat().st_size
    guards.check_size(size, content_type=kind.content_type, limits=limits)
    await _check_plan(session, user_id, size, None)
    if kind.content_type in ("video", "audio"):
        header = await asyncio.to_thread(partial(read_header, path, max_frame_pixels=limits.max_frame_pixels))
        declared_s = guards.check_media_header(header, size=size, limits=limits)
        await _check_plan(session, user_id, size, declared_s / 60)
        # Only now decode (probe_media reads a frame of each stream): the headers were plausible.
        info = await asyncio.to_thread(probe_media, path)
        if kind.content_type == "video" and not info.has_video:
            kind = UploadKind("audio", kind.extension)
        await _check_plan(session, user_id, size, info.duration_s / 60)
        metadata = media_metadata(info)
        metadata["original_filename"] = filename
        if title is None and is_placeholder_name(filename):
            metadata["provisional_title"] = True  # replaced by the topics after analysis
        mime = info.mime_type or mime_type
        default_title = Path(filename).stem if filename else f"{kind.content_type.title()} upload"
        return await _create_asset(
            session=session,
            store=store,
            user_id=user_id,
            organization_id=organization_id,
            brand_profile_id=brand_profile_id,
            title=title or default_title,
            content_type=kind.content_type,
            mime_type=mime,
            size=size,
            source_platform=source_platform,
            source_url=source_url,
            metadata=metadata,
            put=lambda key: store.put_path(path, key),
            extension=kind.extension,
        )
    text = await asyncio.to_thread(
        extract_document_text, path, kind.extension, name=filename or path.name, limits=limits
    )
    return await ingest_text(
        session=session,
        store=store,
        user_id=user_id,
        organization_id=organization_id,
        text=text,
        brand_profile_id=brand_profile_id,
        source_platform=source_platform,
        title=title or (Path(filename).stem if filename else None),
        original=(path, kind.extension, mime_type),
        limits=limits,
    )


def extract_document_text(
    path: Path,
    extension: str,
    *,
    name: str | None = None,
    limits: UploadLimits = UploadLimits(),  # noqa: B008 - frozen, safe to share
) -> str:
    """The text of a PDF or text upload, refusing what the guards refuse (whatever the extension says)."""
    name = name or path.name
    if extension == ".pdf":
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        guards.check_pdf_head(guards.read_head(path), name=name)
        try:
            reader = PdfReader(str(path))
            guards.check_pdf_pages(len(reader.pages), limits=limits)
            pages: list[str] = []
            chars = 0
            for page in reader.pages:  # page by page: a PDF of endless text stops at the cap
                pages.append(page.extract_text() or "")
                chars += len(pages[-1]) + 1
                if chars > limits.max_text_chars:
                    break
            text = "\n".join(pages)
        except (PdfReadError, ValueError, OSError) as exc:
            raise EmptyDocument("I couldn't read that PDF. It may be damaged; paste the text instead.") from exc
    else:
        with path.open("rb") as f:  # never more than the cap, whatever the file has grown to
            data = f.read(limits.max_document_bytes + 1)
        guards.check_size(len(data), content_type="document", limits=limits)
        text = guards.decode_text_file(data, name=name)
    guards.check_text(text, limits=limits)
    if not text.strip():
        raise EmptyDocument()
    return text


async def ingest_link(
    *,
    session: AsyncSession,
    store: FileStore,
    user_id: uuid.UUID,
    organization_id: uuid.UUID | None,
    url: str,
    work_dir: Path,
    brand_profile_id: uuid.UUID | None = None,
    max_download_bytes: int = links.DEFAULT_MAX_DOWNLOAD_BYTES,
    policy: FetchPolicy = FetchPolicy(),  # noqa: B008 - frozen, safe to share
    limits: UploadLimits = UploadLimits(),  # noqa: B008 - frozen, safe to share
) -> ContentAsset:
    """A link becomes an asset: a video site or media file is downloaded (into ``work_dir``, which the
    caller removes) and ingested like an upload; an article becomes a text asset."""
    fetched = await links.fetch_link(
        url, dest_dir=work_dir, max_bytes=max_download_bytes, min_article_words=MIN_TEXT_WORDS, policy=policy
    )
    if isinstance(fetched, links.Article):
        return await ingest_text(
            session=session,
            store=store,
            user_id=user_id,
            organization_id=organization_id,
            text=fetched.text,
            brand_profile_id=brand_profile_id,
            source_platform="web",
            source_url=url,
            title=fetched.title or None,
            limits=limits,
        )
    host = (urlsplit(url).hostname or "web").lower().removeprefix("www.")
    return await ingest_file(
        session=session,
        store=store,
        user_id=user_id,
        organization_id=organization_id,
        path=fetched.path,
        filename=fetched.path.name,
        mime_type=fetched.mime_type,
        brand_profile_id=brand_profile_id,
        source_platform=host.split(".")[-2] if host.count(".") else host,
        title=fetched.title,
        source_url=url,
        limits=limits,
    )


async def ingest_text(
    *,
    session: AsyncSession,
    store: FileStore,
    user_id: uuid.UUID,
    organization_id: uuid.UUID | None,
    text: str,
    brand_profile_id: uuid.UUID | None = None,
    source_platform: str = "upload",
    source_url: str | None = None,
    title: str | None = None,
    original: tuple[Path, str, str | None] | None = None,
    limits: UploadLimits = UploadLimits(),  # noqa: B008 - frozen, safe to share
) -> ContentAsset:
    """Long text (pasted, a document, or a fetched article) becomes a `document` asset whose
    transcript is the text itself."""
    guards.check_text(text, limits=limits)
    clean = re.sub(r"[ \t]+", " ", text).strip()
    words = len(clean.split())
    if words < MIN_TEXT_WORDS:
        raise TextTooShort()
    data = clean.encode("utf-8")
    await _check_plan(session, user_id, len(data), None)
    extension = original[1] if original else ".txt"
    mime = (original[2] if original else None) or ("application/pdf" if extension == ".pdf" else "text/plain")
    original_path = original[0] if original else None

    def put(key: str) -> None:
        if original_path is not None:
            store.put_path(original_path, key)
        else:
            store.put_bytes(data, key)

    asset = await _create_asset(
        session=session,
        store=store,
        user_id=user_id,
        organization_id=organization_id,
        brand_profile_id=brand_profile_id,
        title=title or _title_from_text(clean),
        content_type="document",
        mime_type=mime,
        size=len(data) if original_path is None else original_path.stat().st_size,
        source_platform=source_platform,
        source_url=source_url,
        metadata={"words": words, "text_chars": len(clean)},
        put=put,
        extension=extension,
    )
    session.add(
        ContentAnalysis(
            content_asset_id=asset.id,
            transcript=clean,
            transcript_language="en",
            transcript_confidence=100,
        )
    )
    await session.flush()
    return asset


async def get_asset(*, session: AsyncSession, asset_id: uuid.UUID) -> ContentAsset | None:
    return await session.get(ContentAsset, asset_id)


async def latest_analysis(*, session: AsyncSession, asset_id: uuid.UUID) -> ContentAnalysis | None:
    return await session.scalar(
        select(ContentAnalysis)
        .where(ContentAnalysis.content_asset_id == asset_id)
        .order_by(ContentAnalysis.analyzed_at.desc())
        .limit(1)
    )


async def recent_assets(*, session: AsyncSession, user_id: uuid.UUID, limit: int = 10) -> list[ContentAsset]:
    rows = await session.scalars(
        select(ContentAsset)
        .where(ContentAsset.user_id == user_id)
        .order_by(ContentAsset.created_at.desc())
        .limit(limit)
    )
    return list(rows)
