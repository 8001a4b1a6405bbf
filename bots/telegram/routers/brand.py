"""/brand: a short guided set-up of the brand profile and its sample posts."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from core.accounts import service as accounts
from core.brand import service as brand_service
from core.deps import CoreDeps

KEEP = "-"


class BrandSetup(StatesGroup):
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


def _parse(field: str, text: str) -> object:
    if field == "content_goals":
        return [g.strip() for g in text.split(",") if g.strip()]
    if field == "preferred_platforms":
        return brand_service.parse_platforms(text)
    if field == "tone_preset":
        return brand_service.parse_tone(text)
    return text.strip()


def setup() -> Router:
    router = Router(name="brand")

    @router.message(Command("brand"))
    async def brand(message: Message, command: CommandObject, session: AsyncSession, state: FSMContext) -> None:
        user = await current_user(session, message.from_user)
        current = await brand_service.brand_for_user(session=session, user_id=user.id)
        if current is not None and (command.args or "").strip().lower() != "edit":
            samples = await brand_service.sample_count(session=session, brand_id=current.id)
            await message.answer(
                brand_service.describe_brand(current, samples)
                + "\n\nSend /brand edit to change it, or /brand samples to add sample posts."
            )
            if (command.args or "").strip().lower() == "samples":
                await state.set_state(BrandSetup.samples)
            return
        await state.set_state(BrandSetup.name)
        hint = f" (send {KEEP} to keep the current answer)" if current else ""
        await message.answer(
            f"Let's set up your brand voice — 7 quick questions{hint}. /cancel stops.\n\n" + STEPS[0][2]
        )

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
                org = await accounts.personal_organization(session=session, user_id=user.id)
                await brand_service.upsert_brand(
                    session=session, user_id=user.id, organization_id=org.id, **{_field: _parse(_field, text)}
                )
            if _index + 1 < len(STEPS):
                await state.set_state(STEPS[_index + 1][0])
                await message.answer(STEPS[_index + 1][2])
            else:
                await state.set_state(BrandSetup.samples)
                await message.answer(
                    "Last step: paste 1–5 posts you've written, one message each, so I can learn your style. "
                    "Send /done when finished."
                )

    @router.message(BrandSetup.samples, Command("done"))
    async def done(message: Message, session: AsyncSession, state: FSMContext) -> None:
        user = await current_user(session, message.from_user)
        await state.clear()
        brand = await brand_service.brand_for_user(session=session, user_id=user.id)
        samples = await brand_service.sample_count(session=session, brand_id=brand.id) if brand else 0
        text = brand_service.describe_brand(brand, samples) if brand else "No brand yet."
        await message.answer("Brand voice saved ✅\n\n" + text)

    @router.message(BrandSetup.samples, F.text & ~F.text.startswith("/"))
    async def sample(message: Message, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, message.from_user)
        brand = await brand_service.brand_for_user(session=session, user_id=user.id)
        if brand is None or deps.brand_index is None:
            await message.answer("Set up the brand first with /brand.")
            return
        await brand_service.add_sample(session=session, index=deps.brand_index, brand=brand, text=message.text or "")
        count = await brand_service.sample_count(session=session, brand_id=brand.id)
        await message.answer(f"Got it — {count} sample(s) saved. Send another, or /done.")

    return router
