"""/transcript: read the words of the latest upload, send corrections, get the drafts rewritten."""

from __future__ import annotations

import uuid

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from bots.telegram.middleware import AfterCommit
from core.deps import CoreDeps
from core.pipeline import transcript as transcripts
from core.work import submit

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
HOW = (
    "Spotted a wrong word? Send corrections like\nmilk → value\n"
    "(several in one message: one per line or separated by commas). "
    "I'll rewrite your drafts from the corrected text, free. /cancel to stop."
)
STILL_WORKING = "I'm still writing drafts from this upload. Once they've arrived, send /transcript to correct words."
EXAMPLE = (
    "Send corrections as wrong → right, e.g. “milk → value” (one per line or separated by commas). /cancel to stop."
)


class Correcting(StatesGroup):
    corrections = State()


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _reply(result: transcripts.CorrectionResult, unreadable: list[str]) -> str:
    lines = []
    if result.found:
        total = result.replacements
        lines.append(f"✅ Made {total} replacement{'s' if total != 1 else ''} in the transcript:")
        lines += [f"• “{c.wrong}” → “{c.right}” ({_times(n)})" for c, n in result.found]
    for c in result.missing:
        lines.append(f"“{c.wrong}” isn't in the transcript, so nothing was replaced for it.")
    if unreadable:
        lines.append("I couldn't read: " + "; ".join(f"“{u[:60]}”" for u in unreadable) + f"\n{EXAMPLE}")
    if not result.found:
        lines.append("The transcript is unchanged. Send another correction, or /cancel.")
        return "\n".join(lines)
    if result.drafts:
        n = result.drafts
        lines.append(
            f"Rewriting your {n} draft{'s' if n != 1 else ''} from the corrected transcript; "
            f"{'they arrive' if n != 1 else 'it arrives'} as new messages. This is free: "
            "no upload and no AI credits are counted."
        )
    else:
        lines.append("There are no drafts of this upload to rewrite; the corrected text is kept.")
    if result.clips:
        lines.append(
            "Clips keep the captions they were rendered with; a clip you revise from now on uses the corrected words."
        )
    return "\n".join(lines)


def setup() -> Router:
    router = Router(name="transcript")

    @router.message(Command("transcript"))
    async def show(message: Message, session: AsyncSession, state: FSMContext) -> None:
        user = await current_user(session, message.from_user)
        view = await transcripts.latest_transcript(session=session, user_id=user.id)
        if view is None:
            await message.answer(
                "There's no transcript yet. Send me a video, voice note or audio file (or a text) first."
            )
            return
        what = "Transcript" if view.spoken else "Text"
        header = f"📜 {what} of “{view.title}”" + (" (corrected)" if view.corrected else "")
        how = STILL_WORKING if view.in_progress else HOW
        if not view.in_progress:
            await state.set_state(Correcting.corrections)
            await state.update_data(asset_id=view.asset_id.hex)
        whole = f"{header}\n\n{view.text}\n\n{how}"
        if len(whole) <= TEXT_LIMIT:
            await message.answer(whole)
            return
        words = len(view.text.split())
        caption = f"{header}: {words} words, in the attached file.\n\n{how}"
        await message.answer_document(
            BufferedInputFile(view.text.encode(), filename="transcript.txt"), caption=caption[:CAPTION_LIMIT]
        )

    @router.message(Correcting.corrections, F.text & ~F.text.startswith("/"))
    async def on_corrections(
        message: Message, session: AsyncSession, state: FSMContext, deps: CoreDeps, after_commit: AfterCommit
    ) -> None:
        parsed = transcripts.parse_corrections(message.text or "")
        if not parsed.corrections:
            await message.answer(f"That doesn't look like a correction. {EXAMPLE}")
            return
        user = await current_user(session, message.from_user)
        asset_id = uuid.UUID(hex=str((await state.get_data())["asset_id"]))
        result = await transcripts.correct_transcript(
            session=session, user_id=user.id, asset_id=asset_id, corrections=parsed.corrections
        )
        await session.commit()  # the reply says what is so
        if result.found:
            await state.clear()
        await message.answer(_reply(result, parsed.unreadable))
        if result.unit_id is not None:
            unit_id = result.unit_id

            async def wake() -> None:
                await submit.push(deps.work_queue, deps.sessionmaker, [unit_id])

            after_commit.append(wake)

    return router
