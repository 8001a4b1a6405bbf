"""/start (account + email), /settings, /help, /cancel."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from core.accounts import service as accounts
from core.deps import CoreDeps
from core.pipeline import cancel as cancellation

HELP = (
    "Send me a long piece of content and I'll turn it into ready-to-post drafts:\n"
    "• a video, video note, voice note or audio file\n"
    "• a PDF or text file, a link to an article, or paste long text\n\n"
    "Each draft comes with buttons: Approve · Revise · Regenerate · Copy text, and ❓ Why N? under its quality "
    "score.\n\n"
    "/brand – set up your brand voice\n"
    "/status – what I'm working on\n"
    "/history – your recent uploads\n"
    "/transcript – read the words I heard in your latest upload, and correct them\n"
    "/why – why your newest draft scored what it did (/why 2: the one before)\n"
    "/usage – what's left in your plan\n"
    "/plans, /upgrade – plans and payment\n"
    "/subscription – your plan: renewal, cancel, resume\n"
    "/invoices – your invoices as PDFs · /gstin – GSTIN on invoices\n"
    "/connect – connect LinkedIn, X, Instagram, YouTube, TikTok or a Facebook Page · /connections – yours\n"
    "/calendar – what's scheduled to go out\n"
    "/stats – how your published posts did this week\n"
    "/roi – what an upload's drafts won for what it cost (/roi how: the formula) · /seo – your blog draft's SEO\n"
    "/stats 2 or /stats <title words> – how one upload's pieces did · /report – last month as a PDF\n"
    "/settings – email, timezone, language\n"
    "/export – all your data as a zip · /delete_account – delete your account (you confirm first)\n"
    "/cancel – stop what's in progress"
)


class Onboarding(StatesGroup):
    email = State()


def setup() -> Router:
    router = Router(name="start")

    @router.message(CommandStart())
    async def start(message: Message, session: AsyncSession, state: FSMContext) -> None:
        tg = message.from_user
        assert tg is not None
        reg = await accounts.register_chat_user(
            session=session,
            provider="telegram",
            external_user_id=str(tg.id),
            chat_id=str(message.chat.id),
            full_name=tg.full_name,
            username=tg.username,
            language=tg.language_code,
        )
        await state.clear()
        if reg.created or not accounts.has_real_email(reg.user):
            await state.set_state(Onboarding.email)
            await message.answer(
                f"Welcome to Recast, {tg.first_name}! 👋\n\n"
                "I turn one long video, voice note or article into LinkedIn posts, X threads, Instagram "
                "captions, Shorts scripts and blog articles in your voice.\n\n"
                "First, what's your email? I need it for invoices. (Send /skip to add it later.)"
            )
            return
        await message.answer(f"Welcome back, {tg.first_name}! Send me a video, voice note, link or text.\n\n{HELP}")

    @router.message(Onboarding.email, Command("skip"))
    async def skip_email(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer("No problem — add it any time with /settings email you@example.com.\n\n" + HELP)

    @router.message(Onboarding.email, F.text & ~F.text.startswith("/"))
    async def receive_email(message: Message, session: AsyncSession, state: FSMContext) -> None:
        user = await current_user(session, message.from_user)
        await accounts.set_email(session=session, user_id=user.id, email=message.text or "")
        await session.commit()  # said only once it is so
        await state.clear()
        await message.answer(
            f"Thanks! Saved {user.email}.\n"
            f"Timezone: {user.timezone} · language: {user.language} (change with /settings).\n\n"
            "Tip: run /brand so drafts sound like you. Or just send me a video now."
        )

    @router.message(Command("settings"))
    async def settings(message: Message, command: CommandObject, session: AsyncSession) -> None:
        user = await current_user(session, message.from_user)
        args = (command.args or "").split(maxsplit=1)
        if len(args) == 2:
            key, value = args[0].lower(), args[1].strip()
            if key == "email":
                await accounts.set_email(session=session, user_id=user.id, email=value)
            elif key in ("timezone", "tz"):
                await accounts.update_preferences(session=session, user_id=user.id, timezone=value)
            elif key in ("language", "lang"):
                await accounts.update_preferences(session=session, user_id=user.id, language=value.lower())
            else:
                await message.answer("I can change: email, timezone, language.")
                return
            await session.commit()  # said only once it is so
            await message.answer("Saved ✅")
        email = user.email if accounts.has_real_email(user) else "not set"
        await message.answer(
            f"Your settings\nEmail: {email}\nTimezone: {user.timezone}\n"
            f"Language: {user.language} (of your talks: when a recording could be either, I hear it as this)\n\n"
            "Change one with e.g.\n/settings email you@example.com\n/settings timezone Asia/Kolkata\n"
            "/settings language hi"
        )

    @router.message(Command("help"))
    async def help_(message: Message) -> None:
        await message.answer(HELP)

    @router.message(Command("cancel"), StateFilter("*"))
    async def cancel(message: Message, session: AsyncSession, state: FSMContext, deps: CoreDeps) -> None:
        if await state.get_state() is not None:
            await state.clear()
            await message.answer("Okay, cancelled. Send me something new whenever you like.")
            return
        user = await current_user(session, message.from_user)
        stopped = await cancellation.cancel_latest(session=session, user_id=user.id)
        if stopped is None:
            await message.answer("There's nothing in progress to cancel.")
            return
        await session.commit()  # said only once it is so
        await message.answer(cancellation.describe(stopped))
        await cancellation.mark_progress_cancelled(deps, stopped)

    return router
