"""The composition root: turns `Settings` into live infrastructure and the ports core needs.

Everything is built here and passed down explicitly; nothing in core/bots/tasks builds its own
engine, Redis client or AI client at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from qdrant_client import AsyncQdrantClient
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.config import Settings, owner_database_url
from core.db import migrate
from core.db.session import make_engine, make_sessionmaker
from core.db.tenancy import login_bound_by_rls
from core.infra.embedded import infrastructure
from core.storage.factory import StorageMisconfigured, file_store
from core.storage.files import FileStore

log = logging.getLogger(__name__)


@dataclass
class Infra:
    settings: Settings
    database_url: str
    redis_url: str
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    qdrant: AsyncQdrantClient
    store: FileStore
    embedded: list[str]
    seeded: dict[str, int] | None = None  # reference rows inserted at start-up (None: not migrated here)


def connect_redis(url: str) -> Redis:
    """A Redis client that survives a server restart: a pooled connection the server closed is retried on
    a fresh one (with backoff) instead of failing the next command, e.g. the bot's first reply after."""
    retry = Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries=3)
    return Redis.from_url(
        url, retry=retry, retry_on_error=[RedisConnectionError, RedisTimeoutError, OSError], health_check_interval=30
    )


def make_qdrant(settings: Settings) -> AsyncQdrantClient:
    if settings.qdrant_url:
        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return AsyncQdrantClient(url=settings.qdrant_url, api_key=key)
    # Local mode keeps vectors on disk in the data dir; it is single-process (a file lock),
    # which is why multi-process deployments set QDRANT_URL.
    path = settings.recast_data_dir / "qdrant"
    path.mkdir(parents=True, exist_ok=True)
    try:
        return AsyncQdrantClient(path=str(path))
    except RuntimeError as exc:
        if "already accessed" not in str(exc):
            raise
        raise SystemExit(
            f"Another Recast process is using the local vector store in {path}.\n"
            "Local Qdrant works for one process only: run everything in one process with `recast run`, "
            "or set QDRANT_URL to a Qdrant server (docker-compose.yml starts one) for separate "
            "web, bot and worker processes."
        ) from exc


async def load_reference_data(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    from core.db.session import session_scope
    from core.seed.service import apply_seed

    async with session_scope(sessionmaker) as session:
        counts = await apply_seed(session=session)
    if any(counts.values()):
        log.info("reference data loaded: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


@contextlib.asynccontextmanager
async def open_infra(settings: Settings, *, migrate_db: bool = True) -> AsyncIterator[Infra]:
    """Start (or connect to) PostgreSQL, Redis and Qdrant; migrate and load the reference data (plans,
    caption styles, settings; idempotent); yield; shut everything down.

    Why seed here and not only in `recast db upgrade --seed`: a server started on an unseeded database
    would have no plans, so every creator would have no plan, and /plans would be empty for good."""
    settings.recast_data_dir.mkdir(parents=True, exist_ok=True)
    try:
        store = await asyncio.to_thread(file_store, settings)  # an S3 bucket is checked (or created) here
    except StorageMisconfigured as exc:
        raise SystemExit(f"Media storage is not usable: {exc}") from exc
    embedded = [
        name
        for name, configured in (
            ("PostgreSQL", settings.database_url),
            ("Redis", settings.redis_url),
            ("Qdrant (local mode)", settings.qdrant_url),
        )
        if not configured
    ]
    with infrastructure(
        data_dir=settings.recast_data_dir, database_url=owner_database_url(settings), redis_url=settings.redis_url
    ) as (owner_url, redis_url):
        # The processes' own connections: DATABASE_URL (an RLS-bound login role in production); the
        # migrations and reference data: the tables' owner (DATABASE_OWNER_URL, else the same URL).
        database_url = settings.database_url or owner_url
        seeded = None
        if migrate_db and not settings.database_owner_url and await login_bound_by_rls(database_url):
            # Production without the owner's URL (compose: only the one-shot `migrate` service has it).
            log.info("DATABASE_URL is an RLS-bound login role: migrations and seed data are left to the migrate step")
            migrate_db = False
        if migrate_db:
            await asyncio.to_thread(migrate.upgrade, owner_url)
            owner_engine = make_engine(owner_url, pool_size=1)
            try:
                seeded = await load_reference_data(make_sessionmaker(owner_engine))
            finally:
                await owner_engine.dispose()
        engine = make_engine(database_url)
        redis = connect_redis(redis_url)
        qdrant = make_qdrant(settings)
        try:
            yield Infra(
                settings=settings,
                database_url=database_url,
                redis_url=redis_url,
                engine=engine,
                sessionmaker=make_sessionmaker(engine),
                redis=redis,
                qdrant=qdrant,
                store=store,
                embedded=embedded,
                seeded=seeded,
            )
        finally:
            await qdrant.close()
            await redis.aclose()
            await engine.dispose()
