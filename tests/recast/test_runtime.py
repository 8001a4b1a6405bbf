"""Start-up of the composition root: a second process on the local vector store gets told what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.config import Settings
from recast.runtime import make_qdrant


def test_a_second_process_on_local_qdrant_is_told_to_use_recast_run_or_qdrant_url(tmp_path: Path) -> None:
    store = tmp_path / "qdrant"
    holder = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom qdrant_client import QdrantClient\n"
            f"c = QdrantClient(path={str(store)!r})\nprint('ready', flush=True)\nsys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        settings = Settings(recast_data_dir=tmp_path, qdrant_url=None, _env_file=None)  # type: ignore[call-arg]
        with pytest.raises(SystemExit) as caught:
            make_qdrant(settings)
    finally:
        holder.communicate("", timeout=30)
    message = str(caught.value)
    assert "`recast run`" in message and "QDRANT_URL" in message and str(store) in message
    # The holder has exited: the store opens again.
    client = make_qdrant(settings)
    assert client is not None


async def _reference_rows(database_url: str) -> tuple[int, int, int]:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        plans = await conn.fetchval("SELECT count(*) FROM subscription_plans")
        styles = await conn.fetchval("SELECT count(*) FROM templates WHERE template_type = 'caption_style'")
        settings = await conn.fetchval("SELECT count(*) FROM system_settings")
    finally:
        await conn.close()
    return plans, styles, settings


def test_opening_the_infrastructure_migrates_and_loads_the_reference_data_once(
    make_database, redis_url: str, tmp_path: Path
) -> None:
    import asyncio

    from recast.runtime import open_infra

    url = make_database("autoseed")  # empty: not migrated, not seeded
    settings = Settings(database_url=url, redis_url=redis_url, recast_data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]

    async def start_twice() -> None:
        async with open_infra(settings) as infra:
            assert infra.seeded is not None and infra.seeded["subscription_plans"] == 8
        first = await _reference_rows(url)
        assert first[0] == 8 and first[1] == 3 and first[2] > 0
        async with open_infra(settings) as infra:  # a restart: nothing doubled
            assert infra.seeded is not None and not any(infra.seeded.values())
        assert await _reference_rows(url) == first

    asyncio.run(start_twice())


def test_recast_bot_on_an_unseeded_database_loads_the_plans_before_serving(
    make_database, redis_url: str, tmp_path: Path
) -> None:
    """`recast bot` (which did not migrate before) on a database nobody ran `db upgrade --seed` on."""
    import asyncio
    import os
    import signal

    url = make_database("botseed")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "RECAST_DATA_DIR": str(tmp_path / "data"),
        "TELEGRAM_BOT_TOKEN": "",
        "PUBLIC_BASE_URL": "http://localhost:8080",
    }
    env.pop("TELEGRAM_BOT_TOKEN")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "recast.cli", "bot"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "the Telegram bot is off" in line:
                break
        assert any("Billing is off" in line for line in lines), lines  # the operator is warned at start-up
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    plans, styles, settings = asyncio.run(_reference_rows(url))
    assert plans == 8 and styles == 3 and settings > 0
