"""A fake Meta Graph API over HTTP: Facebook Login, Pages, and Instagram content publishing.

It speaks Meta's documented wire format. The login dialog (`/<version>/dialog/oauth`) redirects back with
`code` and `state` (or `error=access_denied`); `GET /<version>/oauth/access_token` exchanges the code for a
short-lived user token and `grant_type=fb_exchange_token` for a long-lived one; tokens come as a Bearer
header or `access_token`, and `appsecret_proof` is checked when sent. Failures are HTTP 400 (or 5xx) with
`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.

Instagram: `POST /<ig-user>/media` creates a container and fetches its `image_url` / `video_url` over
HTTP as Instagram does (a failed fetch, or bytes that aren't a JPEG / an MP4, turn the container ERROR);
a container stays IN_PROGRESS for `processing_polls` status reads, then FINISHED; `media_publish` makes
the post and counts against `content_publishing_limit` (`quota_total` per rolling 24 hours). Pages:
`/<page>/feed`, `/photos` (fetches `url`, or takes `source`), `/videos` (`file_url` or `source`), and
`/<page>/posts`, which, as on Facebook, lists a video only once processed (here: never; `/videos` does).

Analytics: the multiple-id read `GET /<version>/?ids=a,b&fields=...` answers each node's asked fields, with
`insights.metric(...)` as a field expansion (media insights' current metric names; asking a feed post for a
Reels metric fails the whole call with code 100, as Meta does) and `reactions`/`comments` summaries and
`shares` for Page posts; an id that doesn't exist fails the whole call with code 803. The series are what a
test puts in `ig_insights` / `fb_insights`; `app_usage` / `page_usage` set the `X-App-Usage` /
`X-Business-Use-Case-Usage` headers (percent of the budget used) on every such answer.

Faults (`GraphFault`) are switched on per test for a named call: a lost answer after the call took
effect, 5xx, a rate-limit error (code 4/32 with `X-Business-Use-Case-Usage`), a revoked token (code 190),
a rejection, or a 200 whose body is not what Meta documents (the sign-in's calls: `access_token`,
`fb_exchange_token`, `permissions`, `accounts`, `debug_token`, `me`). `revoke_all()` invalidates every
token issued so far.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

GRAPH_TIME = "%Y-%m-%dT%H:%M:%S+0000"


@dataclass
class GraphFault:
    """What the next `count` calls named `target` meet: `media` (container create), `media_publish`,
    `feed`, `photos`, `videos`, `content_publishing_limit`. `after_create`: the call takes effect, then its
    answer is lost (the client times out after `hang_s`) or replaced by the error."""

    # ... and `ids` (the multiple-id read analytics uses); the sign-in's: `access_token` (the code exchange),
    # `fb_exchange_token` (short-lived for long-lived), `permissions`, `accounts`, `debug_token`, `me`.
    target: str
    status: int = 400
    code: int | None = None  # the Graph error code; None with a 5xx: a bare gateway error
    subcode: int | None = None
    message: str = "An unexpected error has occurred. Please retry your request later."
    hang_s: float = 0.0
    after_create: bool = False
    regain_minutes: int | None = None  # X-Business-Use-Case-Usage estimated_time_to_regain_access
    count: int = 1
    body: str | None = None  # answer 200 with this body instead (garbage, or JSON without what it must hold)


@dataclass
class FakeMeta:
    app_id: str = "1234567890"
    app_secret: str = "meta-secret"
    user_id: str = "10160000000000001"  # the app-scoped id of the person who signs in
    page_id: str = "104000000000001"
    page_name: str = "Asha Rao Studio"
    ig_user_id: str = "17841400000000001"
    # Further Pages the person manages, as /me/accounts lists them (each may carry instagram_business_account).
    extra_pages: list[dict[str, Any]] = field(default_factory=list)
    ig_username: str = "asha.builds"
    has_instagram: bool = True
    declined_permissions: set[str] = field(default_factory=set)
    decline: bool = False  # the person cancels the login dialog
    processing_polls: int = 2  # status reads a container stays IN_PROGRESS for
    quota_total: int = 100  # Meta's current guide: 100 API-published posts per rolling 24 hours
    quota_duration: int = 86_400
    long_lived_s: int = 5_184_000  # about 60 days
    faults: list[GraphFault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(17_900_000_000_000_000)
        self.codes: dict[str, str] = {}  # code -> redirect_uri
        self.user_tokens: dict[str, str] = {}  # token -> user id
        self.page_tokens: dict[str, str] = {}  # token -> page id
        self.long_lived: set[str] = set()  # user tokens from fb_exchange_token
        self.token_expiry: dict[str, int] = {}  # token -> epoch seconds (0: never), as debug_token says
        self.revoked: set[str] = set()
        self.granted: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        self.containers: dict[str, dict[str, Any]] = {}
        self.ig_media: list[dict[str, Any]] = []
        self.publishes: list[datetime] = []  # media_publish times, for content_publishing_limit
        self.page_posts: list[dict[str, Any]] = []
        self.page_videos: list[dict[str, Any]] = []
        self.fetched: list[str] = []  # media URLs Meta fetched
        # Analytics: media id -> metric -> lifetime value; Page post id -> metrics and reactions/comments/shares.
        self.ig_insights: dict[str, dict[str, int]] = {}
        self.fb_insights: dict[str, dict[str, int]] = {}
        # Media's public like_count / comments_count where they differ from the insights (insights lag).
        self.ig_public: dict[str, dict[str, int]] = {}
        self.app_usage: dict[str, int] | None = None  # X-App-Usage
        self.page_usage: dict[str, int] | None = None  # X-Business-Use-Case-Usage for the Page / IG account
        self.ids_reads: list[tuple[list[str], str]] = []  # (ids, fields) of each multiple-id read
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> FakeMeta:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/{version}/", self._ids_read)
        app.router.add_get("/{version}/dialog/oauth", self._dialog)
        app.router.add_get("/{version}/oauth/access_token", self._access_token)
        app.router.add_get("/{version}/me/permissions", self._permissions)
        app.router.add_delete("/{version}/me/permissions", self._delete_permissions)
        app.router.add_delete("/{version}/me/permissions/{permission}", self._delete_permissions)
        app.router.add_get("/{version}/me/accounts", self._accounts)
        app.router.add_get("/{version}/debug_token", self._debug_token)
        app.router.add_delete("/{version}/{node}/permissions/{permission}", self._delete_permissions_as_app)
        app.router.add_get("/{version}/{node}", self._node)
        app.router.add_get("/{version}/{node}/{edge}", self._edge_get)
        app.router.add_post("/{version}/{node}/{edge}", self._edge_post)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------ what tests set up and read

    def grant_code(self, redirect_uri: str, scopes: tuple[str, ...] | None = None) -> str:
        """A code as the login dialog sends it to the redirect URI after the person approved `scopes`
        (less `declined_permissions`) on top of what they granted before."""
        if scopes is not None:
            self.granted |= set(scopes) - self.declined_permissions  # grants add up, as on Facebook
        code = secrets.token_urlsafe(12)
        self.codes[code] = redirect_uri
        return code

    @property
    def app_token(self) -> str:
        return f"{self.app_id}|{self.app_secret}"

    def revoke_all(self) -> None:
        self.revoked.update(self.user_tokens)
        self.revoked.update(self.page_tokens)

    def used_quota(self, count: int, *, hours_ago: float = 1.0) -> None:
        """`count` posts published through the API `hours_ago` (they count until 24 hours after)."""
        when = datetime.now(UTC) - timedelta(hours=hours_ago)
        for _ in range(count):
            self._add_ig_media(f"earlier post {secrets.token_hex(3)}", when)

    def add_media(self, caption: str, *, reel: bool = False, hours_ago: float = 2.0) -> str:
        """A media object on the account (as if published earlier), its id."""
        media = self._add_ig_media(caption, datetime.now(UTC) - timedelta(hours=hours_ago))
        media["product"] = "REELS" if reel else "FEED"
        return str(media["id"])

    def add_page_post(self, message: str, page_id: str | None = None) -> str:
        post_id = f"{page_id or self.page_id}_{next(self._ids)}"
        self.page_posts.append(
            {"id": post_id, "message": message, "permalink_url": f"https://www.facebook.com/{post_id}"}
        )
        return post_id

    def published_media(self) -> list[dict[str, Any]]:
        return [m for m in self.ig_media if m.get("container")]

    # ------------------------------------------------------------ login

    async def _dialog(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != self.app_id or q.get("response_type", "code") != "code":
            return _error(400, 100, "Invalid client_id or response_type")
        target = URL(q["redirect_uri"])
        if self.decline:
            params = {
                "error": "access_denied",
                "error_code": "200",
                "error_description": "Permissions error",
                "error_reason": "user_denied",
                "state": q["state"],
            }
            raise web.HTTPFound(str(target.with_query(params)))
        code = self.grant_code(q["redirect_uri"], tuple(s for s in q.get("scope", "").split(",") if s))
        raise web.HTTPFound(str(target.with_query({"code": code, "state": q["state"]})))

    async def _access_token(self, request: web.Request) -> web.Response:
        q = request.query
        self.requests.append(("GET", "oauth/access_token"))
        fault = self._fault("fb_exchange_token" if q.get("grant_type") == "fb_exchange_token" else "access_token")
        if fault is not None:
            return await _fail(fault)
        if q.get("client_id") != self.app_id or q.get("client_secret") != self.app_secret:
            return _error(400, 101, "Error validating client secret.", kind="OAuthException")
        if q.get("grant_type") == "fb_exchange_token":
            short = q.get("fb_exchange_token", "")
            if short not in self.user_tokens or short in self.revoked:
                return _error(400, 190, "Error validating access token: the session is invalid.")
            token = "EAAL" + secrets.token_urlsafe(16)
            self.user_tokens[token] = self.user_tokens[short]
            self.long_lived.add(token)
            self.token_expiry[token] = int(datetime.now(UTC).timestamp()) + self.long_lived_s
            return web.json_response({"access_token": token, "token_type": "bearer", "expires_in": self.long_lived_s})
        redirect = self.codes.pop(q.get("code", ""), None)
        if redirect is None:
            return _error(400, 100, "This authorization code has been used.", subcode=36009)
        if redirect != q.get("redirect_uri"):
            return _error(
                400, 100, "Error validating verification code. Please make sure your redirect_uri is identical"
            )
        token = "EAAS" + secrets.token_urlsafe(16)
        self.user_tokens[token] = self.user_id
        return web.json_response({"access_token": token, "token_type": "bearer", "expires_in": 5_400})

    # ------------------------------------------------------------ tokens

    def _token(self, request: web.Request) -> tuple[str | None, web.Response | None]:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").removeprefix("OAuth ") if header else request.query.get("access_token")
        if not token:
            return None, _error(400, 2500, "An active access token must be used to query information.")
        proof = request.query.get("appsecret_proof")
        expected = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if proof is not None and not hmac.compare_digest(proof, expected):
            return None, _error(400, 100, "Invalid appsecret_proof provided in the API argument")
        if token == self.app_token:
            return token, None
        if token in self.revoked or (token not in self.user_tokens and token not in self.page_tokens):
            return None, _error(
                400,
                190,
                "Error validating access token: The user has not authorized application 1234567890.",
                subcode=458,
            )
        return token, None

    def _user(self, request: web.Request) -> tuple[str | None, web.Response | None]:
        token, refused = self._token(request)
        if refused is not None or token is None:
            return None, refused
        if token not in self.user_tokens:
            return None, _error(400, 190, "This endpoint needs a user access token", subcode=467)
        return token, None

    def _needs(self, permission: str) -> web.Response | None:
        if permission not in self.granted:
            return _error(
                400, 200, f"(#200) Requires {permission} permission to manage the object", kind="OAuthException"
            )
        return None

    async def _permissions(self, request: web.Request) -> web.Response:
        _, refused = self._user(request)
        if refused is not None:
            return refused
        fault = self._fault("permissions")
        if fault is not None:
            return await _fail(fault)
        data = [{"permission": p, "status": "granted"} for p in sorted(self.granted)]
        data += [{"permission": p, "status": "declined"} for p in sorted(self.declined_permissions)]
        return web.json_response({"data": data})

    async def _delete_permissions(self, request: web.Request) -> web.Response:
        token, refused = self._user(request)
        if refused is not None or token is None:
            return refused or _error(400, 190, "no token")
        permission = request.match_info.get("permission")
        self.requests.append(("DELETE", f"me/permissions/{permission}" if permission else "me/permissions"))
        if permission is None:
            self.granted.clear()
            self.revoke_all()
        else:
            self.granted.discard(permission)
        return web.json_response({"success": True})

    def _page_token_for(self, user_token: str, page_id: str | None = None) -> str:
        """A Page token as Meta mints it: without expiry when asked with a long-lived user token, for an hour
        when asked with a short-lived one."""
        page_token = "EAAP" + secrets.token_urlsafe(16)
        self.page_tokens[page_token] = page_id or self.page_id
        never = user_token in self.long_lived
        self.token_expiry[page_token] = 0 if never else int(datetime.now(UTC).timestamp()) + 3600
        return page_token

    def _page_name(self, page_id: str) -> str:
        return next((str(p.get("name")) for p in self.extra_pages if str(p.get("id")) == page_id), self.page_name)

    def _page_ids(self) -> set[str]:
        return {self.page_id, *(str(p["id"]) for p in self.extra_pages if p.get("id"))}

    async def _accounts(self, request: web.Request) -> web.Response:
        token, refused = self._user(request)
        if refused is not None or token is None:
            return refused or _error(400, 190, "no token")
        fault = self._fault("accounts")
        if fault is not None:
            return await _fail(fault)
        if "pages_show_list" not in self.granted:
            return web.json_response({"data": []})
        page_token = self._page_token_for(token)
        page: dict[str, Any] = {"id": self.page_id, "name": self.page_name, "access_token": page_token}
        if self.has_instagram and "instagram_basic" in self.granted:
            page["instagram_business_account"] = {"id": self.ig_user_id, "username": self.ig_username}
        # Further Pages the person manages: each with a token of its own, as Meta lists them.
        others = [
            {**extra, "access_token": self._page_token_for(token, str(extra["id"]))}
            if extra.get("id") and extra.get("manages", True)
            else extra
            for extra in self.extra_pages
        ]
        pages = [page, *({k: v for k, v in p.items() if k != "manages"} for p in others)]
        return web.json_response({"data": pages, "paging": {"cursors": {"before": "QVFI", "after": "QVFI"}}})

    async def _debug_token(self, request: web.Request) -> web.Response:
        token, refused = self._token(request)
        if refused is not None or token is None:
            return refused or _error(400, 190, "no token")
        if token != self.app_token:
            return _error(400, 100, "(#100) You must provide an app access token, or a user access token")
        fault = self._fault("debug_token")
        if fault is not None:
            return await _fail(fault)
        subject = request.query.get("input_token", "")
        valid = subject not in self.revoked and (subject in self.user_tokens or subject in self.page_tokens)
        data: dict[str, Any] = {"app_id": self.app_id, "is_valid": valid}
        if valid:
            data |= {
                "type": "PAGE" if subject in self.page_tokens else "USER",
                "user_id": self.user_id,
                "expires_at": self.token_expiry.get(subject, 0),
                "scopes": sorted(self.granted),
            }
            if subject in self.page_tokens:
                data["profile_id"] = self.page_tokens[subject]
        return web.json_response({"data": data})

    async def _delete_permissions_as_app(self, request: web.Request) -> web.Response:
        token, refused = self._token(request)
        if refused is not None or token is None:
            return refused or _error(400, 190, "no token")
        node, permission = request.match_info["node"], request.match_info["permission"]
        if token != self.app_token or node != self.user_id:
            return _error(400, 100, f"(#100) Cannot revoke permissions of {node} with this token")
        self.requests.append(("DELETE", f"{node}/permissions/{permission}"))
        self.granted.discard(permission)
        return web.json_response({"success": True})

    # ------------------------------------------------------------ nodes

    async def _node(self, request: web.Request) -> web.Response:
        node = request.match_info["node"]
        self.requests.append(("GET", node))
        token, refused = self._token(request)
        if refused is not None or token is None:
            return refused or _error(400, 190, "no token")
        if node == "me":
            fault = self._fault("me")
            if fault is not None:
                return await _fail(fault)
            if token in self.page_tokens:  # a Page token's "me" is the Page
                page_id = self.page_tokens[token]
                return web.json_response({"id": page_id, "name": self._page_name(page_id)})
            return web.json_response({"id": self.user_tokens[token], "name": "Asha Rao"})
        if node == self.page_id:
            if token not in self.user_tokens:
                return _error(400, 190, "A user access token is required to request this resource.")
            return web.json_response({"id": self.page_id, "access_token": self._page_token_for(token)})
        if node in self.containers:
            return self._container_status(node)
        for media in self.ig_media:
            if media["id"] == node:
                return web.json_response({"id": node, "permalink": media["permalink"]})
        for post in self.page_posts + self.page_videos:
            if post["id"] == node:
                return web.json_response({"id": node, "permalink_url": post["permalink_url"]})
        return _error(400, 100, f"Unsupported get request. Object with ID '{node}' does not exist", subcode=33)

    def _container_status(self, container_id: str) -> web.Response:
        container = self.containers[container_id]
        if container["status_code"] == "IN_PROGRESS":
            if container["polls_left"] > 0:
                container["polls_left"] -= 1
            else:
                container["status_code"] = container["outcome"]
        body = {"id": container_id, "status_code": container["status_code"]}
        if container["status_code"] == "ERROR":
            body["status"] = container["status"]
        elif container["status_code"] in ("FINISHED", "PUBLISHED"):
            body["status"] = "Finished: Media has been uploaded and it is ready to be published."
        else:
            body["status"] = "In Progress: Media is still being processed."
        return web.json_response(body)

    async def _edge_get(self, request: web.Request) -> web.Response:
        node, edge = request.match_info["node"], request.match_info["edge"]
        self.requests.append(("GET", f"{node}/{edge}"))
        token, refused = self._token(request)
        if refused is not None or token is None:
            return refused or _error(400, 190, "no token")
        limit = int(request.query.get("limit", "25"))
        if node == self.ig_user_id and edge == "content_publishing_limit":
            fault = self._fault("content_publishing_limit")
            if fault is not None:
                return await _fail(fault)
            since = datetime.now(UTC) - timedelta(seconds=self.quota_duration)
            used = sum(1 for t in self.publishes if t > since)
            config = {"quota_total": self.quota_total, "quota_duration": self.quota_duration}
            return web.json_response({"data": [{"quota_usage": used, "config": config}]})
        if node == self.ig_user_id and edge == "media":
            items = [
                {
                    "id": m["id"],
                    "caption": m["caption"],
                    "permalink": m["permalink"],
                    "timestamp": m["timestamp"].strftime(GRAPH_TIME),
                }
                for m in sorted(self.ig_media, key=lambda m: m["timestamp"], reverse=True)[:limit]
            ]
            return web.json_response({"data": items})
        if node in self._page_ids() and edge in ("posts", "videos"):
            if self.page_tokens.get(token) != node:
                return _error(400, 190, "(#190) This method must be called with a Page Access Token")
            rows = [r for r in (self.page_posts if edge == "posts" else self.page_videos) if _page_of(r) == node]
            return web.json_response({"data": list(reversed(rows))[:limit]})
        return _error(400, 100, f"Unknown path components: /{node}/{edge}", kind="OAuthException")

    # ------------------------------------------------------------ creating

    async def _edge_post(self, request: web.Request) -> web.Response:
        node, edge = request.match_info["node"], request.match_info["edge"]
        self.requests.append(("POST", f"{node}/{edge}"))
        token, refused = self._token(request)
        if refused is not None or token is None:
            return refused or _error(400, 190, "no token")
        form = await request.post()
        fault = self._fault(edge)
        if fault is not None and not fault.after_create:
            return await _fail(fault)
        if node == self.ig_user_id and edge == "media":
            answer = await self._create_container(form)
        elif node == self.ig_user_id and edge == "media_publish":
            answer = self._media_publish(str(form.get("creation_id", "")))
        elif node in self._page_ids() and edge in ("feed", "photos", "videos"):
            if self.page_tokens.get(token) != node:
                return _error(
                    400, 200, "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts"
                )
            answer = await self._page_post(edge, form, node)
        else:
            return _error(400, 100, f"Unknown path components: /{node}/{edge}")
        if fault is not None and answer.status < 300:
            return await _fail(fault)
        return answer

    async def _create_container(self, form: Any) -> web.Response:
        refused = self._needs("instagram_content_publish")
        if refused is not None:
            return refused
        caption = str(form.get("caption", ""))
        if len(caption) > 2200:
            return _error(400, 100, "The caption is too long.", subcode=2207010)
        if form.get("media_type") == "REELS":
            kind, url = "video", str(form.get("video_url", ""))
        elif form.get("media_type") in (None, "IMAGE"):
            kind, url = "image", str(form.get("image_url", ""))
        else:
            return _error(400, 100, "The media type is not supported", subcode=2207023)
        if not url:
            return _error(400, 100, "The parameter image_url or video_url is required", subcode=2207001)
        outcome, status = await self._fetch_media(url, kind)
        container_id = str(next(self._ids))
        self.containers[container_id] = {
            "kind": kind,
            "url": url,
            "caption": caption,
            "polls_left": self.processing_polls,
            "status_code": "IN_PROGRESS",
            "outcome": outcome,
            "status": status,
        }
        return web.json_response({"id": container_id})

    async def _fetch_media(self, url: str, kind: str) -> tuple[str, str]:
        """Instagram cURLs the media itself: what it gets decides the container's fate."""
        self.fetched.append(url)
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:  # noqa: SIM117
                async with session.get(url) as response:
                    data = await response.read()
                    status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return "ERROR", f"Error: Media download has failed. The media URI doesn't meet our requirements. ({exc})"
        if status != 200:
            return (
                "ERROR",
                f"Error: Media download has failed. The media URI doesn't meet our requirements. (HTTP {status})",
            )
        if kind == "image" and not data.startswith(b"\xff\xd8\xff"):
            return "ERROR", "Error: Only photo or video can be accepted as media type. (image is not a JPEG)"
        if kind == "video" and data[4:8] != b"ftyp":
            return "ERROR", "Error: The video file you selected is in a format that we don't support."
        return "FINISHED", ""

    def _media_publish(self, creation_id: str) -> web.Response:
        container = self.containers.get(creation_id)
        if container is None:
            return _error(400, 100, "Media ID is not available", subcode=2207006)
        if container["status_code"] != "FINISHED":
            return _error(400, 9007, "The media is not ready for publishing, please wait for a moment", subcode=2207027)
        since = datetime.now(UTC) - timedelta(seconds=self.quota_duration)
        if sum(1 for t in self.publishes if t > since) >= self.quota_total:
            return _error(
                400,
                9,
                "Application request limit reached",
                subcode=2207042,
                user_msg="You reached maximum number of posts that is allowed to be published by "
                "Content Publishing API.",
            )
        container["status_code"] = "PUBLISHED"
        media = self._add_ig_media(container["caption"], datetime.now(UTC), container=creation_id)
        return web.json_response({"id": media["id"]})

    def _add_ig_media(self, caption: str, when: datetime, container: str | None = None) -> dict[str, Any]:
        media_id = str(next(self._ids))
        media = {
            "id": media_id,
            "caption": caption,
            "permalink": f"https://www.instagram.com/p/C{secrets.token_urlsafe(8)}/",
            "timestamp": when.replace(microsecond=0),
            "container": container,
            "product": "REELS" if container and self.containers[container]["kind"] == "video" else "FEED",
        }
        self.ig_media.append(media)
        self.publishes.append(when)
        return media

    async def _page_post(self, edge: str, form: Any, page_id: str) -> web.Response:
        number = next(self._ids)
        post_id = f"{page_id}_{number}"
        if edge == "feed":
            message = str(form.get("message", ""))
            if not message.strip():
                return _error(400, 100, "(#100) Missing message or attachment")
            if any(p["message"] == message for p in self.page_posts):
                return _error(400, 506, "(#506) Duplicate status message")
            self.page_posts.append(
                {"id": post_id, "message": message, "permalink_url": f"https://www.facebook.com/{post_id}"}
            )
            return web.json_response({"id": post_id})
        media_field, kind = ("url", "image") if edge == "photos" else ("file_url", "video")
        source = form.get("source")
        if source is not None:
            data = source.file.read()
        elif form.get(media_field):
            self.fetched.append(str(form[media_field]))
            try:
                async with aiohttp.ClientSession() as session, session.get(str(form[media_field])) as response:
                    data = await response.read() if response.status == 200 else b""
            except aiohttp.ClientError:
                data = b""
        else:
            data = b""
        if kind == "image" and not data[:4].startswith(b"\xff\xd8\xff") and not data.startswith(b"\x89PNG"):
            return _error(400, 324, "(#324) Requires upload file", subcode=2069019)
        if kind == "video" and data[4:8] != b"ftyp":
            return _error(400, 352, "(#352) Sorry, the video file you selected is in a format that we don't support.")
        if edge == "photos":
            message = str(form.get("message", ""))
            photo_id = str(next(self._ids))
            self.page_posts.append(
                {
                    "id": post_id,
                    "message": message,
                    "permalink_url": f"https://www.facebook.com/{post_id}",
                    "photo": photo_id,
                }
            )
            return web.json_response({"id": photo_id, "post_id": post_id})
        video_id = str(number)
        self.page_videos.append(
            {
                "id": video_id,
                "description": str(form.get("description", "")),
                "permalink_url": f"/{page_id}/videos/{video_id}/",
            }
        )
        return web.json_response({"id": video_id})

    async def _ids_read(self, request: web.Request) -> web.Response:
        """`GET /?ids=...&fields=...`: each id's node with the asked fields, or the whole call refused."""
        token, refused = self._token(request)
        if refused is not None or token is None:
            return refused or _error(400, 190, "no token")
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        fields = request.query.get("fields", "id")
        self.ids_reads.append((ids, fields))
        fault = self._fault("ids")
        if fault is not None:
            return await _fail(fault)
        if not ids or len(ids) > 50:
            return _error(400, 100, "(#100) ids must be between 1 and 50")
        media = {str(m["id"]): m for m in self.ig_media}
        posts = {str(p["id"]): p for p in self.page_posts + self.page_videos}
        if "insights." in fields:
            needed = "instagram_manage_insights" if any(i in media for i in ids) else "read_insights"
            if needed not in self.granted:
                return _error(400, 10, f"(#10) Application does not have permission for this action ({needed})")
        missing = [i for i in ids if i not in media and i not in posts]
        if missing:
            return _error(400, 803, f"(#803) Some of the aliases you requested do not exist: {','.join(missing)}")
        answer: dict[str, Any] = {}
        for node in ids:
            built: dict[str, Any] = {"id": node}
            for name in _top_level(fields):
                value = self._media_field(media[node], name) if node in media else self._post_field(node, name)
                if isinstance(value, web.Response):
                    return value
                if value is not None:
                    built[name.split(".", 1)[0]] = value
            answer[node] = built
        response = web.json_response(answer)
        if self.app_usage is not None:
            response.headers["X-App-Usage"] = json.dumps(self.app_usage)
        if self.page_usage is not None:
            response.headers["X-Business-Use-Case-Usage"] = json.dumps(
                {self.page_id: [{"type": "pages", **self.page_usage, "estimated_time_to_regain_access": 0}]}
            )
        return response

    def _media_field(self, media: dict[str, Any], name: str) -> Any:
        series = self.ig_insights.get(str(media["id"]), {})
        if name == "media_product_type":
            return media.get("product", "FEED")
        public = self.ig_public.get(str(media["id"]), series)
        if name == "like_count":
            return public.get("likes", 0)
        if name == "comments_count":
            return public.get("comments", 0)
        if name.startswith("insights.metric("):
            metrics = name.removeprefix("insights.metric(").rstrip(")").split(",")
            reel_only = {"ig_reels_avg_watch_time", "ig_reels_video_view_total_time"}
            for metric in metrics:
                if metric in ("impressions", "plays", "video_views"):
                    return _error(400, 100, f"(#100) {metric} metric is no longer supported", subcode=2108006)
                if metric in reel_only and media.get("product") != "REELS":
                    return _error(
                        400,
                        100,
                        f"(#100) The Media Insights API does not support the {metric} metric for this media "
                        "product type.",
                        subcode=2108006,
                    )
            return {"data": [_metric(str(media["id"]), m, series[m]) for m in metrics if m in series]}
        return media.get(name)

    def _post_field(self, post_id: str, name: str) -> Any:
        series = self.fb_insights.get(post_id, {})
        video = "_" not in post_id
        if name.startswith(("reactions.", "comments.")):
            edge = name.split(".", 1)[0]
            return {"data": [], "summary": {"total_count": series.get(edge, 0)}}
        if name == "shares":
            if video:
                return _error(400, 100, "(#100) Tried accessing nonexisting field (shares) on node type (Video)")
            return {"count": series["shares"]} if series.get("shares") else None  # absent when nobody shared
        if name.startswith("insights.metric("):
            if video:
                return _error(400, 100, "(#100) Tried accessing nonexisting field (insights) on node type (Video)")
            metrics = name.removeprefix("insights.metric(").rstrip(")").split(",")
            retired = {"post_impressions_unique", "post_impressions_organic_unique", "post_engaged_users"}
            if retired & set(metrics):
                return _error(400, 100, "(#100) The value must be a valid insights metric")
            return {"data": [_metric(post_id, m, series[m]) for m in metrics if m in series]}
        return None

    def _fault(self, target: str) -> GraphFault | None:
        for fault in self.faults:
            if fault.target == target:
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None


def _top_level(fields: str) -> list[str]:
    """`a,b.metric(x,y),c` -> [a, b.metric(x,y), c]: commas inside parentheses belong to their field."""
    parts, depth, current = [], 0, ""
    for char in fields:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [p for p in (*parts, current) if p and p != "id"]


def _metric(node: str, name: str, value: int) -> dict[str, Any]:
    return {
        "name": name,
        "period": "lifetime",
        "values": [{"value": value}],
        "title": name.replace("_", " ").title(),
        "id": f"{node}/insights/{name}/lifetime",
    }


def _page_of(row: dict[str, Any]) -> str:
    """The Page a post or video row is on (post ids are `<page>_<n>`; videos say it in their permalink)."""
    if "_" in str(row["id"]):
        return str(row["id"]).split("_", 1)[0]
    return str(row.get("permalink_url", "")).strip("/").split("/", 1)[0]


def _error(
    status: int,
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    kind: str = "OAuthException",
    user_msg: str | None = None,
) -> web.Response:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "A" + secrets.token_hex(8)}
    if subcode is not None:
        error["error_subcode"] = subcode
    if user_msg is not None:
        error["error_user_msg"] = user_msg
    return web.json_response({"error": error}, status=status)


async def _fail(fault: GraphFault) -> web.Response:
    if fault.hang_s:
        await asyncio.sleep(fault.hang_s)
    if fault.body is not None:
        return web.Response(status=200, text=fault.body, content_type="application/json")
    if fault.code is None:  # a bare 5xx from Meta's edge
        return web.Response(status=fault.status, text="<html><body>Bad Gateway</body></html>", content_type="text/html")
    headers = {}
    if fault.code in (4, 17):  # app / user limit: the app's usage header says which budget is spent
        headers["X-App-Usage"] = json.dumps({"call_count": 100, "total_cputime": 30, "total_time": 40})
    if fault.regain_minutes is not None:
        usage = {
            "104000000000001": [
                {"type": "pages", "call_count": 100, "estimated_time_to_regain_access": fault.regain_minutes}
            ]
        }
        headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
    response = _error(fault.status, fault.code, fault.message, subcode=fault.subcode)
    response.headers.update(headers)
    return response
