"""/plans and /upgrade: plans in INR or USD and a checkout link from the right gateway."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from core.billing import checkout as billing
from core.deps import CoreDeps

SYMBOLS = {"INR": "₹", "USD": "$"}


def plan_line(offer: billing.PlanOffer, *, payable: bool) -> str:
    """`• Pro (yearly) — ₹7,990 a year: 50 uploads and 1,000 AI credits a month → /upgrade pro-yearly`."""
    limits = offer.limits
    uploads, credits = limits.get("uploads_per_period"), limits.get("ai_credits_per_period")
    allowance = " and ".join(
        f"{n:,} {what}" for n, what in ((uploads, "uploads"), (credits, "AI credits")) if isinstance(n, int)
    )
    period = "a year" if offer.billing_period == "yearly" else "a month"
    line = f"• {offer.name} ({offer.billing_period}) — {SYMBOLS.get(offer.currency, '')}{offer.price:,.0f} {period}"
    if allowance:
        line += f": {allowance} a month"
    return line + (f" → /upgrade {offer.slug}" if payable else "")


def setup() -> Router:
    router = Router(name="billing")

    @router.message(Command("plans"))
    async def plans(message: Message, command: CommandObject, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, message.from_user)
        currency = billing.currency_for(user.country_code, command.args or "")
        offers = await billing.list_plans(session, currency)
        if not offers:
            await message.answer("No plans are set up on this server yet.")
            return
        payable = currency in billing.payable_currencies(deps)
        tax = billing.tax_note(currency)
        text = f"Recast plans ({currency}{tax})\n" + "\n".join(plan_line(o, payable=payable) for o in offers)
        other = "USD" if currency == "INR" else "INR"
        text += f"\n\nPrices in {billing.CURRENCY_NAMES[other]}: /plans {other}"
        if not billing.payments_enabled(deps):
            text += "\n\n" + billing.payments_off_message(deps.settings.billing_contact)
        elif not payable:
            text += f"\n\nPayments in {currency} aren't set up on this server; /plans {other} shows what you can buy."
        await message.answer(text)

    @router.message(Command("upgrade"))
    async def upgrade(message: Message, command: CommandObject, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, message.from_user)
        if not billing.payments_enabled(deps):
            await message.answer(billing.payments_off_message(deps.settings.billing_contact))
            return
        args = (command.args or "").split()
        if not args:
            await message.answer("Which plan? Send e.g. /upgrade pro-monthly (see /plans).")
            return
        currency = billing.currency_for(user.country_code, " ".join(args[1:]))
        link = await billing.create_checkout(session, deps, user.id, args[0].lower(), currency)
        await message.answer(
            f"Here's your secure {link.gateway.title()} checkout:\n{link.url}\n\n"
            "I'll confirm here as soon as the payment goes through, and send your invoice."
        )

    return router
