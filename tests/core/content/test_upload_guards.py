"""Issue 16: hostile uploads are refused by core before anything decodes, stores or charges them.

Every input is a real file (made by `upload_bombs`), ingested through `content.ingest_file` on the real
database; a refusal leaves no asset, no stored file and no usage for the creator."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import upload_bombs as bombs
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.service import register_chat_user
from core.billing.models import UsageTracking
from core.common.errors import RecastError
from core.config import Settings
from core.content import service as content
from core.content.errors import (
    DocumentTooLong,
    FileTooLarge,
    FrameTooLarge,
    ImplausibleMedia,
    NotPlainText,
    NotUtf8,
    PathologicalText,
    RecordingTooLong,
    TooLong,
    TooManyStreams,
    UploadRefused,
    UploadTooBig,
)
from core.content.guards import MB, UploadLimits, check_size, human_size
from core.content.models import ContentAsset
from core.seed.service import apply_seed


def test_limits_from_default_settings_are_the_documented_defaults() -> None:
    assert UploadLimits.from_settings(Settings(_env_file=None)) == UploadLimits()
    assert UploadLimits().max_frame_pixels == 7680 * 4320  # 8K


def test_a_3_gb_upload_is_refused_by_its_declared_size_with_what_to_do() -> None:
    with pytest.raises(UploadTooBig) as refused:
        check_size(int(3.1 * 1024**3), content_type="video", limits=UploadLimits())
    assert refused.value.user_message == (
        "That file is 3.1 GB; the most I can take is 2 GB. Send a shorter cut or a compressed version, or a link to it."
    )
    assert human_size(48 * 1024) == "48 KB" and human_size(700 * MB) == "700 MB"


async def _creator(session: AsyncSession, tag: str) -> tuple[uuid.UUID, uuid.UUID]:
    await apply_seed(session=session)
    ext = f"guards-{tag}-{uuid.uuid4().hex[:8]}"
    reg = await register_chat_user(
        session=session, provider="telegram", external_user_id=ext, chat_id=ext, full_name="Guard Tester"
    )
    return reg.user.id, reg.organization.id


async def _refused(
    session: AsyncSession,
    core_deps,
    path: Path,
    *,
    filename: str,
    mime: str | None = None,
    limits: UploadLimits | None = None,
) -> RecastError:
    user_id, org_id = await _creator(session, path.stem)
    with pytest.raises(RecastError) as refused:
        async with session.begin_nested():
            await content.ingest_file(
                session=session,
                store=core_deps.store,
                user_id=user_id,
                organization_id=org_id,
                path=path,
                filename=filename,
                mime_type=mime,
                source_platform="telegram",
                limits=limits or UploadLimits(),
            )
    assets = await session.scalar(select(func.count()).where(ContentAsset.user_id == user_id))
    uploads = await session.scalar(
        select(func.coalesce(func.sum(UsageTracking.content_uploads), 0)).where(UsageTracking.user_id == user_id)
    )
    assert (assets, uploads) == (0, 0), "a refused upload left an asset or a usage charge"
    assert not list((core_deps.store.root / "assets").glob("*")), "a refused upload left a stored file"
    return refused.value


async def test_gigapixel_frames_are_refused_from_the_header(session: AsyncSession, core_deps, tmp_path: Path) -> None:
    video = bombs.gigapixel_video(tmp_path / "giga.mp4")
    assert video.stat().st_size < 64 * 1024  # 256 Mpx in a few tens of KB
    err = await _refused(session, core_deps, video, filename="holiday.mp4", mime="video/mp4")
    assert isinstance(err, FrameTooLarge)
    assert "bigger than 33 megapixels" in err.user_message and "Export it at 4K or 1080p" in err.user_message


async def test_an_impossibly_wide_frame_is_refused_with_its_size(
    session: AsyncSession, core_deps, tmp_path: Path
) -> None:
    video = bombs.wide_raw_video(tmp_path / "wide.mkv")
    err = await _refused(session, core_deps, video, filename="wide.mkv")
    assert isinstance(err, FrameTooLarge)
    assert err.user_message.startswith("That video's frames are 20000×16 ")


async def test_a_tiny_file_claiming_hours_is_refused_as_crafted(
    session: AsyncSession, core_deps, tmp_path: Path
) -> None:
    voice = bombs.sparse_audio(tmp_path / "voice.ogg", claimed_s=10 * 3600)
    assert voice.stat().st_size < 2048
    err = await _refused(session, core_deps, voice, filename="voice.ogg", mime="audio/ogg")
    assert isinstance(err, ImplausibleMedia)
    assert err.user_message.startswith(f"That file is only {voice.stat().st_size} bytes but claims to run 10 hours")


async def test_declared_minutes_meet_the_hard_cap_and_the_plan_before_decoding(
    session: AsyncSession, core_deps, tmp_path: Path
) -> None:
    # Bytes-per-second off: only the declared duration speaks. The plan (60 minutes on the seeded trial
    # plan) refuses 61; the server's cap refuses 11 hours whatever the plan.
    no_ratio = UploadLimits(min_bytes_per_second=0)
    hour = bombs.sparse_audio(tmp_path / "hour.ogg", claimed_s=61 * 60)
    err = await _refused(session, core_deps, hour, filename="hour.ogg", limits=no_ratio)
    assert isinstance(err, TooLong) and "minutes long; your plan handles up to" in err.user_message
    day = bombs.sparse_audio(tmp_path / "day.ogg", claimed_s=11 * 3600)
    err = await _refused(session, core_deps, day, filename="day.ogg", limits=no_ratio)
    assert isinstance(err, RecordingTooLong)
    assert err.user_message.startswith("That recording runs 11 hours; the most I process is 10 hours.")


async def test_too_many_tracks_are_refused(session: AsyncSession, core_deps, tmp_path: Path) -> None:
    tracks = bombs.many_tracks(tmp_path / "tracks.mkv", tracks=20)
    err = await _refused(session, core_deps, tracks, filename="tracks.mkv")
    assert isinstance(err, TooManyStreams) and err.user_message.startswith("That file has 20 tracks")


@pytest.mark.parametrize(
    ("name", "make", "refusal", "says"),
    [
        ("notes.txt", bombs.zip_of_text, NotPlainText, "“notes.txt” is named like a text file, but inside it's a ZIP"),
        ("bomb.txt", bombs.gzip_bomb, NotPlainText, "inside it's a gzip-compressed file. I don't open archives"),
        ("nul.txt", bombs.text_with_nuls, NotPlainText, "has binary data in it (NUL bytes)"),
        ("win.txt", lambda: bombs.TEXT.replace("Most", "“Most”").encode("cp1252"), NotUtf8, "isn't saved as UTF-8"),
        ("line.txt", bombs.one_line_text, PathologicalText, "One line of that text is 5,242,880 characters long"),
        ("lines.md", lambda: b"a\n" * 60_000, PathologicalText, "That text has 60,001 lines"),
        (
            "book.txt",
            ((bombs.TEXT + "\n") * 700).encode,
            DocumentTooLong,
            "the most I take at once is 500,000",
        ),
        ("fake.pdf", bombs.zip_of_text, NotPlainText, "“fake.pdf” is named like a PDF, but inside it's a ZIP"),
    ],
)
async def test_documents_are_sniffed_and_shaped_whatever_their_name(
    session: AsyncSession, core_deps, tmp_path: Path, name, make, refusal, says
) -> None:
    path = tmp_path / name
    path.write_bytes(make())
    err = await _refused(session, core_deps, path, filename=name)
    assert isinstance(err, refusal) and isinstance(err, UploadRefused)
    assert says in err.user_message


async def test_a_document_over_the_cap_is_refused_before_reading(
    session: AsyncSession, core_deps, tmp_path: Path
) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(bombs.TEXT.encode() * 2)
    err = await _refused(session, core_deps, path, filename="big.txt", limits=UploadLimits(max_document_bytes=512))
    assert isinstance(err, UploadTooBig) and "the most I can take is 512 bytes" in err.user_message


async def test_the_plan_and_the_server_cap_are_checked_before_download(session: AsyncSession) -> None:
    user_id, _ = await _creator(session, "plan-bytes")
    declared = {
        (1900 * MB, None): (FileTooLarge, "your plan accepts files up to"),
        (3 * 1024 * MB, None): (UploadTooBig, "That file is 3 GB; the most I can take is 2 GB."),
        (MB, 2 * 3600.0): (TooLong, "your plan handles up to"),
    }
    for (size, seconds), (refusal, says) in declared.items():
        with pytest.raises(refusal) as refused:
            await content.check_upload_before_download(
                session=session,
                user_id=user_id,
                filename="talk.mp4",
                mime_type="video/mp4",
                size=size,
                declared_duration_s=seconds,
            )
        assert says in refused.value.user_message


async def test_honest_files_still_pass(session: AsyncSession, core_deps, tmp_path: Path) -> None:
    user_id, org_id = await _creator(session, "honest")
    text = tmp_path / "talk.txt"
    text.write_bytes(("\ufeff" + bombs.TEXT).encode("utf-8"))
    utf16 = tmp_path / "talk16.txt"
    utf16.write_bytes(bombs.TEXT.encode("utf-16"))
    for path in (text, utf16):
        asset = await content.ingest_file(
            session=session,
            store=core_deps.store,
            user_id=user_id,
            organization_id=org_id,
            path=path,
            filename=path.name,
            mime_type="text/plain",
        )
        assert asset.content_type == "document"
    short = bombs.sparse_audio(tmp_path / "short.ogg", claimed_s=30)  # short: the ratio is not asked
    asset = await content.ingest_file(
        session=session,
        store=core_deps.store,
        user_id=user_id,
        organization_id=org_id,
        path=short,
        filename="short.ogg",
        mime_type="audio/ogg",
    )
    assert asset.content_type == "audio" and asset.duration == 30


async def test_pdf_pages_are_counted_before_any_text_is_extracted(
    session: AsyncSession, core_deps, tmp_path: Path
) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=612, height=792)
    path = tmp_path / "thick.pdf"
    with path.open("wb") as f:
        writer.write(f)
    err = await _refused(session, core_deps, path, filename="thick.pdf", limits=UploadLimits(max_pdf_pages=2))
    assert isinstance(err, DocumentTooLong) and err.user_message.startswith(
        "That PDF has 3 pages; the most I take is 2."
    )
