"""Every draft arrives whole: long texts split at paragraph/sentence boundaries, long captions continue in
text messages, very long articles become a document; clips carry their thumbnail. Through the Bot API
stand-in with a real aiogram Bot, drafts rendered by core's `draft_message`."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import av
import numpy as np
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from fakes.telegram_api import MAX_CAPTION_LENGTH, MAX_TEXT_LENGTH, FakeTelegram, SentMessage, utf16_len

from bots.telegram.notifier import TelegramNotifier
from bots.telegram.pacing import Pacer, Rate
from bots.telegram.splitting import cut, preview, split_text
from core.notify.ports import Button, ChatRef, DraftAction, DraftActionKind, OutgoingMessage
from core.pipeline.render import draft_message
from core.repurposing.models import GeneratedContent
from core.storage.files import LocalFileStore

CREATOR = 6100
FAST = Rate(1000.0, burst=100)
SENTENCES = [
    "Consistency beats talent when you are building a personal brand.",
    "Write for one person, not for everyone, and your engagement follows.",
    "Turn every long video into ten small posts before you record the next one.",
    "Reply to every comment in the first hour, because the algorithm rewards conversations.",
]


def article(chars: int) -> str:
    """Paragraphs of whole sentences, about ``chars`` characters in all."""
    paragraphs: list[str] = []
    n = 0
    while sum(len(p) + 2 for p in paragraphs) < chars:
        paragraphs.append(" ".join(f"{n + i}. {SENTENCES[(n + i) % len(SENTENCES)]}" for i in range(5)))
        n += 5
    return "\n\n".join(paragraphs)


def words(text: str) -> list[str]:
    return text.split()


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_chat(CREATOR)
        yield fake


@pytest.fixture
async def notifier(tg: FakeTelegram) -> AsyncIterator[TelegramNotifier]:
    bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
    notifier = TelegramNotifier(bot, pacer=Pacer(per_chat=FAST, overall=FAST))
    try:
        yield notifier
    finally:
        await notifier.close()


def write_jpeg(path: Path, width: int, height: int) -> Path:
    """A real JPEG of the size the clip renderer writes (full resolution)."""
    pixels = np.random.default_rng(7).integers(0, 255, (height, width, 3), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuvj420p")
    with av.open(str(path), mode="w", format="image2") as out:
        stream = out.add_stream("mjpeg")
        stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def blog_draft(body: str) -> GeneratedContent:
    return GeneratedContent(
        id=uuid.uuid4(),
        title="Why consistency wins",
        content_text=body,
        content_type="blog_article",
        hashtags=["creators", "growth"],
        quality_score=Decimal("88"),
        metadata_={"output_format": "blog_article"},
    )


def assert_buttons_only_on_last(sent: list[SentMessage], returned_id: str) -> None:
    assert all(m.reply_markup is None for m in sent[:-1])
    assert sent[-1].callback_data and returned_id == str(sent[-1].message_id)


async def test_a_6000_character_article_arrives_whole_in_parts_split_at_paragraphs(
    tg: FakeTelegram, notifier: TelegramNotifier
) -> None:
    body = article(6000)
    assert 6000 <= len(body) < 6400
    message = draft_message(blog_draft(body))

    returned = await notifier.send(ChatRef("telegram", str(CREATOR)), message)

    sent = tg.messages_to(CREATOR)
    assert len(sent) == 2 and all(m.media_kind is None for m in sent)
    assert all(utf16_len(m.content) <= MAX_TEXT_LENGTH for m in sent)
    assert sent[0].content.startswith("📝 Blog article") and "Why consistency wins" in sent[0].content
    # Nothing lost or cut mid-paragraph: the parts are the article's paragraphs, in order.
    assert words(" ".join(m.content for m in sent)) == words(message.text)
    assert sent[0].content.endswith(".") and "\n\n" in message.text[len(sent[0].content) : len(sent[0].content) + 2]
    assert sent[-1].content.endswith("#creators #growth")
    assert_buttons_only_on_last(sent, returned)


async def test_a_clip_with_a_long_caption_keeps_its_video_thumbnail_and_the_rest_follows(
    tg: FakeTelegram, notifier: TelegramNotifier, tmp_path: Path
) -> None:
    store = LocalFileStore(tmp_path / "store")
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"v" * 4000)
    video_url = store.put_path(clip, "clips/x/clip.mp4")
    thumb_url = store.put_path(write_jpeg(tmp_path / "clip.jpg", 1080, 1920), "clips/x/clip.jpg")
    caption = " ".join(SENTENCES * 6)  # about 1,700 characters
    draft = GeneratedContent(
        id=uuid.uuid4(),
        title="Consistency beats talent",
        caption=caption,
        content_type="short_video",
        file_url=video_url,
        thumbnail_url=thumb_url,
        metadata_={"output_format": "short_video"},
    )
    message = draft_message(draft, store)
    assert message.thumbnail == store.local_path(thumb_url)
    assert len(message.text) > MAX_CAPTION_LENGTH

    returned = await notifier.send(ChatRef("telegram", str(CREATOR)), message)

    video, rest = tg.messages_to(CREATOR)
    assert video.media_kind == "video" and utf16_len(video.content) <= MAX_CAPTION_LENGTH
    assert video.content.startswith("📝 Short clip") and video.content.endswith(".")  # a whole sentence
    assert rest.media_kind is None
    assert words(f"{video.content} {rest.content}") == words(message.text)
    assert_buttons_only_on_last([video, rest], returned)
    # The rendered thumbnail went with the video, scaled to what Telegram accepts.
    thumbnail = video.media["thumbnail"]
    assert max(thumbnail["width"], thumbnail["height"]) == 320 and thumbnail["height"] > thumbnail["width"]
    assert tg.file_bytes(thumbnail["file_id"]).startswith(b"\xff\xd8")
    [call] = [c for c in tg.calls if c.method == "sendVideo"]
    assert call.params["video"].content == clip.read_bytes()


async def test_a_very_long_article_arrives_as_a_document_with_a_preview(
    tg: FakeTelegram, notifier: TelegramNotifier
) -> None:
    body = article(20_000)
    message = draft_message(blog_draft(body))

    returned = await notifier.send(ChatRef("telegram", str(CREATOR)), message)

    [sent] = tg.messages_to(CREATOR)
    assert sent.media_kind == "document" and sent.media["file_name"] == "blog_article.md"
    assert tg.file_bytes(sent.media["file_id"]).decode() == message.text
    assert utf16_len(sent.content) <= MAX_CAPTION_LENGTH
    assert sent.content.startswith("📝 Blog article") and sent.content.endswith(".\n\n(Full text attached.)")
    assert message.text.startswith(sent.content.removesuffix("\n\n(Full text attached.)"))  # whole sentences
    assert_buttons_only_on_last([sent], returned)


async def test_a_short_draft_is_one_message_and_a_long_document_caption_continues_as_text(
    tg: FakeTelegram, notifier: TelegramNotifier, tmp_path: Path
) -> None:
    chat = ChatRef("telegram", str(CREATOR))
    short = await notifier.send(chat, draft_message(blog_draft("Short and sweet.")))
    invoice = tmp_path / "RC-1.pdf"
    invoice.write_bytes(b"%PDF-1.4 invoice")
    long_note = article(1500)
    pay = DraftAction(DraftActionKind.COPY, uuid.uuid4())
    last = await notifier.send(
        chat,
        OutgoingMessage(text=long_note, document=invoice, filename="RC-1.pdf", buttons=[[Button("Copy", pay)]]),
    )

    first, document, note = tg.messages_to(CREATOR)
    assert short == str(first.message_id) and first.callback_data
    assert document.media_kind == "document" and document.media["file_name"] == "RC-1.pdf"
    assert (
        document.reply_markup is None
        and note.callback_data == [f"d:c:{pay.draft_id.hex}"]
        and last == str(note.message_id)
    )
    assert words(f"{document.content} {note.content}") == words(long_note)


def test_split_text_counts_utf16_and_prefers_paragraphs_then_sentences_then_words() -> None:
    emoji = "😀" * 3000  # 6000 UTF-16 units, no boundary at all: cut between code points
    parts = split_text(emoji, 4096)
    assert [utf16_len(p) for p in parts] == [4096, 1904] and "".join(parts) == emoji

    paragraphs = "A" * 50 + ".\n\n" + "b" * 30
    assert split_text(paragraphs, 70) == ["A" * 50 + ".", "b" * 30]
    sentences = "One two three. Four five six. Seven eight nine."
    assert cut(sentences, 35) == ("One two three. Four five six.", "Seven eight nine.")
    assert cut("alpha beta gamma delta", 13) == ("alpha beta", "gamma delta")
    assert cut("fits", 10) == ("fits", "")
    assert preview("alpha beta gamma delta", 16, suffix=" [more]") == "alpha… [more]"
    assert preview("One. Two three four.", 14, suffix=" [more]") == "One. [more]"
    assert all(re.fullmatch(r"\S.*\S", p, re.S) for p in split_text(article(9000), 4096))


async def test_two_long_drafts_at_once_do_not_interleave(tg: FakeTelegram, notifier: TelegramNotifier) -> None:
    chat = ChatRef("telegram", str(CREATOR))
    first, second = draft_message(blog_draft(article(6000))), draft_message(blog_draft(article(6000)))

    await asyncio.gather(notifier.send(chat, first), notifier.send(chat, second))

    sent = tg.messages_to(CREATOR)
    assert len(sent) == 4
    assert [m.content.startswith("📝") for m in sent] == [True, False, True, False]
    assert [bool(m.callback_data) for m in sent] == [False, True, False, True]
    assert sent[1].callback_data != sent[3].callback_data
