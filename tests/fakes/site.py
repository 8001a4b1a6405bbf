"""A local web site for link tests: the "internet" a creator's link points at."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from aiohttp import web


@asynccontextmanager
async def local_site(routes: Sequence[web.AbstractRouteDef], host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve `routes` on a free port of `host`; yields the base URL, e.g. ``http://127.0.0.1:41234``."""
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()
