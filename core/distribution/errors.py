"""What can go wrong between Recast and a social platform, sorted by what the publisher should do next.

`transient` is read by `core.work.errors.is_transient`: a transient error retries the work unit with
backoff (after `retry_after` seconds when the platform said so); a permanent one stops with its reason.
"""

from __future__ import annotations

from datetime import datetime

from core.common.errors import RecastError
from core.notify.ports import ChatRef


class PlatformError(RecastError):
    """The platform refused or failed a call."""

    transient = False
    user_message = "The platform refused the post."

    def __init__(self, user_message: str | None = None, *, detail: str | None = None, retry_after: float | None = None):
        super().__init__(user_message, detail=detail)
        self.retry_after = retry_after


class PlatformUnavailable(PlatformError):
    """A 5xx or a network error before the platform could have acted (safe to retry as is)."""

    transient = True
    user_message = "The platform is not answering right now; Recast will try again."


class UnreadableAnswer(PlatformUnavailable):
    """A 2xx whose body is not what the platform documents (not JSON, or without the field it must hold)."""

    user_message = "The platform answered with something Recast couldn't read; Recast will try again."


class OutcomeUnknown(PlatformError):
    """The request may or may not have created the post (a timeout or 5xx after sending it). The next attempt
    must first ask the platform whether the post exists, so a timeout never becomes a double post."""

    transient = True
    user_message = "The platform did not confirm the post; Recast is checking before it tries again."

    def __init__(
        self,
        user_message: str | None = None,
        *,
        detail: str | None = None,
        retry_after: float | None = None,
        handle: str | None = None,
    ):
        super().__init__(user_message, detail=detail, retry_after=retry_after)
        # The platform's id for the request in flight, when it gave one before the answer went missing
        # (TikTok's publish_id): the next attempt asks about it (`PostContent.pending`) instead of searching.
        self.handle = handle


class RateLimited(PlatformError):
    """429: the platform's limit for this app or account is in force until `retry_after`."""

    transient = True
    user_message = "The platform's rate limit is in force; the post goes out when it lifts."


class QuotaExhausted(PlatformError):
    """The account's (or the app's) daily allowance is used up until `until`: Instagram's
    `content_publishing_limit`, YouTube's daily quota units. Not a failure: the post moves to `until` and
    its owner is told the new time."""

    user_message = "The platform's daily limit for this account is used up; the post moves to the next slot."

    def __init__(self, until: datetime, user_message: str | None = None, *, detail: str | None = None):
        super().__init__(user_message, detail=detail)
        self.until = until


class TokenRevoked(PlatformError):
    """401 or a failed refresh: the connection must be made again by its owner."""

    user_message = "The account's access was revoked or expired. Connect it again with /connect."


class PermissionMissing(PlatformError):
    """The token works but lacks a permission the call needs (Meta's Graph code 10 or the 200 family): only
    the owner can grant it, by connecting the account again. Analytics stops asking until they do."""

    user_message = "The account's access lacks a permission this needs. Connect it again with /connect."


class ContentRejected(PlatformError):
    """The platform rejected the post itself (media, length, duplicate content): retrying cannot help."""

    user_message = "The platform rejected the post."


class NotFound(ContentRejected):
    """404: the platform has no such post (deleted, or never there)."""

    user_message = "The platform no longer has that post."


class VersionRetired(PlatformError):
    """The API version Recast sends is no longer served (LinkedIn answers 426): an operator must update it."""

    user_message = "Publishing to this platform needs an update on the server; the operator has been told."


class NotPublishable(RecastError):
    """Refused at schedule time: the platform would refuse it at publish time (the message says why)."""

    user_message = "This draft can't be published there."


class NotConnected(RecastError):
    user_message = "That account isn't connected. Use /connect to connect it."


class NotConfigured(RecastError):
    user_message = "This server has no app set up for that platform yet. Ask its operator to add the app's keys."


class CannotConnect(RecastError):
    """The sign-in worked but can't give Recast what it needs (a permission left out, no Page, no linked
    Instagram account, no YouTube channel, access that can't be renewed): the owner is told what to change,
    and nothing is stored."""

    user_message = "That account can't be connected as it is."


class ConnectFailed(RecastError):
    """Finishing a connect failed at the platform (the code refused, no answer, an unreadable one, an account
    that can't be connected as it is) after the state was used up: nothing is stored, and `chat` (where the
    connect started) is to be told `reason`; `cause` is the error met."""

    def __init__(self, reason: str, *, chat: ChatRef, cause: RecastError) -> None:
        super().__init__(reason, detail=f"{type(cause).__name__}: {cause}")
        self.reason, self.chat, self.cause = reason, chat, cause


class OAuthStateInvalid(RecastError):
    user_message = "That sign-in link has expired or was already used. Start again with /connect."
