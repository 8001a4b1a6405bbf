from __future__ import annotations

from core.common.errors import RecastError


class DraftNotFound(RecastError):
    user_message = "I can't find that draft any more. It may have been deleted."


class DraftNotReady(RecastError):
    user_message = "This upload hasn't been analysed yet. Wait for the drafts to arrive, then try again."


class NothingToRevise(RecastError):
    user_message = "Tell me what to change, e.g. 'shorter', 'more casual' or 'mention our webinar'."
