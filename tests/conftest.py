"""Test infrastructure: real PostgreSQL and Redis, one fresh database per test run.

Server choice, in order: DATABASE_URL / REDIS_URL when set; else the servers on
127.0.0.1:5432 / :6379 when reachable; else embedded servers started for this run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from core.db import migrate
from core.db.session import make_engine
from core.infra.embedded import EmbeddedPostgres, EmbeddedRedis, port_is_open, with_database

RUN_ID = uuid.uuid4().hex[:10]
# RECAST_TEST_EMBEDDED=1 ignores local servers: proves the suite on a machine that has none.
FORCE_EMBEDDED = os.environ.get("RECAST_TEST_EMBEDDED") == "1"


def _admin_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture(scope="session")
def run_id() -> str:
    """Unique per test run: prefixes databases, Redis keys and queue names."""
    return RUN_ID


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database (never used for test rows)."""
    if url := os.environ.get("DATABASE_URL"):
        yield with_database(_admin_dsn(url), "postgres")
    elif port_is_open("127.0.0.1", 5432) and not FORCE_EMBEDDED:
        yield "postgresql://postgres@127.0.0.1:5432/postgres"
    else:
        # Not under pytest's basetemp: as root, pgserver runs PostgreSQL as its own user and opens the
        # path's parents to it, and every pytest session start closes /tmp/pytest-of-root again (0700),
        # which would lock this server out of its own data directory if another pytest run started.
        folder = Path(tempfile.mkdtemp(prefix="recast-test-pg-"))
        server = EmbeddedPostgres(folder / "data")
        try:
            yield server.start()
        finally:
            server.stop()
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("REDIS_URL"):
        yield url
    elif port_is_open("127.0.0.1", 6379) and not FORCE_EMBEDDED:
        yield "redis://127.0.0.1:6379/0"
    else:
        server = EmbeddedRedis(Path(tmp_path_factory.mktemp("redis")))
        try:
            yield server.start()
        finally:
            server.stop()


async def _create_db(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_db(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def make_database(pg_admin_url: str) -> Iterator[Callable[[str], str]]:
    """Factory: create an empty database for this run and return its URL; all dropped at the end."""
    created: list[str] = []

    def _make(label: str) -> str:
        name = f"recast_test_{RUN_ID}_{label}"
        asyncio.run(_create_db(pg_admin_url, name))
        created.append(name)
        return with_database(pg_admin_url, name)

    yield _make
    for name in created:
        asyncio.run(_drop_db(pg_admin_url, name))


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[str], str]) -> str:
    """This run's main test database, migrated to head."""
    url = make_database("main")
    migrate.upgrade(url)
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(database_url, pool_size=5)
    yield eng
    await eng.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    async with engine.connect() as conn:
        trans = await conn.begin()
        yield conn
        if trans.is_active:
            await trans.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    # Services may commit: commits become savepoint releases inside the outer transaction.
    return async_sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as s:
        yield s


# ------------------------------------------------------------------------------------ core deps


@pytest.fixture(scope="session")
def offline_ai():
    """The offline AI providers (local Whisper, MiniLM, offline analyser and writer), loaded once."""
    from core.ai.providers import build_ai_providers
    from core.config import Settings

    return build_ai_providers(Settings(openai_api_key=None, _env_file=None))


class RecordingEnqueue:
    """The transport seam between core and the queue, recorded so tests can run tasks in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, object]]] = []

    async def __call__(self, task_name: str, /, **kwargs: object) -> None:
        self.calls.append((task_name, kwargs))


@pytest.fixture
async def redis_client(redis_url: str):
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def core_deps(sessionmaker, redis_client, tmp_path, offline_ai):
    """A CoreDeps on the real test database and Redis, local media storage, in-memory Qdrant,
    offline AI and a recording notifier."""
    from qdrant_client import AsyncQdrantClient

    from bots.slack.team_chat import SlackTeamChat
    from core.config import Settings
    from core.deps import CoreDeps
    from core.notify.ports import RecordingNotifier
    from core.storage.factory import media_links
    from core.storage.files import LocalFileStore
    from core.vectors.brand_voice import BrandVoiceIndex

    qdrant = AsyncQdrantClient(location=":memory:")
    # The "web" the tests fetch links from is a local server, so private addresses are allowed here;
    # tests of the guard itself turn it back off.
    # A queue name of this run: Redis keys the bot namespaces with it (pasted text parts) are not seen
    # by other test runs sharing the Redis server.
    settings = Settings(
        recast_data_dir=tmp_path / "data",
        link_allow_private_networks=True,
        task_queue=f"recast-test-{RUN_ID}",
        # Flood limits count per chat user and channel id; tests reuse ids (one Slack channel for all), so each
        # test counts apart from the others and from other runs on the same Redis.
        rate_limit_namespace=f"recast-test-{RUN_ID}-{uuid.uuid4().hex[:8]}",
        _env_file=None,
    )
    deps = CoreDeps(
        settings=settings,
        sessionmaker=sessionmaker,
        redis=redis_client,
        # Signed /media links point at PUBLIC_BASE_URL; a test serving them starts `recast web` there.
        store=LocalFileStore(tmp_path / "media", links=media_links(settings)),
        notifier=RecordingNotifier(),
        enqueue=RecordingEnqueue(),
        ai=offline_ai,
        brand_index=BrandVoiceIndex(qdrant, offline_ai.embedder),
        team_chat=SlackTeamChat(),
    )
    yield deps
    await qdrant.close()


@pytest.fixture
async def live_deps(core_deps, engine):
    """`core_deps` with a pooled sessionmaker that really commits (for tests with concurrent handlers and
    workers, which cannot share the single rolled-back test connection). Rows stay in this run's database,
    which is dropped at the end of the run; tests use their own chat ids."""
    from core.db.session import make_sessionmaker

    core_deps.sessionmaker = make_sessionmaker(engine)
    return core_deps


LOGIN_ROLE = "recast_login_test"


@pytest.fixture(scope="session")
def login_url(database_url: str) -> Callable[[str], str]:
    """Turns a test database's URL into the one production would use: an RLS-bound login role (`recast db
    login-role`), not the tables' owner. Trust authentication here, so no password."""
    from urllib.parse import urlsplit, urlunsplit

    from core.db.tenancy import ensure_login_role

    asyncio.run(ensure_login_role(database_url, LOGIN_ROLE, password=None))

    def _as_login_role(url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit(parts._replace(netloc=f"{LOGIN_ROLE}@{parts.netloc.rsplit('@', 1)[-1]}"))

    return _as_login_role


@pytest.fixture(scope="session")
def login_database_url(database_url: str, login_url: Callable[[str], str]) -> str:
    """This run's main database, reached as the RLS-bound login role."""
    return login_url(database_url)


@pytest.fixture
async def login_deps(live_deps, login_database_url):
    """`live_deps` connecting as the RLS-bound login role, as the production processes do: a session that
    names no organization sees no tenant's rows, and the cross-tenant work runs as maintenance."""
    from core.db.session import make_sessionmaker

    login_engine = make_engine(login_database_url, pool_size=5)
    live_deps.sessionmaker = make_sessionmaker(login_engine)
    yield live_deps
    await login_engine.dispose()


@pytest.fixture(autouse=True)
def _log_record_factory_restored() -> Iterator[None]:
    """`recast.cli.main` installs log redaction for its process; a test that runs it in-process must not
    leave it for the tests after it (they check what an unredacted handler would have seen)."""
    import logging

    factory = logging.getLogRecordFactory()
    root = logging.getLogger()
    handlers, filters = list(root.handlers), {h: list(h.filters) for h in root.handlers}
    yield
    logging.setLogRecordFactory(factory)
    for handler in root.handlers:
        if handler not in handlers:  # basicConfig's handler, added by the command
            root.removeHandler(handler)
    for handler, kept in filters.items():
        handler.filters[:] = kept
