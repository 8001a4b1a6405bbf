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


def render_catalogue(catalogue: billing.PlanCatalogue) -> str:
    """The /plans reply: the plans with their prices, how to switch currency, and whether they can be bought."""
    if not catalogue.offers:
        return "No plans are set up on this server yet."
    currency, other = catalogue.currency, catalogue.other_currency
    lines = "\n".join(plan_line(o, payable=catalogue.payable) for o in catalogue.offers)
    text = f"Recast plans ({currency}{catalogue.tax_note})\n" + lines
    text += f"\n\nPrices in {billing.CURRENCY_NAMES[other]}: /plans {other}"
    if catalogue.payments_off is not None:
        text += "\n\n" + catalogue.payments_off
    elif not catalogue.payable:
        text += f"\n\nPayments in {currency} aren't set up on this server; /plans {other} shows what you can buy."
    return text


def setup() -> Router:
    router = Router(name="billing")

    @router.message(Command("plans"))
    async def plans(message: Message, command: CommandObject, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, message.from_user)
        catalogue = await billing.plan_catalogue(session, deps, user.country_code, command.args or "")
        await message.answer(render_catalogue(catalogue))

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
        link = await billing.checkout_for_plan(session, deps, user.id, user.country_code, args[0], " ".join(args[1:]))
        await message.answer(
            f"Here's your secure {link.gateway.title()} checkout:\n{link.url}\n\n"
            "I'll confirm here as soon as the payment goes through, and send your invoice."
        )

    return router
