"""Embedded servers: what `recast` starts when DATABASE_URL / REDIS_URL are not set."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
from redis import Redis

from core.infra.embedded import infrastructure, port_is_open


def _pg(url: str, sql: str) -> object:
    async def run() -> object:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_unset_urls_start_real_servers_that_keep_data_across_restarts_and_stop_on_exit(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with infrastructure(data_dir=data_dir, database_url=None, redis_url=None) as (database_url, redis_url):
        assert urlsplit(database_url).path == "/recast"  # the database is created, not just the cluster
        _pg(database_url, "CREATE TABLE kept (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), body jsonb)")
        _pg(database_url, """INSERT INTO kept (body) VALUES ('{"a": 1}')""")
        redis = Redis.from_url(redis_url)
        # Streams with consumer groups, which the task queue uses, need Redis 6.2 or newer.
        assert tuple(int(p) for p in redis.info()["redis_version"].split(".")[:2]) >= (6, 2)
        redis.xgroup_create("tasks", "workers", id="0", mkstream=True)
        redis.xadd("tasks", {"task": "queued-before-stop"})
        redis.close()
        socket_dir = parse_qs(urlsplit(database_url).query)["host"][0]
        redis_port = urlsplit(redis_url).port
        assert redis_port is not None

    # Both servers stopped on exit.
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    assert not list(Path(socket_dir).glob(".s.PGSQL.*"))
    assert not port_is_open("127.0.0.1", redis_port)
    with pytest.raises((OSError, asyncpg.PostgresError)):
        _pg(database_url, "SELECT 1")

    # Started again on the same data directory: the rows and the queued task are still there.
    with infrastructure(data_dir=data_dir, database_url=None, redis_url=None) as (database_url, redis_url):
        assert _pg(database_url, "SELECT body->>'a' FROM kept") == "1"
        redis = Redis.from_url(redis_url)
        entries = redis.xreadgroup("workers", "w1", {"tasks": ">"}, count=10)
        redis.close()
        assert [fields[b"task"] for _, messages in entries for _, fields in messages] == [b"queued-before-stop"]


def test_configured_urls_are_used_as_given_and_nothing_is_started(tmp_path: Path) -> None:
    given = ("postgresql://postgres@db.example:5432/recast", "redis://cache.example:6379/0")
    with infrastructure(data_dir=tmp_path, database_url=given[0], redis_url=given[1]) as urls:
        assert urls == given
    assert list(tmp_path.iterdir()) == []
