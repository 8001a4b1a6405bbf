"""`/media/<token>`: stored media for platforms that fetch a file by URL (Instagram, TikTok), from the local
store's signed, expiring links. The token is checked before the disk is touched: not ours → 403, ours but
past its time → 410, ours but the file is gone → 404. Range requests are answered by `web.FileResponse`."""

from __future__ import annotations

from aiohttp import web

from core.deps import CoreDeps
from core.storage.files import LocalFileStore
from core.storage.links import ExpiredLink, ForgedLink


def add_routes(app: web.Application, deps: CoreDeps) -> None:
    async def media(request: web.Request) -> web.StreamResponse:
        store = deps.store
        if not isinstance(store, LocalFileStore):  # S3 links are presigned URLs of the bucket, not ours
            return web.Response(status=404, text="Media links are served by the storage bucket.\n")
        try:
            path = store.linked_path(request.match_info["token"])
        except ForgedLink:
            return web.Response(status=403, text="This is not a valid media link.\n")
        except ExpiredLink:
            return web.Response(status=410, text="This media link has expired.\n")
        except FileNotFoundError:
            return web.Response(status=404, text="This file is no longer stored.\n")
        # The Content-Type comes from the key's extension (mimetypes); nosniff keeps browsers to it.
        return web.FileResponse(path, headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private"})

    app.router.add_get("/media/{token}", media)
