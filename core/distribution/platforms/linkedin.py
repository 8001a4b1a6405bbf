"""LinkedIn: Sign In with LinkedIn (OpenID Connect) for the member, and the versioned Posts API.

Posts go to `POST {api}/rest/posts` with the `LinkedIn-Version` header (a setting: LinkedIn retires each
monthly version after about a year and then answers 426, which Recast reports to the operator) and
`X-Restli-Protocol-Version: 2.0.0`; the new post's URN comes back in `x-restli-id`. Images and videos go
through the initialize-upload flow first (`/rest/images`, `/rest/videos`), and the post references the URN.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from yarl import URL

from core.common.clock import utcnow
from core.distribution.errors import ContentRejected, NotFound, TokenRevoked
from core.distribution.platforms.http import call, json_object, unreadable
from core.distribution.platforms.names import Platform
from core.distribution.ports import (
    Account,
    Credentials,
    PostContent,
    PostInsights,
    PublishedPost,
    TokenSet,
    text_marker,
)

LABEL = "LinkedIn"


class LinkedInClient:
    platform = Platform.LINKEDIN
    uses_pkce = False
    scopes: tuple[str, ...] = ("openid", "profile", "w_member_social", "r_member_postAnalytics")

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_base: str = "https://api.linkedin.com",
        oauth_base: str = "https://www.linkedin.com/oauth/v2",
        version: str = "202611",
        timeout_s: float = 30.0,
        organizations: bool = False,
    ) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(10.0, timeout_s))
        if organizations:  # posting as a Page needs these, granted only to apps with Community Management
            self.scopes = (*self.scopes, "w_organization_social", "r_organization_admin")
        self.organizations = organizations
        self.client_id, self._secret = client_id, client_secret
        self.api_base, self.oauth_base = api_base.rstrip("/"), oauth_base.rstrip("/")
        self.version = version

    # ------------------------------------------------------------ OAuth

    def authorize_url(self, *, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": " ".join(self.scopes),
        }
        return f"{self.oauth_base}/authorization?{urlencode(query, quote_via=quote)}"

    async def _token(self, form: dict[str, str]) -> TokenSet:
        form = {**form, "client_id": self.client_id, "client_secret": self._secret}
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            try:
                _, _, body = await call(session, "POST", f"{self.oauth_base}/accessToken", label=LABEL, data=form)
            except ContentRejected as exc:  # 400 invalid_grant: the code or refresh token is no good
                raise TokenRevoked(detail=str(exc)) from exc
        data = json_object(body, label=LABEL)
        try:
            access, expires_in = data["access_token"], data.get("expires_in")
            if not (isinstance(access, str) and access):
                raise TypeError("access_token")
            expires_at = utcnow() + timedelta(seconds=int(expires_in)) if expires_in else None
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise unreadable(LABEL, "the token answer's access_token/expires_in", data) from exc
        refresh = data.get("refresh_token")
        return TokenSet(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            expires_at=expires_at,
            scopes=[s for s in str(data.get("scope", "")).replace(",", " ").split() if s],
        )

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        return await self._token({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def revoke(self, access_token: str) -> bool:
        form = {"token": access_token, "client_id": self.client_id, "client_secret": self._secret}
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            await call(session, "POST", f"{self.oauth_base}/revoke", label=LABEL, data=form)
        return True

    async def account(self, access_token: str) -> Account:
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            _, _, body = await call(
                session, "GET", f"{self.api_base}/v2/userinfo", label=LABEL, headers=_bearer(access_token)
            )
        data = json_object(body, label=LABEL)
        if not data.get("sub") or isinstance(data["sub"], dict | list):
            raise unreadable(LABEL, "userinfo's sub", data)
        name = data.get("name")
        return Account(
            platform_user_id=str(data["sub"]), username=name if isinstance(name, str) else None, kind="member"
        )

    async def managed_accounts(self, access_token: str) -> list[Account]:
        """The LinkedIn Pages the member administers (`organizationAcls`, approved ADMINISTRATOR roles), with
        their names; none unless the server asks for the organization scopes."""
        if not self.organizations:
            return []
        headers = self._headers(access_token)
        url = f"{self.api_base}/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED"
        found: list[Account] = []
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            _, _, body = await call(session, "GET", url, label=LABEL, headers=headers)
            for element in json.loads(body).get("elements", []):
                org_id = str(element.get("organization", "")).rsplit(":", 1)[-1]
                if not org_id:
                    continue
                _, _, page = await call(
                    session, "GET", f"{self.api_base}/rest/organizations/{org_id}", label=LABEL, headers=headers
                )
                name = json.loads(page).get("localizedName")
                found.append(Account(platform_user_id=org_id, username=name, kind="organization"))
        return found

    # ------------------------------------------------------------ posts

    def _headers(self, token: str) -> dict[str, str]:
        return {**_bearer(token), "LinkedIn-Version": self.version, "X-Restli-Protocol-Version": "2.0.0"}

    async def publish(self, credentials: Credentials, content: PostContent) -> PublishedPost:
        author = _author(credentials)
        headers = self._headers(credentials.access_token)
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            body: dict[str, Any] = {
                "author": author,
                "commentary": commentary(content.text),
                "visibility": "PUBLIC",
                "distribution": {
                    "feedDistribution": "MAIN_FEED",
                    "targetEntities": [],
                    "thirdPartyDistributionChannels": [],
                },
                "lifecycleState": "PUBLISHED",
                "isReshareDisabledByAuthor": False,
            }
            if content.media is not None:
                media_urn = await self._upload(session, headers, author, content.media, content.media_kind or "image")
                body["content"] = {"media": {"id": media_urn, **({"title": content.title} if content.title else {})}}
            _, answer_headers, _ = await call(
                session, "POST", f"{self.api_base}/rest/posts", label=LABEL, creates=True, headers=headers, json=body
            )
        urn = answer_headers.get("x-restli-id") or answer_headers.get("X-RestLi-Id") or ""
        if not urn:
            raise ContentRejected(detail="LinkedIn created a post without returning its id")
        return PublishedPost(urn, post_url(urn))

    def post_url(self, post_id: str) -> str | None:
        return post_url(post_id)

    async def insights(self, credentials: Credentials, post_ids: list[str]) -> dict[str, PostInsights]:
        """A member's post figures from the Member Post Analytics API (`memberCreatorPostAnalytics`, one
        metric a call, lifetime totals). A post LinkedIn no longer has (404) is left out."""
        headers = self._headers(credentials.access_token)
        found: dict[str, PostInsights] = {}
        if credentials.account_kind == "organization":
            return found  # a Page's figures are organizationalEntityShareStatistics: not collected yet
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            for urn in post_ids:
                kind = "ugc" if ":ugcPost:" in urn else "share"
                entity = f"({kind}:{quote(urn, safe='')})"
                figures: dict[str, int] = {}
                try:
                    for query, name in _METRICS.items():
                        url = (
                            f"{self.api_base}/rest/memberCreatorPostAnalytics?q=entity&entity={entity}"
                            f"&queryType={query}&aggregation=TOTAL"
                        )
                        _, _, body = await call(session, "GET", URL(url, encoded=True), label=LABEL, headers=headers)
                        figures[name] = sum(int(e.get("count", 0)) for e in json.loads(body).get("elements", []))
                except NotFound:
                    continue
                found[urn] = PostInsights(**figures)
        return found

    async def find_post(self, credentials: Credentials, content: PostContent) -> PublishedPost | None:
        """The author's recent posts (finder `q=author`), matched on the commentary's marker."""
        author = quote(_author(credentials), safe="")
        url = f"{self.api_base}/rest/posts?q=author&author={author}&count=20&sortBy=LAST_MODIFIED"
        headers = {**self._headers(credentials.access_token), "X-RestLi-Method": "FINDER"}
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            _, _, body = await call(session, "GET", url, label=LABEL, headers=headers)
        wanted = text_marker(commentary(content.text))
        for element in json.loads(body).get("elements", []):
            if text_marker(str(element.get("commentary", ""))) == wanted:
                urn = str(element["id"])
                return PublishedPost(urn, post_url(urn))
        return None

    async def _upload(
        self, session: aiohttp.ClientSession, headers: dict[str, str], owner: str, path: Path, kind: str
    ) -> str:
        data = path.read_bytes()
        if kind == "video":
            init = {
                "initializeUploadRequest": {
                    "owner": owner,
                    "fileSizeBytes": len(data),
                    "uploadCaptions": False,
                    "uploadThumbnail": False,
                }
            }
            _, _, body = await call(
                session,
                "POST",
                f"{self.api_base}/rest/videos?action=initializeUpload",
                label=LABEL,
                headers=headers,
                json=init,
            )
            value = json.loads(body)["value"]
            etags = []
            for part in value["uploadInstructions"]:
                chunk = data[int(part["firstByte"]) : int(part["lastByte"]) + 1]
                _, part_headers, _ = await call(session, "PUT", part["uploadUrl"], label=LABEL, data=chunk)
                etags.append(part_headers.get("ETag", "").strip('"'))
            finalize = {
                "finalizeUploadRequest": {
                    "video": value["video"],
                    "uploadToken": value.get("uploadToken", ""),
                    "uploadedPartIds": etags,
                }
            }
            await call(
                session,
                "POST",
                f"{self.api_base}/rest/videos?action=finalizeUpload",
                label=LABEL,
                headers=headers,
                json=finalize,
            )
            return str(value["video"])
        init = {"initializeUploadRequest": {"owner": owner}}
        _, _, body = await call(
            session,
            "POST",
            f"{self.api_base}/rest/images?action=initializeUpload",
            label=LABEL,
            headers=headers,
            json=init,
        )
        value = json.loads(body)["value"]
        await call(
            session,
            "PUT",
            value["uploadUrl"],
            label=LABEL,
            data=data,
            headers=_bearer(headers["Authorization"].split()[-1]),
        )
        return str(value["image"])


# queryType -> PostInsights field (LinkedIn's member post metrics).
_METRICS = {
    "IMPRESSION": "impressions",
    "MEMBERS_REACHED": "reach",
    "REACTION": "likes",
    "COMMENT": "comments",
    "RESHARE": "shares",
}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _author(credentials: Credentials) -> str:
    kind = "organization" if credentials.account_kind == "organization" else "person"
    return f"urn:li:{kind}:{credentials.platform_user_id}"


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


# LinkedIn's "little text" format reserves these characters: literal ones are backslash-escaped, and a
# hashtag is written as the hashtag template so it links like one typed in LinkedIn.
_RESERVED = "\\|{}@[]()<>#*_~"
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")


def commentary(text: str) -> str:
    def escape(part: str) -> str:
        return "".join("\\" + c if c in _RESERVED else c for c in part)

    out, last = [], 0
    for match in _HASHTAG.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append("{hashtag|\\#|" + escape(match.group(1)) + "}")
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)
