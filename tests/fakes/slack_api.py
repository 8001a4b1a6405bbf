"""A fake Slack Web API: a local HTTP server answering the methods Recast calls, recording every call.

Point slack_sdk at it with ``AsyncWebClient(token=..., base_url=fake.base_url)``. Requests are accepted as
Slack accepts them (form-encoded or JSON body, token in the Authorization header or the form); replies are
``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``. Block Kit limits Slack enforces are enforced here
too (≤ 50 blocks, section text ≤ 3000 characters) so oversized messages fail like they would in Slack.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None
    response: dict[str, Any] = field(default_factory=dict)  # what the fake answered (e.g. a message's ts)


@dataclass
class FakeSlack:
    team_id: str = "T0RECAST"
    bot_user_id: str = "U0BOT"
    bot_token: str = "xoxb-test-token"
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    # files.info answers from here; their bytes are served at `url_private` to a request with a bot token.
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_bytes: dict[str, bytes] = field(default_factory=dict)
    downloads: list[tuple[str, str | None]] = field(default_factory=list)
    installed_token: str = "xoxb-installed"
    oauth_team_id: str = "T0OAUTH"  # the workspace oauth.v2.access reports as installed
    oauth_user_id: str = "U0INSTALLER"  # and who installed it
    # files_upload_v2: files.getUploadURLExternal hands out an upload URL, the bytes are POSTed there, and
    # files.completeUploadExternal shares them in a channel; each shared file lands here.
    uploads: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.faults: dict[str, list[tuple[str, int, int | None]]] = {}
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self._pending: dict[str, dict[str, Any]] = {}  # upload URLs handed out, by file id

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/api/{method}", self._handle)  # slack_sdk reads (users.info, files.info) with GET
        app.router.add_get("/files-pri/{file_id}/{name}", self._download)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.root_url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.root_url}/api/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ setup
    def add_user(self, user_id: str, email: str, name: str = "Someone", *, is_admin: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name.lower(),
            "real_name": name,
            "is_admin": is_admin,
            "is_owner": False,
            "profile": {"email": email, "real_name": name},
        }

    def add_file(
        self, file_id: str, name: str, mimetype: str, data: bytes = b"", *, size: int | None = None
    ) -> dict[str, Any]:
        """A file as files.info describes it; `size` may claim more than `data` holds (a huge upload)."""
        url = f"{self.root_url}/files-pri/{self.team_id}-{file_id}/{name}"
        self.files[file_id] = {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": name.rsplit(".", 1)[-1],
            "size": len(data) if size is None else size,
            "url_private": url,
            "url_private_download": url + "?dl=1",
            "permalink": f"https://recast-test.slack.com/files/{file_id}/{name}",
        }
        self.file_bytes[file_id] = data
        return self.files[file_id]

    def fail_next(self, method: str, error: str, *, status: int = 200, retry_after: int | None = None) -> None:
        """The next call of `method` is refused as Slack refuses it: `{"ok": false, "error": ...}`, with HTTP
        429 and `Retry-After` when rate limited."""
        self.faults.setdefault(method, []).append((error, status, retry_after))

    # ------------------------------------------------------------------ inspection
    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = lambda c: True,
        *,
        count: int = 1,
        timeout: float = 30.0,
    ) -> list[Call]:
        """Wait until `count` calls of `method` match; generous timeout so a slow machine never flakes."""

        async def matched() -> list[Call]:
            async with self._changed:
                while len(found := [c for c in self.calls_to(method) if predicate(c)]) < count:
                    await self._changed.wait()
                return found

        return await asyncio.wait_for(matched(), timeout)

    # ------------------------------------------------------------------ protocol
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        # slack_sdk sends some methods' arguments in the query string even with POST (files.getUploadURLExternal,
        # files.completeUploadExternal); Slack reads both.
        params: dict[str, Any] = dict(request.query)
        if request.method == "GET":
            pass
        elif request.content_type == "application/json":
            params.update(await request.json())
        else:
            params.update(await request.post())
        for key in ("blocks", "view", "attachments"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth else params.get("token")
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        fault = self.faults[method].pop(0) if self.faults.get(method) else None
        if fault is not None:
            error, status, retry_after = fault
            answer: dict[str, Any] = {"ok": False, "error": error}
            call = Call(method, params, token, answer)
            async with self._changed:
                self.calls.append(call)
                self._changed.notify_all()
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
            return web.json_response(answer, status=status, headers=headers)
        if handler is None:
            answer = {"ok": False, "error": "unknown_method"}
        elif method != "oauth.v2.access" and not token:
            answer = {"ok": False, "error": "not_authed"}
        else:
            answer = handler(params)
        call = Call(method, params, token, answer)
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        return web.json_response(answer)

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"].split("-", 1)[1]
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth else None
        async with self._changed:
            self.downloads.append((file_id, token))
            self._changed.notify_all()
        if token not in (self.bot_token, self.installed_token) or file_id not in self.file_bytes:
            # What Slack does without a valid token: its sign-in page, with status 200.
            return web.Response(text="<html><body>Sign in to Slack</body></html>", content_type="text/html")
        return web.Response(body=self.file_bytes[file_id], content_type=self.files[file_id]["mimetype"])

    async def _upload(self, request: web.Request) -> web.Response:
        """Step 2 of an external upload: the bytes, as the request body (Slack also takes multipart)."""
        pending = self._pending.get(request.match_info["file_id"])
        if pending is None:
            return web.Response(status=404, text="unknown upload URL")
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            part = next(iter(form.values()))
            data = part.file.read() if hasattr(part, "file") else str(part).encode()
        else:
            data = await request.read()
        pending["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("filename") or not str(params.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ts):08d}"
        self._pending[file_id] = {"filename": params["filename"], "length": int(params["length"]), "data": None}
        return {"ok": True, "upload_url": f"{self.root_url}/upload/v1/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = json.loads(params["files"]) if isinstance(params.get("files"), str) else params.get("files") or []
        if not files:
            return {"ok": False, "error": "invalid_arguments"}
        done = []
        for f in files:
            pending = self._pending.get(str(f.get("id")))
            if pending is None or pending["data"] is None:
                return {"ok": False, "error": "file_not_found"}
            if len(pending["data"]) != pending["length"]:
                return {"ok": False, "error": "file_upload_size_mismatch"}
            done.append({"id": f["id"], "title": f.get("title") or pending["filename"], **pending})
        ts = self._next_ts()
        for f in done:
            self.uploads.append(
                {
                    **f,
                    "channel": params.get("channel_id"),
                    "initial_comment": params.get("initial_comment"),
                    "thread_ts": params.get("thread_ts"),
                    "ts": ts,
                }
            )
            del self._pending[f["id"]]
        return {"ok": True, "files": [{"id": f["id"], "title": f["title"], "name": f["filename"]} for f in done]}

    def _files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        file = self.files.get(str(params.get("file")))
        return {"ok": True, "file": file} if file else {"ok": False, "error": "file_not_found"}

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _blocks_error(self, blocks: Any) -> str | None:
        if not blocks:
            return None
        if len(blocks) > MAX_BLOCKS:
            return "invalid_blocks"
        for block in blocks:
            text = (block.get("text") or {}).get("text", "") if isinstance(block.get("text"), dict) else ""
            if block.get("type") == "section" and len(text) > MAX_SECTION_TEXT:
                return "invalid_blocks"
        return None

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://recast-test.slack.com/",
            "team": "Recast Test",
            "user": "recast",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "B0BOT",
            "is_enterprise_install": False,
        }

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        if error := self._blocks_error(params.get("blocks")):
            return {"ok": False, "error": error}
        ts = self._next_ts()
        return {
            "ok": True,
            "channel": params.get("channel"),
            "ts": ts,
            "message": {"text": params.get("text"), "ts": ts, "thread_ts": params.get("thread_ts")},
        }

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        if error := self._blocks_error(params.get("blocks")):
            return {"ok": False, "error": error}
        return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "text": params.get("text")}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        if error := self._blocks_error((params.get("view") or {}).get("blocks")):
            return {"ok": False, "error": error}
        return {"ok": True, "view": {"id": f"V{next(self._ts)}", **(params.get("view") or {})}}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        if error := self._blocks_error((params.get("view") or {}).get("blocks")):
            return {"ok": False, "error": error}
        return {"ok": True, "view": {"id": f"V{next(self._ts)}", **(params.get("view") or {})}}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _oauth_v2_access(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("code") != "good-code":
            return {"ok": False, "error": "invalid_code"}
        return {
            "ok": True,
            "app_id": "A0RECAST",
            "authed_user": {"id": self.oauth_user_id},
            "scope": "commands,chat:write",
            "token_type": "bot",
            "access_token": self.installed_token,
            "bot_user_id": self.bot_user_id,
            "team": {"id": self.oauth_team_id, "name": "OAuth Workspace"},
            "enterprise": None,
            "is_enterprise_install": False,
        }
