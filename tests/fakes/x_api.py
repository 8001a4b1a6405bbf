"""A fake X API v2 over HTTP: OAuth 2.0 with PKCE (S256 checked), users/me, create post (with replies) and
the user's recent posts, the v2 chunked media upload (INIT / APPEND / FINALIZE / STATUS, processing for a
few polls). Faults as for the fake LinkedIn: `faults[n]` makes the n-th create meet a status or a lost
answer, after creating the post or before; `token_faults` for the token endpoint. `daily_cap` posts per user,
then 429 with X's 24-hour headers."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from yarl import URL


@dataclass
class XFault:
    status: int | None = None
    hang_s: float = 0.0
    after_create: bool = False
    retry_after: int | None = None


@dataclass
class FakeX:
    client_id: str = "x-client"
    client_secret: str = "x-secret"
    user_id: str = "1600000000000000001"
    username: str = "asha_builds"
    tweets: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[int, XFault] = field(default_factory=dict)  # by the create call's number (1-based)
    creates: int = 0
    daily_cap: int = 0  # 0: none
    cap_reset_epoch: int = 0
    media: dict[str, dict[str, Any]] = field(default_factory=dict)  # media id -> {type, total, chunks, state}
    processing_polls: int = 2  # STATUS answers "in_progress" this many times before "succeeded"
    reject_media: str | None = None  # FINALIZE's processing then fails with this message
    metrics: dict[str, dict[str, int]] = field(default_factory=dict)  # tweet id -> public_metrics (tests set)
    lookups: int = 0
    # The lookups' 15-minute window is spent until this epoch second: 429 with X's rate-limit headers.
    lookup_window_reset: int | None = None
    # What the next token requests meet, one each: a status or a hang (`XFault`), or a 200 with this body.
    token_faults: list[XFault | str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1_860_000_000_000_000_000)
        self.codes: dict[str, str] = {}  # code -> code_challenge
        self.tokens: set[str] = set()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> FakeX:
        app = web.Application()
        app.router.add_get("/i/oauth2/authorize", self._authorize)
        app.router.add_post("/2/oauth2/token", self._token)
        app.router.add_post("/2/oauth2/revoke", self._revoke)
        app.router.add_get("/2/users/me", self._me)
        app.router.add_post("/2/tweets", self._create)
        app.router.add_get("/2/users/{id}/tweets", self._timeline)
        app.router.add_get("/2/tweets", self._lookup)
        app.router.add_post("/2/media/upload", self._media_command)
        app.router.add_get("/2/media/upload", self._media_status)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return web.Response(status=400, text="PKCE required")
        code = secrets.token_urlsafe(12)
        self.codes[code] = q["code_challenge"]
        raise web.HTTPFound(str(URL(q["redirect_uri"]).with_query({"code": code, "state": q["state"]})))

    async def _token(self, request: web.Request) -> web.Response:
        if self.token_faults:
            fault = self.token_faults.pop(0)
            if isinstance(fault, str):
                return web.Response(status=200, text=fault, content_type="application/json")
            return await _fail(fault)
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {basic}":
            return web.json_response({"error": "unauthorized_client"}, status=401)
        form = await request.post()
        if form.get("grant_type") == "authorization_code":
            challenge = self.codes.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier", ""))
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if challenge is None or digest != challenge:
                return web.json_response({"error": "invalid_request", "error_description": "bad code"}, status=400)
        token = "x-at-" + secrets.token_urlsafe(10)
        self.tokens.add(token)
        return web.json_response(
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": token,
                "scope": "tweet.read tweet.write users.read media.write offline.access",
                "refresh_token": "x-rt-" + secrets.token_urlsafe(10),
            }
        )

    async def _revoke(self, request: web.Request) -> web.Response:
        self.tokens.discard(str((await request.post()).get("token")))
        return web.json_response({"revoked": True})

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "").removeprefix("Bearer ") in self.tokens

    async def _me(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        return web.json_response({"data": {"id": self.user_id, "name": "Asha", "username": self.username}})

    async def _create(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        if self.daily_cap and len(self.tweets) >= self.daily_cap:
            return web.json_response(
                {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
                status=429,
                headers={
                    "x-user-limit-24hour-limit": str(self.daily_cap),
                    "x-user-limit-24hour-remaining": "0",
                    "x-user-limit-24hour-reset": str(self.cap_reset_epoch),
                },
            )
        self.creates += 1
        fault = self.faults.pop(self.creates, None)
        if fault is not None and not fault.after_create:
            return await _fail(fault)
        body = await request.json()
        text = str(body.get("text", ""))
        if len(text) > 280:
            return web.json_response({"detail": "Your Tweet text is too long.", "status": 400}, status=400)
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to is not None and not any(t["id"] == reply_to for t in self.tweets):
            return web.json_response(
                {"detail": "The tweet you're replying to doesn't exist", "status": 400}, status=400
            )
        media_ids = [str(m) for m in (body.get("media") or {}).get("media_ids", [])]
        for media_id in media_ids:
            if self.media.get(media_id, {}).get("state") != "succeeded":
                return web.json_response({"detail": f"media {media_id} is not ready", "status": 400}, status=400)
        tweet = {"id": str(next(self._ids)), "text": text, "in_reply_to": reply_to, "media_ids": media_ids}
        self.tweets.append(tweet)
        if fault is not None:
            return await _fail(fault)
        return web.json_response({"data": {"id": tweet["id"], "text": text}}, status=201)

    async def _timeline(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        count = int(request.query.get("max_results", "10"))
        recent = [{"id": t["id"], "text": t["text"]} for t in reversed(self.tweets)][:count]
        return web.json_response({"data": recent, "meta": {"result_count": len(recent)}})

    async def _lookup(self, request: web.Request) -> web.Response:
        """`GET /2/tweets?ids=...&tweet.fields=public_metrics`: found posts under `data`, missing ones under
        `errors` (as X answers for deleted posts)."""
        if not self._authorised(request):
            return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        self.lookups += 1
        if self.lookup_window_reset is not None:
            headers = {
                "x-rate-limit-limit": "15",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(self.lookup_window_reset),
            }
            body = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
            return web.json_response(body, status=429, headers=headers)
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not ids or len(ids) > 100:
            return web.json_response({"detail": "ids: 1 to 100 ids", "status": 400}, status=400)
        known = {t["id"]: t for t in self.tweets}
        data = [
            {"id": i, "text": known[i]["text"], "public_metrics": self.metrics.get(i, _ZERO_METRICS)}
            for i in ids
            if i in known
        ]
        errors = [
            {"value": i, "detail": f"Could not find tweet with ids: [{i}].", "title": "Not Found Error"}
            for i in ids
            if i not in known
        ]
        return web.json_response({"data": data, **({"errors": errors} if errors else {})})

    async def _media_command(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        form = await request.post()
        command = str(form.get("command", ""))
        if command == "INIT":
            media_id = str(next(self._ids))
            self.media[media_id] = {
                "type": str(form["media_type"]),
                "category": str(form.get("media_category", "")),
                "total": int(str(form["total_bytes"])),
                "chunks": {},
                "state": "uploading",
            }
            return web.json_response(
                {"data": {"id": media_id, "media_key": f"13_{media_id}", "expires_after_secs": 86400}}
            )
        item = self.media.get(str(form.get("media_id", "")))
        if item is None:
            return web.json_response({"detail": "unknown media_id", "status": 400}, status=400)
        if command == "APPEND":
            chunk = form["media"]
            assert isinstance(chunk, web.FileField)
            item["chunks"][int(str(form["segment_index"]))] = chunk.file.read()
            return web.Response(status=204)
        if command == "FINALIZE":
            data = b"".join(item["chunks"][i] for i in sorted(item["chunks"]))
            if len(data) != item["total"]:
                return web.json_response({"detail": "size mismatch", "status": 400}, status=400)
            item["data"], item["polls"] = data, 0
            item["state"] = "pending" if item["category"] == "tweet_video" else "succeeded"
            return web.json_response({"data": {"id": form["media_id"], "size": len(data), **self._processing(item)}})
        return web.json_response({"detail": f"unknown command {command}", "status": 400}, status=400)

    def _processing(self, item: dict[str, Any]) -> dict[str, Any]:
        if item["state"] == "succeeded" and item["category"] != "tweet_video":
            return {}
        info: dict[str, Any] = {"state": item["state"], "check_after_secs": 0}
        if item["state"] == "failed":
            info["error"] = {"code": 1, "name": "InvalidMedia", "message": self.reject_media}
        return {"processing_info": info}

    async def _media_status(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        item = self.media.get(request.query.get("media_id", ""))
        if request.query.get("command") != "STATUS" or item is None:
            return web.json_response({"detail": "bad STATUS request", "status": 400}, status=400)
        item["polls"] += 1
        if item["state"] in ("pending", "in_progress"):
            if item["polls"] > self.processing_polls:
                item["state"] = "failed" if self.reject_media else "succeeded"
            else:
                item["state"] = "in_progress"
        return web.json_response({"data": {"id": request.query["media_id"], **self._processing(item)}})


_ZERO_METRICS = {
    "retweet_count": 0,
    "reply_count": 0,
    "like_count": 0,
    "quote_count": 0,
    "bookmark_count": 0,
    "impression_count": 0,
}


async def _fail(fault: XFault) -> web.Response:
    if fault.hang_s:
        await asyncio.sleep(fault.hang_s)
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    return web.json_response(
        {"title": "fault", "status": fault.status or 503}, status=fault.status or 503, headers=headers
    )
