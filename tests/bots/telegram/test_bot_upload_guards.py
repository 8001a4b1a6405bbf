"""Issue 16 through the bot: hostile uploads sent as a creator would (the real dispatcher polling a local
Bot API server, a real worker behind it) get a reply that says what to send instead, and leave no asset,
no usage charge and no work unit; a file refused by its declared size is not even downloaded."""

from __future__ import annotations

import uuid
from pathlib import Path

import upload_bombs as bombs
from chat import reply_to, seed_and_onboard
from sqlalchemy import String, cast, func, or_, select
from test_bot_flow import running_bot

from core.accounts.models import ChatIdentity
from core.billing.models import UsageTracking
from core.content.models import ContentAsset
from core.work.models import WorkUnit

CREATOR = 5616001


async def _nothing_was_made(deps, telegram_user: int) -> uuid.UUID:
    """No asset, usage or work unit for this creator (scoped to their rows: the database is shared)."""
    async with deps.sessionmaker() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(telegram_user)))
        assert identity is not None
        user_id = identity.user_id
        assets = await s.scalar(select(func.count()).where(ContentAsset.user_id == user_id))
        uploads = await s.scalar(
            select(func.coalesce(func.sum(UsageTracking.content_uploads), 0)).where(UsageTracking.user_id == user_id)
        )
        # Every unit a chat upload could start names the creator, their chat or one of their assets.
        asset_ids = select(cast(ContentAsset.id, String)).where(ContentAsset.user_id == user_id)
        units = await s.scalar(
            select(func.count()).where(
                or_(
                    WorkUnit.payload["user_id"].astext == str(user_id),
                    WorkUnit.payload["chat_id"].astext == str(telegram_user),
                    WorkUnit.payload["asset_id"].astext.in_(asset_ids),
                )
            )
        )
    assert (assets, uploads, units) == (0, 0, 0), "a refused upload left an asset, a charge or a work unit"
    return user_id


async def test_hostile_media_is_refused_before_any_work(live_deps, redis_url, run_id, tmp_path: Path) -> None:
    deps = live_deps
    deps.settings.telegram_api_server = "http://127.0.0.1:1"  # "a local Bot API server": no 20 MB cloud limit
    user = CREATOR
    giga = bombs.gigapixel_video(tmp_path / "giga.mp4").read_bytes()
    hours = bombs.sparse_audio(tmp_path / "voice.ogg", claimed_s=3 * 3600).read_bytes()
    async with running_bot(deps, redis_url, run_id) as tg:
        await seed_and_onboard(deps, tg, user)

        huge = tg.add_file(b"\x00" * 1024, file_size=int(3.1 * 1024**3))
        reply = await reply_to(
            tg, user, lambda: tg.user_sends_video(user, huge, file_size=int(3.1 * 1024**3)), "the most I can take"
        )
        assert reply.content == (
            "That file is 3.1 GB; the most I can take is 2 GB. "
            "Send a shorter cut or a compressed version, or a link to it."
        )
        assert not [c for c in tg.calls if c.method == "getFile" and c.params.get("file_id") == huge]

        giga_id = tg.add_file(giga)
        reply = await reply_to(
            tg, user, lambda: tg.user_sends_video(user, giga_id, file_name="holiday.mp4"), "megapixels"
        )
        assert "bigger than 33 megapixels or damaged. Export it at 4K or 1080p" in reply.content

        # Telegram says 20 seconds (a client's claim); the file's own header says three hours in ~400 bytes.
        voice = tg.add_file(hours)
        reply = await reply_to(tg, user, lambda: tg.user_sends_voice(user, voice, duration=20), "claims to run")
        assert f"That file is only {len(hours)} bytes but claims to run 3 hours" in reply.content

        # A voice note Telegram itself declares as five hours long is refused before it is downloaded.
        long_voice = tg.add_file(hours)
        reply = await reply_to(
            tg, user, lambda: tg.user_sends_voice(user, long_voice, duration=5 * 3600), "your plan handles up to"
        )
        assert not [c for c in tg.calls if c.method == "getFile" and c.params.get("file_id") == long_voice]
    await _nothing_was_made(deps, user)


async def test_disguised_and_pathological_documents_are_refused(live_deps, redis_url, run_id) -> None:
    deps = live_deps
    user = CREATOR + 1
    documents = [
        ("notes.txt", bombs.zip_of_text(), "“notes.txt” is named like a text file, but inside it's a ZIP archive"),
        ("talk.txt", bombs.gzip_bomb(), "inside it's a gzip-compressed file. I don't open archives"),
        ("nul.txt", bombs.text_with_nuls(), "has binary data in it (NUL bytes)"),
        ("win.txt", bombs.TEXT.replace("Most", "“Most”").encode("cp1252"), "isn't saved as UTF-8"),
        ("data.txt", bombs.one_line_text(), "One line of that text is 5,242,880 characters long"),
    ]
    async with running_bot(deps, redis_url, run_id) as tg:
        await seed_and_onboard(deps, tg, user)
        for name, data, says in documents:
            file_id = tg.add_file(data)
            reply = await reply_to(
                tg,
                user,
                lambda file_id=file_id, name=name: tg.user_sends_document(
                    user, file_id, file_name=name, mime_type="text/plain"
                ),
                says,
            )
            assert reply.content.startswith("⚠️ "), reply.content
    await _nothing_was_made(deps, user)
