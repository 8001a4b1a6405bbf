"""What every platform client does with HTTP answers: map them onto the publishing errors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from core.distribution.errors import (
    ContentRejected,
    NotFound,
    OutcomeUnknown,
    PlatformError,
    PlatformUnavailable,
    QuotaExhausted,
    RateLimited,
    TokenRevoked,
    VersionRetired,
)


def retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def daily_cap_reset(headers: Mapping[str, str]) -> datetime | None:
    """X answers a user's 24-hour posting cap with 429 and `x-user-limit-24hour-remaining: 0`, giving the
    window's end (epoch seconds) in `x-user-limit-24hour-reset`: that is a move, not a retry."""
    lower = {k.lower(): v for k, v in headers.items()}
    if lower.get("x-user-limit-24hour-remaining") != "0":
        return None
    try:
        return datetime.fromtimestamp(int(lower["x-user-limit-24hour-reset"]), UTC)
    except (KeyError, ValueError):
        return None


def error_for(status: int, body: str, headers: Mapping[str, str], *, label: str, creates: bool) -> PlatformError:
    """The error for a non-2xx answer. `creates`: the call creates something, so a 5xx leaves its outcome
    unknown (the platform may have acted before failing)."""
    detail = f"{label} answered {status}: {body[:300]}"
    simple: dict[int, PlatformError] = {
        401: TokenRevoked(detail=detail),
        426: VersionRetired(detail=detail),
        404: NotFound(f"{label} has no such post.", detail=detail),
        403: ContentRejected(f"{label} refused the post: the account lacks the permission.", detail=detail),
    }
    if status in simple:
        return simple[status]
    if status == 429:
        return _limited(headers, label=label, detail=detail)
    if status >= 500:
        return OutcomeUnknown(detail=detail) if creates else PlatformUnavailable(detail=detail)
    return ContentRejected(f"{label} rejected the post: {_reason(body)}", detail=detail)


def _limited(headers: Mapping[str, str], *, label: str, detail: str) -> PlatformError:
    if (until := daily_cap_reset(headers)) is not None:
        return QuotaExhausted(until, f"{label}'s daily posting limit for this account is used up.", detail=detail)
    return RateLimited(detail=detail, retry_after=retry_after(headers))


def _reason(body: str) -> str:
    text = " ".join(body.split())
    return (text[:160] + "…") if len(text) > 160 else (text or "no reason given")


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str | URL,
    *,
    label: str,
    creates: bool = False,
    **kwargs: Any,
) -> tuple[int, Mapping[str, str], bytes]:
    """One request; raises the mapped `PlatformError` for failures. A request that could not be sent is
    `PlatformUnavailable`; one sent without an answer is `OutcomeUnknown` when it creates something."""
    try:
        async with session.request(method, url, **kwargs) as response:
            body = await response.read()
            headers = CIMultiDict(response.headers)  # header names are case-insensitive (ETag / Etag)
            if response.status >= 400:
                raise error_for(response.status, body.decode(errors="replace"), headers, label=label, creates=creates)
            return response.status, headers, body
    except aiohttp.ClientConnectorError as exc:
        raise PlatformUnavailable(detail=f"{label} unreachable: {exc}") from exc
    except (TimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
        err = OutcomeUnknown if creates else PlatformUnavailable
        raise err(detail=f"{label}: no answer ({type(exc).__name__})") from exc
