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
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from core.common import redaction
from core.common.clock import utcnow
from core.common.errors import RecastError
from core.distribution.errors import ContentRejected, TokenRevoked
from core.distribution.platforms.http import call, graph_error_for
from core.distribution.platforms.names import Platform, label
from core.distribution.ports import TokenSet


class CannotConnect(RecastError):
    """The sign-in worked but can't give Recast what it needs (a permission left out, no Page or linked
    Instagram account): the owner is told what to change, and nothing is stored."""

    user_message = "That account can't be connected as it is."


class MetaGraphClient:
    """The OAuth half of the port and the Graph plumbing; subclasses add account, publish and find_post."""

    platform: Platform
    uses_pkce = False
    scopes: tuple[str, ...] = ()
    # Revoked on disconnect: only the permissions no other Recast connection of the same person needs
    # (Instagram and Facebook share one Meta app, so `DELETE /me/permissions` would cut both).
    own_scopes: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        graph_base: str = "https://graph.facebook.com",
        oauth_base: str = "https://www.facebook.com",
        version: str = "v23.0",
        timeout_s: float = 30.0,
    ) -> None:
        self.app_id, self._secret = app_id, app_secret
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
    ) -> dict[str, Any]:
        """One Graph call with the token; the decoded JSON answer, or the mapped `PlatformError`."""
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
        data = json.loads(body) if body else {}
        return data if isinstance(data, dict) else {"data": data}

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
        data = json.loads(body)
        if not isinstance(data, dict) or not data.get("access_token"):
            raise TokenRevoked(detail=f"{self.label} token endpoint answered without a token")
        redaction.register(str(data["access_token"]))  # the short-lived one is never stored, still a secret
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
            permissions = await self.graph(session, "GET", "me/permissions", token)
        granted = [
            str(p.get("permission"))
            for p in permissions.get("data", [])
            if isinstance(p, dict) and p.get("status") == "granted"
        ]
        missing = [s for s in self.scopes if s not in granted]
        if missing:
            raise CannotConnect(
                f"{self.label} needs these permissions, which were not granted: {', '.join(missing)}. "
                "Use /connect again and leave them ticked."
            )
        expires_in = long.get("expires_in")
        return TokenSet(
            access_token=token,
            refresh_token=None,  # Meta has none (see the module docstring)
            expires_at=utcnow() + timedelta(seconds=int(expires_in)) if expires_in else None,
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
    me = await client.graph(session, "GET", "me", token, params={"fields": "id"})
    return str(me["id"])


def caption_of(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return value if isinstance(value, str) else ""
