"""Ingest: videos, voice notes, audio, documents, links and long text become content assets."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from bots.telegram.middleware import AfterCommit
from bots.telegram.paste import PasteBuffer
from bots.telegram.progress import progress_text
from core.accounts import service as accounts
from core.accounts.models import Organization, User
from core.common.errors import RecastError
from core.content import links
from core.content import service as content
from core.content.guards import UploadLimits
from core.content.models import ContentAsset
from core.deps import CoreDeps
from core.media.errors import MediaError
from core.notify.ports import ChatRef
from core.pipeline import chat as chat_binding
from core.pipeline import progress

CLOUD_DOWNLOAD_LIMIT = 20 * 1024 * 1024
TOO_BIG_FOR_CLOUD = (
    "This file is {size:.0f} MB. Telegram only lets bots download files up to 20 MB, so I can't fetch it.\n\n"
    "You can:\n• send a shorter or compressed version (720p is plenty),\n"
    "• upload it somewhere and send me the link,\n"
    "• or ask your admin to run Recast with a local Bot API server (TELEGRAM_API_SERVER), which lifts the limit."
)


@dataclass(frozen=True, slots=True)
class Attachment:
    """What Telegram tells about a file before it is downloaded."""

    file_id: str
    size: int | None
    name: str | None
    mime_type: str | None
    duration_s: int | None = None


def _attachment(message: Message) -> Attachment | None:
    """The file of whatever media the message carries, as Telegram declares it."""
    if message.video:
        v = message.video
        return Attachment(v.file_id, v.file_size, v.file_name or "video.mp4", v.mime_type or "video/mp4", v.duration)
    if message.video_note:
        n = message.video_note
        return Attachment(n.file_id, n.file_size, "video_note.mp4", "video/mp4", n.duration)
    if message.voice:
        vo = message.voice
        return Attachment(vo.file_id, vo.file_size, "voice.ogg", vo.mime_type or "audio/ogg", vo.duration)
    if message.audio:
        a = message.audio
        return Attachment(a.file_id, a.file_size, a.file_name or "audio.mp3", a.mime_type or "audio/mpeg", a.duration)
    if message.document:
        d = message.document
        return Attachment(d.file_id, d.file_size, d.file_name, d.mime_type)
    return None


async def _creator(session: AsyncSession, message: Message) -> tuple[User, Organization]:
    """Who sent this content, and the organization its assets belong to (their personal one)."""
    user = await current_user(session, message.from_user)
    return user, await accounts.personal_organization(session=session, user_id=user.id)


async def _start_pipeline(
    message: Message, status: Message, asset: ContentAsset, deps: CoreDeps, after_commit: AfterCommit
) -> None:
    chat_binding.bind_to_chat(asset, ChatRef("telegram", str(message.chat.id)), str(status.message_id))

    async def enqueue() -> None:
        await deps.enqueue("pipeline.process_asset", asset_id=str(asset.id))

    after_commit.append(enqueue)
    await status.edit_text(progress_text(progress.queued(asset.title)))


def setup() -> Router:
    router = Router(name="ingest")
    media = F.video | F.video_note | F.voice | F.audio | F.document

    @router.message(media)
    async def receive_media(
        message: Message,
        bot: Bot,
        session: AsyncSession,
        deps: CoreDeps,
        after_commit: AfterCommit,
        state: FSMContext,
    ) -> None:
        user, org = await _creator(session, message)
        attachment = _attachment(message)
        assert attachment is not None
        file_id, size, name, mime = attachment.file_id, attachment.size, attachment.name, attachment.mime_type
        limits = UploadLimits.from_settings(deps.settings)
        # Refused by what Telegram declares (type, bytes, seconds) before a byte is downloaded.
        await content.check_upload_before_download(
            session=session,
            user_id=user.id,
            filename=name,
            mime_type=mime,
            size=size,
            declared_duration_s=attachment.duration_s,
            limits=limits,
        )
        if size and size > CLOUD_DOWNLOAD_LIMIT and not deps.settings.telegram_api_server:
            await message.answer(TOO_BIG_FOR_CLOUD.format(size=size / 1024 / 1024))
            return
        status = await message.answer("⏳ Received — downloading…")
        with tempfile.TemporaryDirectory(prefix="recast-tg-") as tmp:
            path = Path(tmp) / (Path(name or "upload").name or "upload")
            await bot.download(file_id, destination=path)
            try:
                async with session.begin_nested():  # nothing half-created survives a refusal
                    asset = await content.ingest_file(
                        session=session,
                        store=deps.store,
                        user_id=user.id,
                        organization_id=org.id,
                        path=path,
                        filename=name,
                        mime_type=mime,
                        source_platform="telegram",
                        title=(message.caption or "").strip()[:120] or None,
                        limits=limits,
                    )
            except (RecastError, MediaError) as exc:
                await status.edit_text(f"⚠️ {exc.user_message}")
                return
        await _start_pipeline(message, status, asset, deps, after_commit)

    @router.message(F.text & ~F.text.startswith("/"))
    async def receive_text(
        message: Message,
        bot: Bot,
        session: AsyncSession,
        deps: CoreDeps,
        after_commit: AfterCommit,
        paste: PasteBuffer,
    ) -> None:
        user, org = await _creator(session, message)
        text = (message.text or "").strip()
        if links.is_link(text):
            # Fetched by a worker: a long video download must not hold up this chat's next message.
            status = await message.answer("🔗 Fetching the link…")
            task_args = {
                "user_id": str(user.id),
                "organization_id": str(org.id),
                "url": text,
                "provider": "telegram",
                "chat_id": str(message.chat.id),
                "status_message_id": str(status.message_id),
            }

            async def enqueue() -> None:
                await deps.enqueue("pipeline.ingest_link", **task_args)

            after_commit.append(enqueue)
            return
        if len(text.split()) < content.MIN_TEXT_WORDS and not await paste.pending(bot.id, message.chat.id):
            await message.answer(
                "Send me a video, voice note, audio, document, a link — or paste a longer text "
                f"(at least {content.MIN_TEXT_WORDS} words) and I'll turn it into drafts. /help for more."
            )
            return
        # Telegram splits a long paste into several messages: the parts are joined into one asset.
        await paste.add(message, bot, user_id=user.id, organization_id=org.id)

    return router
