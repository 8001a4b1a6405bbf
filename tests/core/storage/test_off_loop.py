"""`off_loop`: store calls (S3 downloads and uploads) run in a thread while the event loop keeps going, and
a cancelled caller raises only once the call has ended, so its cleanup never races a write in flight."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from core.storage.files import LocalFileStore, off_loop


async def test_the_loop_keeps_running_during_a_store_call_and_gets_its_result(tmp_path: Path) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    def slow_put() -> str:
        time.sleep(0.3)  # a blocking upload
        return LocalFileStore(tmp_path).put_bytes(b"x", "a/b.bin")

    beat = asyncio.create_task(ticker())
    assert await off_loop(slow_put) == "local:a/b.bin"
    beat.cancel()
    assert ticks >= 10  # the heartbeat would have stalled for 0.3 s on the loop


async def test_a_cancelled_caller_waits_for_the_call_to_end(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)

    def slow_put() -> str:
        time.sleep(0.3)
        return store.put_bytes(b"late", "assets/1/source.mp4")

    async def ingest() -> None:
        try:
            await off_loop(slow_put)
        except asyncio.CancelledError:
            store.delete_prefix("assets/1")  # the rollback's cleanup
            raise

    task = asyncio.create_task(ingest())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not (tmp_path / "assets" / "1").exists()  # the write finished before the cleanup removed it
