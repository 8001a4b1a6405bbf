"""/status, /history, /usage, and the creator's data rights: /export and /delete_account."""

from __future__ import annotations

import asyncio

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from bots.telegram.progress import status_line
from core.accounts import deletion
from core.accounts import export as data_export
from core.accounts.confirmations import Claim, DeletionConfirmations, ExportSlots
from core.billing import usage as billing_usage
from core.common.clock import local_time
from core.content import service as content
from core.db.session import maintenance_scope
from core.deps import CoreDeps
from core.pipeline import progress
from core.repurposing import drafting


def setup() -> Router:
    router = Router(name="account")

    @router.message(Command("status"))
    async def status(message: Message, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, message.from_user)
        lines = [status_line(s) for s in await progress.recent_statuses(deps, session=session, user_id=user.id)]
        await message.answer("Your jobs\n" + "\n".join(lines) if lines else "No jobs yet — send me a video!")

    @router.message(Command("history"))
    async def history(message: Message, session: AsyncSession) -> None:
        user = await current_user(session, message.from_user)
        assets = await content.recent_assets(session=session, user_id=user.id, limit=10)
        if not assets:
            await message.answer("Nothing here yet. Send me a video, voice note, link or text.")
            return
        lines = []
        for n, asset in enumerate(assets, 1):  # numbered: "/stats 2" picks the second
            drafts = await drafting.drafts_for_asset(session=session, asset_id=asset.id)
            when = local_time(asset.created_at, user.timezone).strftime("%d %b %H:%M") if asset.created_at else ""
            lines.append(f"{n}. {when} · {asset.title[:50]} · {content.kind_label(asset)} · {len(drafts)} drafts")
        await message.answer(
            "Your recent uploads\n" + "\n".join(lines) + "\n\n/stats 1 shows how the first one's pieces did."
        )

    @router.message(Command("usage"))
    async def usage(message: Message, session: AsyncSession) -> None:
        user = await current_user(session, message.from_user)
        row = await billing_usage.current_usage(session=session, user_id=user.id)
        sub = await billing_usage.live_subscription(session=session, user_id=user.id)

        def fmt(used: int | None, limit: int | None) -> str:
            return f"{used or 0} of {limit}" if limit is not None else f"{used or 0} (no limit)"

        plan = f"{sub.status}" if sub else "no plan: the free monthly allowance"
        await message.answer(
            f"Usage {row.period_start:%d %b} – {row.period_end:%d %b} ({plan})\n"
            f"Uploads: {fmt(row.content_uploads, row.upload_limit)}\n"
            f"AI credits: {fmt(row.ai_credits_used, row.credit_limit)}\n"
            f"Storage: {(row.storage_used_bytes or 0) / 1024 / 1024:.1f} MB"
            + (f" of {(row.storage_limit_bytes or 0) / 1024**3:.0f} GB" if row.storage_limit_bytes else "")
            + "\n\nNeed more? /upgrade"
        )

    _data_handlers(router)
    return router


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def describe_preview(p: deletion.DeletionPreview) -> str:
    """What /delete_account will delete and keep, in the creator's words."""
    lines = [
        "Delete your Recast account?",
        "",
        "This deletes, for good:",
        f"• {_plural(p.assets, 'upload')} with their transcripts and media files",
        f"• {_plural(p.drafts, 'draft')} with their approvals, revisions and metrics",
        f"• {_plural(p.brand_profiles, 'brand profile')} with their brand-voice samples",
        f"• {_plural(p.connections, 'connected account')} (Recast's access to them ends)",
    ]
    if p.posts_to_cancel:
        lines.append(f"• {_plural(p.posts_to_cancel, 'scheduled post')}: cancelled, they won't go out")
    lines.append("• your profile, settings, chat login, templates, hashtags and calls to action")
    if p.invoices_kept or p.payments_kept:
        lines += [
            "",
            f"Kept, because tax law requires it: {_plural(p.invoices_kept, 'invoice')} and "
            f"{_plural(p.payments_kept, 'payment record')}, for 8 years (India's GST rules). Your name, "
            "address, e-mail and phone are removed from our records of them; the invoice PDFs themselves stay "
            "as issued, because the law forbids altering a tax invoice.",
        ]
    lines += ["", "Want a copy first? Send /export before you confirm.", "", "This can't be undone."]
    return "\n".join(lines)


_SINGULAR = {"calendar entries": "calendar entry", "calls to action": "call to action", "ROI figures": "ROI figure"}


def _kind(name: str, n: int) -> str:
    """`report.deleted`'s names are plural ("uploads", "calendar entries"): one of each reads singular."""
    if n != 1:
        return f"{n} {name}"
    return f"1 {_SINGULAR.get(name, name.removesuffix('s'))}"


def describe_report(report: deletion.DeletionReport, *, erased: bool) -> str:
    deleted = ", ".join(_kind(name, n) for name, n in report.deleted.items())
    lines = ["Done — your Recast account is deleted.", "", f"Deleted: {deleted or 'nothing was stored'}."]
    if report.posts_cancelled:
        lines.append(f"Cancelled: {_plural(report.posts_cancelled, 'scheduled post')}.")
    lines.append(
        "Media files and brand-voice samples: deleted."
        if erased
        else "Media files and brand-voice samples: not all deleted yet; this is retried automatically until done."
    )
    if report.invoices_kept or report.payments_kept:
        lines.append(
            f"Kept, anonymised, for 8 years as GST law requires: {_plural(report.invoices_kept, 'invoice')}, "
            f"{_plural(report.payments_kept, 'payment record')} (the invoice PDFs as issued)."
        )
    lines += ["", "If you send /start again, you begin a new, empty account."]
    return "\n".join(lines)


def _confirm_buttons(nonce: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Delete my account", callback_data=f"{DELETE_YES}{nonce}")],
            [InlineKeyboardButton(text="Cancel", callback_data=f"{DELETE_NO}{nonce}")],
        ]
    )


DELETE_YES, DELETE_NO = "acct:del:", "acct:keep:"
_ALREADY_RUNNING = "Already deleting your account from your first tap — I'll confirm here when it's done."
_ALREADY_DONE = "Your account was already deleted by your first tap. There's nothing more to delete."
_EXPIRED = "This confirmation has expired, so nothing was deleted. Send /delete_account to start again."


def _data_handlers(router: Router) -> None:
    """/export (the creator's data as a zip) and /delete_account (with a confirmation)."""
    _export_handler(router)
    _delete_handlers(router)


def _export_handler(router: Router) -> None:

    @router.message(Command("export"))
    async def export(message: Message, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, message.from_user)
        assert message.from_user is not None
        slots = ExportSlots(deps.redis, namespace=deps.settings.rate_limit_namespace)
        subject = f"telegram:{message.from_user.id}"
        free, state, wait_s = await slots.take(subject)
        if not free:
            if state == "sent":
                await message.answer(
                    f"I sent your export a few minutes ago (see above). You can ask for a fresh one in "
                    f"{max(1, round(wait_s / 60))} min."
                )
            else:
                await message.answer("Your export is already being prepared — it will arrive here shortly.")
            return
        try:
            await message.answer("Preparing your export…")
            built = await data_export.build_export(session=session, store=deps.store, user_id=user.id)
            parts = built.parts()
            stamp = f"{user.id.hex[:8]}"
            for n, part in enumerate(parts, 1):
                if n > 1:
                    await asyncio.sleep(1.1)  # Telegram: about one message a second per chat
                name = f"recast-export-{stamp}" + (f"-part{n}of{len(parts)}" if len(parts) > 1 else "") + ".zip"
                caption = (
                    f"Your Recast data ({n} of {len(parts)}). README.txt in each part explains the files."
                    if len(parts) > 1
                    else "Your Recast data. README.txt inside explains each file."
                )
                await message.answer_document(BufferedInputFile(part, filename=name), caption=caption)
        except BaseException:
            await slots.free(subject)
            raise
        await slots.sent(subject)


def _delete_handlers(router: Router) -> None:
    @router.message(Command("delete_account"))
    async def delete_account(message: Message, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, message.from_user)
        assert message.from_user is not None
        preview = await deletion.preview_deletion(session=session, user_id=user.id)
        if preview.blockers:
            await message.answer(
                "Before I can delete your account:\n"
                + "\n".join(f"• {b}" for b in preview.blockers)
                + "\n\nNothing was deleted."
            )
            return
        confirmations = DeletionConfirmations(deps.redis, namespace=deps.settings.rate_limit_namespace)
        nonce = await confirmations.offer(f"telegram:{message.from_user.id}")
        await message.answer(
            describe_preview(preview) + " The buttons work for 10 minutes.", reply_markup=_confirm_buttons(nonce)
        )

    @router.callback_query(F.data.startswith(DELETE_YES))
    async def confirm_delete(query: CallbackQuery, session: AsyncSession, deps: CoreDeps) -> None:
        confirmations = DeletionConfirmations(deps.redis, namespace=deps.settings.rate_limit_namespace)
        subject = f"telegram:{query.from_user.id}"
        nonce = (query.data or "")[len(DELETE_YES) :]
        claim = await confirmations.claim(subject, nonce)
        if claim is Claim.RUNNING:
            await query.answer(_ALREADY_RUNNING, show_alert=True)
            return
        if claim is Claim.DONE:
            await query.answer(_ALREADY_DONE, show_alert=True)
            return
        if claim is Claim.EXPIRED:
            await query.answer(_EXPIRED, show_alert=True)
            if isinstance(query.message, Message):
                await query.message.edit_reply_markup(reply_markup=None)  # no button left that does nothing
            return
        try:
            user = await current_user(session, query.from_user)
            # Deleting an account removes the tenant itself (its organization, the owner its audit rows
            # would belong to), so it runs as maintenance, in a session of its own, on the request of the
            # creator identified above. Committed before anything is said.
            async with maintenance_scope(deps.sessionmaker) as owner_session:
                report = await deletion.delete_account(session=owner_session, user_id=user.id)
        except BaseException:
            await confirmations.release(subject)
            raise
        await confirmations.finish(subject, nonce)
        erased = await deletion.erase_after_commit(deps, report.erase_unit_id)
        await query.answer("Account deleted")
        text = describe_report(report, erased=erased)
        if isinstance(query.message, Message):
            await query.message.edit_text(text, reply_markup=None)
        elif query.bot is not None:  # the confirmation message is too old to edit: say it anew
            await query.bot.send_message(query.from_user.id, text)

    @router.callback_query(F.data.startswith(DELETE_NO))
    async def keep_account(query: CallbackQuery, deps: CoreDeps) -> None:
        confirmations = DeletionConfirmations(deps.redis, namespace=deps.settings.rate_limit_namespace)
        claim = await confirmations.withdraw(f"telegram:{query.from_user.id}", (query.data or "")[len(DELETE_NO) :])
        if claim is Claim.RUNNING:
            await query.answer(_ALREADY_RUNNING, show_alert=True)
            return
        if claim is Claim.DONE:
            await query.answer(_ALREADY_DONE, show_alert=True)
            return
        await query.answer("Cancelled")
        if isinstance(query.message, Message):
            await query.message.edit_text("Cancelled — nothing was deleted. Your account stays as it is.")
