"""A fake Telegram cloud: a local HTTP server speaking the Bot API wire format.

Point a real aiogram ``Bot`` at it::

    async with FakeTelegram() as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
        tg.user_sends_command(42, "start")
        ...
        await tg.wait_for_message(42, contains="Welcome")

Requests are accepted the way api.telegram.org accepts them (query string, urlencoded form,
multipart form with ``attach://`` file parts, or JSON body); responses are
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...}``
with the descriptions the real API uses, so aiogram raises the same exceptions.

Failures on demand, for code that must survive them: ``fail_next`` (the next calls answer 429 with
``parameters.retry_after``, or any other error such as a 502), ``limit_chat_rate`` (flood control: too
many messages into one chat within a window get a 429), ``block_bot`` (403, the user blocked the bot).
``SentMessage.sent_at`` and ``call_times`` record when the fake accepted each message and call.

Deliberate simplifications: one bot per server; files sent by URL are accepted without
fetching; legacy ``Markdown`` text is stored as sent (``HTML`` and ``MarkdownV2`` are parsed
and validated like the real API does, and stored as the plain text a user would see).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import itertools
import json
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import aiohttp
from aiohttp import web

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # bots may upload at most 50 MB

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "allowed_updates",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
    }
)
_INT_FIELDS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "timeout",
        "duration",
        "width",
        "height",
        "length",
        "max_connections",
        "cache_time",
        "message_thread_id",
        "reply_to_message_id",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "show_alert",
        "supports_streaming",
        "has_spoiler",
        "disable_web_page_preview",
        "disable_content_type_detection",
        "allow_sending_without_reply",
        "show_caption_above_media",
    }
)
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


class TelegramError(Exception):
    """An API error, rendered as ``{"ok": false, "error_code": ..., "description": ...}`` (plus
    ``"parameters"`` such as ``{"retry_after": N}`` when given)."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters


def too_many_requests(retry_after: int) -> TelegramError:
    """Telegram's flood-control answer: HTTP 429 with ``parameters.retry_after`` (whole seconds)."""
    return TelegramError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


BLOCKED = "Forbidden: bot was blocked by the user"
# Methods that put a new message into a chat: the ones flood control and blocking apply to.
CHAT_WRITES = frozenset({"sendMessage", "sendVideo", "sendPhoto", "sendDocument", "sendAudio", "sendVoice"})


@dataclass
class _PlannedFailure:
    remaining: int
    error: TelegramError
    methods: frozenset[str]
    chat_id: int | None


def _bad_request(detail: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {detail}")


@dataclass
class Hold:
    """Requests held unanswered (a slow network or a busy Telegram) until `release()`; see `FakeTelegram.hold`."""

    predicate: Callable[[Call], bool]
    held: list[Call] = field(default_factory=list)
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()

    async def wait_reached(self, timeout: float = 5.0) -> Call:
        """Wait until a request is being held; return the first one."""
        await asyncio.wait_for(self.reached.wait(), timeout)
        return self.held[0]


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units, like entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


class Call(NamedTuple):
    """One API request as the fake received it: ``method, params = call``."""

    method: str
    params: dict[str, Any]


@dataclass
class UploadedFile:
    """A file part of a multipart request, kept in memory for inspection."""

    field: str
    filename: str | None
    content_type: str | None
    content: bytes


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    file_size: int
    file_path: str
    url: str | None = None


@dataclass
class SentMessage:
    """Current state of one message in a chat (bot's or user's)."""

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] | None = None
    caption: str | None = None
    caption_entities: list[dict[str, Any]] | None = None
    reply_markup: dict[str, Any] | None = None  # inline keyboard only, as the API echoes it
    reply_keyboard: dict[str, Any] | None = None  # keyboard / remove_keyboard / force_reply as sent
    media_kind: str | None = None  # "video", "photo", "document", ...
    sent_at: float = 0.0  # time.monotonic() when the fake accepted the message (ordering/spacing facts)
    media: Any = None  # the wire object (a list of PhotoSize for photos)
    raw_text: str | None = None  # text/caption as sent, before parse_mode was applied
    parse_mode: str | None = None
    edited: bool = False
    edit_date: int | None = None
    deleted: bool = False
    history: list[str | None] = field(default_factory=list)  # earlier texts/captions
    wire: dict[str, Any] = field(default_factory=dict)  # the Message object as last returned

    @property
    def content(self) -> str:
        """Text or caption, whichever the message has."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline keyboard buttons, row by row, flattened."""
        if not self.reply_markup:
            return []
        return [b for row in self.reply_markup.get("inline_keyboard", []) for b in row]

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]


# --------------------------------------------------------------------------- text parsing

_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_TOKEN = re.compile(r"<(/?)([^\s<>/]*)([^<>]*)>|&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);|<")
_HTML_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))""")


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram's HTML subset like the API does: plain text plus entities, or 400."""
    out: list[str] = []
    stack: list[tuple[str, int, dict[str, Any]]] = []
    entities: list[dict[str, Any]] = []
    pos = 0
    length = 0

    def byte_offset(i: int) -> int:
        return len(text[:i].encode())

    for m in _HTML_TOKEN.finditer(text):
        chunk = text[pos : m.start()]
        out.append(chunk)
        length += utf16_len(chunk)
        pos = m.end()
        if m.group(4) is not None:  # character entity
            ch = html.unescape(f"&{m.group(4)};")
            out.append(ch)
            length += utf16_len(ch)
            continue
        if m.group(2) is None or m.group(2) == "":
            raise _bad_request(
                f"can't parse entities: Unexpected end of name token at byte offset {byte_offset(m.start())}"
            )
        closing, name, attrs = m.group(1) == "/", m.group(2).lower(), m.group(3)
        if name not in _HTML_ENTITY_TYPES:
            kind = "end" if closing else "start"
            raise _bad_request(
                f'can\'t parse entities: Unsupported {kind} tag "{name}" at byte offset {byte_offset(m.start())}'
            )
        if not closing:
            extra: dict[str, Any] = {}
            parsed = {a.group(1).lower(): a.group(2) or a.group(3) or a.group(4) for a in _HTML_ATTR.finditer(attrs)}
            if name == "a":
                extra["url"] = parsed.get("href", "")
            if name == "tg-emoji":
                extra["custom_emoji_id"] = parsed.get("emoji-id", "")
            if name == "blockquote" and "expandable" in attrs:
                extra["expandable"] = True
            stack.append((name, length, extra))
            continue
        if not stack:
            raise _bad_request(f"can't parse entities: Unexpected end tag at byte offset {byte_offset(m.start())}")
        open_name, start, extra = stack.pop()
        if open_name != name:
            raise _bad_request(
                f"can't parse entities: Unmatched end tag at byte offset {byte_offset(m.start())}, "
                f'expected "</{open_name}>", found "</{name}>"'
            )
        if length > start:
            etype = _HTML_ENTITY_TYPES[name]
            if etype == "blockquote" and extra.pop("expandable", False):
                etype = "expandable_blockquote"
            entities.append({"type": etype, "offset": start, "length": length - start, **extra})
    tail = text[pos:]
    out.append(tail)
    if stack:
        raise _bad_request(f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1][0]}\"")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def parse_markdown_v2(text: str) -> str:
    """Validate MarkdownV2 like the API does and return the plain text (entities not kept)."""
    out: list[str] = []
    open_marks: list[tuple[str, int]] = []
    i = 0
    n = len(text)

    def fail(detail: str) -> TelegramError:
        return _bad_request(f"can't parse entities: {detail}")

    while i < n:
        c = text[i]
        at_line_start = i == 0 or text[i - 1] == "\n"
        if c == "\\":
            if i + 1 < n:
                out.append(text[i + 1])
            i += 2
            continue
        if text.startswith("```", i):
            end = text.find("```", i + 3)
            if end < 0:
                raise fail(f"Can't find end of Pre entity at byte offset {len(text[:i].encode())}")
            body = text[i + 3 : end]
            if "\n" in body and not body.startswith("\n"):  # language tag on the first line
                body = body.split("\n", 1)[1]
            out.append(body.replace("\\`", "`").replace("\\\\", "\\"))
            i = end + 3
            continue
        if c == "`":
            end = text.find("`", i + 1)
            while end > 0 and text[end - 1] == "\\":
                end = text.find("`", end + 1)
            if end < 0:
                raise fail(f"Can't find end of Code entity at byte offset {len(text[:i].encode())}")
            out.append(text[i + 1 : end].replace("\\`", "`").replace("\\\\", "\\"))
            i = end + 1
            continue
        if c == "]" and any(mark == "[" for mark, _ in open_marks):
            if not text.startswith("(", i + 1):
                raise fail("Character ']' is reserved and must be escaped with the preceding '\\'")
            end = text.find(")", i + 2)
            if end < 0:
                raise fail("Can't find end of a URL")
            while open_marks and open_marks[-1][0] != "[":
                open_marks.pop()
            open_marks.pop()
            i = end + 1
            continue
        if c == ">" and at_line_start:
            i += 1
            continue
        mark = "||" if text.startswith("||", i) else "__" if text.startswith("__", i) else c
        if mark in {"*", "_", "__", "~", "||"}:
            if open_marks and open_marks[-1][0] == mark:
                open_marks.pop()
            else:
                open_marks.append((mark, i))
            i += len(mark)
            continue
        if c == "[":
            open_marks.append(("[", i))
            i += 1
            continue
        if c in _MDV2_RESERVED:
            raise fail(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
        out.append(c)
        i += 1
    if open_marks:
        mark, at = open_marks[-1]
        name = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler"}
        entity = name.get(mark, "TextUrl")
        raise fail(f"Can't find end of {entity} entity at byte offset {len(text[:at].encode())}")
    return "".join(out)


def apply_parse_mode(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None
) -> tuple[str, list[dict[str, Any]] | None]:
    mode = (parse_mode or "").lower()
    if mode == "html":
        plain, found = parse_html(text)
        return plain, found or None
    if mode == "markdownv2":
        return parse_markdown_v2(text), None
    if mode and mode != "markdown":
        raise _bad_request("unsupported parse_mode")
    return text, entities or None


# --------------------------------------------------------------------------- the server


class FakeTelegram:
    """In-process fake of api.telegram.org for one bot; use as ``async with FakeTelegram() as tg``."""

    def __init__(
        self,
        *,
        token: str = "123456:TEST-token",
        bot_username: str = "recast_test_bot",
        bot_first_name: str = "Recast Test Bot",
        strict_chats: bool = True,
        first_update_id: int = 1,
    ) -> None:
        # `first_update_id`: where this bot's update ids start (Telegram's are per bot); tests whose bot
        # stores updates in the run's shared database start apart from the others.
        self._token = token
        self._bot_id = int(token.split(":", 1)[0])
        self.bot_user: dict[str, Any] = {
            "id": self._bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        # With strict_chats the bot can only write to chats a user has written from (as on Telegram);
        # add_chat() registers others.
        self.strict_chats = strict_chats
        self.calls: list[Call] = []
        self.call_times: list[float] = []  # time.monotonic() of each entry of `calls`
        self.errors: list[tuple[Call, TelegramError]] = []
        self.uploads: list[UploadedFile] = []
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(first_update_id)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._files: dict[str, StoredFile] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._changed = asyncio.Event()
        self._planned: list[_PlannedFailure] = []
        self._holds: list[Hold] = []
        self._blocked: set[int] = set()
        self._chat_rate: tuple[int, float] | None = None
        self._accepted: dict[int, list[float]] = {}
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._client: aiohttp.ClientSession | None = None
        self._methods: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "sendVideo": lambda p: self._send_media("video", p),
                "sendPhoto": lambda p: self._send_media("photo", p),
                "sendDocument": lambda p: self._send_media("document", p),
                "sendAudio": lambda p: self._send_media("audio", p),
                "sendVoice": lambda p: self._send_media("voice", p),
                "sendChatAction": self._send_chat_action,
                "answerCallbackQuery": self._answer_callback_query,
                "getFile": self._get_file,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
            }.items()
        }

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server  # the bound socket tells us which free port we got
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._base_url = f"http://127.0.0.1:{port}"
        self._client = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        for hold in self._holds:
            hold.release()  # a held request must not keep the server from shutting down
        self._notify()  # wake pending long polls so the server can shut down at once
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("FakeTelegram is not started; use `async with FakeTelegram()`")
        return self._base_url

    @property
    def token(self) -> str:
        return self._token

    @property
    def bot_id(self) -> int:
        return self._bot_id

    @property
    def api_server(self) -> Any:
        """An aiogram ``TelegramAPIServer`` for this fake."""
        from aiogram.client.telegram import TelegramAPIServer

        return TelegramAPIServer.from_base(self.base_url, is_local=False)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self._token:
            return _error_response(TelegramError(401, "Unauthorized"))
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None:
            return _error_response(TelegramError(404, "Not Found"))
        try:
            params = await _read_request(request)
        except TelegramError as e:
            return _error_response(e)
        return await self._execute(entry, params)

    async def _execute(
        self, entry: tuple[str, Callable[[dict[str, Any]], Any]], params: dict[str, Any]
    ) -> web.Response:
        name, handler = entry
        call = Call(name, params)
        self.calls.append(call)
        self.call_times.append(time.monotonic())
        self.uploads.extend(v for v in params.values() if isinstance(v, UploadedFile))
        self._notify()
        for hold in self._holds:
            if not hold.released.is_set() and hold.predicate(call):
                hold.held.append(call)
                hold.reached.set()
                await hold.released.wait()
        try:
            self._refuse_if_planned(name, params)
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except TelegramError as e:
            self.errors.append((call, e))
            self._notify()
            return _error_response(e)
        self._notify()
        body: dict[str, Any] = {"ok": True, "result": result}
        if name == "setWebhook":
            body["description"] = "Webhook was set" if params.get("url") else "Webhook was deleted"
        return web.json_response(body)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self._token:
            return _error_response(TelegramError(401, "Unauthorized"))
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path and stored.file_size <= MAX_DOWNLOAD_BYTES:
                return web.Response(body=stored.content, content_type="application/octet-stream")
        return _error_response(TelegramError(404, "Not Found"))

    # ------------------------------------------------------------------ failures on demand

    def fail_next(
        self,
        count: int = 1,
        *,
        retry_after: int | None = None,
        error_code: int = 429,
        description: str | None = None,
        methods: frozenset[str] | set[str] = CHAT_WRITES,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``methods`` (to ``chat_id``, if given) with an error:
        by default Telegram's 429 with ``retry_after`` (1 s unless given); any other ``error_code``
        with ``description`` (e.g. ``502, "Bad Gateway"``)."""
        if error_code == 429:
            error = too_many_requests(retry_after if retry_after is not None else 1)
        else:
            error = TelegramError(error_code, description or "Internal Server Error")
        self._planned.append(_PlannedFailure(count, error, frozenset(methods), chat_id))

    def hold(self, predicate: Callable[[Call], bool]) -> Hold:
        """Hold every request matching ``predicate`` unanswered until the returned hold is released
        (like a slow upload): the bot's call stays in flight, so what it does meanwhile can be tested."""
        hold = Hold(predicate)
        self._holds.append(hold)
        return hold

    def block_bot(self, chat_id: int) -> None:
        """The user of ``chat_id`` blocks the bot: sending there answers 403 from now on."""
        self._blocked.add(chat_id)

    def limit_chat_rate(self, messages: int, per_seconds: float) -> None:
        """Enforce flood control like Telegram: more than ``messages`` new messages into one chat within
        ``per_seconds`` get a 429 whose ``retry_after`` is the whole seconds until a slot frees up."""
        self._chat_rate = (messages, per_seconds)

    def _refuse_if_planned(self, method: str, params: Mapping[str, Any]) -> None:
        chat_id = params.get("chat_id")
        for planned in self._planned:
            if planned.remaining > 0 and method in planned.methods and planned.chat_id in (None, chat_id):
                planned.remaining -= 1
                raise planned.error
        if method not in CHAT_WRITES or not isinstance(chat_id, int):
            return
        if chat_id in self._blocked:
            raise TelegramError(403, BLOCKED)
        if self._chat_rate is not None:
            messages, window = self._chat_rate
            now = time.monotonic()
            recent = [t for t in self._accepted.get(chat_id, []) if now - t < window]
            if len(recent) >= messages:
                raise too_many_requests(max(1, math.ceil(recent[-messages] + window - now)))
            self._accepted[chat_id] = [*recent, now]

    # ------------------------------------------------------------------ chats and messages

    def add_chat(self, chat_id: int, *, title: str = "Test group", username: str | None = None) -> dict[str, Any]:
        """Register a chat the bot may write to without a user having written first."""
        if chat_id > 0:
            chat = {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
        else:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            chat = {"id": chat_id, "type": kind, "title": title}
        if username:
            chat["username"] = username
        self._chats.setdefault(chat_id, chat)
        return self._chats[chat_id]

    def _resolve_chat(self, params: Mapping[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise _bad_request("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for chat in self._chats.values():
                if chat.get("username", "").lower() == chat_id[1:].lower():
                    return chat
            raise _bad_request("chat not found")
        if not isinstance(chat_id, int):
            raise _bad_request("chat not found")
        if chat_id in self._chats:
            return self._chats[chat_id]
        if self.strict_chats:
            raise _bad_request("chat not found")
        return self.add_chat(chat_id)

    def _new_message_id(self, chat_id: int) -> int:
        self._next_message_id[chat_id] = self._next_message_id.get(chat_id, 0) + 1
        return self._next_message_id[chat_id]

    def _message_wire(self, msg: SentMessage) -> dict[str, Any]:
        sender = self.bot_user if msg.from_bot else self._users.get(msg.chat_id, {})
        wire: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": sender,
            "chat": self._chats[msg.chat_id],
            "date": msg.date,
        }
        if msg.edit_date is not None:
            wire["edit_date"] = msg.edit_date
        if msg.text is not None:
            wire["text"] = msg.text
            if msg.entities:
                wire["entities"] = msg.entities
        if msg.media_kind is not None:
            wire[msg.media_kind] = msg.media
        if msg.caption is not None:
            wire["caption"] = msg.caption
            if msg.caption_entities:
                wire["caption_entities"] = msg.caption_entities
        if msg.reply_markup:
            wire["reply_markup"] = msg.reply_markup
        msg.wire = wire
        return wire

    def _split_markup(self, markup: Any, msg: SentMessage) -> None:
        if markup is None:
            msg.reply_markup = None
            return
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            msg.reply_markup = _check_inline_keyboard(markup)
        else:
            msg.reply_keyboard = markup

    def _find_message(self, params: Mapping[str, Any], *, action: str) -> SentMessage:
        if params.get("inline_message_id"):
            raise _bad_request(f"message to {action} not found")
        chat = self._resolve_chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        msg = self._messages.get((chat["id"], message_id))
        if msg is None or msg.deleted:
            raise _bad_request(f"message to {action} not found")
        return msg

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """Every message the bot sent to this chat, in order, in its current state."""
        return sorted(
            (m for (c, _), m in self._messages.items() if c == chat_id and m.from_bot),
            key=lambda m: m.message_id,
        )

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        return self._messages[(chat_id, message_id)]

    # ------------------------------------------------------------------ API methods

    def _get_me(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset") or 0
        limit = min(max(params.get("limit") or 100, 1), 100)
        timeout = max(params.get("timeout") or 0, 0)
        allowed = params.get("allowed_updates") or None
        if offset < 0:  # "-N": keep only the last N updates
            self._updates = self._updates[offset:]
            offset = 0
        elif offset:  # confirms every update with a smaller id
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._poll_generation += 1
        generation = self._poll_generation
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            changed = self._changed
            ready = [u for u in self._updates if allowed is None or _update_type(u) in allowed][:limit]
            remaining = deadline - asyncio.get_running_loop().time()
            if ready or self._closing or remaining <= 0:
                return ready
            if generation != self._poll_generation:
                raise TelegramError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if not url:
            self.webhook = None
            return True
        if not url.startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.match(secret):
            raise _bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": params.get("max_connections") or 40,
        }
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, _: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook["allowed_updates"]:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _store_bot_message(self, chat: dict[str, Any], msg: SentMessage) -> dict[str, Any]:
        msg.sent_at = time.monotonic()
        self._messages[(chat["id"], msg.message_id)] = msg
        return self._message_wire(msg)

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        raw = params.get("text")
        if not raw or not str(raw).strip():
            raise _bad_request("message text is empty")
        text, entities = apply_parse_mode(str(raw), params.get("parse_mode"), params.get("entities"))
        if not text.strip():
            raise _bad_request("text must be non-empty")
        if utf16_len(text) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        msg = SentMessage(
            chat_id=chat["id"],
            message_id=0,
            from_bot=True,
            date=int(time.time()),
            text=text,
            entities=entities,
            raw_text=str(raw),
            parse_mode=params.get("parse_mode"),
        )
        self._split_markup(params.get("reply_markup"), msg)
        msg.message_id = self._new_message_id(chat["id"])
        return self._store_bot_message(chat, msg)

    def _edit(self, msg: SentMessage, *, text: str | None, caption: str | None, params: dict[str, Any]) -> Any:
        new_markup = params.get("reply_markup")
        if new_markup is not None and "inline_keyboard" not in new_markup:
            raise _bad_request("can't parse inline keyboard button: inline keyboard expected")
        if new_markup is not None:
            new_markup = _check_inline_keyboard(new_markup)
        entities_key = "entities" if text is not None else "caption_entities"
        new_entities: list[dict[str, Any]] | None = None
        if text is not None or caption is not None:
            new_value, new_entities = apply_parse_mode(
                text if text is not None else caption or "",
                params.get("parse_mode"),
                params.get(entities_key),
            )
        if text is not None:
            if utf16_len(new_value) > MAX_TEXT_LENGTH:
                raise _bad_request("message is too long")
            if not new_value.strip():
                raise _bad_request("message text is empty")
            if new_value == msg.text and new_entities == msg.entities and new_markup == msg.reply_markup:
                raise _bad_request(NOT_MODIFIED)
            msg.history.append(msg.text)
            msg.text, msg.entities = new_value, new_entities
        elif caption is not None:
            if utf16_len(new_value) > MAX_CAPTION_LENGTH:
                raise _bad_request("message caption is too long")
            if (
                new_value == (msg.caption or "")
                and new_entities == msg.caption_entities
                and new_markup == msg.reply_markup
            ):
                raise _bad_request(NOT_MODIFIED)
            msg.history.append(msg.caption)
            msg.caption, msg.caption_entities = (new_value or None), new_entities
        elif new_markup == msg.reply_markup:
            raise _bad_request(NOT_MODIFIED)
        # Like the real API: an edit without reply_markup removes the inline keyboard.
        msg.reply_markup = new_markup
        msg.edited = True
        msg.edit_date = int(time.time())
        return self._message_wire(msg)

    def _editable(self, params: dict[str, Any]) -> SentMessage:
        msg = self._find_message(params, action="edit")
        if not msg.from_bot:
            raise _bad_request("message can't be edited")
        return msg

    def _edit_message_text(self, params: dict[str, Any]) -> Any:
        msg = self._editable(params)
        if msg.text is None:
            raise _bad_request("there is no text in the message to edit")
        text = params.get("text")
        if not text:
            raise _bad_request("message text is empty")
        return self._edit(msg, text=str(text), caption=None, params=params)

    def _edit_message_caption(self, params: dict[str, Any]) -> Any:
        msg = self._editable(params)
        if msg.media_kind is None:
            raise _bad_request("there is no caption in the message to edit")
        return self._edit(msg, text=None, caption=str(params.get("caption") or ""), params=params)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> Any:
        return self._edit(self._editable(params), text=None, caption=None, params=params)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        msg = self._find_message(params, action="delete")
        msg.deleted = True
        return True

    def _new_file(self, content: bytes, *, file_size: int | None, folder: str, ext: str) -> StoredFile:
        n = next(self._file_ids)
        unique = "AgAD" + hashlib.sha256(content).hexdigest()[:12] + str(file_size or len(content))
        stored = StoredFile(
            file_id=f"BAACAgIAAxk{n:06d}{hashlib.sha256(str(n).encode()).hexdigest()[:20]}",
            file_unique_id=unique,
            content=content,
            file_size=file_size if file_size is not None else len(content),
            file_path=f"{folder}/file_{n}.{ext}",
        )
        self._files[stored.file_id] = stored
        return stored

    def _resolve_input_file(self, kind: str, value: Any) -> tuple[StoredFile, UploadedFile | None]:
        folders = {
            "video": "videos",
            "photo": "photos",
            "document": "documents",
            "audio": "music",
            "voice": "voice",
            "video_note": "video_notes",
        }
        exts = {
            "video": "mp4",
            "photo": "jpg",
            "document": "bin",
            "audio": "mp3",
            "voice": "oga",
            "video_note": "mp4",
        }
        if isinstance(value, UploadedFile):
            if len(value.content) > MAX_UPLOAD_BYTES:
                raise TelegramError(413, "Request Entity Too Large")
            ext = exts[kind]
            if value.filename and "." in value.filename:
                ext = value.filename.rsplit(".", 1)[1]
            return self._new_file(value.content, file_size=None, folder=folders[kind], ext=ext), value
        if isinstance(value, str) and value in self._files:
            return self._files[value], None
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            stored = self._new_file(b"", file_size=0, folder=folders[kind], ext=exts[kind])
            stored.url = value
            return stored, None
        if not value:
            raise _bad_request(f"there is no {kind} in the request")
        raise _bad_request("wrong file identifier/HTTP URL specified")

    def _send_media(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        stored, upload = self._resolve_input_file(kind, params.get(kind))
        caption, caption_entities = None, None
        if params.get("caption"):
            caption, caption_entities = apply_parse_mode(
                str(params["caption"]), params.get("parse_mode"), params.get("caption_entities")
            )
            if utf16_len(caption) > MAX_CAPTION_LENGTH:
                raise _bad_request("message caption is too long")
        base = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        name = upload.filename if upload else None
        mime = (upload.content_type if upload else None) or None
        media: Any
        if kind == "photo":
            media = [{**base, "width": params.get("width") or 1280, "height": params.get("height") or 720}]
        elif kind == "video":
            media = {
                **base,
                "width": params.get("width") or 0,
                "height": params.get("height") or 0,
                "duration": params.get("duration") or 0,
                "mime_type": mime if mime and mime.startswith("video/") else "video/mp4",
            }
            if name:
                media["file_name"] = name
            thumb = params.get("thumbnail")
            if isinstance(thumb, UploadedFile) and (size := _thumbnail_size(thumb.content)) is not None:
                stored_thumb = self._new_file(thumb.content, file_size=None, folder="thumbnails", ext="jpg")
                media["thumbnail"] = {
                    "file_id": stored_thumb.file_id,
                    "file_unique_id": stored_thumb.file_unique_id,
                    "file_size": stored_thumb.file_size,
                    "width": size[0],
                    "height": size[1],
                }
        elif kind in {"audio", "voice"}:
            media = {
                **base,
                "duration": params.get("duration") or 0,
                "mime_type": "audio/ogg" if kind == "voice" else (mime or "audio/mpeg"),
            }
            if kind == "audio" and name:
                media["file_name"] = name
        else:
            media = {
                **base,
                "file_name": name or stored.file_path.rsplit("/", 1)[1],
                "mime_type": mime or "application/octet-stream",
            }
        msg = SentMessage(
            chat_id=chat["id"],
            message_id=0,
            from_bot=True,
            date=int(time.time()),
            caption=caption,
            caption_entities=caption_entities,
            media_kind=kind,
            media=media,
            raw_text=params.get("caption"),
            parse_mode=params.get("parse_mode"),
        )
        self._split_markup(params.get("reply_markup"), msg)
        msg.message_id = self._new_message_id(chat["id"])
        return self._store_bot_message(chat, msg)

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._resolve_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        answer = self.callback_answers.get(query_id)
        if answer is None or answer.get("answered"):
            raise _bad_request(QUERY_TOO_OLD)
        answer.update(answered=True, text=params.get("text"), show_alert=bool(params.get("show_alert")))
        return True

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_BYTES:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code") or ""

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not _COMMAND_NAME.match(str(command.get("command", "")).lower()):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(params), [])

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    # ------------------------------------------------------------------ acting as a user

    def add_file(self, content: bytes, *, file_size: int | None = None, file_path: str | None = None) -> str:
        """Put a file in the cloud (as if a user had uploaded it); returns its file_id.

        ``file_size`` may exceed ``len(content)`` to claim a big file without storing it.
        """
        stored = self._new_file(content, file_size=file_size, folder="documents", ext="bin")
        if file_path:
            stored.file_path = file_path
        return stored.file_id

    def file_bytes(self, file_id: str) -> bytes:
        """Content of a stored file (including files the bot uploaded)."""
        return self._files[file_id].content

    def _user(self, user_id: int, username: str | None, first_name: str | None) -> dict[str, Any]:
        user = self._users.get(user_id) or {
            "id": user_id,
            "is_bot": False,
            "first_name": f"User {user_id}",
            "language_code": "en",
        }
        if username is not None:
            user["username"] = username
        if first_name is not None:
            user["first_name"] = first_name
        self._users[user_id] = user
        return user

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        self._updates.append(update)
        self._notify()
        return update

    def _user_message(
        self,
        user_id: int,
        chat_id: int | None,
        username: str | None,
        first_name: str | None,
        **content: Any,
    ) -> dict[str, Any]:
        user = self._user(user_id, username, first_name)
        chat_id = user_id if chat_id is None else chat_id
        if chat_id == user_id:
            chat = {"id": user_id, "type": "private", "first_name": user["first_name"]}
            if "username" in user:
                chat["username"] = user["username"]
            self._chats[user_id] = chat
        else:
            self.add_chat(chat_id)
        msg = SentMessage(
            chat_id=chat_id, message_id=self._new_message_id(chat_id), from_bot=False, date=int(time.time())
        )
        self._messages[(chat_id, msg.message_id)] = msg
        wire = {
            "message_id": msg.message_id,
            "from": user,
            "chat": self._chats[chat_id],
            "date": msg.date,
            **{k: v for k, v in content.items() if v is not None},
        }
        msg.text = content.get("text")
        msg.caption = content.get("caption")
        msg.wire = wire
        return self._enqueue("message", wire)

    def _file_object(self, file_id: str, **extra: Any) -> dict[str, Any]:
        stored = self._files.get(file_id)
        if stored is None:
            raise KeyError(f"unknown file_id {file_id!r}: create it with add_file() first")
        obj: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        obj.update({k: v for k, v in extra.items() if v is not None})
        obj["file_size"] = extra.get("file_size") or stored.file_size
        if extra.get("file_size"):
            stored.file_size = extra["file_size"]
        return obj

    def user_sends_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        username: str | None = "tester",
        first_name: str | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Enqueue a ``message`` update with text from a user (private chat unless chat_id)."""
        return self._user_message(user_id, chat_id, username, first_name, text=text, entities=entities)

    def user_sends_command(
        self,
        user_id: int,
        command: str,
        args: str | None = None,
        *,
        chat_id: int | None = None,
        username: str | None = "tester",
        first_name: str | None = None,
    ) -> dict[str, Any]:
        """Enqueue ``/command [args]`` with its ``bot_command`` entity."""
        head = command if command.startswith("/") else f"/{command}"
        text = f"{head} {args}" if args else head
        entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(head)}]
        return self._user_message(user_id, chat_id, username, first_name, text=text, entities=entities)

    def user_sends_video(
        self,
        user_id: int,
        file_id: str,
        *,
        duration: int = 10,
        width: int = 1920,
        height: int = 1080,
        mime_type: str = "video/mp4",
        file_size: int | None = None,
        file_name: str | None = "video.mp4",
        caption: str | None = None,
        chat_id: int | None = None,
        username: str | None = "tester",
    ) -> dict[str, Any]:
        video = self._file_object(
            file_id,
            duration=duration,
            width=width,
            height=height,
            mime_type=mime_type,
            file_size=file_size,
            file_name=file_name,
        )
        return self._user_message(user_id, chat_id, username, None, video=video, caption=caption)

    def user_sends_voice(
        self,
        user_id: int,
        file_id: str,
        *,
        duration: int = 5,
        mime_type: str = "audio/ogg",
        file_size: int | None = None,
        chat_id: int | None = None,
        username: str | None = "tester",
    ) -> dict[str, Any]:
        voice = self._file_object(file_id, duration=duration, mime_type=mime_type, file_size=file_size)
        return self._user_message(user_id, chat_id, username, None, voice=voice)

    def user_sends_audio(
        self,
        user_id: int,
        file_id: str,
        *,
        duration: int = 60,
        mime_type: str = "audio/mpeg",
        file_size: int | None = None,
        file_name: str | None = "audio.mp3",
        title: str | None = None,
        performer: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        username: str | None = "tester",
    ) -> dict[str, Any]:
        audio = self._file_object(
            file_id,
            duration=duration,
            mime_type=mime_type,
            file_size=file_size,
            file_name=file_name,
            title=title,
            performer=performer,
        )
        return self._user_message(user_id, chat_id, username, None, audio=audio, caption=caption)

    def user_sends_video_note(
        self,
        user_id: int,
        file_id: str,
        *,
        duration: int = 10,
        length: int = 384,
        file_size: int | None = None,
        chat_id: int | None = None,
        username: str | None = "tester",
    ) -> dict[str, Any]:
        note = self._file_object(file_id, duration=duration, length=length, file_size=file_size)
        return self._user_message(user_id, chat_id, username, None, video_note=note)

    def user_sends_document(
        self,
        user_id: int,
        file_id: str,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        file_size: int | None = None,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        username: str | None = "tester",
    ) -> dict[str, Any]:
        document = self._file_object(file_id, file_name=file_name, mime_type=mime_type, file_size=file_size)
        return self._user_message(user_id, chat_id, username, None, document=document, caption=caption)

    def user_sends_photo(
        self,
        user_id: int,
        file_id: str,
        *,
        width: int = 512,
        height: int = 512,
        caption: str | None = None,
        chat_id: int | None = None,
        username: str | None = "tester",
    ) -> dict[str, Any]:
        """A photo message: Telegram sends a list of sizes; here one size, the original."""
        size = self._file_object(file_id, width=width, height=height)
        return self._user_message(user_id, chat_id, username, None, photo=[size], caption=caption)

    def user_sends_sticker(
        self,
        user_id: int,
        file_id: str,
        *,
        emoji: str = "👍",
        chat_id: int | None = None,
        username: str | None = "tester",
    ) -> dict[str, Any]:
        """A (static, regular) sticker message."""
        sticker = self._file_object(
            file_id, type="regular", width=512, height=512, is_animated=False, is_video=False, emoji=emoji
        )
        return self._user_message(user_id, chat_id, username, None, sticker=sticker)

    def user_presses_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        *,
        chat_id: int | None = None,
        username: str | None = "tester",
    ) -> dict[str, Any]:
        """Enqueue a ``callback_query`` for a button of a message the bot sent.

        Raises ValueError if that message (still) has no button with this data, since a user
        could not press it.
        """
        chat_id = user_id if chat_id is None else chat_id
        msg = self._messages.get((chat_id, message_id))
        if msg is None or not msg.from_bot or msg.deleted:
            raise ValueError(f"no bot message {message_id} in chat {chat_id}")
        if callback_data not in msg.callback_data:
            raise ValueError(f"message {message_id} has no button with data {callback_data!r}: {msg.callback_data}")
        user = self._user(user_id, username, None)
        query_id = f"{self._bot_id}{next(self._callback_ids):08d}"
        self.callback_answers[query_id] = {"answered": False}
        return self._enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": user,
                "message": self._message_wire(msg),
                "chat_instance": str(-abs(hash((chat_id, self._bot_id))) % 10**18),
                "data": callback_data,
            },
        )

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    async def deliver_via_webhook(
        self,
        url: str,
        update: dict[str, Any],
        secret_token: str | None = None,
    ) -> tuple[int, Any]:
        """POST an update to the bot's webhook at ``url`` (the bot's local address).

        ``secret_token`` defaults to the one the bot passed to setWebhook; it is sent as
        ``X-Telegram-Bot-Api-Secret-Token``. The update leaves the getUpdates queue. If the bot
        answers with a method in the response body (aiogram's in-request reply), the fake
        executes it like Telegram does. Returns (HTTP status, parsed JSON body or text).
        """
        if secret_token is None and self.webhook is not None:
            secret_token = self.webhook["secret_token"]
        assert self._client is not None, "FakeTelegram is not started"
        self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        async with self._client.post(url, json=update, headers=headers) as resp:
            status = resp.status
            if resp.content_type == "multipart/form-data":
                params = await _read_multipart(aiohttp.MultipartReader.from_response(resp))
                body: Any = {"method": params.get("method")}
                entry = self._methods.get(str(params.pop("method", "")).lower())
                if entry is not None:
                    await self._execute(entry, _normalize(params))
            elif resp.content_type == "application/json":
                body = await resp.json()
            else:
                body = await resp.text()
        return status, body

    # ------------------------------------------------------------------ waiting

    async def _wait(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            found = check()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n".join(f"  {c.method} {c.params}" for c in self.calls[-10:])
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; last calls:\n{recent}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def wait_for(self, predicate: Callable[[Call], bool], timeout: float = 5.0, *, since: int = 0) -> Call:
        """First call (from index ``since`` of ``calls``) matching ``predicate``; waits for it."""

        def check() -> Call | None:
            return next((c for c in self.calls[since:] if predicate(c)), None)

        return await self._wait(check, timeout, "a matching call")  # type: ignore[no-any-return]

    async def wait_for_message(
        self, chat_id: int, contains: str = "", timeout: float = 5.0, *, since_message_id: int = 0
    ) -> SentMessage:
        """First live bot message in ``chat_id`` whose current text/caption contains ``contains``."""

        def check() -> SentMessage | None:
            return next(
                (
                    m
                    for m in self.messages_to(chat_id)
                    if not m.deleted and m.message_id > since_message_id and contains in m.content
                ),
                None,
            )

        return await self._wait(  # type: ignore[no-any-return]
            check, timeout, f"a message to {chat_id} containing {contains!r}"
        )


# --------------------------------------------------------------------------- helpers


def _error_response(error: TelegramError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.error_code, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(
        body,
        status=error.error_code,
    )


MAX_THUMBNAIL_BYTES = 200 * 1024
MAX_THUMBNAIL_SIDE = 320


def jpeg_size(content: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's start-of-frame marker, or None if ``content`` is no JPEG."""
    if not content.startswith(b"\xff\xd8"):
        return None
    i = 2
    while i + 9 <= len(content):
        if content[i] != 0xFF:
            return None
        marker = content[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        length = int.from_bytes(content[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(content[i + 5 : i + 7], "big")
            width = int.from_bytes(content[i + 7 : i + 9], "big")
            return width, height
        i += 2 + length
    return None


def _thumbnail_size(content: bytes) -> tuple[int, int] | None:
    """Like Telegram: a thumbnail is kept only if it is a JPEG under 200 kB, at most 320 px a side;
    otherwise it is ignored (the request still succeeds)."""
    size = jpeg_size(content)
    if size is None or len(content) > MAX_THUMBNAIL_BYTES or max(size) > MAX_THUMBNAIL_SIDE:
        return None
    return size


def _update_type(update: Mapping[str, Any]) -> str:
    return next(k for k in update if k != "update_id")


def _check_inline_keyboard(markup: dict[str, Any]) -> dict[str, Any]:
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise _bad_request('can\'t parse inline keyboard button: field "inline_keyboard" must be an Array')
    for row in rows:
        for button in row:
            if not button.get("text"):
                raise _bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise _bad_request("BUTTON_DATA_INVALID")
    return markup


def _coerce(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError as e:
            raise _bad_request(f"can't parse {key} JSON object") from e
    if key in _INT_FIELDS or key == "chat_id":
        try:
            return int(value)
        except ValueError:
            if key == "chat_id":
                return value
            raise _bad_request(f"invalid {key} specified") from None
    if key in _BOOL_FIELDS:
        return value.lower() in {"true", "1"}
    return value


async def _read_multipart(reader: Any) -> dict[str, Any]:
    """Fields of a multipart body (a request's or a webhook response's); files as UploadedFile."""
    params: dict[str, Any] = {}
    while True:
        part = await reader.next()
        if part is None:
            break
        assert isinstance(part, aiohttp.BodyPartReader)
        name = part.name or ""
        if part.filename is not None:
            content = await part.read()
            params[name] = UploadedFile(name, part.filename, part.headers.get("Content-Type"), bytes(content))
        else:
            params[name] = await part.text()
    return params


async def _read_request(request: web.Request) -> dict[str, Any]:
    raw: dict[str, Any] = dict(request.query)
    if request.method == "POST":
        if request.content_type == "multipart/form-data":
            raw.update(await _read_multipart(await request.multipart()))
        elif request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as e:
                raise _bad_request("can't parse JSON encoded request") from e
            raw.update(body if isinstance(body, dict) else {})
        else:
            raw.update(await request.post())
    return _normalize(raw)


def _normalize(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Type the string fields and resolve ``attach://`` references to uploaded parts."""
    # Top-level files may be sent directly or referenced as attach://<part name>.
    params: dict[str, Any] = {}
    attached = {v for v in raw.values() if isinstance(v, str) and v.startswith("attach://")}
    for key, value in raw.items():
        if isinstance(value, UploadedFile) and f"attach://{key}" in attached:
            continue
        if isinstance(value, str) and value.startswith("attach://"):
            target = raw.get(value.removeprefix("attach://"))
            params[key] = target if isinstance(target, UploadedFile) else value
            continue
        params[key] = _coerce(key, value)
    return params
