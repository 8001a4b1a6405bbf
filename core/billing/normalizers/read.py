"""What the normalizers read payloads with: nested keys, our ids, times, amounts, and the Recast notes
(user, plan, payment) a checkout left on the gateway's objects."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.billing.facts import PaymentFact, SubscriptionFact


def dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def as_uuid(value: Any) -> uuid.UUID | None:
    if not value:
        return None
    text = str(value)
    if text.startswith("rc_"):
        text = text[3:]
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def as_time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def from_minor(value: Any) -> Decimal | None:
    return Decimal(int(value)) / 100 if isinstance(value, int | float | str) and str(value).isdigit() else None


def from_major(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except ArithmeticError:
        return None


def take_notes(fact: PaymentFact | SubscriptionFact, notes: Any) -> None:
    if not isinstance(notes, dict):
        return
    fact.user_id = fact.user_id or as_uuid(notes.get("user_id"))
    fact.plan_slug = fact.plan_slug or notes.get("plan_slug")
    if isinstance(fact, PaymentFact):
        fact.recast_payment_id = fact.recast_payment_id or as_uuid(notes.get("recast_payment_id"))
