from __future__ import annotations

from core.common.errors import RecastError


class OverPlanLimit(RecastError):
    """A creator tried to use more than their plan allows this billing period."""

    def __init__(self, kind: str, used: int, limit: int) -> None:
        self.kind, self.used, self.limit = kind, used, limit
        what = {"uploads": "uploads", "credits": "AI credits", "storage": "storage"}.get(kind, kind)
        super().__init__(
            f"You've used all {limit} {what} in your plan this month. "
            "Send /upgrade to pick a bigger plan, or wait until your plan renews.",
            detail=f"over {kind} limit: {used}/{limit}",
        )


class TooLargeForPlan(RecastError):
    pass
