"""/plans and /upgrade: plans in INR or USD and a checkout link from the right gateway."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from core.billing import service as billing
from core.deps import CoreDeps


def _currency(user_country: str | None, args: str) -> str:
    words = {w.upper() for w in args.split()}
    if "USD" in words:
        return "USD"
    if "INR" in words:
        return "INR"
    return "INR" if (user_country or "IN") == "IN" else "USD"


def setup() -> Router:
    router = Router(name="billing")

    @router.message(Command("plans"))
    async def plans(message: Message, command: CommandObject, session: AsyncSession) -> None:
        user = await current_user(session, message.from_user)
        currency = _currency(user.country_code, command.args or "")
        offers = await billing.list_plans(session, currency)
        symbol = "₹" if currency == "INR" else "$"
        lines = [
            f"• {o.name} ({o.billing_period}) — {symbol}{o.price:,.0f}: "
            f"{o.limits.get('uploads_per_period', '?')} uploads, {o.limits.get('ai_credits_per_period', '?')} credits"
            f"  → /upgrade {o.slug}"
            for o in offers
        ]
        tax = " incl. 18% GST" if currency == "INR" else ""
        await message.answer(f"Recast plans ({currency}{tax})\n" + "\n".join(lines) + "\n\n/plans USD for dollars.")

    @router.message(Command("upgrade"))
    async def upgrade(message: Message, command: CommandObject, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, message.from_user)
        args = (command.args or "").split()
        if not args:
            await message.answer("Which plan? Send e.g. /upgrade pro-monthly (see /plans).")
            return
        currency = _currency(user.country_code, " ".join(args[1:]))
        link = await billing.create_checkout(session, deps, user.id, args[0].lower(), currency)
        await message.answer(
            f"Here's your secure {link.gateway.title()} checkout:\n{link.url}\n\n"
            "I'll confirm here as soon as the payment goes through, and send your GST invoice."
        )

    return router
