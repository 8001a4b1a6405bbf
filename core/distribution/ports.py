"""The platform port: one client per platform for connecting accounts (OAuth 2.0) and publishing.

Core's publishing flow (`core.distribution.publishing`) knows only this interface; each platform module
(`core.distribution.platforms.*`) speaks its documented HTTP API against a base URL from settings, so tests
run the same client against local servers that speak the same wire format.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from core.common import redaction
from core.distribution.platforms.names import Platform


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scopes: list[str] = field(default_factory=list)
    # Further accounts the same sign-in reached, each with a token of its own (a person's other Facebook
    # Pages): one connection each.
    also: tuple[ManagedAccount, ...] = ()

    def __post_init__(self) -> None:
        redaction.register(self.access_token, self.refresh_token)  # from a platform's answer: never logged


@dataclass(frozen=True)
class Account:
    """Who a token acts for on the platform."""

    platform_user_id: str
    username: str | None
    kind: str = "member"  # member | organization


@dataclass(frozen=True)
class ManagedAccount:
    account: Account
    tokens: TokenSet


@dataclass(frozen=True)
class Credentials:
    access_token: str
    platform_user_id: str
    account_kind: str = "member"


@dataclass(frozen=True)
class PostContent:
    text: str
    media: Path | None = None  # the file, on this machine (upload-style APIs: LinkedIn, X, YouTube)
    media_kind: str | None = None  # image | video
    # A signed, expiring link to the same file that the platform fetches itself (Instagram, TikTok pull).
    media_url: str | None = None
    title: str | None = None
    tags: tuple[str, ...] = ()  # without '#': YouTube's tags; others carry hashtags in the text
    reply_to: str | None = None  # a thread's previous post
    # An earlier attempt's request still in flight on the platform (`OutcomeUnknown.handle`), for find_post.
    pending: str | None = None

    @property
    def marker(self) -> str:
        """Identifies this post among the account's recent posts: the platform has no idempotency key, so
        after an unknown outcome Recast looks for a recent post whose text hashes to the same marker."""
        return text_marker(self.text)


def text_marker(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class PublishedPost:
    post_id: str
    url: str | None


class PlatformClient(Protocol):
    platform: Platform
    uses_pkce: bool
    scopes: tuple[str, ...]

    def authorize_url(self, *, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        """Where the owner signs in and grants Recast the scopes."""
        ...

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet: ...

    async def account(self, access_token: str) -> Account: ...

    async def refresh(self, refresh_token: str) -> TokenSet:
        """New tokens; raises `TokenRevoked` when the platform refuses the refresh token."""
        ...

    async def revoke(self, access_token: str) -> bool:
        """Revoke where the platform allows it; False when it has no revoke endpoint."""
        ...

    async def publish(self, credentials: Credentials, content: PostContent) -> PublishedPost:
        """Create the post. Raises a `PlatformError` subclass: `OutcomeUnknown` when the request was sent and
        no answer came back (the post may exist)."""
        ...

    async def find_post(self, credentials: Credentials, content: PostContent) -> PublishedPost | None:
        """The account's recent post carrying `content.marker`, if the platform shows one."""
        ...

    def post_url(self, post_id: str) -> str | None: ...


@dataclass(frozen=True)
class PostInsights:
    """One post's figures as the platform reports them now (cumulative; None: the platform doesn't say)."""

    views: int | None = None
    impressions: int | None = None
    reach: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    clicks: int | None = None
    watch_time_s: int | None = None
    completion_rate: float | None = None  # percent


@runtime_checkable
class InsightsClient(Protocol):
    """A platform client that can read its posts' figures (analytics collection uses it where present)."""

    async def insights(self, credentials: Credentials, post_ids: list[str]) -> dict[str, PostInsights]:
        """Figures for the account's posts by id; a post the platform no longer has is left out."""
        ...


@runtime_checkable
class ManagedAccounts(Protocol):
    """A platform client whose sign-in also lets the person post as accounts they manage (LinkedIn Pages):
    connecting stores one connection for each, sharing the person's tokens."""

    async def managed_accounts(self, access_token: str) -> list[Account]: ...
