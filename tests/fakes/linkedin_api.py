"""A fake LinkedIn: the OAuth endpoints, OpenID userinfo, and the versioned Posts and upload APIs, over HTTP.

It speaks LinkedIn's documented wire format: form-encoded token requests answered with
`{"access_token", "expires_in", "refresh_token", "scope"}`; `POST /rest/posts` requiring `LinkedIn-Version`
and `X-Restli-Protocol-Version: 2.0.0`, answering 201 with the new URN in `x-restli-id`; the author finder
`GET /rest/posts?q=author&author=...`; images/videos through `?action=initializeUpload` and a PUT of the
bytes. Faults are switched on per test: a timeout after the post was created, 5xx, 429 with Retry-After,
401 (revoked), 422 (rejected) and 426 (version retired); `token_faults` for the token endpoint (a status,
a hang, a 200 whose body is garbage).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from yarl import URL

SUPPORTED_VERSIONS = {"202611", "202610", "202609"}
ANALYTICS_TYPES = {"IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT"}


@dataclass
class Fault:
    """What the next `count` post creations meet. `after_create`: the post is created, then the answer is
    lost (the client times out) or replaced by a 5xx."""

    status: int | None = None  # 401, 422, 426, 429, 500, 503
    hang_s: float = 0.0
    after_create: bool = False
    retry_after: int | None = None
    count: int = 1
    body: str | None = None  # answer 200 with this body instead (garbage, or JSON without what it must hold)


@dataclass
class FakeLinkedIn:
    client_id: str = "li-client"
    client_secret: str = "li-secret"
    member_id: str = "abc123"
    member_name: str = "Asha Rao"
    posts: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    revoked_tokens: set[str] = field(default_factory=set)
    refresh_refused: bool = False
    requests: list[tuple[str, str]] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    expires_in: int = 5_184_000  # 60 days, as LinkedIn issues member tokens
    decline: bool = False  # the member declines on the consent page
    # At most this many post creations per member per 10 s window (0: no limit); beyond it, 429 + Retry-After.
    member_limit_per_10s: int = 0
    throttled: int = 0
    video_part_bytes: int = 4 * 1024 * 1024  # LinkedIn splits video uploads into 4 MB parts
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)  # urn -> {size, parts, status, data}
    # Post urn -> {queryType: count}: what memberCreatorPostAnalytics answers now (tests move it along).
    analytics: dict[str, dict[str, int]] = field(default_factory=dict)
    analytics_calls: int = 0
    # Organization id -> name: the Pages the member administers (organizationAcls, organizations).
    pages: dict[str, str] = field(default_factory=dict)
    # What the next token requests (code exchanges, refreshes) meet, one each: a status, a hang, a bad body.
    token_faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(7_100_000_000_000_000_000)
        self.codes: dict[str, str] = {}
        self.tokens: dict[str, str] = {}  # access token -> member id
        self.refresh_tokens: set[str] = set()
        self._window_counts: dict[tuple[str, int], int] = {}
        self._seen: set[tuple[Any, Any]] = set()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> FakeLinkedIn:
        app = web.Application()
        app.router.add_get("/oauth/v2/authorization", self._authorize)
        app.router.add_post("/oauth/v2/accessToken", self._token)
        app.router.add_post("/oauth/v2/revoke", self._revoke)
        app.router.add_get("/v2/userinfo", self._userinfo)
        app.router.add_post("/rest/posts", self._create_post)
        app.router.add_get("/rest/posts", self._find_posts)
        app.router.add_post("/rest/images", self._init_upload)
        app.router.add_put("/upload/{asset}", self._upload)
        app.router.add_post("/rest/videos", self._video_action)
        app.router.add_get("/rest/memberCreatorPostAnalytics", self._post_analytics)
        app.router.add_get("/rest/organizationAcls", self._organization_acls)
        app.router.add_get("/rest/organizations/{id}", self._organization)
        app.router.add_put("/upload/{asset}/{part}", self._upload_part)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------ what tests set up and read

    def grant_code(self) -> str:
        """A code as LinkedIn would send it to the redirect URI after the member approved the app."""
        code = secrets.token_urlsafe(12)
        self.codes[code] = self.member_id
        return code

    def issue_token(self) -> str:
        token = "li-at-" + secrets.token_urlsafe(12)
        self.tokens[token] = self.member_id
        return token

    def revoke_all(self) -> None:
        self.revoked_tokens.update(self.tokens)

    # ------------------------------------------------------------ OAuth

    async def _authorize(self, request: web.Request) -> web.Response:
        """The member's consent page, approved at once (or declined when `decline` is set): LinkedIn
        redirects to the registered redirect URI with `code` and `state`, or `error` and `state`."""
        query = request.query
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return web.Response(status=400, text="invalid request")
        target = URL(query["redirect_uri"])
        if self.decline:
            params = {
                "error": "user_cancelled_authorize",
                "error_description": "The user cancelled",
                "state": query["state"],
            }
        else:
            params = {"code": self.grant_code(), "state": query["state"]}
        raise web.HTTPFound(str(target.with_query(params)))

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.requests.append(("POST", "/oauth/v2/accessToken"))
        if self.token_faults:
            fault = self.token_faults.pop(0)
            if fault.body is not None:
                await asyncio.sleep(fault.hang_s)
                return web.Response(status=200, text=fault.body, content_type="application/json")
            return await _fail(fault)
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return web.json_response({"error": "invalid_client"}, status=401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            if self.codes.pop(str(form.get("code")), None) is None:
                return web.json_response({"error": "invalid_grant", "error_description": "bad code"}, status=400)
        elif grant == "refresh_token":
            if self.refresh_refused or str(form.get("refresh_token")) not in self.refresh_tokens:
                return web.json_response({"error": "invalid_grant", "error_description": "revoked"}, status=400)
        else:
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        token = self.issue_token()
        refresh = "li-rt-" + secrets.token_urlsafe(12)
        self.refresh_tokens.add(refresh)
        return web.json_response(
            {
                "access_token": token,
                "expires_in": self.expires_in,
                "refresh_token": refresh,
                "refresh_token_expires_in": 31_536_000,
                "scope": "openid,profile,w_member_social",
            }
        )

    async def _revoke(self, request: web.Request) -> web.Response:
        self.requests.append(("POST", "/oauth/v2/revoke"))
        form = await request.post()
        self.revoked_tokens.add(str(form.get("token")))
        return web.Response(status=200)

    def _member(self, request: web.Request) -> str | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token in self.revoked_tokens:
            return None
        return self.tokens.get(token)

    async def _userinfo(self, request: web.Request) -> web.Response:
        member = self._member(request)
        if member is None:
            return _error(401, "REVOKED_ACCESS_TOKEN", "The token used in the request has been revoked by the user")
        return web.json_response({"sub": member, "name": self.member_name, "email_verified": True})

    # ------------------------------------------------------------ posts

    def _check_versioned(self, request: web.Request) -> web.Response | None:
        version = request.headers.get("LinkedIn-Version")
        if request.headers.get("X-Restli-Protocol-Version") != "2.0.0":
            return _error(400, "MISSING_PROTOCOL_VERSION", "X-Restli-Protocol-Version 2.0.0 is required")
        if version not in SUPPORTED_VERSIONS:
            return _error(426, "NONEXISTENT_VERSION", f"Requested version {version} is not active")
        return None

    async def _create_post(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(("POST", "/rest/posts"))
        refused = self._check_versioned(request)
        if refused is not None:
            return refused
        member = self._member(request)
        if member is None:
            return _error(401, "REVOKED_ACCESS_TOKEN", "The token used in the request has been revoked by the user")
        if self.member_limit_per_10s:
            window = int(time.monotonic() // 10)
            used = self._window_counts.get((member, window), 0)
            if used >= self.member_limit_per_10s:
                self.throttled += 1
                retry = 10 - int(time.monotonic() % 10)
                return web.json_response(
                    {"status": 429, "message": "Too Many Requests"}, status=429, headers={"Retry-After": str(retry)}
                )
            self._window_counts[(member, window)] = used + 1
        body = await request.json()
        fault = self._next_fault()
        if fault is not None and not fault.after_create:
            return await _fail(fault)
        pages = {f"urn:li:organization:{org}" for org in self.pages}
        if body.get("author") != f"urn:li:person:{member}" and body.get("author") not in pages:
            return _error(403, "ACCESS_DENIED", "Not enough permissions to post as this author")
        media_id = str(((body.get("content") or {}).get("media") or {}).get("id") or "")
        if media_id.startswith("urn:li:video:") and self.videos.get(media_id, {}).get("status") != "AVAILABLE":
            return _error(400, "INVALID_CONTENT", f"{media_id} has not finished uploading")
        if media_id.startswith("urn:li:image:") and media_id.removeprefix("urn:li:image:") not in self.uploads:
            return _error(400, "INVALID_CONTENT", f"{media_id} was never uploaded")
        if (body.get("author"), body.get("commentary")) in self._seen:
            return _error(422, "DUPLICATE_POST", "Content is a duplicate of urn:li:share:1")
        urn = f"urn:li:share:{next(self._ids)}"
        self.posts.append({"id": urn, **body})
        self._seen.add((body.get("author"), body.get("commentary")))
        if fault is not None:
            return await _fail(fault)
        return web.Response(status=201, headers={"x-restli-id": urn})

    async def _find_posts(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", "/rest/posts"))
        refused = self._check_versioned(request)
        if refused is not None:
            return refused
        if self._member(request) is None:
            return _error(401, "REVOKED_ACCESS_TOKEN", "revoked")
        if request.query.get("q") != "author":
            return _error(400, "ILLEGAL_ARGUMENT", "q=author is required")
        author = request.query.get("author")
        count = int(request.query.get("count", "10"))
        mine = [p for p in reversed(self.posts) if p.get("author") == author][:count]
        return web.json_response({"elements": mine, "paging": {"start": 0, "count": count, "links": []}})

    async def _init_upload(self, request: web.Request) -> web.Response:
        if request.query.get("action") != "initializeUpload":
            return _error(400, "ILLEGAL_ARGUMENT", "action=initializeUpload")
        asset = f"C4E{secrets.token_hex(6)}"
        return web.json_response(
            {
                "value": {
                    "uploadUrlExpiresAt": 1_900_000_000_000,
                    "uploadUrl": f"{self.base_url}/upload/{asset}",
                    "image": f"urn:li:image:{asset}",
                }
            }
        )

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["asset"]] = await request.read()
        return web.Response(status=201)

    async def _organization_acls(self, request: web.Request) -> web.Response:
        refused = self._check_versioned(request)
        if refused is not None:
            return refused
        if self._member(request) is None:
            return _error(401, "REVOKED_ACCESS_TOKEN", "revoked")
        query = request.query
        if (query.get("q"), query.get("role"), query.get("state")) != ("roleAssignee", "ADMINISTRATOR", "APPROVED"):
            return _error(400, "ILLEGAL_ARGUMENT", "q=roleAssignee&role=ADMINISTRATOR&state=APPROVED expected")
        elements = [
            {
                "organization": f"urn:li:organization:{org}",
                "role": "ADMINISTRATOR",
                "state": "APPROVED",
                "roleAssignee": f"urn:li:person:{self.member_id}",
            }
            for org in self.pages
        ]
        return web.json_response({"elements": elements, "paging": {"start": 0, "count": 10}})

    async def _organization(self, request: web.Request) -> web.Response:
        refused = self._check_versioned(request)
        if refused is not None:
            return refused
        org = request.match_info["id"]
        if org not in self.pages:
            return _error(404, "NOT_FOUND", f"organization {org} not found")
        return web.json_response({"id": int(org), "localizedName": self.pages[org], "vanityName": f"page-{org}"})

    async def _post_analytics(self, request: web.Request) -> web.Response:
        """Member post analytics: `q=entity&entity=(share:<urn>)&queryType=IMPRESSION&aggregation=TOTAL`."""
        refused = self._check_versioned(request)
        if refused is not None:
            return refused
        member = self._member(request)
        if member is None:
            return _error(401, "REVOKED_ACCESS_TOKEN", "revoked")
        self.analytics_calls += 1
        entity, query = request.query.get("entity", ""), request.query.get("queryType", "")
        match = re.fullmatch(r"\((share|ugc):(urn:li:(?:share|ugcPost):\d+)\)", entity)
        if request.query.get("q") != "entity" or match is None or query not in ANALYTICS_TYPES:
            return _error(400, "ILLEGAL_ARGUMENT", f"bad entity {entity!r} or queryType {query!r}")
        urn = match.group(2)
        post = next((p for p in self.posts if p["id"] == urn), None)
        if post is None:
            return _error(404, "NOT_FOUND", f"{urn} not found")
        if post.get("author") != f"urn:li:person:{member}":
            return _error(403, "ACCESS_DENIED", "Not the post's author")
        count = self.analytics.get(urn, {}).get(query, 0)
        metric = {"com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1": query}
        return web.json_response(
            {"paging": {"start": 0, "count": 10}, "elements": [{"count": count, "metricType": metric}]}
        )

    async def _video_action(self, request: web.Request) -> web.Response:
        refused = self._check_versioned(request)
        if refused is not None:
            return refused
        if self._member(request) is None:
            return _error(401, "REVOKED_ACCESS_TOKEN", "revoked")
        action = request.query.get("action")
        body = await request.json()
        if action == "initializeUpload":
            size = int(body["initializeUploadRequest"]["fileSizeBytes"])
            asset = f"D4E{secrets.token_hex(6)}"
            urn = f"urn:li:video:{asset}"
            step = self.video_part_bytes
            instructions = [
                {
                    "uploadUrl": f"{self.base_url}/upload/{asset}/{n}",
                    "firstByte": first,
                    "lastByte": min(size, first + step) - 1,
                }
                for n, first in enumerate(range(0, size, step))
            ]
            self.videos[urn] = {"size": size, "parts": {}, "status": "WAITING_UPLOAD", "asset": asset}
            return web.json_response(
                {
                    "value": {
                        "video": urn,
                        "uploadToken": "",
                        "uploadInstructions": instructions,
                        "uploadUrlsExpireAt": 1_900_000_000_000,
                    }
                }
            )
        if action == "finalizeUpload":
            request_body = body["finalizeUploadRequest"]
            video = self.videos.get(str(request_body["video"]))
            if video is None:
                return _error(404, "NOT_FOUND", "no such video")
            etags = [f"etag-{video['asset']}-{n}" for n in sorted(video["parts"])]
            if list(request_body["uploadedPartIds"]) != etags:
                return _error(400, "ILLEGAL_ARGUMENT", "uploadedPartIds do not match the uploaded parts")
            data = b"".join(video["parts"][n] for n in sorted(video["parts"]))
            if len(data) != video["size"]:
                return _error(400, "ILLEGAL_ARGUMENT", "the parts do not add up to fileSizeBytes")
            video["data"], video["status"] = data, "AVAILABLE"
            return web.json_response({})
        return _error(400, "ILLEGAL_ARGUMENT", f"unknown action {action}")

    async def _upload_part(self, request: web.Request) -> web.Response:
        asset, part = request.match_info["asset"], int(request.match_info["part"])
        video = next((v for v in self.videos.values() if v["asset"] == asset), None)
        if video is None:
            return web.Response(status=404)
        video["parts"][part] = await request.read()
        return web.Response(status=200, headers={"ETag": f'"etag-{asset}-{part}"'})

    def _next_fault(self) -> Fault | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        fault.count -= 1
        if fault.count <= 0:
            self.faults.pop(0)
        return fault


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"status": status, "serviceErrorCode": 0, "code": code, "message": message}, status=status)


async def _fail(fault: Fault) -> web.Response:
    if fault.hang_s:
        await asyncio.sleep(fault.hang_s)
    status = fault.status or 504
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    return web.Response(
        status=status,
        headers=headers,
        text=json.dumps({"status": status, "message": "fault"}),
        content_type="application/json",
    )
