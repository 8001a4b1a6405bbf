"""The Telegram bot end to end: the real aiogram dispatcher polling a local server that speaks the
Bot API, real PostgreSQL, and a real worker running the pipeline's durable work units."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.fsm.storage.redis import RedisStorage
from fakes.site import local_site
from fakes.telegram_api import FakeTelegram
from sqlalchemy import select
from workers import running_worker

from bots.telegram.app import make_dispatcher
from bots.telegram.notifier import TelegramNotifier
from core.accounts.models import ChatIdentity, User
from core.content.models import ContentAsset
from core.seed.service import apply_seed
from core.workflow.models import ApprovalRequest

TALK = (
    "Most creators in India post once and then disappear for a month. That is the biggest mistake. "
    "Consistency beats talent when you are building a personal brand on LinkedIn. Here is what worked for me "
    "after three years and two hundred posts. First, write for one person, not for everyone. When I started "
    "writing for early stage founders in Bangalore, my engagement doubled in six weeks. Second, turn every "
    "long video into ten small posts. One podcast episode gives you a thread, a carousel, three short clips "
    "and a newsletter. Third, reply to every comment in the first hour, because the algorithm rewards "
    "conversations. Why do most people quit? They measure followers instead of conversations."
)
USER = 5550001


@contextlib.asynccontextmanager
async def running_bot(core_deps, redis_url, run_id, *, telegram=None):
    """The bot polling a fake Telegram (a new one, or `telegram` to keep its chats across a restart)."""
    from aiogram import Bot

    async with contextlib.AsyncExitStack() as stack:
        tg = telegram if telegram is not None else await stack.enter_async_context(FakeTelegram())
        bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
        core_deps.notifier = TelegramNotifier(bot)
        async with running_worker(core_deps, f"recast-test-{run_id}-{uuid.uuid4().hex[:6]}", concurrency=1):
            dp = make_dispatcher(core_deps, storage=RedisStorage(redis=core_deps.redis))
            polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
            try:
                yield tg
            finally:
                await dp.stop_polling()
                await asyncio.gather(polling, return_exceptions=True)
                await bot.session.close()


async def test_start_email_text_upload_drafts_and_approve(live_deps, redis_url, run_id):
    core_deps = live_deps
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    async with running_bot(core_deps, redis_url, run_id) as tg:
        tg.user_sends_command(USER, "start", first_name="Asha")
        await tg.wait_for_message(USER, contains="what's your email", timeout=10)
        tg.user_sends_text(USER, "not-an-email")
        await tg.wait_for_message(USER, contains="doesn't look like an email", timeout=10)
        tg.user_sends_text(USER, "asha@example.in")
        await tg.wait_for_message(USER, contains="Saved asha@example.in", timeout=10)

        file_id = tg.add_file(TALK.encode())
        tg.user_sends_document(USER, file_id, file_name="talk.txt", mime_type="text/plain")
        linkedin = await tg.wait_for_message(USER, contains="📝 LinkedIn post", timeout=60)
        await tg.wait_for_message(USER, contains="100% · Done", timeout=60)
        assert all(len(d.encode()) <= 64 for d in linkedin.callback_data)
        approve = next(d for d in linkedin.callback_data if d.startswith("d:a:"))
        tg.user_presses_button(USER, linkedin.message_id, approve)
        await tg.wait_for_message(USER, contains="Approved", timeout=10)

    async with core_deps.sessionmaker() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(USER)))
        user = await s.get(User, identity.user_id)
        approvals = (
            await s.scalars(
                select(ApprovalRequest).where(
                    ApprovalRequest.status == "approved", ApprovalRequest.reviewed_by == user.id
                )
            )
        ).all()
    assert user.email == "asha@example.in" and user.password_hash.startswith("!")
    assert user.timezone == "Asia/Kolkata"
    assert len(approvals) == 1


async def test_unsupported_and_oversized_files_get_friendly_answers(live_deps, redis_url, run_id):
    core_deps = live_deps
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    async with running_bot(core_deps, redis_url, run_id) as tg:
        tg.user_sends_command(USER + 1, "start")
        await tg.wait_for_message(USER + 1, contains="email", timeout=10)
        tg.user_sends_command(USER + 1, "skip")
        await tg.wait_for_message(USER + 1, contains="No problem", timeout=10)

        exe = tg.add_file(b"MZ\x90\x00binary")
        tg.user_sends_document(USER + 1, exe, file_name="setup.exe", mime_type="application/x-msdownload")
        await tg.wait_for_message(USER + 1, contains="can't work with that file type", timeout=10)

        big = tg.add_file(b"\x00" * 1024, file_size=30 * 1024 * 1024)
        tg.user_sends_video(USER + 1, big, file_size=30 * 1024 * 1024)
        await tg.wait_for_message(USER + 1, contains="up to 20 MB", timeout=10)

        broken = tg.add_file(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
        tg.user_sends_video(USER + 1, broken, file_size=716, file_name="clip.mp4")
        await tg.wait_for_message(USER + 1, contains="could not be read", timeout=15)

        tg.user_sends_text(USER + 1, "hello")
        await tg.wait_for_message(USER + 1, contains="at least 80 words", timeout=10)


async def test_plans_lists_inr_prices_and_upgrade_without_gateways_explains(live_deps, redis_url, run_id):
    core_deps = live_deps
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    async with running_bot(core_deps, redis_url, run_id) as tg:
        tg.user_sends_command(USER + 2, "start")
        await tg.wait_for_message(USER + 2, contains="email", timeout=10)
        tg.user_sends_command(USER + 2, "plans")
        plans = await tg.wait_for_message(USER + 2, contains="Recast plans (INR incl. 18% GST)", timeout=10)
        assert "₹799" in plans.content
        # No gateway is configured in this test: no plan offers an /upgrade that could not work.
        assert "/upgrade" not in plans.content and "doesn't take payments" in plans.content
        tg.user_sends_command(USER + 2, "usage")
        await tg.wait_for_message(USER + 2, contains="Uploads: 0 of 10", timeout=10)
        tg.user_sends_command(USER + 2, "upgrade", "pro-monthly")
        # The creator is told so, nothing half-created.
        await tg.wait_for_message(USER + 2, contains="This Recast server doesn't take payments", timeout=10)


async def test_links_an_article_becomes_drafts_expired_and_private_links_say_what_to_do(live_deps, redis_url, run_id):
    from aiohttp import web

    core_deps = live_deps
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    page = (
        "<html><head><title>Consistency beats talent</title></head>"
        f"<body><article><p>{TALK}</p></article></body></html>"
    )

    async def article(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    async def expired(_: web.Request) -> web.Response:
        return web.Response(status=410)

    async with (
        local_site([web.get("/post", article), web.get("/shared/abc", expired)]) as base,
        running_bot(core_deps, redis_url, run_id) as tg,
    ):
        tg.user_sends_command(USER + 3, "start")
        await tg.wait_for_message(USER + 3, contains="email", timeout=10)
        tg.user_sends_command(USER + 3, "skip")
        tg.user_sends_text(USER + 3, f"{base}/shared/abc")
        await tg.wait_for_message(USER + 3, contains="may have expired", timeout=15)
        tg.user_sends_text(USER + 3, f"{base}/post")
        await tg.wait_for_message(USER + 3, contains="📝 LinkedIn post", timeout=60)
        # As deployed (the default): a link to this machine or a private network is not fetched.
        core_deps.settings.link_allow_private_networks = False
        tg.user_sends_text(USER + 3, f"{base}/post?again=1")
        await tg.wait_for_message(USER + 3, contains="private or local network address", timeout=15)
    async with core_deps.sessionmaker() as s:
        assets = (await s.scalars(select(ContentAsset).where(ContentAsset.source_url.startswith(base)))).all()
    assert [(a.title, a.source_url) for a in assets] == [("Consistency beats talent", f"{base}/post")]


async def test_a_slow_link_does_not_hold_up_the_chats_next_message(live_deps, redis_url, run_id):
    from aiohttp import web

    core_deps = live_deps
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    release = asyncio.Event()
    page = f"<html><head><title>A slow page</title></head><body><article><p>{TALK}</p></article></body></html>"

    async def slow_article(_: web.Request) -> web.Response:
        await release.wait()  # the site answers only once the test has seen the chat stay responsive
        return web.Response(text=page, content_type="text/html")

    async with (
        local_site([web.get("/slow", slow_article)]) as base,
        running_bot(core_deps, redis_url, run_id) as tg,
    ):
        try:
            tg.user_sends_command(USER + 4, "start")
            await tg.wait_for_message(USER + 4, contains="email", timeout=10)
            tg.user_sends_command(USER + 4, "skip")
            tg.user_sends_text(USER + 4, f"{base}/slow")
            await tg.wait_for_message(USER + 4, contains="Fetching the link", timeout=10)
            tg.user_sends_command(USER + 4, "help")
            # While the page is still loading, the same chat gets its answer.
            await tg.wait_for_message(USER + 4, contains="/brand – set up your brand voice", timeout=10)
            release.set()
            await tg.wait_for_message(USER + 4, contains="📝 LinkedIn post", timeout=60)
        finally:
            release.set()  # never leave the site's handler waiting, or shutting it down would wait too
