"""Draft buttons: Approve · Revise · Regenerate · Copy text · Why N? — and /why (/why 2: the draft before)."""

from __future__ import annotations

import uuid

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.callbacks import DRAFT_PREFIX, parse_draft_action
from bots.telegram.identity import current_user
from bots.telegram.middleware import AfterCommit
from bots.telegram.routers import publish
from bots.telegram.splitting import TEXT_LIMIT
from core.deps import CoreDeps
from core.notify.ports import DraftActionKind
from core.pipeline.render import CLIP, full_text
from core.repurposing import why
from core.repurposing.errors import NothingToRevise
from core.workflow import solo

MAX_PLACE = 1000  # /why 1000 is as far back as it looks
WHY_USAGE = "Send /why for your newest draft, or /why 2 for the one before it (3 for the one before that, …)."


class Revising(StatesGroup):
    feedback = State()


async def on_why(message: Message, session: AsyncSession, command: CommandObject) -> None:
    arg = (command.args or "").strip()
    if arg and not (arg.isdigit() and 1 <= int(arg) <= MAX_PLACE):
        await message.answer(WHY_USAGE)
        return
    place = int(arg) if arg else 1
    user = await current_user(session, message.from_user)
    draft = await why.recent_draft(session=session, user_id=user.id, place=place)
    if draft is None:
        await message.answer(
            "You have no drafts yet. Send me a video, voice note or text, and each draft arrives with its score."
            if place == 1
            else f"You have fewer than {place} drafts. /why explains your newest; /why 2 the one before it."
        )
        return
    await message.answer(f"{why.draft_name(draft)}\n{why.explain_draft(draft)}"[:TEXT_LIMIT])


def setup() -> Router:
    router = Router(name="drafts")

    @router.callback_query(F.data.startswith(DRAFT_PREFIX))
    async def on_button(
        query: CallbackQuery,
        session: AsyncSession,
        state: FSMContext,
        deps: CoreDeps,
        after_commit: AfterCommit,
    ) -> None:
        parsed = parse_draft_action(query.data or "")
        if parsed is None:
            await query.answer("That button has expired. Send /history to find your drafts.", show_alert=True)
            return
        action, draft_id = parsed.kind, parsed.draft_id
        user = await current_user(session, query.from_user)
        draft = await solo.owned_draft(session=session, draft_id=draft_id, user_id=user.id)
        if action is DraftActionKind.APPROVE:
            _, new = await solo.approve_own_draft(session=session, draft_id=draft_id, user_id=user.id)
            await query.answer("Approved ✅" if new else "Already approved ✅")
            if new and query.message is not None:
                text, buttons = await publish.offer(session, deps, user, draft)
                await query.message.answer(text, reply_markup=buttons)
        elif action is DraftActionKind.REVISE:
            await state.set_state(Revising.feedback)
            await state.update_data(draft_id=draft_id.hex)
            await query.answer()
            if query.message is not None:
                await query.message.answer(
                    "What should I change? e.g. “shorter”, “more casual”, “add emojis”, “mention our webinar”. "
                    "/cancel to keep it as is."
                )
        elif action is DraftActionKind.REGENERATE and draft.content_type == CLIP:
            # Older clip messages still carry the button: say what works instead of pretending.
            await query.answer(
                "A clip can't be regenerated. Tap Revise and tell me what to change, e.g. “shorter”.", show_alert=True
            )
        elif action is DraftActionKind.REGENERATE:
            await query.answer("Looking for a fresh angle…")
            after_commit.append(
                lambda: deps.enqueue("pipeline.rewrite_draft", draft_id=str(draft_id), requested_by=str(user.id))
            )
        elif action is DraftActionKind.COPY:
            await query.answer()
            if query.message is not None:
                await query.message.answer(full_text(draft)[:TEXT_LIMIT])
        elif action is DraftActionKind.WHY:
            await query.answer()
            if query.message is not None:
                await query.message.answer(why.explain_draft(draft)[:TEXT_LIMIT])

    @router.message(Revising.feedback, F.text & ~F.text.startswith("/"))
    async def on_feedback(
        message: Message, session: AsyncSession, state: FSMContext, deps: CoreDeps, after_commit: AfterCommit
    ) -> None:
        data = await state.get_data()
        feedback = (message.text or "").strip()
        if not feedback:
            raise NothingToRevise()
        user = await current_user(session, message.from_user)
        draft_id = uuid.UUID(hex=str(data["draft_id"]))
        await solo.owned_draft(session=session, draft_id=draft_id, user_id=user.id)
        await state.clear()
        await message.answer("Got it — revising with your feedback…")
        after_commit.append(
            lambda: deps.enqueue(
                "pipeline.rewrite_draft", draft_id=str(draft_id), requested_by=str(user.id), feedback=feedback
            )
        )

    router.message(Command("why"))(on_why)
    return router
