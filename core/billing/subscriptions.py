"""What a creator can do with their own plan from chat: see it, cancel renewal, resume, invoices, GSTIN.

Why the gateway first: a plan that renews through a gateway (a Razorpay, Stripe or PayPal subscription)
keeps charging until the gateway is told, so "cancelled" is recorded only after the gateway accepted
it. A plan bought with a one-time payment never renews by itself: there is nothing to cancel, and
the creator is told so instead of being offered a button that would change nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import invoices as billing_invoices
from core.billing import usage as billing_usage
from core.billing.gateways import CancelsRenewal, GatewayClient, GatewayError, ResumesRenewal
from core.billing.models import Invoice, Subscription, SubscriptionPlan
from core.common.errors import NotFound, RecastError
from core.deps import CoreDeps
from core.system import audit

GATEWAY_COLUMNS = (
    ("stripe", "stripe_subscription_id"),
    ("razorpay", "razorpay_subscription_id"),
    ("paypal", "paypal_subscription_id"),
    ("cashfree", "cashfree_subscription_id"),
)
GATEWAY_TITLES = {"stripe": "Stripe", "razorpay": "Razorpay", "paypal": "PayPal", "cashfree": "Cashfree"}


class NothingToCancel(RecastError):
    user_message = "There's no renewing plan to cancel. /subscription shows what you have."


class CannotResume(RecastError):
    user_message = "That plan can't be resumed from here. /subscription shows what you can do."


class GatewayUnreachable(RecastError):
    def __init__(self, gateway: str, detail: str) -> None:
        super().__init__(
            f"I couldn't reach {GATEWAY_TITLES.get(gateway, gateway)} just now, so nothing changed. "
            "Please try again in a minute.",
            detail=detail,
        )


@dataclass(frozen=True)
class PlanView:
    status: str  # trial | active | past_due
    plan_name: str | None
    plan_slug: str | None
    billing_period: str | None
    period_end: datetime
    trial_end: datetime | None
    cancel_at_period_end: bool
    gateway: str | None  # the gateway it renews through; None: a one-time payment (or a trial)
    can_cancel: bool  # renews through a gateway whose client can stop it
    can_resume: bool  # cancellation scheduled, and the gateway can undo it


def _recurring(sub: Subscription) -> tuple[str, str] | None:
    for gateway, column in GATEWAY_COLUMNS:
        value = getattr(sub, column)
        if value:
            return gateway, str(value)
    return None


def _client(deps: CoreDeps, gateway: str) -> GatewayClient | None:
    return deps.providers.gateways.get(gateway)


async def plan_view(*, session: AsyncSession, deps: CoreDeps, user_id: uuid.UUID) -> PlanView | None:
    sub = await billing_usage.live_subscription(session=session, user_id=user_id)
    if sub is None:
        return None
    plan = await session.get(SubscriptionPlan, sub.plan_id) if sub.plan_id else None
    recurring = _recurring(sub) if sub.status != "trial" else None
    client = _client(deps, recurring[0]) if recurring else None
    scheduled = bool(sub.cancel_at_period_end)
    return PlanView(
        status=sub.status,
        plan_name=plan.name if plan else None,
        plan_slug=plan.slug if plan else None,
        billing_period=plan.billing_period if plan else None,
        period_end=sub.current_period_end,
        trial_end=sub.trial_end,
        cancel_at_period_end=scheduled,
        gateway=recurring[0] if recurring else None,
        can_cancel=not scheduled and isinstance(client, CancelsRenewal),
        can_resume=scheduled and isinstance(client, ResumesRenewal),
    )


async def cancel_renewal(*, session: AsyncSession, deps: CoreDeps, user_id: uuid.UUID) -> PlanView:
    """Stop a renewing plan at the end of its paid period: the gateway first, then our record."""
    sub = await billing_usage.live_subscription(session=session, user_id=user_id)
    recurring = _recurring(sub) if sub is not None and sub.status != "trial" else None
    if sub is None or recurring is None or sub.cancel_at_period_end:
        raise NothingToCancel()
    gateway, external_id = recurring
    client = _client(deps, gateway)
    if not isinstance(client, CancelsRenewal):
        raise NothingToCancel(detail=f"no {gateway} client to cancel {external_id}")
    await _tell_gateway(gateway, client.cancel_subscription(external_id))
    metadata = {"period_end": sub.current_period_end.isoformat(), "gateway": gateway}
    return await _record_renewal(session, deps, user_id, sub, True, "subscription_cancel_scheduled", metadata)


async def resume_renewal(*, session: AsyncSession, deps: CoreDeps, user_id: uuid.UUID) -> PlanView:
    """Undo a scheduled cancellation where the gateway allows it (Stripe)."""
    sub = await billing_usage.live_subscription(session=session, user_id=user_id)
    recurring = _recurring(sub) if sub is not None else None
    if sub is None or recurring is None or not sub.cancel_at_period_end:
        raise CannotResume()
    gateway, external_id = recurring
    client = _client(deps, gateway)
    if not isinstance(client, ResumesRenewal):
        raise CannotResume(detail=f"{gateway} cannot undo a cancellation")
    await _tell_gateway(gateway, client.resume_subscription(external_id))
    return await _record_renewal(session, deps, user_id, sub, False, "subscription_cancel_undone", {"gateway": gateway})


async def _tell_gateway(gateway: str, call: Awaitable[None]) -> None:
    try:
        await call
    except GatewayError as exc:
        raise GatewayUnreachable(gateway, str(exc)) from exc


async def _record_renewal(
    session: AsyncSession,
    deps: CoreDeps,
    user_id: uuid.UUID,
    sub: Subscription,
    cancel_at_period_end: bool,
    action: str,
    metadata: dict[str, Any],
) -> PlanView:
    """The gateway accepted: record the change, audit it, and return what the creator now has."""
    sub.cancel_at_period_end = cancel_at_period_end
    await audit.record(
        session=session,
        action=action,
        user_id=user_id,
        resource_type="subscription",
        resource_id=sub.id,
        metadata=metadata,
    )
    await session.flush()
    view = await plan_view(session=session, deps=deps, user_id=user_id)
    assert view is not None
    return view


# ---------------------------------------------------------------- invoices


async def list_invoices(*, session: AsyncSession, user_id: uuid.UUID, limit: int = 10) -> list[Invoice]:
    rows = await session.scalars(
        select(Invoice)
        .where(Invoice.user_id == user_id)
        .order_by(Invoice.issued_at.desc().nulls_last(), Invoice.created_at.desc())
        .limit(limit)
    )
    return list(rows)


async def own_invoice(*, session: AsyncSession, user_id: uuid.UUID, invoice_id: uuid.UUID) -> Invoice:
    invoice = await session.get(Invoice, invoice_id)
    if invoice is None or invoice.user_id != user_id:
        raise NotFound("I couldn't find that invoice. /invoices lists yours.")
    return invoice


# ---------------------------------------------------------------- GSTIN

_GSTIN_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_STATE_CODES = {f"{n:02d}" for n in range(1, 39)} | {"97", "99"}


class InvalidGstin(RecastError):
    pass


def gstin_check_character(first14: str) -> str:
    """The 15th character of a GSTIN: the GSTN's base-36 Luhn-style checksum of the first 14."""
    total = 0
    for i, char in enumerate(first14):
        product = _GSTIN_CHARS.index(char) * (2 if i % 2 else 1)
        total += product // 36 + product % 36
    return _GSTIN_CHARS[(36 - total % 36) % 36]


def check_gstin(raw: str) -> str:
    """The normalised GSTIN, or `InvalidGstin` saying what is wrong with it."""
    gstin = "".join(raw.split()).upper()
    example = "e.g. 27AAPFU0939F1ZV"
    if len(gstin) != 15:
        raise InvalidGstin(f"A GSTIN has 15 characters; that one has {len(gstin)} ({example}).")
    if not billing_invoices.valid_gstin(gstin):
        raise InvalidGstin(
            "That isn't a GSTIN: 2 digits (state), the 10-character PAN, an entity number, Z and a check "
            f"character ({example})."
        )
    if gstin[:2] not in _STATE_CODES:
        raise InvalidGstin(f"{gstin[:2]} isn't an Indian state code; a GSTIN starts with its state's code.")
    if gstin_check_character(gstin[:14]) != gstin[14]:
        raise InvalidGstin("That GSTIN's last character doesn't match the others — please check it for a typo.")
    return gstin


async def set_gstin(*, session: AsyncSession, user_id: uuid.UUID, gstin: str | None) -> dict[str, Any]:
    """Save (or with None remove) the GSTIN printed on later invoices; other billing details are kept."""
    details = await billing_invoices.billing_details(session=session, user_id=user_id)
    if gstin is None:
        details.pop("gstin", None)
        details.pop("state_code", None)
    else:
        checked = check_gstin(gstin)
        details["gstin"], details["state_code"] = checked, checked[:2]
    return await billing_invoices.set_billing_details(
        session=session,
        user_id=user_id,
        legal_name=details.get("legal_name"),
        gstin=details.get("gstin"),
        state_code=details.get("state_code"),
        address=details.get("address"),
    )
