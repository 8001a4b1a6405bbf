"""A fake TikTok: Login Kit's OAuth v2, the Display API (user info, video list) and the Content Posting API's
Direct Post of a video, over HTTP.

It speaks TikTok's documented wire format: form-encoded `POST /v2/oauth/token/` (code and refresh grants,
refresh tokens rotated) and `/v2/oauth/revoke/`; JSON answers `{"data": ..., "error": {"code", "message",
"log_id"}}` with code "ok"; `creator_info/query` with the creator's privacy options and longest video;
`video/init` with `FILE_UPLOAD` (its `video_size`/`chunk_size`/`total_chunk_count` checked by TikTok's chunk
rules, then chunks PUT in order to the `upload_url` with `Content-Range`, answered 206 until the last, 201)
or `PULL_FROM_URL` (the fake GETs the link over HTTP, as TikTok would); `status/fetch` going from
PROCESSING_UPLOAD/PROCESSING_DOWNLOAD to PUBLISH_COMPLETE (after `processing_polls` polls, or
`processing_s` seconds when nobody polls) or FAILED with `fail_reason`; `video/list` with the public
videos' titles and descriptions cut to 150 characters. Faults are switched on per endpoint: a lost
answer after the work was done, 5xx, 429, a revoked token, the daily post cap; `token` and `user_info`
faults (the sign-in's calls) may instead answer 200 with a body that is not what TikTok documents.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

MB = 1024 * 1024
LISTED_CHARS = 150
ALL_PRIVACY = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@dataclass
class Fault:
    """What the next `count` calls to `endpoint` (creator_info | init | upload | status | list | query) meet; an
    upload fault meets the last chunk.
    `after_create`: the call does its work (the post is created, the chunk stored), then the answer is lost
    (the client times out after `hang_s`) or replaced by `status`."""

    endpoint: str = "init"
    status: int | None = None
    code: str | None = None  # TikTok's error code for the answer
    hang_s: float = 0.0
    after_create: bool = False
    retry_after: int | None = None
    count: int = 1
    release: asyncio.Event | None = None  # the answer waits for this (a call held in flight until the test says)
    body: str | None = None  # answer 200 with this body instead (garbage, or JSON without what it must hold)


@dataclass
class Publish:
    publish_id: str
    open_id: str
    body: dict[str, Any]
    source: str
    status: str
    video_size: int = 0
    chunk_size: int = 0
    chunks: int = 0
    received: bytearray = field(default_factory=bytearray)
    polls_after_upload: int = 0
    post_id: str | None = None
    fail_reason: str | None = None
    started: float = field(default_factory=time.time)


@dataclass
class FakeTikTok:
    client_key: str = "tt-client-key"
    client_secret: str = "tt-client-secret"
    open_id: str = "-000tt-open-id"
    display_name: str = "Asha Rao"
    username: str = "asha.makes"
    privacy_level_options: list[str] = field(default_factory=lambda: list(ALL_PRIVACY))
    max_video_post_duration_sec: int = 600
    comment_disabled: bool = False
    # TikTok's chunk rules: 5 to 64 MB a chunk (the last up to 128 MB); tests lower them to upload a small
    # file in several chunks.
    min_chunk_bytes: int = 5 * MB
    max_chunk_bytes: int = 64 * MB
    processing_polls: int = 2  # polls answered PROCESSING_* after the bytes are in, before PUBLISH_COMPLETE
    processing_s: float = 5.0  # ...or this long, when nobody polls
    fail_reason: str | None = None  # processing ends FAILED with this reason
    daily_cap: int = 0  # inits per creator per 24 h (0: none); beyond it init answers spam_risk_too_many_posts
    public_ids: bool = True  # PUBLISH_COMPLETE carries publicaly_available_post_id
    expires_in: int = 86_400
    decline: bool = False
    posts: list[dict[str, Any]] = field(default_factory=list)
    inits: list[dict[str, Any]] = field(default_factory=list)
    statuses_seen: list[str] = field(default_factory=list)
    chunk_ranges: list[str] = field(default_factory=list)
    pulled: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    revoked_tokens: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)
    # Known insight series: video id -> {"view_count": .., "like_count": .., ...} as video/query reports now.
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ids = itertools.count(7_300_000_000_000_000_001)
        # Unique across fakes, as TikTok's are: tests share one database, and a post is found by its publish_id.
        self._publish_numbers = itertools.count(secrets.randbelow(10**9) * 1000 + 1)
        self.codes: dict[str, str] = {}
        self.tokens: dict[str, tuple[str, tuple[str, ...]]] = {}  # access token -> (open id, scopes)
        self.refresh_tokens: dict[str, str] = {}
        self.publishes: dict[str, Publish] = {}
        self._uploads: dict[str, str] = {}  # upload id -> publish id
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> FakeTikTok:
        app = web.Application(client_max_size=256 * MB)
        app.router.add_get("/v2/auth/authorize/", self._authorize)
        app.router.add_post("/v2/oauth/token/", self._token)
        app.router.add_post("/v2/oauth/revoke/", self._revoke)
        app.router.add_get("/v2/user/info/", self._user_info)
        app.router.add_post("/v2/post/publish/creator_info/query/", self._creator_info)
        app.router.add_post("/v2/post/publish/video/init/", self._init)
        app.router.add_put("/upload/", self._upload)
        app.router.add_post("/v2/post/publish/status/fetch/", self._status)
        app.router.add_post("/v2/video/list/", self._list)
        app.router.add_post("/v2/video/query/", self._query)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------ what tests set up and read

    def grant_code(self, scopes: tuple[str, ...] = ("user.info.basic", "video.publish", "video.list")) -> str:
        code = secrets.token_urlsafe(12)
        self.codes[code] = ",".join(scopes)
        return code

    def revoke_all(self) -> None:
        self.revoked_tokens.update(self.tokens)

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/v2/auth/authorize/"

    # ------------------------------------------------------------ OAuth

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("client_key") != self.client_key or query.get("response_type") != "code":
            return web.Response(status=400, text="invalid client_key or response_type")
        if self.decline:  # the creator pressed Cancel on TikTok's consent page
            params = {"error": "access_denied", "error_description": "User cancelled", "state": query["state"]}
        else:
            code = secrets.token_urlsafe(12)
            self.codes[code] = query.get("scope", "")
            params = {"code": code, "scopes": query.get("scope", ""), "state": query["state"]}
        raise web.HTTPFound(str(URL(query["redirect_uri"]).with_query(params)))

    async def _token(self, request: web.Request) -> web.Response:
        self.requests.append(("POST", "/v2/oauth/token/"))
        fault = self._next_fault("token")
        if fault is not None:  # TikTok's OAuth endpoints answer errors in their own shape
            if fault.body is not None or fault.hang_s:
                return await _fail(fault)
            status = fault.status or 500
            error = {429: "rate_limit_exceeded"}.get(status, "invalid_grant" if status < 500 else "internal_error")
            return _oauth_error(error, "fault", status=status)
        if request.content_type != "application/x-www-form-urlencoded":
            return _oauth_error("invalid_request", "The request parameters are malformed.")
        form = await request.post()
        if form.get("client_key") != self.client_key or form.get("client_secret") != self.client_secret:
            return _oauth_error("invalid_client", "Client key or secret is incorrect.", status=401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            scope = self.codes.pop(str(form.get("code")), None)
            if scope is None or not form.get("redirect_uri"):
                return _oauth_error("invalid_grant", "Authorization code is expired.")
        elif grant == "refresh_token":
            scope = self.refresh_tokens.pop(str(form.get("refresh_token")), None)  # rotated: usable once
            if scope is None:
                return _oauth_error("invalid_grant", "Refresh token is invalid or expired.")
        else:
            return _oauth_error("unsupported_grant_type", "grant_type is not supported")
        token = "act." + secrets.token_urlsafe(16)
        refresh = "rft." + secrets.token_urlsafe(16)
        scopes = tuple(s for s in scope.split(",") if s)
        self.tokens[token] = (self.open_id, scopes)
        self.refresh_tokens[refresh] = scope
        return web.json_response(
            {
                "access_token": token,
                "expires_in": self.expires_in,
                "open_id": self.open_id,
                "refresh_expires_in": 31_536_000,
                "refresh_token": refresh,
                "scope": scope,
                "token_type": "Bearer",
            }
        )

    async def _revoke(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_key") != self.client_key or form.get("client_secret") != self.client_secret:
            return _oauth_error("invalid_client", "Client key or secret is incorrect.", status=401)
        self.revoked_tokens.add(str(form.get("token")))
        return web.json_response({})

    def _caller(self, request: web.Request, scope: str) -> tuple[str | None, web.Response | None]:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        held = self.tokens.get(token)
        if held is None or token in self.revoked_tokens:
            return None, _error(401, "access_token_invalid", "The access token is invalid or not found in the request.")
        if scope not in held[1]:
            return None, _error(401, "scope_not_authorized", f"The user did not authorize the scope {scope}.")
        return held[0], None

    async def _user_info(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", "/v2/user/info/"))
        open_id, refused = self._caller(request, "user.info.basic")
        if refused is not None:
            return refused
        fault = self._next_fault("user_info")
        if fault is not None:
            return await _fail(fault)
        fields = request.query.get("fields", "").split(",")
        if "username" in fields:  # needs user.info.profile, which Recast does not ask for
            return _error(401, "scope_not_authorized", "The user did not authorize the scope user.info.profile.")
        user = {"open_id": open_id, "display_name": self.display_name, "avatar_url": "https://p16.example/a.jpg"}
        return _ok({"user": {k: v for k, v in user.items() if k in fields}})

    # ------------------------------------------------------------ posting

    async def _creator_info(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(("POST", "/v2/post/publish/creator_info/query/"))
        _, refused = self._caller(request, "video.publish")
        if refused is not None:
            return refused
        fault = self._next_fault("creator_info")
        if fault is not None:
            return await _fail(fault)
        return _ok(
            {
                "creator_avatar_url": "https://p16.example/a.jpg",
                "creator_username": self.username,
                "creator_nickname": self.display_name,
                "privacy_level_options": self.privacy_level_options,
                "comment_disabled": self.comment_disabled,
                "duet_disabled": False,
                "stitch_disabled": True,
                "max_video_post_duration_sec": self.max_video_post_duration_sec,
            }
        )

    async def _init(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(("POST", "/v2/post/publish/video/init/"))
        open_id, refused = self._caller(request, "video.publish")
        if refused is not None:
            return refused
        assert open_id is not None
        body = await request.json()
        fault = self._next_fault("init")
        if fault is not None and not fault.after_create:
            return await _fail(fault)
        invalid = self._check_init(body)
        if invalid is not None:
            return invalid
        # The cap counts the posts the creator started through apps in the last day, published or not.
        recent = [p for p in self.publishes.values() if p.open_id == open_id and p.started > time.time() - 86_400]
        if self.daily_cap and len(recent) >= self.daily_cap:
            return _error(403, "spam_risk_too_many_posts", "The daily post cap from the API is reached.")
        source = body["source_info"]
        kind = "url" if source["source"] == "PULL_FROM_URL" else "file"
        publish = Publish(
            publish_id=f"v_pub_{kind}~v2-1.{next(self._publish_numbers)}",
            open_id=open_id,
            body=body,
            source=source["source"],
            status="PROCESSING_DOWNLOAD" if source["source"] == "PULL_FROM_URL" else "PROCESSING_UPLOAD",
        )
        self.publishes[publish.publish_id] = publish
        self.inits.append(body)
        data: dict[str, Any] = {"publish_id": publish.publish_id}
        if publish.source == "FILE_UPLOAD":
            publish.video_size, publish.chunk_size = int(source["video_size"]), int(source["chunk_size"])
            publish.chunks = int(source["total_chunk_count"])
            upload_id = secrets.token_hex(8)
            self._uploads[upload_id] = publish.publish_id
            data["upload_url"] = f"{self.base_url}/upload/?upload_id={upload_id}&upload_token={secrets.token_hex(8)}"
        else:
            self._spawn(self._pull(publish, str(source["video_url"])))
        if fault is not None:
            return await _fail(fault)
        return _ok(data)

    def _check_init(self, body: dict[str, Any]) -> web.Response | None:
        post, source = body.get("post_info") or {}, body.get("source_info") or {}
        if len(str(post.get("title", ""))) > 2200:
            return _error(400, "invalid_params", "post_info.title is longer than 2200 characters")
        if post.get("privacy_level") not in self.privacy_level_options:
            return _error(403, "privacy_level_option_mismatch", "privacy_level is not one of the creator's options")
        if self.comment_disabled and not post.get("disable_comment"):
            return _error(400, "invalid_params", "the creator has comments disabled")
        if source.get("source") == "PULL_FROM_URL":
            return None if source.get("video_url") else _error(400, "invalid_params", "video_url is required")
        if source.get("source") != "FILE_UPLOAD":
            return _error(400, "invalid_params", "source must be FILE_UPLOAD or PULL_FROM_URL")
        return self._check_chunks(
            int(source["video_size"]), int(source["chunk_size"]), int(source["total_chunk_count"])
        )

    def _check_chunks(self, size: int, chunk: int, count: int) -> web.Response | None:
        """TikTok's chunk rules: under the minimum chunk a video goes whole; otherwise chunks are 5-64 MB,
        the count is size // chunk_size (the last chunk takes the rest, up to 128 MB) and 1 to 1000 chunks."""
        if size <= 0:
            return _error(400, "invalid_params", "video_size must be positive")
        if size < self.min_chunk_bytes:
            if chunk != size or count != 1:
                return _error(400, "invalid_params", "a video under the minimum chunk size goes in one chunk")
            return None
        if not self.min_chunk_bytes <= chunk <= self.max_chunk_bytes and not (count == 1 and chunk == size):
            return _error(400, "invalid_params", "chunk_size out of range")
        if count != size // chunk or not 1 <= count <= 1000:
            return _error(400, "invalid_params", f"total_chunk_count should be {size // chunk}")
        if size - (count - 1) * chunk > 2 * self.max_chunk_bytes:
            return _error(400, "invalid_params", "the final chunk is too large")
        return None

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(("PUT", "/upload/"))
        publish_id = self._uploads.get(request.query.get("upload_id", ""))
        publish = self.publishes.get(publish_id or "")
        if publish is None:
            return web.Response(status=404, text="upload_url not found or expired")
        data = await request.read()
        match = _RANGE.match(request.headers.get("Content-Range", ""))
        if match is None:
            return web.Response(status=400, text="Content-Range required: bytes first-last/total")
        first, last, total = (int(g) for g in match.groups())
        index = len(publish.received) // publish.chunk_size if publish.chunk_size else 0
        final = index == publish.chunks - 1
        expected_len = publish.video_size - index * publish.chunk_size if final else publish.chunk_size
        if total != publish.video_size or first != len(publish.received) or last - first + 1 != len(data):
            return web.Response(status=416, text=f"expected bytes {len(publish.received)}-…/{publish.video_size}")
        if len(data) != expected_len or request.headers.get("Content-Type", "") not in (
            "video/mp4",
            "video/quicktime",
            "video/webm",
        ):
            return web.Response(status=400, text=f"chunk {index + 1} must be {expected_len} bytes of video")
        fault = self._next_fault("upload") if final else None  # upload faults meet the last chunk
        if fault is not None and not fault.after_create:
            return await _fail(fault)
        self.chunk_ranges.append(request.headers["Content-Range"])
        publish.received.extend(data)
        if len(publish.received) == publish.video_size:
            self._spawn(self._process(publish))
        if fault is not None:
            return await _fail(fault)
        return web.Response(status=201 if len(publish.received) == publish.video_size else 206)

    async def _pull(self, publish: Publish, url: str) -> None:
        """TikTok downloads the video from the link it was given."""
        try:
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                if response.status != 200:
                    raise ValueError(response.status)
                publish.received.extend(await response.read())
            self.pulled.append(url)
        except (aiohttp.ClientError, ValueError):
            publish.status, publish.fail_reason = "FAILED", "video_pull_failed"
            return
        publish.video_size = len(publish.received)
        await self._process(publish)

    async def _process(self, publish: Publish) -> None:
        """The bytes are in: publish after `processing_polls` polls, or `processing_s` seconds."""
        deadline = time.monotonic() + self.processing_s
        while publish.polls_after_upload < self.processing_polls and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if self.fail_reason:
            publish.status, publish.fail_reason = "FAILED", self.fail_reason
            return
        publish.post_id = str(next(self._ids))
        title = str(publish.body["post_info"]["title"])
        self.posts.append(
            {
                "id": publish.post_id,
                "publish_id": publish.publish_id,
                "open_id": publish.open_id,
                "title": title,
                "privacy_level": publish.body["post_info"]["privacy_level"],
                "source": publish.source,
                "video": bytes(publish.received),
                "at": time.time(),
            }
        )
        publish.status = "PUBLISH_COMPLETE"

    async def _status(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(("POST", "/v2/post/publish/status/fetch/"))
        _, refused = self._caller(request, "video.publish")
        if refused is not None:
            return refused
        fault = self._next_fault("status")
        if fault is not None:
            return await _fail(fault)
        publish = self.publishes.get(str((await request.json()).get("publish_id")))
        if publish is None:
            return _error(400, "invalid_publish_id", "publish_id does not exist")
        self.statuses_seen.append(publish.status)
        if publish.status.startswith("PROCESSING") and len(publish.received) == publish.video_size > 0:
            publish.polls_after_upload += 1
        data: dict[str, Any] = {"status": publish.status}
        if publish.source == "FILE_UPLOAD":
            data["uploaded_bytes"] = len(publish.received)
        else:
            data["downloaded_bytes"] = len(publish.received)
        if publish.status == "FAILED":
            data["fail_reason"] = publish.fail_reason
        if publish.status == "PUBLISH_COMPLETE" and self.public_ids and publish.post_id:
            data["publicaly_available_post_id"] = [int(publish.post_id)]
        return _ok(data)

    async def _list(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(("POST", "/v2/video/list/"))
        open_id, refused = self._caller(request, "video.list")
        if refused is not None:
            return refused
        fault = self._next_fault("list")
        if fault is not None:
            return await _fail(fault)
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        if not fields:
            return _error(400, "invalid_params", "fields is required")
        max_count = int((await request.json()).get("max_count", 10))
        if not 1 <= max_count <= 20:
            return _error(400, "invalid_params", "max_count must be 1 to 20")
        # TikTok's video list shows the creator's public videos: private (SELF_ONLY) posts are not in it.
        mine = [p for p in reversed(self.posts) if p["open_id"] == open_id and p["privacy_level"] != "SELF_ONLY"]
        mine = mine[:max_count]
        videos = []
        for post in mine:
            video = {
                "id": post["id"],
                "title": post["title"][:LISTED_CHARS],
                "video_description": post["title"][:LISTED_CHARS],
                "share_url": f"https://www.tiktok.com/@{self.username}/video/{post['id']}?utm_source=open_api",
                "create_time": int(post["at"]),
            }
            videos.append({k: v for k, v in video.items() if k in fields})
        return _ok({"videos": videos, "cursor": 0, "has_more": False})

    async def _query(self, request: web.Request) -> web.StreamResponse:
        """The creator's own videos by id (at most 20), with the requested fields; others are left out."""
        self.requests.append(("POST", "/v2/video/query/"))
        open_id, refused = self._caller(request, "video.list")
        if refused is not None:
            return refused
        fault = self._next_fault("query")
        if fault is not None:
            return await _fail(fault)
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        ids = ((await request.json()).get("filters") or {}).get("video_ids") or []
        if not fields or not ids:
            return _error(400, "invalid_params", "fields and filters.video_ids are required")
        if len(ids) > 20:
            return _error(400, "invalid_params", "video_ids can hold at most 20 ids")
        mine = {p["id"] for p in self.posts if p["open_id"] == open_id}
        videos = []
        for video_id in ids:
            if video_id in mine:
                counts = {"view_count": 0, "like_count": 0, "comment_count": 0, "share_count": 0}
                video = {"id": video_id, **counts, **self.counts.get(video_id, {})}
                videos.append({k: v for k, v in video.items() if k in fields})
        return _ok({"videos": videos, "cursor": 0, "has_more": False})

    # ------------------------------------------------------------ faults

    def _next_fault(self, endpoint: str) -> Fault | None:
        for fault in self.faults:
            if fault.endpoint == endpoint:
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _ok(data: dict[str, Any]) -> web.Response:
    return web.json_response({"data": data, "error": {"code": "ok", "message": "", "log_id": _log_id()}})


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"data": {}, "error": {"code": code, "message": message, "log_id": _log_id()}}, status=status, headers=headers
    )


def _oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    return web.json_response({"error": error, "error_description": description, "log_id": _log_id()}, status=status)


def _log_id() -> str:
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(8).upper()


async def _fail(fault: Fault) -> web.Response:
    if fault.release is not None:
        await fault.release.wait()
    if fault.hang_s:
        await asyncio.sleep(fault.hang_s)
    if fault.body is not None:
        return web.Response(status=200, text=fault.body, content_type="application/json")
    status = fault.status or 504
    code = fault.code or {401: "access_token_invalid", 429: "rate_limit_exceeded"}.get(status, "internal_error")
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    return _error(status, code, "fault", headers)
