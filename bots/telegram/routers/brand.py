"""/brand: a short guided set-up of the brand profile and its sample posts."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from bots.telegram.routers.ingest import CLOUD_DOWNLOAD_LIMIT
from core.accounts import service as accounts
from core.brand import media as brand_media
from core.brand import service as brand_service
from core.common.errors import RecastError
from core.content.guards import UploadLimits
from core.deps import CoreDeps

KEEP = "-"


class BrandSetup(StatesGroup):
    media = State()
    name = State()
    industry = State()
    audience = State()
    goals = State()
    platforms = State()
    tone = State()
    guidelines = State()
    samples = State()


# (state, field, question, parser)
STEPS = [
    (BrandSetup.name, "name", "What's your brand called?"),
    (BrandSetup.industry, "industry", "Which industry are you in? (e.g. fintech, fitness, education)"),
    (BrandSetup.audience, "target_audience", "Who is your audience? (e.g. early-stage founders in India)"),
    (
        BrandSetup.goals,
        "content_goals",
        "Your content goals, comma separated (e.g. leads, authority, community)",
    ),
    (
        BrandSetup.platforms,
        "preferred_platforms",
        "Which platforms? Comma separated from: linkedin, twitter, instagram, youtube, blog",
    ),
    (BrandSetup.tone, "tone_preset", "Tone: professional, casual, viral or hinglish?"),
    (BrandSetup.guidelines, "custom_guidelines", "Any guidelines? (words to avoid, emoji policy, sign-off…)"),
]


MEDIA_PROMPTS = {
    "logo": "Send your logo as an image (a transparent PNG works best). It goes in the corner of every clip.",
    "intro": "Send your intro as a short video (up to 10 seconds). It plays before every clip.",
    "outro": "Send your outro as a short video (up to 10 seconds). It plays after every clip.",
}


def _file_of(message: Message) -> tuple[str, int | None, str] | None:
    """(file_id, size, a file name) of the photo, video, animation or document in the message."""
    if message.photo:
        biggest = message.photo[-1]
        return biggest.file_id, biggest.file_size, "logo.jpg"
    if message.video:
        return message.video.file_id, message.video.file_size, Path(message.video.file_name or "clip.mp4").name
    if message.animation:
        return message.animation.file_id, message.animation.file_size, "animation.mp4"
    if message.document:
        return message.document.file_id, message.document.file_size, Path(message.document.file_name or "file").name
    return None


BRAND_USAGE = (
    "/brand works like this:\n"
    "/brand – show your brand voice (or set it up the first time)\n"
    "/brand edit – answer the set-up questions again\n"
    "/brand samples – add posts you wrote, so drafts sound like you\n"
    "/brand logo, /brand intro, /brand outro – dress your clips (add 'off' to remove one)"
)
STEP_STATES = [step[0] for step in STEPS]


def _way_out(has_brand: bool) -> str:
    keep = f"send {KEEP} to keep the current answer, " if has_brand else ""
    return f"Answer the question, {keep}/skip to skip it, /done to finish here, or /cancel to stop the set-up."


def _parse(field: str, text: str) -> object:
    if field == "content_goals":
        return [g.strip() for g in text.split(",") if g.strip()]
    if field == "preferred_platforms":
        return brand_service.parse_platforms(text)
    if field == "tone_preset":
        return brand_service.parse_tone(text)
    return text.strip()


async def _next_step(message: Message, state: FSMContext, index: int) -> None:
    if index + 1 < len(STEPS):
        await state.set_state(STEPS[index + 1][0])
        await message.answer(STEPS[index + 1][2])
    else:
        await state.set_state(BrandSetup.samples)
        await message.answer(
            "Last step: paste 1–5 posts you've written, one message each, so I can learn your style. "
            "Send /done when finished."
        )


async def _on_brand(
    message: Message, command: CommandObject, session: AsyncSession, state: FSMContext, deps: CoreDeps
) -> None:
    user = await current_user(session, message.from_user)
    current = await brand_service.brand_for_user(session=session, user_id=user.id)
    args = (command.args or "").strip().lower().split()
    action = args[0] if args else ""
    if action not in ("", "edit", "samples", *brand_media.ROLES) or (
        len(args) > 1 and not (action in brand_media.ROLES and args[1:] in (["off"], ["remove"], ["none"]))
    ):
        await message.answer(BRAND_USAGE)
        return
    if action in brand_media.ROLES:
        if current is None:
            await message.answer("Set up your brand first with /brand, then add its logo, intro and outro.")
            return
        if args[1:2] in (["off"], ["remove"], ["none"]):
            await brand_media.clear_brand_media(session=session, brand=current, role=action)
            await message.answer(f"Removed your {action}. New clips won't have one.")
            return
        await state.set_state(BrandSetup.media)
        await state.update_data(role=action)
        await message.answer(MEDIA_PROMPTS[action])
        return
    if current is not None and action != "edit":
        samples = await brand_service.sample_count(session=session, brand_id=current.id)
        dressing = await brand_media.describe_brand_media(session=session, brand=current)
        await message.answer(
            brand_service.describe_brand(current, samples)
            + f"\n{dressing}"
            + "\n\nSend /brand edit to change it, /brand samples to add sample posts, "
            "/brand logo, /brand intro or /brand outro to dress your clips (add 'off' to remove)."
        )
        if action == "samples":
            await state.set_state(BrandSetup.samples)
        return
    await state.set_state(BrandSetup.name)
    hint = f" (send {KEEP} to keep the current answer)" if current else ""
    await message.answer(
        f"Let's set up your brand voice — 7 quick questions{hint}. /skip skips a question, /done finishes "
        "early, /cancel stops.\n\n" + STEPS[0][2]
    )


async def _on_brand_file(message: Message, bot: Bot, session: AsyncSession, state: FSMContext, deps: CoreDeps) -> None:
    user = await current_user(session, message.from_user)
    current = await brand_service.brand_for_user(session=session, user_id=user.id)
    role = str((await state.get_data()).get("role", "logo"))
    found = _file_of(message)
    if current is None or found is None or role not in brand_media.ROLES:
        await state.clear()
        await message.answer("Send /brand logo, /brand intro or /brand outro first.")
        return
    file_id, size, name = found
    if size and size > CLOUD_DOWNLOAD_LIMIT and not deps.settings.telegram_api_server:
        await message.answer("That file is over Telegram's 20 MB download limit for bots. Send a smaller one.")
        return
    with tempfile.TemporaryDirectory(prefix="recast-brand-") as tmp:
        path = Path(tmp) / name
        await bot.download(file_id, destination=path)
        await brand_media.set_brand_media(
            session=session,
            store=deps.store,
            brand=current,
            role=role,
            path=path,
            limits=UploadLimits.from_settings(deps.settings),
        )
    await state.clear()
    await message.answer(brand_media.saved_message(current, role))


def setup() -> Router:
    router = Router(name="brand")
    router.message(Command("brand"))(_on_brand)
    router.message(BrandSetup.media, F.photo | F.document | F.video | F.animation)(_on_brand_file)

    @router.message(BrandSetup.media, F.text & ~F.text.startswith("/"))
    async def brand_file_expected(message: Message, state: FSMContext) -> None:
        role = str((await state.get_data()).get("role", "logo"))
        await message.answer(MEDIA_PROMPTS.get(role, MEDIA_PROMPTS["logo"]) + "\n/cancel stops.")

    for index, (step_state, field, _question) in enumerate(STEPS):

        @router.message(step_state, F.text & ~F.text.startswith("/"))
        async def answer(
            message: Message,
            session: AsyncSession,
            state: FSMContext,
            _index: int = index,
            _field: str = field,
        ) -> None:
            user = await current_user(session, message.from_user)
            text = (message.text or "").strip()
            if text != KEEP:
                try:
                    value = _parse(_field, text)
                except RecastError as exc:
                    current = await brand_service.brand_for_user(session=session, user_id=user.id)
                    await message.answer(f"{exc.user_message}\n\n{_way_out(current is not None)}")
                    return
                org = await accounts.personal_organization(session=session, user_id=user.id)
                await brand_service.upsert_brand(
                    session=session, user_id=user.id, organization_id=org.id, **{_field: value}
                )
            await _next_step(message, state, _index)

    @router.message(StateFilter(*STEP_STATES), Command("skip"))
    async def skip_step(message: Message, state: FSMContext) -> None:
        current = await state.get_state()
        index = next(i for i, step in enumerate(STEPS) if step[0].state == current)
        await _next_step(message, state, index)

    @router.message(StateFilter(*STEP_STATES, BrandSetup.samples), Command("done", "skip"))
    async def done(message: Message, session: AsyncSession, state: FSMContext) -> None:
        user = await current_user(session, message.from_user)
        await state.clear()
        brand = await brand_service.brand_for_user(session=session, user_id=user.id)
        if brand is None:
            await message.answer("Stopped. Nothing was saved yet — send /brand to start again.")
            return
        samples = await brand_service.sample_count(session=session, brand_id=brand.id)
        await message.answer("Brand voice saved ✅\n\n" + brand_service.describe_brand(brand, samples))

    @router.message(StateFilter(*STEP_STATES), ~F.text, ~(F.video | F.video_note | F.voice | F.audio | F.document))
    async def step_needs_text(message: Message, session: AsyncSession, state: FSMContext) -> None:
        user = await current_user(session, message.from_user)
        current = await brand_service.brand_for_user(session=session, user_id=user.id)
        step = await state.get_state()
        index = next(i for i, (step_state, _, _) in enumerate(STEPS) if step_state.state == step)
        await message.answer(f"I need a text answer here: {STEPS[index][2]}\n\n{_way_out(current is not None)}")

    @router.message(BrandSetup.samples, F.text & ~F.text.startswith("/"))
    async def sample(message: Message, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, message.from_user)
        brand = await brand_service.brand_for_user(session=session, user_id=user.id)
        if brand is None or deps.brand_index is None:
            await message.answer("Set up the brand first with /brand.")
            return
        try:
            await brand_service.add_sample(
                session=session, index=deps.brand_index, brand=brand, text=message.text or ""
            )
        except RecastError as exc:
            await message.answer(f"{exc.user_message}\n\nSend another, or /done to finish.")
            return
        count = await brand_service.sample_count(session=session, brand_id=brand.id)
        await message.answer(f"Got it — {count} sample(s) saved. Send another, or /done.")

    return router
