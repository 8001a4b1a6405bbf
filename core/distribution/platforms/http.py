"""What every platform client does with HTTP answers: map them onto the publishing errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from core.common.clock import utcnow
from core.distribution.errors import (
    ContentRejected,
    NotFound,
    OutcomeUnknown,
    PlatformError,
    PlatformUnavailable,
    QuotaExhausted,
    RateLimited,
    TokenRevoked,
    UnreadableAnswer,
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
    return RateLimited(detail=detail, retry_after=retry_after(headers) or window_reset(headers))


def window_reset(headers: Mapping[str, str]) -> float | None:
    """Seconds until X's rate-limit window ends: X answers a 429 with `x-rate-limit-reset` (epoch seconds)
    rather than `Retry-After`."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        reset = datetime.fromtimestamp(int(lower["x-rate-limit-reset"]), UTC)
    except (KeyError, ValueError, OverflowError):
        return None
    return max(0.0, (reset - utcnow()).total_seconds())


def _reason(body: str) -> str:
    text = " ".join(body.split())
    return (text[:160] + "…") if len(text) > 160 else (text or "no reason given")


def json_object(body: bytes, *, label: str) -> dict[str, Any]:
    """A 2xx answer's JSON object; `UnreadableAnswer` when the body is not one (a proxy's HTML page, garbage)."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):  # what it said stays out of the detail: a token may be in it
        raise UnreadableAnswer(detail=f"{label} answered 2xx with no JSON object ({len(body)} bytes)")
    return data


def unreadable(label: str, what: str, data: dict[str, Any]) -> UnreadableAnswer:
    """The error for a JSON answer without the field `what` names (or with one of the wrong type). The detail
    names the answer's keys only: its values may be tokens."""
    return UnreadableAnswer(detail=f"{label}: {what} missing or malformed (keys: {', '.join(sorted(data)[:12])})")


def oauth_tokens(label: str, data: dict[str, Any]) -> tuple[str, str | None, datetime | None]:
    """(access token, refresh token or None, expiry or None) from an OAuth 2.0 token answer (RFC 6749 §5.1),
    each checked for its type; `UnreadableAnswer` when the answer does not hold them as documented."""
    try:
        access, expires_in, refresh = data["access_token"], data.get("expires_in"), data.get("refresh_token")
        if not (isinstance(access, str) and access) or not isinstance(refresh, str | None):
            raise TypeError("access_token/refresh_token")
        expires_at = utcnow() + timedelta(seconds=int(expires_in)) if expires_in else None
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise unreadable(label, "the token answer's access_token/refresh_token/expires_in", data) from exc
    return access, refresh, expires_at


ErrorMapper = Callable[..., PlatformError]


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str | URL,
    *,
    label: str,
    creates: bool = False,
    errors: ErrorMapper = error_for,
    **kwargs: Any,
) -> tuple[int, Mapping[str, str], bytes]:
    """One request; raises the mapped `PlatformError` for failures (`errors`: the platform's mapping, with
    `error_for`'s signature). A request that could not be sent is `PlatformUnavailable`; one sent without an
    answer is `OutcomeUnknown` when it creates something."""
    try:
        async with session.request(method, url, **kwargs) as response:
            body = await response.read()
            headers = CIMultiDict(response.headers)  # header names are case-insensitive (ETag / Etag)
            if response.status >= 400:
                raise errors(response.status, body.decode(errors="replace"), headers, label=label, creates=creates)
            return response.status, headers, body
    except aiohttp.ClientConnectorError as exc:
        raise PlatformUnavailable(detail=f"{label} unreachable: {exc}") from exc
    except (TimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
        err = OutcomeUnknown if creates else PlatformUnavailable
        raise err(detail=f"{label}: no answer ({type(exc).__name__})") from exc


# Meta's Graph API (Instagram, Facebook Pages) answers most failures with HTTP 400 and the reason in
# `{"error": {"message", "type", "code", "error_subcode", "is_transient", "error_user_msg", "fbtrace_id"}}`,
# so the status alone says little: the code does.
GRAPH_TOKEN_INVALID = 190  # expired, revoked, password changed, app removed (subcodes 458-467)
GRAPH_RATE_LIMITS = frozenset({4, 17, 32, 613, 80001, 80002, 80005, 80006})  # app, user, page, custom, BUC
GRAPH_TRANSIENT = frozenset({1, 2, -1, -2})  # unknown error, service unavailable, IG server/download errors
IG_PUBLISHING_LIMIT = (9, 2207042)  # "You reached maximum number of posts that is allowed to be published"
GRAPH_QUOTA_WINDOW = timedelta(hours=24)


def graph_error_for(status: int, body: str, headers: Mapping[str, str], *, label: str, creates: bool) -> PlatformError:
    """`error_for` for Meta's Graph API: the `error` envelope's code decides; without one, the status does."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        return error_for(status, body, headers, label=label, creates=creates)
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    message = str(error.get("error_user_msg") or error.get("message") or "no reason given")
    detail = (
        f"{label} answered {status}: code {code}/{subcode} {error.get('message')} (fbtrace {error.get('fbtrace_id')})"
    )
    limited = _graph_limit(status, code, subcode, headers, detail)
    if limited is not None:
        return limited
    if status >= 500 or code in GRAPH_TRANSIENT or error.get("is_transient") is True:
        return OutcomeUnknown(detail=detail) if creates else PlatformUnavailable(detail=detail)
    if code == 10 or 200 <= code < 300:  # permission errors
        return ContentRejected(
            f"{label} refused the post: the account lacks the permission ({message}).", detail=detail
        )
    return ContentRejected(f"{label} rejected the post: {_reason(message)}", detail=detail)


def _graph_limit(status: int, code: int, subcode: int, headers: Mapping[str, str], detail: str) -> PlatformError | None:
    """A revoked token, a used-up publishing allowance or a rate limit, else None."""
    if code == GRAPH_TOKEN_INVALID or status == 401:
        return TokenRevoked(detail=detail)
    if (code, subcode) == IG_PUBLISHING_LIMIT:
        # Met at media_publish (the client checks content_publishing_limit before creating, and computes a
        # closer time there). Here only the window's length is known: the slot is certainly free after it.
        return QuotaExhausted(until=utcnow() + GRAPH_QUOTA_WINDOW, detail=detail)
    if code in GRAPH_RATE_LIMITS or code == 9 or status == 429:
        return RateLimited(detail=detail, retry_after=graph_retry_after(headers))
    return None


def graph_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds until Meta lifts a throttle: `Retry-After` if sent, else the Business Use Case header's
    `estimated_time_to_regain_access` (minutes), the longest over the listed businesses."""
    if (after := retry_after(headers)) is not None:
        return after
    raw = headers.get("X-Business-Use-Case-Usage") or headers.get("x-business-use-case-usage")
    try:
        usage = json.loads(raw) if raw else {}
        minutes = [
            float(entry.get("estimated_time_to_regain_access") or 0)
            for entries in usage.values()
            for entry in entries
            if isinstance(entry, dict)
        ]
    except (ValueError, AttributeError, TypeError):
        return None
    return max(minutes) * 60.0 if minutes and max(minutes) > 0 else None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
