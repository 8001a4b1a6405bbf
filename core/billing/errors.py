from __future__ import annotations

from datetime import date

from core.common.errors import RecastError

WHAT = {"uploads": "uploads", "credits": "AI credits", "storage": "storage"}


def over_limit_message(kind: str, limit: int, *, status: str | None, ends_on: date | None, renews: bool) -> str:
    """What a creator over a limit is told: which allowance, until when, and what to do."""
    what = WHAT.get(kind, kind)
    day = f"{ends_on.day} {ends_on:%b %Y}" if ends_on is not None else None
    if status == "trial":
        until = f", which ends on {day}" if day else ""
        return f"You've used all {limit} {what} of your free trial{until}. Send /upgrade to pick a plan."
    if status is not None and day:
        if renews:
            return (
                f"You've used all {limit} {what} of your plan for this period. Send /upgrade for a bigger plan, "
                f"or wait until it renews on {day}."
            )
        return f"You've used all {limit} {what} of your plan, which ends on {day}. Send /upgrade to pick a plan."
    return f"You've used all {limit} free {what} for this month. Send /upgrade to pick a plan."


class OverPlanLimit(RecastError):
    """A creator tried to use more than their plan allows this billing period."""

    def __init__(
        self,
        kind: str,
        used: int,
        limit: int,
        *,
        status: str | None = None,
        ends_on: date | None = None,
        renews: bool = False,
    ) -> None:
        self.kind, self.used, self.limit = kind, used, limit
        super().__init__(
            over_limit_message(kind, limit, status=status, ends_on=ends_on, renews=renews),
            detail=f"over {kind} limit: {used}/{limit}",
        )


class TooLargeForPlan(RecastError):
    pass
