"""Meta's Graph API, shared by the Instagram and Facebook Pages clients: Facebook Login and signed calls.

Connecting is Facebook Login's authorization-code flow: the dialog at `{oauth}/{version}/dialog/oauth`,
the code exchanged at `GET {graph}/{version}/oauth/access_token` for a short-lived user token (hours), and
that exchanged at once (`grant_type=fb_exchange_token`) for a long-lived one (about 60 days). Meta issues
no refresh token to server-side apps and documents no server-side way to extend a long-lived token (an
expired one can't be exchanged; only its SDKs renew tokens, on the device): so `refresh` refuses, the
connection stores no refresh token, and `core.distribution.upkeep.warn_expiring` tells the owner days
before the token runs out ahead of a scheduled post.

Every call sends the token as a Bearer header with `appsecret_proof` (HMAC-SHA256 of the token under the
app secret), which Meta requires when the app has "Require App Secret" on, and which makes a leaked token
useless without the secret. Failures are mapped by `http.graph_error_for`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, NoReturn
from urllib.parse import quote, urlencode

import aiohttp

from core.common import redaction
from core.common.clock import utcnow
from core.distribution.errors import (
    CannotConnect,
    ContentRejected,
    NotFound,
    OutcomeUnknown,
    PermissionMissing,
    PlatformError,
    RateLimited,
    TokenRevoked,
    UnreadableAnswer,
)
from core.distribution.platforms.http import call, graph_error_for, json_object, unreadable
from core.distribution.platforms.names import Platform, label
from core.distribution.ports import TokenSet


class MetaGraphClient:
    """The OAuth half of the port and the Graph plumbing; subclasses add account, publish and find_post."""

    platform: Platform
    uses_pkce = False
    scopes: tuple[str, ...] = ()
    # Revoked on disconnect: only the permissions no other Recast connection of the same person needs
    # (Instagram and Facebook share one Meta app, so `DELETE /me/permissions` would cut both).
    own_scopes: tuple[str, ...] = ()
    # What analytics reads need beyond publishing: a connection whose granted scopes lack one of these is
    # not asked for figures (its owner is told to reconnect).
    insights_scopes: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        graph_base: str = "https://graph.facebook.com",
        oauth_base: str = "https://www.facebook.com",
        version: str = "v23.0",
        timeout_s: float = 30.0,
        usage_ceiling_percent: int = 80,
    ) -> None:
        self.app_id, self._secret = app_id, app_secret
        # Analytics reads stop once Meta's usage headers say this share of the app's or the account's
        # call budget is spent: the rest is publishing's (ANALYTICS_QUOTA_RESERVE_PERCENT).
        self.usage_ceiling_percent = usage_ceiling_percent
        self.graph_base, self.oauth_base = graph_base.rstrip("/"), oauth_base.rstrip("/")
        self.version = version
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(10.0, timeout_s))

    @property
    def label(self) -> str:
        return label(self.platform)

    def url(self, path: str) -> str:
        return f"{self.graph_base}/{self.version}/{path.lstrip('/')}"

    def proof(self, token: str) -> str:
        return hmac.new(self._secret.encode(), token.encode(), hashlib.sha256).hexdigest()

    def app_token(self) -> str:
        """The app's own access token (`<app-id>|<app-secret>`), for calls made as the app."""
        return f"{self.app_id}|{self._secret}"

    def session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=self.timeout)

    async def graph(
        self,
        session: aiohttp.ClientSession,
        method: str,
        path: str,
        token: str,
        *,
        params: dict[str, str] | None = None,
        form: dict[str, str] | aiohttp.FormData | None = None,
        creates: bool = False,
        strict: bool = False,
    ) -> dict[str, Any]:
        """One Graph call with the token; the decoded JSON answer, or the mapped `PlatformError`. `strict`: an
        answer that is not a JSON object is `UnreadableAnswer` (else a list comes back as `{"data": ...}`)."""
        query = {**(params or {}), "appsecret_proof": self.proof(token)}
        _, _, body = await call(
            session,
            method,
            self.url(path),
            label=self.label,
            creates=creates,
            errors=graph_error_for,
            params=query,
            data=form,
            headers={"Authorization": f"Bearer {token}"},
        )
        try:
            data = json.loads(body) if body else {}
        except ValueError:  # a proxy's page, garbage: what it said stays out (a token may be in it)
            detail = f"{self.label} answered 2xx to {path} with no JSON ({len(body)} bytes)"
            raise OutcomeUnknown(detail=detail) if creates else UnreadableAnswer(detail=detail) from None
        if strict and not isinstance(data, dict):
            raise UnreadableAnswer(detail=f"{self.label} answered 2xx to {path} with no JSON object")
        return data if isinstance(data, dict) else {"data": data}

    async def nodes(
        self, session: aiohttp.ClientSession, token: str, ids: list[str], fields: str
    ) -> dict[str, dict[str, Any]]:
        """Several nodes in one call (`GET /?ids=a,b&fields=...`, at most `IDS_PER_CALL`), for analytics reads.
        Meta refuses the whole call when one id is gone (code 803): then each is asked alone and the gone
        ones are left out. Raises `RateLimited` when the usage headers pass `usage_ceiling_percent`, so the
        part of the budget kept for publishing is not spent on figures."""
        try:
            return await self._nodes(session, token, ids, fields)
        except NotFound:
            if len(ids) == 1:
                return {}
        found: dict[str, dict[str, Any]] = {}
        for node in ids:
            try:
                found |= await self._nodes(session, token, [node], fields)
            except NotFound:
                continue
        return found

    async def _nodes(
        self, session: aiohttp.ClientSession, token: str, ids: list[str], fields: str
    ) -> dict[str, dict[str, Any]]:
        query = {"ids": ",".join(ids), "fields": fields, "appsecret_proof": self.proof(token)}
        _, headers, body = await call(
            session,
            "GET",
            self.url(""),
            label=self.label,
            errors=_gone_or_graph_error,
            params=query,
            headers={"Authorization": f"Bearer {token}"},
        )
        percent = usage_percent(headers)
        if percent is not None and percent >= self.usage_ceiling_percent:
            raise RateLimited(
                detail=f"{self.label} usage at {percent}% of the call budget: the rest is kept for publishing",
                retry_after=USAGE_WAIT_S,
            )
        data = json.loads(body) if body else {}
        return {str(k): v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}

    # ------------------------------------------------------------ OAuth

    def authorize_url(self, *, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        query = {
            "client_id": self.app_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(self.scopes),
        }
        return f"{self.oauth_base}/{self.version}/dialog/oauth?{urlencode(query, quote_via=quote)}"

    async def _token(self, session: aiohttp.ClientSession, params: dict[str, str]) -> dict[str, Any]:
        params = {**params, "client_id": self.app_id, "client_secret": self._secret}
        try:
            _, _, body = await call(
                session,
                "GET",
                self.url("oauth/access_token"),
                label=self.label,
                errors=graph_error_for,
                params=params,
            )
        except ContentRejected as exc:  # code 100: the code was used, expired or is for another redirect URI
            raise TokenRevoked(detail=str(exc)) from exc
        data = json_object(body, label=self.label)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:  # a 2xx without a token: not an answer Meta documents
            raise unreadable(self.label, "the token answer's access_token", data)
        redaction.register(token)  # the short-lived one is never stored, still a secret
        return data

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        """The code, then the short-lived token, exchanged for a long-lived one; the granted permissions
        are read back, and a sign-in that left out one Recast needs is refused with which."""
        async with self.session() as session:
            short = await self._token(session, {"code": code, "redirect_uri": redirect_uri})
            long = await self._token(
                session, {"grant_type": "fb_exchange_token", "fb_exchange_token": str(short["access_token"])}
            )
            token = str(long["access_token"])
            permissions = await self.graph(session, "GET", "me/permissions", token, strict=True)
        listed = permissions.get("data")
        if not isinstance(listed, list):
            raise unreadable(self.label, "me/permissions' data", permissions)
        granted = [str(p.get("permission")) for p in listed if isinstance(p, dict) and p.get("status") == "granted"]
        missing = [s for s in self.scopes if s not in granted]
        if missing:
            raise CannotConnect(
                f"{self.label} needs these permissions, which were not granted: {', '.join(missing)}. "
                "Use /connect again and leave them ticked."
            )
        try:
            expires_in = long.get("expires_in")
            expires_at = utcnow() + timedelta(seconds=int(expires_in)) if expires_in else None
        except (TypeError, ValueError, OverflowError) as exc:
            raise unreadable(self.label, "the long-lived token's expires_in", long) from exc
        return TokenSet(
            access_token=token,
            refresh_token=None,  # Meta has none (see the module docstring)
            expires_at=expires_at,
            scopes=granted,
        )

    async def refresh(self, refresh_token: str) -> TokenSet:
        """Meta issues no refresh token and documents no server-side renewal of a long-lived user token:
        the owner has to sign in again, which is what `TokenRevoked` leads to."""
        raise TokenRevoked(
            f"{self.label} access can't be renewed without the owner: connect it again with /connect.",
            detail="Meta long-lived user tokens have no refresh token",
        )

    async def revoke(self, access_token: str) -> bool:
        """`DELETE /me/permissions/<name>` for this connection's own permissions."""
        async with self.session() as session:
            for permission in self.own_scopes:
                await self.graph(session, "DELETE", f"me/permissions/{permission}", access_token)
        return True


def account_id(node: str, person: str) -> str:
    """A connection's `platform_user_id`: the Instagram account or Page it publishes to, and the app-scoped id
    of the person whose token it holds, `<node>@<person>`. Meta's deauthorize callback names only the person,
    so `platform_events` matches connections by the part after the `@`."""
    return f"{node}@{person}"


def node_of(platform_user_id: str) -> str:
    """The Instagram account or Page id of a connection's `platform_user_id`."""
    return platform_user_id.split("@", 1)[0]


async def person_of(client: MetaGraphClient, session: aiohttp.ClientSession, token: str) -> str:
    me = await client.graph(session, "GET", "me", token, params={"fields": "id"}, strict=True)
    return graph_id(me, "id") or _no_id(client, "me's id", me)


def graph_id(node: dict[str, Any], key: str) -> str | None:
    """A Graph id under `key` (a string of digits, or a number), else None."""
    value = node.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value) or None


def _no_id(client: MetaGraphClient, what: str, node: dict[str, Any]) -> NoReturn:
    raise unreadable(client.label, what, node)


def caption_of(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return value if isinstance(value, str) else ""


IDS_PER_CALL = 50  # Meta's limit on ids in one multiple-id read
USAGE_WAIT_S = 3600.0  # Meta's app and Business Use Case budgets are rolling one-hour windows
GRAPH_GONE = 803  # "Some of the aliases you requested do not exist"


def _gone_or_graph_error(
    status: int, body: str, headers: Mapping[str, str], *, label: str, creates: bool
) -> PlatformError:
    """`graph_error_for`, except that an id the Graph API doesn't have (803, or 100 with subcode 33) is
    `NotFound`: the post was deleted, and collection stops asking for it; and a permission error (code 10 or
    the 200 family, e.g. insights without `instagram_manage_insights` / `read_insights`) is
    `PermissionMissing`: the owner has to reconnect, and collection stops asking until then."""
    try:
        error = json.loads(body).get("error") or {}
        code, subcode = int(error.get("code") or 0), int(error.get("error_subcode") or 0)
    except (ValueError, AttributeError, TypeError):
        code = subcode = 0
    if code == GRAPH_GONE or (code == 100 and subcode == 33):
        return NotFound(detail=f"{label} answered {status}: {body[:200]}")
    if code == 10 or 200 <= code < 300:
        return PermissionMissing(detail=f"{label} answered {status}: {body[:200]}")
    return graph_error_for(status, body, headers, label=label, creates=creates)


def usage_percent(headers: Mapping[str, str]) -> int | None:
    """The highest share (percent) of a call budget used, over `X-App-Usage` (the app's) and
    `X-Business-Use-Case-Usage` (each business object's: Pages, Instagram accounts): `call_count`,
    `total_time` and `total_cputime` each say a percent of their limit. None: no usage header."""
    seen: list[int] = []
    for name in ("X-App-Usage", "X-Business-Use-Case-Usage"):
        raw = headers.get(name) or headers.get(name.lower())
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        entries: list[Any] = (
            [usage]
            if name == "X-App-Usage"
            else [e for v in (usage.values() if isinstance(usage, dict) else []) if isinstance(v, list) for e in v]
        )
        for entry in entries:
            if isinstance(entry, dict):
                for key in ("call_count", "total_time", "total_cputime"):
                    try:
                        seen.append(int(entry.get(key) or 0))
                    except (TypeError, ValueError):
                        continue
    return max(seen) if seen else None


def metric_values(node: dict[str, Any]) -> dict[str, int]:
    """A node's `insights` edge as metric name -> lifetime value (a metric Meta has no data for yet is
    absent: the figure stays unknown, never 0)."""
    found: dict[str, int] = {}
    edge = node.get("insights")
    for metric in (edge.get("data") or []) if isinstance(edge, dict) else []:
        values = metric.get("values") if isinstance(metric, dict) else None
        value = (
            values[-1].get("value") if isinstance(values, list) and values and isinstance(values[-1], dict) else None
        )
        if isinstance(value, int | float) and not isinstance(value, bool):
            found[str(metric.get("name"))] = int(value)
    return found


def summary_count(node: dict[str, Any], edge: str) -> int | None:
    """`<edge>.summary(total_count)`'s count (reactions, comments), None when the edge isn't there."""
    value = node.get(edge)
    summary = value.get("summary") if isinstance(value, dict) else None
    count = summary.get("total_count") if isinstance(summary, dict) else None
    return int(count) if isinstance(count, int) else None
