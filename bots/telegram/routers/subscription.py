"""/subscription (status, cancel renewal with a confirmation, resume), /invoices (re-send the PDFs)
and /gstin (the GSTIN printed on later invoices)."""

from __future__ import annotations

import uuid
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, FSInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from core.billing import checkout as billing
from core.billing import subscriptions
from core.billing.invoices import billing_details
from core.common.clock import local_time
from core.deps import CoreDeps

CANCEL, CONFIRM, KEEP, RESUME = "sub:cancel", "sub:cancel:yes", "sub:keep", "sub:resume"
SYMBOLS = {"INR": "₹", "USD": "$"}


def _day(instant: datetime, timezone: str | None) -> str:
    local = local_time(instant, timezone)
    return f"{local.day} {local:%b %Y}"


def _buttons(*pairs: tuple[str, str]) -> InlineKeyboardMarkup | None:
    if not pairs:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in pairs])


def describe(
    view: subscriptions.PlanView | None, timezone: str | None, deps: CoreDeps
) -> tuple[str, list[tuple[str, str]]]:
    """The /subscription text and the buttons that work for this plan."""
    if view is None:
        return (
            "You have no plan right now, so the free monthly allowance applies (see /usage). /plans shows the plans.",
            [],
        )
    name = f"{view.plan_name or 'Recast'} ({view.billing_period or 'plan'})"
    renew_hint = f"/upgrade {view.plan_slug}" if billing.payments_enabled(deps) and view.plan_slug else "/plans"
    if view.status == "trial":
        end = _day(view.trial_end or view.period_end, timezone)
        return (
            f"Free trial of {view.plan_name or 'Recast'} until {end}. It ends by itself — nothing is charged. "
            "/plans shows what comes after.",
            [],
        )
    prefix = "⚠️ Your last renewal payment didn't go through.\n" if view.status == "past_due" else ""
    end = _day(view.period_end, timezone)
    if view.gateway is None:
        return (
            f"{prefix}{name}: paid until {end}. It doesn't renew by itself, so nothing more will be charged. "
            f"To keep it after that, {renew_hint} before then.",
            [],
        )
    return _renewing(view, f"{prefix}{name}", end, renew_hint)


def _renewing(view: subscriptions.PlanView, name: str, end: str, renew_hint: str) -> tuple[str, list[tuple[str, str]]]:
    """A plan that renews through a gateway: cancelled (resumable or not), or renewing (cancellable here or
    only in the gateway's account)."""
    assert view.gateway is not None
    via = subscriptions.GATEWAY_TITLES.get(view.gateway, view.gateway)
    if view.cancel_at_period_end:
        text = f"{name}: cancelled — it stays active until {end}, then ends. Nothing more will be charged."
        if view.can_resume:
            return text, [("▶️ Resume renewals", RESUME)]
        return text + f"\nTo keep going after that, {renew_hint}.", []
    text = f"{name}: renews on {end} through {via}."
    if view.can_cancel:
        return text, [("Cancel renewal", CANCEL)]
    return text + f"\nTo stop renewals, cancel it in your {via} account.", []


def setup() -> Router:
    router = Router(name="subscription")
    _plan_handlers(router)
    _invoice_handlers(router)
    _gstin_handler(router)
    return router


def _plan_handlers(router: Router) -> None:
    """/subscription and its buttons: cancel renewal (with a confirmation), keep, resume."""

    @router.message(Command("subscription"))
    async def subscription(message: Message, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, message.from_user)
        view = await subscriptions.plan_view(session=session, deps=deps, user_id=user.id)
        text, buttons = describe(view, user.timezone, deps)
        await message.answer(text, reply_markup=_buttons(*buttons))

    @router.callback_query(F.data == CANCEL)
    async def ask_to_cancel(query: CallbackQuery, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, query.from_user)
        view = await subscriptions.plan_view(session=session, deps=deps, user_id=user.id)
        if view is None or not view.can_cancel:
            await query.answer("There's no renewal to cancel any more. /subscription shows your plan.", show_alert=True)
            return
        await query.answer()
        if query.message is not None:
            await query.message.answer(
                f"Cancel the renewal of {view.plan_name}? It stays active until "
                f"{_day(view.period_end, user.timezone)}, then ends, and nothing more is charged.",
                reply_markup=_buttons(("Yes, cancel renewal", CONFIRM), ("No, keep my plan", KEEP)),
            )

    @router.callback_query(F.data == CONFIRM)
    async def confirm_cancel(query: CallbackQuery, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, query.from_user)
        view = await subscriptions.cancel_renewal(session=session, deps=deps, user_id=user.id)
        await query.answer("Renewal cancelled")
        text, buttons = describe(view, user.timezone, deps)
        if isinstance(query.message, Message):
            await query.message.edit_text("Done. " + text, reply_markup=_buttons(*buttons))

    @router.callback_query(F.data == KEEP)
    async def keep(query: CallbackQuery) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text("Okay — nothing changed, your plan keeps renewing.")

    @router.callback_query(F.data == RESUME)
    async def resume(query: CallbackQuery, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, query.from_user)
        view = await subscriptions.resume_renewal(session=session, deps=deps, user_id=user.id)
        await query.answer("Renewals resumed")
        text, buttons = describe(view, user.timezone, deps)
        if isinstance(query.message, Message):
            await query.message.edit_text("Resumed. " + text, reply_markup=_buttons(*buttons))


def _invoice_handlers(router: Router) -> None:
    """/invoices and the button that sends one invoice's PDF."""

    @router.message(Command("invoices"))
    async def invoices(message: Message, session: AsyncSession) -> None:
        user = await current_user(session, message.from_user)
        rows = await subscriptions.list_invoices(session=session, user_id=user.id)
        if not rows:
            await message.answer("No invoices yet — you get one with every payment. /plans shows the plans.")
            return
        lines = [
            f"• {inv.invoice_number} · {_day(inv.issued_at, user.timezone) if inv.issued_at else '—'} · "
            f"{SYMBOLS.get(inv.currency, inv.currency + ' ')}{inv.total_amount:,.2f} ({inv.status or 'issued'})"
            for inv in rows
        ]
        buttons = [(f"📄 {inv.invoice_number}", f"inv:{inv.id.hex}") for inv in rows if inv.invoice_url]
        await message.answer(
            "Your invoices\n" + "\n".join(lines) + ("\n\nTap one to get its PDF." if buttons else ""),
            reply_markup=_buttons(*buttons),
        )

    @router.callback_query(F.data.startswith("inv:"))
    async def send_invoice(query: CallbackQuery, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, query.from_user)
        try:
            invoice_id = uuid.UUID(hex=(query.data or "")[4:])
        except ValueError:
            await query.answer("That button has expired. Send /invoices again.", show_alert=True)
            return
        invoice = await subscriptions.own_invoice(session=session, user_id=user.id, invoice_id=invoice_id)
        path = deps.store.local_path(invoice.invoice_url) if invoice.invoice_url else None
        if path is None or not path.exists():
            await query.answer(f"The PDF of {invoice.invoice_number} isn't on this server any more.", show_alert=True)
            return
        await query.answer()
        if query.message is not None:
            await query.message.answer_document(
                FSInputFile(path, filename=f"{invoice.invoice_number.replace('/', '-')}.pdf"),
                caption=f"Invoice {invoice.invoice_number}",
            )


def _gstin_handler(router: Router) -> None:
    """/gstin: show, save (checked) or remove the GSTIN printed on invoices."""

    @router.message(Command("gstin"))
    async def gstin(message: Message, command: CommandObject, session: AsyncSession) -> None:
        user = await current_user(session, message.from_user)
        value = (command.args or "").strip()
        if not value:
            saved = (await billing_details(session=session, user_id=user.id)).get("gstin")
            if saved:
                await message.answer(f"Your GSTIN: {saved}. It's printed on your invoices. /gstin off removes it.")
            else:
                await message.answer(
                    "No GSTIN saved. Send it like /gstin 27AAPFU0939F1ZV to have it printed on your invoices "
                    "(for input tax credit)."
                )
            return
        if value.lower() in ("off", "remove", "none", "delete"):
            await subscriptions.set_gstin(session=session, user_id=user.id, gstin=None)
            await session.commit()  # said only once it is so
            await message.answer("GSTIN removed. Invoices from now on are issued without one.")
            return
        saved = await subscriptions.set_gstin(session=session, user_id=user.id, gstin=value)
        await session.commit()  # said only once it is so: an invoice issued right after must carry it
        await message.answer(
            f"Saved ✅ GSTIN {saved['gstin']}. It's printed on your invoices from your next payment on "
            "(invoices already issued stay as they are)."
        )
