"""A fake Google/YouTube: OAuth 2.0 (consent, token with PKCE, refresh, revoke), the Data API v3 calls
Recast makes (`channels.list`, `playlistItems.list`) and `videos.insert` by the resumable upload protocol.

Wire format as Google documents it: form-encoded token requests answered `{"access_token", "expires_in",
"refresh_token", "scope", "token_type"}`; API errors as `{"error": {"code", "message", "errors": [{"reason",
"domain", "message"}], "status"}}`. An upload starts with `POST /upload/youtube/v3/videos?uploadType=resumable`
(the video resource as JSON, `X-Upload-Content-Length` / `-Type`) and answers the session URI in `Location`;
each `PUT` of bytes carries `Content-Range: bytes a-b/total` (every chunk but the last a multiple of 256 KiB,
starting where the session is) and is answered 308 with `Range: bytes=0-n`, or 200 with the video resource
once the last byte is in. `Content-Range: bytes */total` asks how far the session got.

Quota is counted like Google does: `videos.insert` in its own bucket, the other calls in the shared units;
past a limit the call is refused with 403 `quotaExceeded`. Faults: drop the connection during one chunk
(keeping part of it), lose the answer to the final chunk after the video exists (and optionally every later
request on that session), 401 for revoked tokens; `sign_in_faults` for the token endpoint and
`channels.list` (a status, a hang, a 200 whose body is garbage, or a code exchange answered without the
refresh token Google issues for offline access).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from yarl import URL

CHUNK_UNIT = 256 * 1024


@dataclass
class Upload:
    """One resumable session: the resource sent at its start and the bytes received so far."""

    upload_id: str
    channel_id: str
    resource: dict[str, Any]
    total: int
    content_type: str
    received: bytearray = field(default_factory=bytearray)
    video_id: str | None = None
    dark: bool = False  # every request on it goes unanswered (the lost-final-answer fault)


@dataclass
class Put:
    content_range: str
    body_bytes: int
    answered: int | None  # the status sent, None when the connection was dropped


@dataclass
class SignInFault:
    """What the next call to `endpoint` ("token" or "channels") meets: `status` (Google's error JSON), a
    200 with `body` instead, `hang_s` before answering, or (`no_refresh_token`) the token answer as Google
    sends it when it grants no offline access."""

    endpoint: str = "token"
    status: int | None = None
    body: str | None = None
    hang_s: float = 0.0
    no_refresh_token: bool = False


@dataclass
class FakeYouTube:
    client_id: str = "yt-client.apps.googleusercontent.com"
    client_secret: str = "yt-secret"
    channel_id: str = "UCasha0000000000000000000"
    channel_title: str = "Asha Rao"
    custom_url: str = "@asharao"
    expires_in: int = 3599
    daily_units: int = 10_000
    daily_uploads: int = 100
    units_used: int = 0
    uploads_used: int = 0
    # Faults, each used once: drop the connection during the n-th data PUT (1-based) after keeping this many
    # bytes of it; lose the final chunk's answer after creating the video ("answer"), or that and every
    # later request on its session ("session").
    drop_put: int | None = None
    drop_keep_bytes: int = 0
    lose_final: str | None = None
    expire_token_after_puts: int | None = None  # the access token runs out after this many data PUTs
    videos: list[dict[str, Any]] = field(default_factory=list)  # newest last
    uploads: dict[str, Upload] = field(default_factory=dict)
    puts: list[Put] = field(default_factory=list)
    revoked_tokens: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)
    # Known insight series: video id -> its statistics as videos.list reports them now (counts as strings).
    statistics: dict[str, dict[str, str]] = field(default_factory=dict)
    sign_in_faults: list[SignInFault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.codes: dict[str, tuple[str | None, str]] = {}  # code -> (PKCE challenge, redirect_uri)
        self.tokens: dict[str, str] = {}  # access token -> channel id
        self.refresh_tokens: set[str] = set()
        self._data_puts = 0
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> FakeYouTube:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/o/oauth2/v2/auth", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_post("/revoke", self._revoke)
        app.router.add_get("/youtube/v3/channels", self._channels)
        app.router.add_get("/youtube/v3/playlistItems", self._playlist_items)
        app.router.add_get("/youtube/v3/videos", self._videos_list)
        app.router.add_post("/upload/youtube/v3/videos", self._start_upload)
        app.router.add_put("/upload/youtube/v3/videos", self._put)
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

    # ------------------------------------------------------------ what tests read

    @property
    def uploads_playlist(self) -> str:
        return "UU" + self.channel_id[2:]

    def issue_token(self) -> str:
        token = "ya29." + secrets.token_urlsafe(16)
        self.tokens[token] = self.channel_id
        return token

    def revoke_all(self) -> None:
        self.revoked_tokens.update(self.tokens)

    def bytes_put(self) -> int:
        """Every byte the client sent in PUTs, dropped ones included."""
        return sum(p.body_bytes for p in self.puts)

    async def _sign_in_fault(self, endpoint: str) -> SignInFault | None:
        fault = next((f for f in self.sign_in_faults if f.endpoint == endpoint), None)
        if fault is not None:
            self.sign_in_faults.remove(fault)
            await asyncio.sleep(fault.hang_s)
        return fault

    # ------------------------------------------------------------ OAuth

    async def _authorize(self, request: web.Request) -> web.Response:
        """The consent page, approved at once: back to the redirect URI with `code` and `state`."""
        q = request.query
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return web.json_response({"error": "invalid_request"}, status=400)
        if q.get("access_type") != "offline":
            return web.json_response({"error": "invalid_request", "error_description": "no refresh token"}, status=400)
        scopes = set(q.get("scope", "").split())
        if "https://www.googleapis.com/auth/youtube.upload" not in scopes:
            return web.json_response({"error": "invalid_scope"}, status=400)
        if q.get("code_challenge") and q.get("code_challenge_method") != "S256":
            return web.json_response({"error": "invalid_request", "error_description": "S256 only"}, status=400)
        code = "4/" + secrets.token_urlsafe(12)
        self.codes[code] = (q.get("code_challenge"), q["redirect_uri"])
        raise web.HTTPFound(str(URL(q["redirect_uri"]).with_query({"code": code, "state": q["state"]})))

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.requests.append(("POST", "/token"))
        fault = await self._sign_in_fault("token")
        if fault is not None and not fault.no_refresh_token:
            return _fault_answer(fault)
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return web.json_response({"error": "invalid_client", "error_description": "Unauthorized"}, status=401)
        grant = form.get("grant_type")
        answer: dict[str, Any] = {"expires_in": self.expires_in, "token_type": "Bearer"}
        if grant == "authorization_code":
            granted = self.codes.pop(str(form.get("code")), None)
            if granted is None or granted[1] != form.get("redirect_uri"):
                return web.json_response({"error": "invalid_grant", "error_description": "Bad Request"}, status=400)
            challenge = granted[0]
            if challenge is not None:
                verifier = str(form.get("code_verifier", "")).encode()
                expected = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
                if expected != challenge:
                    return web.json_response(
                        {"error": "invalid_grant", "error_description": "code_verifier mismatch"}, status=400
                    )
            if fault is None:
                refresh = "1//" + secrets.token_urlsafe(16)
                self.refresh_tokens.add(refresh)
                answer["refresh_token"] = refresh
        elif grant == "refresh_token":
            if str(form.get("refresh_token")) not in self.refresh_tokens:
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, status=400
                )
        else:
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        answer["access_token"] = self.issue_token()
        answer["scope"] = (
            "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly"
        )
        return web.json_response(answer)

    async def _revoke(self, request: web.Request) -> web.Response:
        form = await request.post()
        token = str(form.get("token"))
        if token not in self.tokens and token not in self.refresh_tokens:
            return web.json_response(
                {"error": "invalid_token", "error_description": "Token expired or revoked"}, status=400
            )
        self.revoked_tokens.add(token)
        return web.Response(status=200)

    # ------------------------------------------------------------ Data API

    def _channel(self, request: web.Request) -> str | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return None if token in self.revoked_tokens else self.tokens.get(token)

    def _charge(self, *, upload: bool = False) -> web.Response | None:
        """Every call costs at least one unit of its bucket; past the day's limit, 403 quotaExceeded."""
        if upload:
            if self.uploads_used + 1 > self.daily_uploads:
                return _quota_exceeded()
            self.uploads_used += 1
            return None
        if self.units_used + 1 > self.daily_units:
            return _quota_exceeded()
        self.units_used += 1
        return None

    async def _channels(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", "/youtube/v3/channels"))
        channel = self._channel(request)
        if channel is None:
            return _auth_error()
        fault = await self._sign_in_fault("channels")
        if fault is not None:
            return _fault_answer(fault)
        refused = self._charge()
        if refused is not None:
            return refused
        if request.query.get("mine") != "true":
            return _google_error(400, "missingRequiredParameter", "No filter selected.")
        parts = set(request.query.get("part", "").split(","))
        item: dict[str, Any] = {"kind": "youtube#channel", "id": channel}
        if "snippet" in parts:
            item["snippet"] = {"title": self.channel_title, "customUrl": self.custom_url, "description": ""}
        if "contentDetails" in parts:
            item["contentDetails"] = {"relatedPlaylists": {"likes": "", "uploads": self.uploads_playlist}}
        return web.json_response({"kind": "youtube#channelListResponse", "items": [item]})

    async def _playlist_items(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", "/youtube/v3/playlistItems"))
        if self._channel(request) is None:
            return _auth_error()
        refused = self._charge()
        if refused is not None:
            return refused
        if request.query.get("playlistId") != self.uploads_playlist:
            return _google_error(
                404, "playlistNotFound", "The playlist identified with the request's playlistId cannot be found."
            )
        count = min(50, int(request.query.get("maxResults", "5")))
        items = [
            {
                "kind": "youtube#playlistItem",
                "id": secrets.token_urlsafe(8),
                "snippet": {
                    "title": v["snippet"]["title"],
                    "description": v["snippet"]["description"],
                    "channelId": self.channel_id,
                    "playlistId": self.uploads_playlist,
                    "resourceId": {"kind": "youtube#video", "videoId": v["id"]},
                },
            }
            for v in reversed(self.videos)
        ][:count]
        return web.json_response({"kind": "youtube#playlistItemListResponse", "items": items})

    async def _videos_list(self, request: web.Request) -> web.Response:
        """videos.list by id (at most 50, 1 unit a call); a video not on the channel is left out of items."""
        self.requests.append(("GET", "/youtube/v3/videos"))
        if self._channel(request) is None:
            return _auth_error()
        refused = self._charge()
        if refused is not None:
            return refused
        ids = [i for i in request.query.get("id", "").split(",") if i]
        if not ids or "maxResults" in request.query:
            return _google_error(400, "invalidFilters", "Incompatible parameters specified in the request.")
        if len(ids) > 50:
            return _google_error(400, "invalidValue", "Too many ids (at most 50).")
        parts = set(request.query.get("part", "").split(","))
        mine = {v["id"] for v in self.videos}
        items = []
        for video_id in ids:
            if video_id not in mine:
                continue
            item: dict[str, Any] = {"kind": "youtube#video", "id": video_id}
            if "statistics" in parts:
                item["statistics"] = {"viewCount": "0", "likeCount": "0", "favoriteCount": "0", "commentCount": "0"}
                item["statistics"].update(self.statistics.get(video_id, {}))
            items.append(item)
        return web.json_response({"kind": "youtube#videoListResponse", "items": items})

    # ------------------------------------------------------------ videos.insert, resumable

    async def _start_upload(self, request: web.Request) -> web.Response:
        self.requests.append(("POST", "/upload/youtube/v3/videos"))
        channel = self._channel(request)
        if channel is None:
            return _auth_error()
        q = request.query
        if q.get("uploadType") != "resumable" or not {"snippet", "status"} <= set(q.get("part", "").split(",")):
            return _google_error(400, "invalidParameter", "uploadType=resumable and part=snippet,status expected")
        refused = self._charge(upload=True)
        if refused is not None:
            return refused
        try:
            total = int(request.headers["X-Upload-Content-Length"])
            content_type = request.headers["X-Upload-Content-Type"]
        except (KeyError, ValueError):
            return _google_error(400, "badContent", "X-Upload-Content-Length and X-Upload-Content-Type are required")
        resource = await request.json()
        invalid = _invalid_resource(resource)
        if invalid is not None:
            return invalid
        upload_id = secrets.token_urlsafe(18)
        self.uploads[upload_id] = Upload(upload_id, channel, resource, total, content_type)
        location = f"{self.base_url}/upload/youtube/v3/videos?uploadType=resumable&upload_id={upload_id}"
        return web.Response(status=200, headers={"Location": location})

    async def _put(self, request: web.Request) -> web.StreamResponse:
        upload = self.uploads.get(request.query.get("upload_id", ""))
        body = await request.read()
        content_range = request.headers.get("Content-Range", "")
        put = Put(content_range, len(body), None)
        self.puts.append(put)
        if upload is None:
            put.answered = 404
            return _google_error(404, "notFound", "Upload session not found")
        if upload.dark:
            return _drop(request)
        if self._channel(request) is None:
            put.answered = 401
            return _auth_error()
        status_query = re.fullmatch(r"bytes \*/(\d+)", content_range)
        if status_query:
            return self._answer(put, upload)
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range)
        if match is None or int(match.group(3)) != upload.total:
            put.answered = 400
            return _google_error(400, "badContent", f"Bad Content-Range {content_range!r}")
        start, end = int(match.group(1)), int(match.group(2))
        last = end == upload.total - 1
        if start != len(upload.received) or end - start + 1 != len(body):
            put.answered = 400
            return _google_error(400, "badContent", f"Expected bytes from {len(upload.received)}, got {content_range}")
        if not last and len(body) % CHUNK_UNIT:
            put.answered = 400
            return _google_error(400, "badContent", "Chunks must be multiples of 256 KiB")
        self._data_puts += 1
        if self.expire_token_after_puts is not None and self._data_puts > self.expire_token_after_puts:
            put.answered = 401
            return _google_error(401, "authError", "Request had invalid authentication credentials.", domain="global")
        if self.drop_put is not None and self._data_puts == self.drop_put:
            self.drop_put = None
            upload.received.extend(body[: self.drop_keep_bytes])
            return _drop(request)
        upload.received.extend(body)
        if last and self.lose_final is not None:
            self._finish(upload)
            if self.lose_final == "session":
                upload.dark = True
            self.lose_final = None
            return _drop(request)
        return self._answer(put, upload)

    def _answer(self, put: Put, upload: Upload) -> web.Response:
        if len(upload.received) == upload.total:
            video = self._finish(upload)
            put.answered = 200
            return web.json_response(video)
        put.answered = 308
        headers = {"Range": f"bytes=0-{len(upload.received) - 1}"} if upload.received else {}
        return web.Response(status=308, headers=headers)

    def _finish(self, upload: Upload) -> dict[str, Any]:
        if upload.video_id is None:
            upload.video_id = secrets.token_urlsafe(8)[:11]
            self.videos.append(
                {
                    "kind": "youtube#video",
                    "id": upload.video_id,
                    "snippet": {**upload.resource["snippet"], "channelId": upload.channel_id},
                    "status": {**upload.resource["status"], "uploadStatus": "uploaded"},
                    "bytes": bytes(upload.received),
                }
            )
        video = next(v for v in self.videos if v["id"] == upload.video_id)
        return {k: v for k, v in video.items() if k != "bytes"}


def _invalid_resource(resource: dict[str, Any]) -> web.Response | None:
    snippet, status = resource.get("snippet") or {}, resource.get("status") or {}
    title = str(snippet.get("title", ""))
    if not title.strip() or len(title) > 100 or "<" in title or ">" in title:
        return _google_error(400, "invalidTitle", "The request metadata specifies an invalid video title.")
    text = str(snippet.get("description", ""))
    if len(text.encode()) > 5000 or "<" in text or ">" in text:
        return _google_error(400, "invalidDescription", "The request metadata specifies an invalid video description.")
    tags = [str(t) for t in snippet.get("tags") or []]
    if sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1) > 500:
        return _google_error(400, "invalidTags", "The request metadata specifies invalid video keywords.")
    if status.get("privacyStatus") not in ("public", "unlisted", "private"):
        return _google_error(400, "invalidVideoMetadata", "The request metadata is invalid.")
    return None


def _google_error(status: int, reason: str, message: str, domain: str = "youtube.video") -> web.Response:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
        }
    }
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


def _auth_error() -> web.Response:
    return _google_error(401, "authError", "Invalid Credentials", domain="global")


def _quota_exceeded() -> web.Response:
    return _google_error(
        403,
        "quotaExceeded",
        "The request cannot be completed because you have exceeded your quota.",
        domain="youtube.quota",
    )


def _drop(request: web.Request) -> web.Response:
    """Close the connection without an answer, as a network drop looks to the client."""
    assert request.transport is not None
    request.transport.abort()
    return web.Response(status=204)


def _fault_answer(fault: SignInFault) -> web.Response:
    if fault.body is not None:
        return web.Response(status=200, text=fault.body, content_type="application/json")
    status = fault.status or 503
    if status == 400:  # the token endpoint's OAuth error
        return web.json_response({"error": "invalid_grant", "error_description": "Bad Request"}, status=400)
    reason = {401: "authError", 403: "forbidden", 429: "rateLimitExceeded"}.get(status, "backendError")
    return _google_error(status, reason, "fault")
