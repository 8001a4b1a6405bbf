"""Polling mode loses nothing: an update is stored before the next getUpdates confirms it to Telegram, so
a bot process SIGKILLed while handling it leaves a stored, leased row that the next process handles again.

Before this, aiogram's polling confirmed an update as soon as it asked for the next batch, while the
handler was still running: the creator saw the first reply and nothing after."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from fakes.telegram_api import Call, FakeTelegram
from sqlalchemy import select

from core.inbox.models import GatewayEvent

CREATOR = 7730001  # an id no other test uses


def _bot_process(tg: FakeTelegram, database_url: str, redis_url: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RECAST_DATA_DIR": str(tmp_path / "data"),
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_SERVER": tg.base_url,
        "TELEGRAM_UPDATE_LEASE_S": "2",
        "TASK_QUEUE": f"recast-test-polling-{uuid.uuid4().hex[:8]}",
        "PUBLIC_BASE_URL": "http://localhost:8080",
    }
    return subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "recast.cli", "bot"],
        cwd=tmp_path,
        env=env,
        stdout=(tmp_path / f"bot-{uuid.uuid4().hex[:4]}.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


async def test_an_update_whose_bot_process_was_killed_mid_handling_is_handled_after_restart(
    live_deps, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    # Update ids of their own: stored ones persist in the run's database beside other tests' updates.
    async with FakeTelegram(first_update_id=700_000_000 + uuid.uuid4().int % 100_000_000) as tg:
        first_reply = {"held": False}

        def the_first_reply(call: Call) -> bool:  # hold only the first answer: the process dies waiting for it
            ours = call.method == "sendMessage" and str(call.params.get("chat_id")) == str(CREATOR)
            if ours and not first_reply["held"]:
                first_reply["held"] = True
                return True
            return False

        hold = tg.hold(the_first_reply)
        first = _bot_process(tg, database_url, redis_url, tmp_path)
        try:
            update = tg.user_sends_command(CREATOR, "help")
            await hold.wait_reached(timeout=60)  # the handler is mid-way: its reply is in flight
            # Let the poller ask for the next batch (that is what confirmed the update before this fix).
            since = len(tg.calls)
            await tg.wait_for(lambda c: c.method == "getUpdates", timeout=30, since=since)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        second = _bot_process(tg, database_url, redis_url, tmp_path)
        try:
            answer = await tg.wait_for_message(CREATOR, timeout=60)
            for _ in range(100):  # its row is finished just after the reply
                if (await _rows(live_deps, update))[0].status != "processing":
                    break
                await asyncio.sleep(0.1)
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.to_thread(second.wait, 60)
    rows = await _rows(live_deps, update)
    assert answer.content
    assert len(rows) == 1 and rows[0].status == "processed"  # stored once, handled again once
    assert rows[0].attempts == 2


async def _rows(deps: Any, update: dict[str, Any]) -> list[GatewayEvent]:
    async with deps.sessionmaker() as s:
        query = select(GatewayEvent).where(
            GatewayEvent.sender == "telegram", GatewayEvent.sender_event_id == str(update["update_id"])
        )
        return list((await s.scalars(query)).all())
