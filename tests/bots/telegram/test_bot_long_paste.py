"""Issue 11, item 4: Telegram splits a long paste into messages of 4096 characters; the bot takes
them as one piece of content — one upload, one set of drafts, charged once — even across a restart."""

from __future__ import annotations

from chat import onboard
from fakes.telegram_api import MAX_TEXT_LENGTH, FakeTelegram
from sqlalchemy import func, select
from test_bot_flow import TALK, running_bot

from core.accounts.models import ChatIdentity
from core.billing.models import UsageTracking
from core.content.models import ContentAnalysis, ContentAsset
from core.repurposing.models import GeneratedContent
from core.seed.service import apply_seed

CREATOR = 5570001


def _long_text(chars: int) -> str:
    """About `chars` characters of distinct sentences (so no part looks like a repeat of another)."""
    sentences, n = [], 0
    while sum(len(s) + 1 for s in sentences) < chars:
        n += 1
        sentences.append(f"Lesson {n}: {TALK.split('. ')[n % 9]}.")
    return " ".join(sentences)[:chars]


def _split_like_telegram(text: str) -> list[str]:
    """Parts of at most 4096 characters, cut at a space that Telegram drops."""
    parts = []
    while len(text) > MAX_TEXT_LENGTH:
        cut = text.rfind(" ", 0, MAX_TEXT_LENGTH)
        parts.append(text[:cut])
        text = text[cut + 1 :]
    return [*parts, text]


async def _seed(core_deps) -> None:
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()


async def _assets_and_uploads(core_deps, user_id: int) -> tuple[list[ContentAsset], int]:
    async with core_deps.sessionmaker() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(user_id)))
        assets = list((await s.scalars(select(ContentAsset).where(ContentAsset.user_id == identity.user_id))).all())
        uploads = await s.scalar(
            select(func.sum(UsageTracking.content_uploads)).where(UsageTracking.user_id == identity.user_id)
        )
    return assets, int(uploads or 0)


async def test_a_10000_character_paste_is_one_upload_one_set_of_drafts_charged_once(live_deps, redis_url, run_id):
    core_deps = live_deps
    core_deps.settings.telegram_paste_window_seconds = 1.0
    await _seed(core_deps)
    text = _long_text(10_000)
    parts = _split_like_telegram(text)
    assert len(parts) == 3 and all(len(p) <= MAX_TEXT_LENGTH for p in parts)
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await onboard(tg, CREATOR)
        for part in parts:
            tg.user_sends_text(CREATOR, part)
        await tg.wait_for_message(CREATOR, contains="100% · Done", timeout=90)
        statuses = [m for m in tg.messages_to(CREATOR) if m.content.startswith("⏳")]
        drafts = [m for m in tg.messages_to(CREATOR) if "📝" in m.content]

    assets, uploads = await _assets_and_uploads(core_deps, CREATOR)
    assert len(assets) == 1 and uploads == 1
    async with core_deps.sessionmaker() as s:
        transcript = await s.scalar(
            select(ContentAnalysis.transcript).where(ContentAnalysis.content_asset_id == assets[0].id)
        )
        made = await s.scalar(
            select(func.count()).select_from(GeneratedContent).where(GeneratedContent.content_asset_id == assets[0].id)
        )
    assert transcript == text  # the parts joined back exactly, the dropped spaces restored
    assert len(statuses) == 1  # one status message for the whole paste, edited as parts arrived
    # One set of drafts for the one asset (not a set per fragment), every one of them received: "Done"
    # is only said once each draft was delivered, a long one split or sent as a document.
    assert 0 < len(drafts) == made <= 6


async def test_parts_buffered_when_the_bot_stops_are_ingested_after_it_starts_again(live_deps, redis_url, run_id):
    core_deps = live_deps
    await _seed(core_deps)
    parts = _split_like_telegram(_long_text(6_000))
    assert len(parts) == 2
    async with FakeTelegram() as tg:
        core_deps.settings.telegram_paste_window_seconds = 600  # the bot stops long before this
        async with running_bot(core_deps, redis_url, run_id, telegram=tg):
            await onboard(tg, CREATOR + 1)
            tg.user_sends_text(CREATOR + 1, parts[0])
            tg.user_sends_text(CREATOR + 1, parts[1])
            await tg.wait_for_message(CREATOR + 1, contains="2 parts", timeout=15)
        assert await _assets_and_uploads(core_deps, CREATOR + 1) == ([], 0)

        core_deps.settings.telegram_paste_window_seconds = 0.5
        async with running_bot(core_deps, redis_url, run_id, telegram=tg):
            await tg.wait_for_message(CREATOR + 1, contains="📝", timeout=90)
    assets, uploads = await _assets_and_uploads(core_deps, CREATOR + 1)
    assert len(assets) == 1 and uploads == 1


async def test_a_short_text_is_answered_at_once(live_deps, redis_url, run_id):
    core_deps = live_deps
    core_deps.settings.telegram_paste_window_seconds = 600  # an answer that waited for the window would time out
    await _seed(core_deps)
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await onboard(tg, CREATOR + 2)
        tg.user_sends_text(CREATOR + 2, "hello there")
        await tg.wait_for_message(CREATOR + 2, contains="at least 80 words", timeout=10)


async def test_a_paste_that_cannot_be_stored_is_told_not_left_waiting(live_deps, redis_url, run_id):
    import uuid

    core_deps = live_deps
    core_deps.settings.telegram_paste_window_seconds = 600
    await _seed(core_deps)
    async with FakeTelegram() as tg:
        async with running_bot(core_deps, redis_url, run_id, telegram=tg):
            await onboard(tg, CREATOR + 3)
            tg.user_sends_text(CREATOR + 3, _long_text(3000))
            await tg.wait_for_message(CREATOR + 3, contains="Got your text", timeout=15)
        # A buffer whose account no longer exists (its rows cannot be stored): as a stale buffer would be.
        meta = f"{core_deps.settings.task_queue}:tg:{tg.bot_id}:paste:{CREATOR + 3}:meta"
        assert await core_deps.redis.hset(meta, "user_id", str(uuid.uuid4())) == 0  # the key was there
        core_deps.settings.telegram_paste_window_seconds = 0.2
        async with running_bot(core_deps, redis_url, run_id, telegram=tg):
            await tg.wait_for_message(CREATOR + 3, contains="Something went wrong on our side with your", timeout=15)
