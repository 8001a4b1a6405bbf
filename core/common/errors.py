"""The base of every domain error. Adapters show `user_message` to people; logs get `str(err)`."""

from __future__ import annotations


class RecastError(Exception):
    """A failure a user can act on. `user_message` is short, friendly and says what to do next."""

    user_message: str = "Something went wrong on our side. Please try again in a minute."

    def __init__(self, user_message: str | None = None, *, detail: str | None = None) -> None:
        if user_message is not None:
            self.user_message = user_message
        super().__init__(detail or self.user_message)


class NotFound(RecastError):
    user_message = "I couldn't find that. It may have been deleted."


class NotAllowed(RecastError):
    user_message = "You don't have permission to do that."
