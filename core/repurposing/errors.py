from __future__ import annotations

from core.common.errors import RecastError


class DraftNotFound(RecastError):
    user_message = "I can't find that draft any more. It may have been deleted."


class DraftNotReady(RecastError):
    user_message = "This upload hasn't been analysed yet. Wait for the drafts to arrive, then try again."


class NothingToRevise(RecastError):
    user_message = "Tell me what to change, e.g. 'shorter', 'more casual' or 'mention our webinar'."


class NoNewAngle(RecastError):
    """Regenerate found no version visibly different from every one the creator has seen."""

    def __init__(self, label: str, tried_through: int) -> None:
        self.tried_through = tried_through
        super().__init__(
            f"I have no new angle for this {label}: every fresh version I can write repeats one you've already "
            "seen. Nothing was charged. Tap Revise and tell me what to change instead (e.g. “focus on hiring”).",
            detail=f"no fresh variant up to {tried_through}",
        )
