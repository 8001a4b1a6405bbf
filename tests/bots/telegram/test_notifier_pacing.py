"""The Telegram notifier against the local Bot API stand-in: paced per chat and overall, 429s waited out
(nothing lost, order kept), failures classified as `SendFailed(retry=...)`.

Timestamps are the stand-in's record of when it accepted each message; the assertions are ordering and
spacing facts with generous margins, not speed measurements.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from fakes.telegram_api import FakeTelegram

from bots.telegram.notifier import TelegramNotifier
from bots.telegram.pacing import Pacer, Rate
from core.notify.ports import ChatRef, OutgoingMessage, SendFailed

ALICE, BOB, CAROL = 4201, 4202, 4203
FAST = Rate(1000.0, burst=100)  # effectively unpaced, for tests about something else


def chat(chat_id: int) -> ChatRef:
    return ChatRef("telegram", str(chat_id))


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        for chat_id in (ALICE, BOB, CAROL):
            fake.add_chat(chat_id)
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
    try:
        yield bot
    finally:
        await bot.session.close()


async def send_all(notifier: TelegramNotifier, chat_id: int, texts: list[str]) -> list[str]:
    """Hand the notifier every message at once, as a worker delivering drafts does."""
    return await asyncio.gather(*(notifier.send(chat(chat_id), OutgoingMessage(text=t)) for t in texts))


async def test_a_429_delays_but_loses_nothing_and_keeps_order(tg: FakeTelegram, bot: Bot) -> None:
    notifier = TelegramNotifier(bot, pacer=Pacer(per_chat=FAST, overall=FAST))
    tg.fail_next(2, retry_after=1)
    texts = [f"draft {i}" for i in range(4)]

    ids = await send_all(notifier, ALICE, texts)

    assert [m.text for m in tg.messages_to(ALICE)] == texts
    assert ids == [str(m.message_id) for m in tg.messages_to(ALICE)]
    assert [e.error_code for _, e in tg.errors] == [429, 429]
    # Each 429 said "retry after 1": the message got through only after waiting at least that long twice.
    first_refusal = tg.call_times[tg.calls.index(tg.errors[0][0])]
    assert tg.messages_to(ALICE)[0].sent_at - first_refusal >= 1.8


async def test_a_chat_over_telegrams_rate_gets_every_message_in_order(tg: FakeTelegram, bot: Bot) -> None:
    # The pacer is configured too fast on purpose: Telegram's own flood control answers 429s.
    tg.limit_chat_rate(messages=1, per_seconds=1.0)
    notifier = TelegramNotifier(bot, pacer=Pacer(per_chat=FAST, overall=FAST))
    texts = ["one", "two", "three"]

    await send_all(notifier, BOB, texts)

    delivered = tg.messages_to(BOB)
    assert [m.text for m in delivered] == texts
    assert any(e.error_code == 429 for _, e in tg.errors)
    gaps = [b.sent_at - a.sent_at for a, b in zip(delivered, delivered[1:], strict=False)]
    assert all(gap >= 0.9 for gap in gaps), gaps


async def test_one_chat_is_spaced_while_another_chat_is_not_held_up(tg: FakeTelegram, bot: Bot) -> None:
    notifier = TelegramNotifier(bot, pacer=Pacer(per_chat=Rate(2.0, burst=1), overall=FAST))

    alice = asyncio.create_task(send_all(notifier, ALICE, ["a1", "a2", "a3"]))
    await tg.wait_for_message(ALICE, contains="a1")
    await notifier.send(chat(BOB), OutgoingMessage(text="b1"))
    await alice

    a1, a2, a3 = tg.messages_to(ALICE)
    [b1] = tg.messages_to(BOB)
    assert [a1.text, a2.text, a3.text] == ["a1", "a2", "a3"]
    assert a2.sent_at - a1.sent_at >= 0.4 and a3.sent_at - a2.sent_at >= 0.4  # one per 0.5 s
    assert b1.sent_at < a2.sent_at  # Bob did not wait behind Alice's queue
    assert tg.errors == []


async def test_all_chats_together_stay_under_the_overall_rate(tg: FakeTelegram, bot: Bot) -> None:
    notifier = TelegramNotifier(bot, pacer=Pacer(per_chat=FAST, overall=Rate(4.0, burst=1)))

    await asyncio.gather(*(notifier.send(chat(c), OutgoingMessage(text=f"hi {c}")) for c in (ALICE, BOB, CAROL)))

    times = sorted(m.sent_at for c in (ALICE, BOB, CAROL) for m in tg.messages_to(c))
    assert len(times) == 3
    assert all(b - a >= 0.2 for a, b in zip(times, times[1:], strict=False)), times  # one per 0.25 s


async def test_a_burst_goes_out_at_once_then_one_per_interval(tg: FakeTelegram, bot: Bot) -> None:
    notifier = TelegramNotifier(bot, pacer=Pacer(per_chat=Rate(2.0, burst=3), overall=FAST))

    await send_all(notifier, CAROL, [f"m{i}" for i in range(5)])

    sent = tg.messages_to(CAROL)
    assert [m.text for m in sent] == [f"m{i}" for i in range(5)]
    assert sent[2].sent_at - sent[0].sent_at < 0.4  # the burst of three was not spaced 0.5 s apart
    assert sent[3].sent_at - sent[0].sent_at >= 0.4
    assert sent[4].sent_at - sent[3].sent_at >= 0.4


async def test_blocked_by_the_user_is_permanent(tg: FakeTelegram, bot: Bot) -> None:
    notifier = TelegramNotifier(bot)
    tg.block_bot(ALICE)

    with pytest.raises(SendFailed) as failed:
        await notifier.send(chat(ALICE), OutgoingMessage(text="your drafts"))

    assert failed.value.retry is False
    assert isinstance(failed.value.__cause__, TelegramForbiddenError)
    assert "blocked by the user" in str(failed.value)


async def test_chat_not_found_and_bad_request_are_permanent(tg: FakeTelegram, bot: Bot) -> None:
    notifier = TelegramNotifier(bot)

    with pytest.raises(SendFailed) as missing:
        await notifier.send(chat(99999), OutgoingMessage(text="hello?"))
    with pytest.raises(SendFailed) as empty:
        await notifier.send(chat(ALICE), OutgoingMessage(text=" "))

    assert (missing.value.retry, empty.value.retry) == (False, False)
    assert isinstance(missing.value.__cause__, TelegramBadRequest) and "chat not found" in str(missing.value)
    assert isinstance(empty.value.__cause__, TelegramBadRequest)


async def test_a_server_error_is_transient(tg: FakeTelegram, bot: Bot) -> None:
    notifier = TelegramNotifier(bot)
    tg.fail_next(1, error_code=502, description="Bad Gateway")

    with pytest.raises(SendFailed) as failed:
        await notifier.send(chat(BOB), OutgoingMessage(text="draft"))
    again = await notifier.send(chat(BOB), OutgoingMessage(text="draft"))  # what the outbox would do

    assert failed.value.retry is True
    assert isinstance(failed.value.__cause__, TelegramServerError)
    assert [m.text for m in tg.messages_to(BOB)] == ["draft"]
    assert again == str(tg.messages_to(BOB)[0].message_id)


async def test_a_429_longer_than_the_budget_is_handed_back_as_transient(tg: FakeTelegram, bot: Bot) -> None:
    notifier = TelegramNotifier(bot, pacer=Pacer(per_chat=FAST, overall=FAST, max_retry_after=5))
    tg.fail_next(1, retry_after=3600)

    with pytest.raises(SendFailed) as failed:
        await notifier.send(chat(CAROL), OutgoingMessage(text="draft"))

    assert failed.value.retry is True and failed.value.retry_after == 3600
    assert isinstance(failed.value.__cause__, TelegramRetryAfter)
    assert tg.messages_to(CAROL) == []


async def test_an_unreachable_api_is_transient() -> None:
    nowhere = Bot("123:x", session=AiohttpSession(api=TelegramAPIServer.from_base("http://127.0.0.1:9")))
    notifier = TelegramNotifier(nowhere)
    try:
        with pytest.raises(SendFailed) as failed:
            await notifier.send(chat(ALICE), OutgoingMessage(text="draft"))
    finally:
        await notifier.close()

    assert failed.value.retry is True
    assert isinstance(failed.value.__cause__, TelegramNetworkError)


async def test_an_edit_of_unchanged_text_is_quiet_but_a_blocked_chat_is_reported(tg: FakeTelegram, bot: Bot) -> None:
    notifier = TelegramNotifier(bot)
    message_id = await notifier.send(chat(ALICE), OutgoingMessage(text="⏳ 10%"))

    await notifier.edit_text(chat(ALICE), message_id, "⏳ 50%")
    await notifier.edit_text(chat(ALICE), message_id, "⏳ 50%")  # not modified: no error
    tg.fail_next(1, error_code=403, description="Forbidden: bot was blocked by the user", methods={"editMessageText"})
    with pytest.raises(SendFailed) as failed:
        await notifier.edit_text(chat(ALICE), message_id, "⏳ 90%")

    assert tg.message(ALICE, int(message_id)).text == "⏳ 50%"
    assert failed.value.retry is False


def test_schedules_of_quiet_chats_are_forgotten_and_groups_get_the_group_rate() -> None:
    now = [0.0]
    pacer = Pacer(per_chat=Rate(1.0, burst=1), per_group=Rate(0.25, burst=1), clock=lambda: now[0])
    for chat_id in range(1, 1100):
        pacer.schedule(chat_id).reserve(now[0])
    busy = len(pacer._schedules)
    assert busy == 1099  # nothing is idle yet: every chat's next slot is in the future

    now[0] = 10.0  # everyone has been quiet long enough
    group = pacer.schedule(-1001)
    assert len(pacer._schedules) == 1
    assert (group.reserve(now[0]), group.reserve(now[0])) == (10.0, 14.0)  # one per 4 s in a group
    private = pacer.schedule(7)
    assert (private.reserve(now[0]), private.reserve(now[0])) == (10.0, 11.0)
