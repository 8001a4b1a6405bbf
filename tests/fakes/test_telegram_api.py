"""The fake Telegram cloud speaks the Bot API wire format the way a real aiogram Bot expects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from .telegram_api import NOT_MODIFIED, FakeTelegram

USER = 42


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=d.upper(), callback_data=d)] for d in data])


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
    try:
        yield bot
    finally:
        await bot.session.close()


async def test_get_me_returns_the_bot_user(tg: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()

    assert me.id == tg.bot_id == bot.id
    assert me.is_bot is True
    assert me.username == "recast_test_bot"
    assert tg.base_url.startswith("http://127.0.0.1:")
    assert tg.calls[-1].method == "getMe"


async def test_send_message_with_keyboard_then_edit_it(tg: FakeTelegram, bot: Bot) -> None:
    tg.user_sends_text(USER, "hi")  # the user wrote first (message_id 1 in this chat)

    sent = await bot.send_message(USER, "Pick one", reply_markup=keyboard("a", "b"))

    assert sent.message_id == 2
    assert sent.chat.id == USER
    assert sent.from_user is not None and sent.from_user.id == tg.bot_id
    assert sent.text == "Pick one"
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump() == keyboard("a", "b").model_dump()
    method, params = tg.calls[-1]
    assert method == "sendMessage"
    assert params["chat_id"] == USER
    assert params["reply_markup"]["inline_keyboard"][1][0]["callback_data"] == "b"

    edited = await bot.edit_message_text(
        text="Picked a", chat_id=USER, message_id=sent.message_id, reply_markup=keyboard("undo")
    )

    assert isinstance(edited, Message)
    assert edited.text == "Picked a"
    assert edited.edit_date is not None
    [state] = tg.messages_to(USER)
    assert (state.text, state.callback_data, state.edited, state.history) == (
        "Picked a",
        ["undo"],
        True,
        ["Pick one"],
    )

    await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id, reply_markup=None)
    assert tg.messages_to(USER)[0].reply_markup is None


async def test_edit_without_markup_removes_the_keyboard_like_telegram(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_chat(USER)
    sent = await bot.send_message(USER, "Pick", reply_markup=keyboard("a"))

    await bot.edit_message_text(text="Done", chat_id=USER, message_id=sent.message_id)

    assert tg.message(USER, sent.message_id).reply_markup is None


async def test_get_file_and_download_returns_the_same_bytes(tg: FakeTelegram, bot: Bot) -> None:
    content = bytes(range(256)) * 1000
    file_id = tg.add_file(content)

    file = await bot.get_file(file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)

    assert file.file_size == len(content)
    assert downloaded is not None
    assert downloaded.read() == content
    via_download = await bot.download(file_id)
    assert via_download is not None and via_download.read() == content


async def test_send_video_uploads_the_file_bytes(tg: FakeTelegram, bot: Bot, tmp_path: Path) -> None:
    tg.add_chat(USER)
    data = b"\x00\x00\x00\x18ftypmp42" + b"x" * 50_000
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)

    sent = await bot.send_video(USER, FSInputFile(path), caption="Your clip", width=1080, height=1920)

    assert sent.video is not None
    assert (sent.video.width, sent.video.height, sent.video.file_size) == (1080, 1920, len(data))
    assert sent.caption == "Your clip"
    [upload] = tg.uploads
    assert upload.content == data
    assert upload.filename == "clip.mp4"
    _, params = tg.calls[-1]
    assert params["video"] is upload
    assert tg.file_bytes(sent.video.file_id) == data
    [state] = tg.messages_to(USER)
    assert state.media_kind == "video" and state.content == "Your clip"

    # Re-sending by file_id uploads nothing new.
    again = await bot.send_video(USER, sent.video.file_id)
    assert again.video is not None and again.video.file_id == sent.video.file_id
    assert len(tg.uploads) == 1


async def test_send_photo_and_document(tg: FakeTelegram, bot: Bot, tmp_path: Path) -> None:
    tg.add_chat(USER)
    (tmp_path / "p.jpg").write_bytes(b"\xff\xd8jpeg")
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4")

    photo = await bot.send_photo(USER, FSInputFile(tmp_path / "p.jpg"))
    doc = await bot.send_document(
        USER, FSInputFile(tmp_path / "report.pdf"), caption="<b>Report</b>", parse_mode="HTML"
    )

    assert photo.photo is not None and tg.file_bytes(photo.photo[-1].file_id) == b"\xff\xd8jpeg"
    assert doc.document is not None and doc.document.file_name == "report.pdf"
    assert doc.caption == "Report"
    assert doc.caption_entities is not None and doc.caption_entities[0].type == "bold"
    assert [m.media_kind for m in tg.messages_to(USER)] == ["photo", "document"]


async def test_dispatcher_polling_receives_command_and_answers(tg: FakeTelegram, bot: Bot) -> None:
    router = Router()

    @router.message(Command("start"))
    async def start(message: Message, command: CommandObject) -> None:
        assert message.from_user is not None
        await message.answer(f"Welcome, {message.from_user.username}! args={command.args}")

    dp = Dispatcher()
    dp.include_router(router)
    update = tg.user_sends_command(USER, "start", "ref_7", username="alice")
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    try:
        reply = await tg.wait_for_message(USER, contains="Welcome, alice!", timeout=5)
        assert reply.text == "Welcome, alice! args=ref_7"
        # The next long poll confirms the update through its offset.
        await tg.wait_for(lambda c: c.method == "getUpdates" and c.params.get("offset") == update["update_id"] + 1)
        assert tg.pending_updates == []
    finally:
        await dp.stop_polling()
        await polling


async def test_user_presses_button_and_bot_answers_callback(tg: FakeTelegram, bot: Bot) -> None:
    router = Router()

    @router.callback_query(F.data == "approve")
    async def approve(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.answer("Approved")
        await query.message.edit_text("Approved ✅")

    dp = Dispatcher()
    dp.include_router(router)
    tg.add_chat(USER)
    sent = await bot.send_message(USER, "Draft ready", reply_markup=keyboard("approve", "reject"))
    with pytest.raises(ValueError, match="no button"):
        tg.user_presses_button(USER, sent.message_id, "publish")
    update = tg.user_presses_button(USER, sent.message_id, "approve")

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    try:
        edited = await tg.wait_for_message(USER, contains="Approved", timeout=5)
        assert edited.message_id == sent.message_id and edited.edited
        assert edited.reply_markup is None
        query_id = update["callback_query"]["id"]
        assert tg.callback_answers[query_id] == {"answered": True, "text": "Approved", "show_alert": False}
    finally:
        await dp.stop_polling()
        await polling


async def test_get_updates_offset_and_long_polling(tg: FakeTelegram, bot: Bot) -> None:
    first = tg.user_sends_text(USER, "one")
    second = tg.user_sends_text(USER, "two")

    both = await bot.get_updates(offset=0, timeout=0)
    assert [u.update_id for u in both] == [first["update_id"], second["update_id"]]
    assert both[1].message is not None and both[1].message.text == "two"

    only_second = await bot.get_updates(offset=second["update_id"], timeout=0)
    assert [u.update_id for u in only_second] == [second["update_id"]]
    assert [u["update_id"] for u in tg.pending_updates] == [second["update_id"]]

    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(offset=second["update_id"] + 1, timeout=1) == []
    assert loop.time() - started >= 0.9  # the empty poll was held for the timeout

    waiting = asyncio.create_task(bot.get_updates(offset=second["update_id"] + 1, timeout=10))
    await tg.wait_for(lambda c: c.method == "getUpdates" and c.params.get("timeout") == 10)
    started = loop.time()
    third = tg.user_sends_text(USER, "three")
    got = await asyncio.wait_for(waiting, 2)
    assert [u.update_id for u in got] == [third["update_id"]]
    assert loop.time() - started < 1


async def test_limits_raise_the_same_errors_as_telegram(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_chat(USER)

    with pytest.raises(TelegramBadRequest) as too_long:
        await bot.send_message(USER, "x" * 4097)
    assert too_long.value.message == "Bad Request: message is too long"
    # Telegram counts UTF-16 units: 2049 emoji are 4098 units.
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "😀" * 2049)
    assert (await bot.send_message(USER, "x" * 4096)).text == "x" * 4096

    with pytest.raises(TelegramBadRequest) as bad_button:
        await bot.send_message(USER, "pick", reply_markup=keyboard("d" * 65))
    assert bad_button.value.message == "Bad Request: BUTTON_DATA_INVALID"
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):  # bytes, not characters
        await bot.send_message(USER, "pick", reply_markup=keyboard("é" * 33))
    await bot.send_message(USER, "pick", reply_markup=keyboard("d" * 64))

    big = tg.add_file(b"tiny", file_size=30 * 1024 * 1024)
    with pytest.raises(TelegramBadRequest) as too_big:
        await bot.get_file(big)
    assert too_big.value.message == "Bad Request: file is too big"

    sent = await bot.send_message(USER, "same")
    with pytest.raises(TelegramBadRequest) as unmodified:
        await bot.edit_message_text(text="same", chat_id=USER, message_id=sent.message_id)
    assert unmodified.value.message == f"Bad Request: {NOT_MODIFIED}"
    assert "message is not modified" in str(unmodified.value)

    assert [e.description for _, e in tg.errors] == [
        "Bad Request: message is too long",
        "Bad Request: message is too long",
        "Bad Request: BUTTON_DATA_INVALID",
        "Bad Request: BUTTON_DATA_INVALID",
        "Bad Request: file is too big",
        f"Bad Request: {NOT_MODIFIED}",
    ]


async def test_user_video_of_30_mb_cannot_be_fetched(tg: FakeTelegram, bot: Bot) -> None:
    file_id = tg.add_file(b"not really 30 MB")
    update = tg.user_sends_video(USER, file_id, duration=600, file_size=30 * 1024 * 1024, file_name="talk.mp4")

    [received] = await bot.get_updates(timeout=0)
    assert received.update_id == update["update_id"]
    assert received.message is not None and received.message.video is not None
    assert received.message.video.file_size == 30 * 1024 * 1024
    assert received.message.video.duration == 600
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(received.message.video.file_id)


async def test_other_user_media_updates_parse_as_aiogram_types(tg: FakeTelegram, bot: Bot) -> None:
    f = tg.add_file(b"media")
    tg.user_sends_voice(USER, f, duration=3)
    tg.user_sends_audio(USER, f, title="Ep 1")
    tg.user_sends_video_note(USER, f)
    tg.user_sends_document(USER, f, "notes.pdf", "application/pdf", 1234)

    updates = await bot.get_updates(timeout=0)

    messages = [u.message for u in updates]
    assert all(m is not None for m in messages)
    voice, audio, note, doc = messages
    assert voice and voice.voice and voice.voice.duration == 3
    assert audio and audio.audio and audio.audio.title == "Ep 1"
    assert note and note.video_note and note.video_note.length == 384
    assert doc and doc.document and (doc.document.file_name, doc.document.file_size) == ("notes.pdf", 1234)
    assert [m.message_id for m in messages if m] == [1, 2, 3, 4]


async def test_html_and_markdown_v2_are_parsed_like_telegram(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_chat(USER)

    sent = await bot.send_message(USER, "<b>Draft</b> &lt;3 <a href='https://x.test'>link</a>", parse_mode="HTML")
    assert sent.text == "Draft <3 link"
    assert sent.entities is not None
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 5), ("text_link", 9, 4)]

    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag"):
        await bot.send_message(USER, "a <br> b", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Can't find end tag"):
        await bot.send_message(USER, "<b>open", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Character '.' is reserved"):
        await bot.send_message(USER, "Version 1.5", parse_mode="MarkdownV2")
    ok = await bot.send_message(USER, r"*Version* 1\.5", parse_mode="MarkdownV2")
    assert ok.text == "Version 1.5"


async def test_delete_message_and_chat_rules(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(777, "nobody wrote to me")

    tg.user_sends_text(USER, "hello")
    sent = await bot.send_message(USER, "bye")
    assert await bot.delete_message(USER, sent.message_id) is True
    assert tg.messages_to(USER)[0].deleted
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text(text="x", chat_id=USER, message_id=1)  # the user's own message


async def test_chat_action_commands_and_callback_answer_rules(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_chat(USER)
    assert await bot.send_chat_action(USER, "upload_video") is True

    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="new", description="New"),
    ]
    assert await bot.set_my_commands(commands) is True
    assert [c.model_dump() for c in await bot.get_my_commands()] == [c.model_dump() for c in commands]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="bad-name!", description="x")])

    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("does-not-exist")


async def test_webhook_mode(tg: FakeTelegram, bot: Bot) -> None:
    router = Router()

    @router.message(Command("ping"))
    async def ping(message: Message) -> object:
        return message.answer("pong")  # answered in the webhook response body

    dp = Dispatcher()
    dp.include_router(router)
    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token="s3cret", handle_in_background=False).register(app, "/tg")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
            await bot.set_webhook("http://bot.example/tg")
        assert await bot.set_webhook("https://bot.example/tg", secret_token="s3cret") is True
        info = await bot.get_webhook_info()
        assert info.url == "https://bot.example/tg"
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates(timeout=0)

        local = f"http://127.0.0.1:{port}/tg"
        update = tg.user_sends_command(USER, "ping")
        status, _ = await tg.deliver_via_webhook(local, update, secret_token="wrong")
        assert status == 401
        status, body = await tg.deliver_via_webhook(local, update)  # secret from setWebhook
        assert status == 200 and body == {"method": "sendMessage"}
        assert (await tg.wait_for_message(USER, contains="pong", timeout=2)).text == "pong"
        assert tg.pending_updates == []

        assert await bot.delete_webhook() is True
        assert (await bot.get_webhook_info()).url == ""
    finally:
        await runner.cleanup()


async def test_unknown_method_and_bad_token(tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{tg.base_url}/bot{tg.token}/sendTelepathy", data={"x": "1"}) as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.get(f"{tg.base_url}/bot{tg.token}/getme") as resp:  # names are case-insensitive
            assert (await resp.json())["result"]["id"] == tg.bot_id
        async with http.get(f"{tg.base_url}/file/bot{tg.token}/documents/nothing.bin") as resp:
            assert resp.status == 404

    other = Bot("999:WRONG-token", session=AiohttpSession(api=tg.api_server))
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await other.get_me()
    finally:
        await other.session.close()


async def test_wait_for_times_out_with_a_useful_message(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_chat(USER)
    await bot.send_message(USER, "hello")

    with pytest.raises(AssertionError, match="(?s)containing 'goodbye'.*sendMessage"):
        await tg.wait_for_message(USER, contains="goodbye", timeout=0.2)
    with pytest.raises(AssertionError, match="matching call"):
        await tg.wait_for(lambda c: c.method == "sendVideo", timeout=0.2)
    assert (await tg.wait_for_message(USER, contains="hell", timeout=0.2)).text == "hello"


async def test_planned_429_is_telegrams_flood_control_answer(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_chat(USER)
    tg.fail_next(1, retry_after=3)
    url = f"{tg.base_url}/bot{tg.token}/sendMessage"
    async with aiohttp.ClientSession() as http, http.post(url, data={"chat_id": USER, "text": "hi"}) as resp:
        assert resp.status == 429
        assert await resp.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        }
    # Only the next call was refused; aiogram reads the same answer as TelegramRetryAfter.
    assert (await bot.send_message(USER, "hi")).text == "hi"
    tg.fail_next(1, retry_after=2)
    with pytest.raises(TelegramRetryAfter) as throttled:
        await bot.send_message(USER, "again")
    assert throttled.value.retry_after == 2


async def test_chat_rate_limit_and_blocked_bot(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_chat(USER)
    tg.add_chat(USER + 1)
    tg.limit_chat_rate(messages=2, per_seconds=60)
    await bot.send_message(USER, "one")
    await bot.send_message(USER, "two")
    with pytest.raises(TelegramRetryAfter) as throttled:
        await bot.send_message(USER, "three")
    assert 58 <= throttled.value.retry_after <= 60
    await bot.send_message(USER + 1, "another chat has its own window")

    tg.block_bot(USER + 1)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER + 1, "hello?")
    assert [m.text for m in tg.messages_to(USER)] == ["one", "two"]


async def test_video_thumbnail_is_kept_only_within_telegrams_limits(tg: FakeTelegram, bot: Bot, tmp_path: Path) -> None:
    import av
    import numpy as np

    def jpeg(name: str, width: int, height: int) -> Path:
        path = tmp_path / name
        frame = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), dtype=np.uint8), format="rgb24")
        with av.open(str(path), mode="w", format="image2") as out:
            stream = out.add_stream("mjpeg")
            stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
            for packet in [*stream.encode(frame.reformat(format="yuvj420p")), *stream.encode(None)]:
                out.mux(packet)
        return path

    tg.add_chat(USER)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    small = await bot.send_video(USER, FSInputFile(clip), thumbnail=FSInputFile(jpeg("s.jpg", 180, 320)))
    big = await bot.send_video(USER, FSInputFile(clip), thumbnail=FSInputFile(jpeg("b.jpg", 1080, 1920)))

    assert small.video is not None and small.video.thumbnail is not None
    assert (small.video.thumbnail.width, small.video.thumbnail.height) == (180, 320)
    assert big.video is not None and big.video.thumbnail is None  # ignored, like Telegram does


async def test_a_held_request_stays_in_flight_until_released(tg: FakeTelegram, bot: Bot) -> None:
    tg.user_sends_text(USER, "hi")  # the chat exists once the user wrote
    hold = tg.hold(lambda call: call.method == "sendMessage" and call.params.get("text") == "slow")
    slow = asyncio.create_task(bot.send_message(USER, "slow"))
    held = await hold.wait_reached()
    assert held.params["text"] == "slow"
    await bot.send_message(USER, "fast")  # other requests are answered meanwhile
    assert [m.content for m in tg.messages_to(USER)] == ["fast"] and not slow.done()
    hold.release()
    await slow
    assert [m.content for m in tg.messages_to(USER)] == ["fast", "slow"]
