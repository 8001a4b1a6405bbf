"""X: OAuth 2.0 with PKCE (confidential client, Basic auth at the token endpoint) and the v2 posts API.

A thread is one `POST /2/tweets` per post, each after the first with `reply.in_reply_to_tweet_id` (the
publisher drives the parts and records each id). X has no idempotency key, so after an unknown outcome
the publisher looks through the account's recent posts (`GET /2/users/:id/tweets`) for the same text.

Media goes up first through the v2 chunked upload (`POST /2/media/upload`: INIT, APPEND per chunk,
FINALIZE, then `GET ?command=STATUS` until processing succeeds) and the post carries its `media_ids`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import mimetypes
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from core.common.clock import utcnow
from core.distribution.errors import ContentRejected, PlatformUnavailable, TokenRevoked
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

LABEL = "X"
CHUNK_BYTES = 4 * 1024 * 1024  # APPEND takes up to 5 MB a chunk


class XClient:
    platform = Platform.X
    uses_pkce = True
    scopes: tuple[str, ...] = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_base: str = "https://api.x.com",
        authorize_base: str = "https://x.com/i/oauth2/authorize",
        timeout_s: float = 30.0,
        chunk_bytes: int = CHUNK_BYTES,
        processing_wait_s: float = 300.0,
    ) -> None:
        self.chunk_bytes, self.processing_wait_s = chunk_bytes, processing_wait_s
        self.client_id, self._secret = client_id, client_secret
        self.api_base, self.authorize_base = api_base.rstrip("/"), authorize_base
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(10.0, timeout_s))

    def _basic(self) -> dict[str, str]:
        raw = f"{quote(self.client_id)}:{quote(self._secret)}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def authorize_url(self, *, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(self.scopes),
            "state": state,
            "code_challenge": code_challenge or "",
            "code_challenge_method": "S256",
        }
        return f"{self.authorize_base}?{urlencode(query, quote_via=quote)}"

    async def _token(self, form: dict[str, str]) -> TokenSet:
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            try:
                _, _, body = await call(
                    session, "POST", f"{self.api_base}/2/oauth2/token", label=LABEL, data=form, headers=self._basic()
                )
            except ContentRejected as exc:  # invalid_grant: the code or the refresh token is no good
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
            scopes=str(data.get("scope", "")).split(),
        )

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return await self._token({**form, "code_verifier": code_verifier or "", "client_id": self.client_id})

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.client_id}
        )

    async def revoke(self, access_token: str) -> bool:
        form = {"token": access_token, "token_type_hint": "access_token", "client_id": self.client_id}
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            await call(
                session, "POST", f"{self.api_base}/2/oauth2/revoke", label=LABEL, data=form, headers=self._basic()
            )
        return True

    async def account(self, access_token: str) -> Account:
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            _, _, body = await call(
                session, "GET", f"{self.api_base}/2/users/me", label=LABEL, headers=_bearer(access_token)
            )
        data = json_object(body, label=LABEL).get("data")
        if not (isinstance(data, dict) and data.get("id") and data.get("username")):
            raise unreadable(LABEL, "users/me's data.id/username", data if isinstance(data, dict) else {})
        return Account(platform_user_id=str(data["id"]), username="@" + str(data["username"]), kind="member")

    async def publish(self, credentials: Credentials, content: PostContent) -> PublishedPost:
        body: dict[str, Any] = {"text": content.text}
        if content.reply_to:
            body["reply"] = {"in_reply_to_tweet_id": content.reply_to}
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            if content.media is not None:
                media_id = await self._upload(session, credentials, content.media, content.media_kind or "image")
                body["media"] = {"media_ids": [media_id]}
            _, _, answer = await call(
                session,
                "POST",
                f"{self.api_base}/2/tweets",
                label=LABEL,
                creates=True,
                headers=_bearer(credentials.access_token),
                json=body,
            )
        post_id = str(json.loads(answer)["data"]["id"])
        return PublishedPost(post_id, self.post_url(post_id))

    def post_url(self, post_id: str) -> str | None:
        return f"https://x.com/i/web/status/{post_id}"

    async def insights(self, credentials: Credentials, post_ids: list[str]) -> dict[str, PostInsights]:
        """Public metrics of up to 100 posts a call (`GET /2/tweets?ids=...`); deleted posts come back under
        `errors` and are left out."""
        found: dict[str, PostInsights] = {}
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            for start in range(0, len(post_ids), 100):
                ids = ",".join(post_ids[start : start + 100])
                url = f"{self.api_base}/2/tweets?ids={ids}&tweet.fields=public_metrics"
                _, _, body = await call(session, "GET", url, label=LABEL, headers=_bearer(credentials.access_token))
                for tweet in json.loads(body).get("data", []):
                    m = tweet.get("public_metrics") or {}
                    found[str(tweet["id"])] = PostInsights(
                        impressions=m.get("impression_count"),
                        likes=m.get("like_count"),
                        comments=m.get("reply_count"),
                        shares=(m.get("retweet_count") or 0) + (m.get("quote_count") or 0),
                        saves=m.get("bookmark_count"),
                    )
        return found

    async def find_post(self, credentials: Credentials, content: PostContent) -> PublishedPost | None:
        url = f"{self.api_base}/2/users/{credentials.platform_user_id}/tweets?max_results=20"
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            _, _, body = await call(session, "GET", url, label=LABEL, headers=_bearer(credentials.access_token))
        for tweet in json.loads(body).get("data", []):
            if text_marker(str(tweet.get("text", ""))) == content.marker:
                return PublishedPost(str(tweet["id"]), self.post_url(str(tweet["id"])))
        return None

    async def _upload(self, session: aiohttp.ClientSession, credentials: Credentials, path: Path, kind: str) -> str:
        """The chunked upload; returns the media id once X has processed the file. Nothing is posted yet, so
        every failure here is safe to retry as a whole."""
        url = f"{self.api_base}/2/media/upload"
        headers = _bearer(credentials.access_token)
        size = path.stat().st_size
        media_type = mimetypes.guess_type(path.name)[0] or ("video/mp4" if kind == "video" else "image/jpeg")
        init = aiohttp.FormData(
            {
                "command": "INIT",
                "media_type": media_type,
                "total_bytes": str(size),
                "media_category": "tweet_video" if kind == "video" else "tweet_image",
            }
        )
        _, _, answer = await call(session, "POST", url, label=LABEL, headers=headers, data=init)
        media_id = str(json.loads(answer)["data"]["id"])
        with path.open("rb") as file:
            for index, chunk in enumerate(iter(lambda: file.read(self.chunk_bytes), b"")):
                form = aiohttp.FormData({"command": "APPEND", "media_id": media_id, "segment_index": str(index)})
                form.add_field("media", chunk, filename="chunk", content_type="application/octet-stream")
                await call(session, "POST", url, label=LABEL, headers=headers, data=form)
        finalize = aiohttp.FormData({"command": "FINALIZE", "media_id": media_id})
        _, _, answer = await call(session, "POST", url, label=LABEL, headers=headers, data=finalize)
        info = json.loads(answer)["data"].get("processing_info")
        waited = 0.0
        while info and info.get("state") in ("pending", "in_progress"):
            if waited >= self.processing_wait_s:
                raise PlatformUnavailable(detail=f"X still processing media {media_id} after {waited:.0f}s")
            pause = float(info.get("check_after_secs", 1))
            await asyncio.sleep(pause)
            waited += pause
            status_url = f"{url}?command=STATUS&media_id={media_id}"
            _, _, answer = await call(session, "GET", status_url, label=LABEL, headers=headers)
            info = json.loads(answer)["data"].get("processing_info")
        if info and info.get("state") == "failed":
            error = info.get("error") or {}
            reason = error.get("message") or error.get("name") or "X could not process the media"
            raise ContentRejected(f"X rejected the media: {reason}.", detail=json.dumps(info))
        return media_id


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
