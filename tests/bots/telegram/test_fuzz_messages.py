"""Issue 16: generated Telegram updates through the webhook door (`mount_telegram_webhook`, the path
production takes with TELEGRAM_WEBHOOK_URL) into the real dispatcher, against a local Bot API server,
real PostgreSQL and Redis: odd Unicode, entities pointing anywhere, captions, documents with strange
names, types and sizes, garbage callback data, edited messages, channel posts and update types the bot
does not know. Every update is acknowledged without a 5xx, handled without an unhandled exception, and
every message a person sends in a private chat gets an answer. The webhook route itself also gets
garbage bodies and secrets."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.fsm.storage.memory import MemoryStorage
from aiohttp import web
from aiohttp.test_utils import TestServer
from fakes.telegram_api import FakeTelegram
from fuzzing import JSON, ODD_TEXT, examples, raw_request, unhandled
from hypothesis import given
from hypothesis import strategies as st

from bots.telegram.app import make_dispatcher
from bots.telegram.notifier import TelegramNotifier
from bots.telegram.webhook import SECRET_HEADER, mount_telegram_webhook
from core.seed.service import apply_seed
from webhooks.app import make_web_app

SECRET = "fuzz-webhook-secret"
LOG = "bots.telegram.update_log"
USERS = itertools.count(5_990_000)  # a new person per example: no flood limit, no leftover conversation
# The stand-in numbers updates from 1 in every test, and the webhook stores them under (telegram, update_id)
# in the database all tests share: ids of this module's own keep other tests' updates from being duplicates.
UPDATE_IDS = itertools.count(7 * 10**12 + uuid.uuid4().int % 10**11)
COMMANDS = ["/start", "/help", "/brand", "/skip", "/cancel", "/done", "/plans", "/usage", "/upgrade", "/connect"]
COMMANDS += ["/stats", "/report", "/calendar", "/publish", "/regenerate", "/transcript", "/xyzzy", "/start@other_bot"]
ENTITY_TYPES = ["bot_command", "mention", "url", "text_link", "bold", "code", "pre", "custom_emoji", "spoiler"]
MIME_TYPES = ["text/plain", "application/pdf", "video/mp4", "audio/mpeg", "image/png", "application/x-msdownload"]


@dataclass
class Bench:
    tg: FakeTelegram
    url: str
    port: int


@pytest.fixture
async def bench(live_deps) -> AsyncIterator[Bench]:
    # Refused deliveries from one address are limited per minute: the fuzzer sends many on purpose.
    live_deps.settings = live_deps.settings.model_copy(update={"web_refusals_per_minute": 10**6})
    async with live_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    async with FakeTelegram() as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
        live_deps.notifier = TelegramNotifier(bot)
        dp = make_dispatcher(live_deps, storage=MemoryStorage())

        def telegram_door(app: web.Application) -> None:
            mount_telegram_webhook(app, deps=live_deps, dp=dp, bot=bot, secret=SECRET)

        # The web app production mounts the webhook on (its limits, its logging), not a bare one.
        app = make_web_app(live_deps, extra_routes=telegram_door)
        async with TestServer(app, host="127.0.0.1") as server:
            assert server.port is not None
            yield Bench(tg, str(server.make_url("/telegram/webhook")), server.port)
        await bot.session.close()


# ------------------------------------------------------------------------------------ updates

entities = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(ENTITY_TYPES), "offset": st.integers(-5, 500), "length": st.integers(-5, 500)},
        optional={"url": ODD_TEXT, "custom_emoji_id": ODD_TEXT, "language": ODD_TEXT},
    ),
    max_size=4,
)
texts = st.one_of(
    ODD_TEXT,
    st.tuples(st.sampled_from(COMMANDS), ODD_TEXT).map(lambda t: f"{t[0]} {t[1]}".strip()),
    st.sampled_from(COMMANDS),
    st.just("https://example.invalid/\u0000video"),
)


@st.composite
def message_content(draw: st.DrawFn, tg: FakeTelegram) -> dict[str, Any]:
    kind = draw(st.sampled_from(["text", "text", "document", "photo", "sticker", "location", "empty"]))
    if kind == "text":
        text = draw(texts) or "."
        found = draw(st.one_of(st.none(), entities))
        if text.startswith("/") and found is None:
            found = [{"type": "bot_command", "offset": 0, "length": len(text.split(" ")[0])}]
        return {"text": text, "entities": found}
    caption = draw(st.one_of(st.none(), ODD_TEXT))
    extra = {"caption": caption, "caption_entities": draw(st.one_of(st.none(), entities)) if caption else None}
    if kind == "document":
        file_id = tg.add_file(draw(st.binary(max_size=300)))
        document = tg._file_object(
            file_id,
            file_name=draw(st.one_of(st.none(), ODD_TEXT, st.just("../../etc/passwd"), st.just("a" * 300 + ".txt"))),
            mime_type=draw(st.one_of(st.none(), st.sampled_from(MIME_TYPES), ODD_TEXT)),
            file_size=draw(st.sampled_from([None, 1, 20 * 1024 * 1024, 2 * 1024**3, 10**12])),
        )
        return {"document": document, **extra}
    if kind == "photo":
        size = tg._file_object(tg.add_file(b"\x89PNG"), width=draw(st.integers(0, 10**5)), height=1)
        return {"photo": [size], **extra}
    if kind == "sticker":
        sticker = tg._file_object(
            tg.add_file(b"RIFF"),
            type="regular",
            width=1,
            height=1,
            is_animated=False,
            is_video=False,
            emoji=draw(ODD_TEXT),
        )
        return {"sticker": sticker}
    if kind == "location":
        return {"location": {"latitude": draw(st.floats(-90, 90)), "longitude": draw(st.floats(-180, 180))}}
    return {"new_chat_title": draw(ODD_TEXT) or "x"}  # a service message: no text at all


@st.composite
def updates(draw: st.DrawFn, tg: FakeTelegram) -> tuple[dict[str, Any], int | None]:
    """An update and the private chat that should get an answer (None when no answer is due)."""
    update, answer_due = draw(_updates(tg))
    update["update_id"] = next(UPDATE_IDS)  # the same dict the stand-in queued, so delivery still finds it
    return update, answer_due


@st.composite
def _updates(draw: st.DrawFn, tg: FakeTelegram) -> tuple[dict[str, Any], int | None]:
    user = next(USERS)
    kind = draw(st.sampled_from(["message", "message", "message", "group", "edited", "callback", "channel", "unknown"]))
    first_name = draw(st.one_of(st.none(), ODD_TEXT.filter(bool)))
    if kind in ("message", "group", "edited"):
        chat_id = -1_000_000_000_000 - user if kind == "group" else None
        update = tg._user_message(
            user, chat_id, draw(st.one_of(st.none(), ODD_TEXT)), first_name, **draw(message_content(tg))
        )
        if kind == "edited":
            update = {
                "update_id": update["update_id"],
                "edited_message": {**update["message"], "edit_date": int(time.time())},
            }
        return update, user if kind == "message" else None
    if kind == "callback":
        sender = tg._user(user, "tester", first_name)
        message = {
            "message_id": draw(st.integers(1, 10**6)),
            "from": {"id": tg.bot_id, "is_bot": True, "first_name": "Recast"},
            "chat": {"id": user, "type": "private", "first_name": sender["first_name"]},
            "date": int(time.time()),
            "text": draw(ODD_TEXT) or "x",
        }
        data = draw(st.one_of(ODD_TEXT, st.sampled_from(["d:a:", "d:a:x", "d:r:1:2:3", "p:", ":", "::::"])))
        payload = {"id": f"{user}{draw(st.integers(0, 999))}", "from": sender, "chat_instance": "1", "data": data}
        if draw(st.booleans()):
            payload["message"] = message
        tg.callback_answers[payload["id"]] = {"answered": False}
        return tg._enqueue("callback_query", payload), None
    if kind == "channel":
        post = {
            "message_id": 1,
            "chat": {"id": -100 - user, "type": "channel", "title": "c"},
            "date": 1,
            "text": draw(ODD_TEXT),
        }
        return tg._enqueue("channel_post", post), None
    name = draw(st.sampled_from(["message_reaction", "business_message", "chat_boost", "purchased_paid_media"]))
    return tg._enqueue(draw(st.one_of(st.just(name), st.from_regex(r"\A[a-z_]{1,20}\Z"))), draw(JSON)), None


def outcome_of(caplog: pytest.LogCaptureFixture, update_id: int) -> str | None:
    return next((r.outcome for r in caplog.records if r.name == LOG and r.update_id == update_id), None)  # type: ignore[attr-defined]


async def until(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while (found := check()) is None and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return found


@examples(40)
@given(data=st.data())
async def test_generated_updates_are_all_handled_and_every_message_is_answered(
    bench: Bench, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    caplog.set_level(logging.INFO)
    tg = bench.tg
    update, answer_due = data.draw(updates(tg), label="update")
    before = len(caplog.records)
    seen = len(tg.messages_to(answer_due)) if answer_due else 0
    status, _ = await tg.deliver_via_webhook(bench.url, update, secret_token=SECRET)
    assert status < 500
    if status == 200 and set(update) & {"message", "edited_message", "callback_query", "channel_post"}:
        outcome = await until(lambda: outcome_of(caplog, update["update_id"]))
        assert outcome is not None and outcome != "error", outcome
    if answer_due is not None:
        assert status == 200
        answered = await until(lambda: tg.messages_to(answer_due)[seen:] or None)
        assert answered, f"no answer to {update}"
    await asyncio.sleep(0.05)  # what the handler does after its answer (storing the outcome) is logged too
    assert unhandled(caplog.records[before:]) == []


@examples(30)
@given(
    body=st.one_of(
        st.binary(max_size=500),
        JSON.map(lambda v: json.dumps(v).encode()),
        st.builds(lambda v: json.dumps({"update_id": next(UPDATE_IDS), "message": v}).encode(), JSON),
        st.sampled_from([b"", b"{", b"\xff\xfe", b'{"update_id": 1e400}', b'{"update_id": "7000000000001"}', b"[]"]),
    ),
    secret=st.one_of(
        st.just(SECRET),
        st.just(SECRET),
        st.just(""),
        ODD_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass").decode("latin-1")),
    ),
    content_type=st.sampled_from([b"application/json", b"text/plain", b"", b"multipart/form-data; boundary=z"]),
)
async def test_the_webhook_door_answers_garbage_without_a_5xx(
    bench: Bench, caplog: pytest.LogCaptureFixture, body: bytes, secret: str, content_type: bytes
) -> None:
    caplog.set_level(logging.INFO)
    before = len(caplog.records)
    headers = [
        (b"Content-Type", content_type),
        (SECRET_HEADER.encode(), secret.encode("latin-1").replace(b"\r", b"").replace(b"\n", b"")),
    ]
    status, _ = await raw_request(bench.port, "POST", b"/telegram/webhook", headers, body)
    assert status < 500
    if secret != SECRET:
        assert status in (400, 401)
    await asyncio.sleep(0.05)
    assert unhandled(caplog.records[before:]) == []
