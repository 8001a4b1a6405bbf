"""Chaos bench: inject each fault from issue 10 into real Recast worker processes and print a table.

For every fault — a worker SIGKILLed or SIGTERMed at each stage, a task longer than its lease,
PostgreSQL stopped mid-step, Redis killed and restarted, a damaged video, a webhook during each outage —
it measures the time until the work completed, what was duplicated (drafts, chat messages, credits:
must be 0) and how many assets were left non-terminal (must be 0). Each fault runs against its own
embedded PostgreSQL and Redis (see tests/faultlab.py), so the bench needs no servers.

    .venv/bin/python bench/chaos.py [--only sigkill,pg] [--video path.mp4]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from faultlab import SENTENCES, Lab, Tally, stop_process  # noqa: E402

from core.media.samples import make_talk_video  # noqa: E402

RZP_SECRET = "chaos-razorpay-secret"


@dataclass
class Row:
    fault: str
    outcome: str
    seconds: float
    duplicated: int
    non_terminal: int
    note: str = ""


Scenario = Callable[[Lab, Path, int], Awaitable[Row]]


async def _pipeline(lab: Lab, video: Path, chat: int, fault: str, inject: Callable[[Any], Awaitable[str]]) -> Row:
    asset_id, user_id = await lab.ingest(chat, video)
    started = await lab.process(asset_id)
    note = await inject(asset_id)
    status = await lab.wait_terminal(asset_id, timeout=600)
    tally: Tally = await lab.tally(asset_id, user_id, chat, started, status)
    return Row(fault, status or "stuck", tally.seconds, tally.duplicated, tally.non_terminal_assets, note)


def worker_signal(sig: signal.Signals, stages: tuple[str, ...]) -> Scenario:
    async def run(lab: Lab, video: Path, chat: int) -> Row:
        first = lab.start_worker("w1")

        async def inject(asset_id: Any) -> str:
            stage = await lab.wait_for_stage(asset_id, stages)
            stop_process(first, sig)
            lab.start_worker("w2")
            return f"stopped at {stage}"

        return await _pipeline(lab, video, chat, f"worker {sig.name} mid-{stages[0]}", inject)

    return run


async def longer_than_lease(lab: Lab, video: Path, chat: int) -> Row:
    # The lease (1.5 s) is far shorter than a render; two workers compete for every unit. Heartbeats
    # must keep each unit with the worker that has it (the old failure: clips rendered twice, charged twice).
    lab.lease_s = 1.5
    lab.start_worker("w1")
    lab.start_worker("w2")

    async def inject(asset_id: Any) -> str:
        return "lease 1.5 s, 2 workers"

    return await _pipeline(lab, video, chat, "task longer than its lease", inject)


def postgres_outage(stages: tuple[str, ...], seconds: float = 8) -> Scenario:
    async def run(lab: Lab, video: Path, chat: int) -> Row:
        lab.start_worker("w1")

        async def inject(asset_id: Any) -> str:
            stage = await lab.wait_for_stage(asset_id, stages)
            lab.stop_postgres()
            await asyncio.sleep(seconds)
            lab.start_postgres()
            return f"stopped {seconds:.0f} s at {stage}"

        return await _pipeline(lab, video, chat, f"PostgreSQL stopped mid-{stages[0]}", inject)

    return run


async def redis_restart(lab: Lab, video: Path, chat: int) -> Row:
    lab.start_worker("w1")

    async def inject(asset_id: Any) -> str:
        stage = await lab.wait_for_stage(asset_id, ("analysing", "planning", "generating"))
        lab.stop_redis()
        await asyncio.sleep(5)
        lab.start_redis()
        return f"killed 5 s at {stage}"

    return await _pipeline(lab, video, chat, "Redis killed and restarted", inject)


async def poison_file(lab: Lab, video: Path, chat: int) -> Row:
    damaged = lab.root / "damaged.mp4"
    data = bytearray(video.read_bytes())
    cut = len(data) // 5
    data[len(data) // 2 : len(data) // 2 + cut] = b"\x00" * cut
    damaged.write_bytes(bytes(data))
    lab.start_worker("w1")

    async def inject(asset_id: Any) -> str:
        return "a fifth of the file zeroed"

    return await _pipeline(lab, damaged, chat, "damaged video (poison)", inject)


def webhook_during(outage: str) -> Scenario:
    async def run(lab: Lab, video: Path, chat: int) -> Row:
        from aiohttp.test_utils import TestClient, TestServer
        from pydantic import SecretStr
        from sqlalchemy import select

        from core.config import Settings
        from core.deps import CoreDeps
        from core.inbox.models import GatewayEvent
        from core.notify.ports import RecordingNotifier
        from core.work.queue import RedisWorkQueue
        from webhooks.app import make_web_app

        settings = Settings(_env_file=None, razorpay_webhook_secret=SecretStr(RZP_SECRET))  # type: ignore[call-arg]
        deps = CoreDeps(
            settings=settings,
            sessionmaker=lab.sessionmaker,
            redis=lab.redis,
            store=lab.store,
            notifier=RecordingNotifier(),
            enqueue=lab.enqueue,
            work_queue=RedisWorkQueue(lab.redis, lab.queue),
        )
        lab.start_worker("w1")
        client: Any = TestClient(TestServer(make_web_app(deps), host="127.0.0.1"))
        await client.start_server()
        event_id = "evt_" + uuid.uuid4().hex[:14]
        payment = {"id": "pay_" + uuid.uuid4().hex[:14], "amount": 79900, "currency": "INR", "notes": []}
        body = json.dumps(
            {
                "entity": "event",
                "event": "payment.captured",
                "created_at": int(time.time()),
                "payload": {"payment": {"entity": payment}},
            }
        ).encode()
        headers = {
            "X-Razorpay-Signature": hmac.new(RZP_SECRET.encode(), body, hashlib.sha256).hexdigest(),
            "x-razorpay-event-id": event_id,
            "Content-Type": "application/json",
        }
        started = time.monotonic()
        answers = []
        try:
            (lab.stop_redis if outage == "redis" else lab.stop_postgres)()
            answers.append((await client.post("/webhooks/razorpay", data=body, headers=headers)).status)
            await asyncio.sleep(5)
            (lab.start_redis if outage == "redis" else lab.start_postgres)()
            if answers[-1] != 200:  # the gateway retries what was not acknowledged
                await asyncio.sleep(1)
                answers.append((await client.post("/webhooks/razorpay", data=body, headers=headers)).status)
            status, rows = None, 0
            for _ in range(600):
                try:
                    async with lab.sessionmaker() as s:
                        query = select(GatewayEvent).where(GatewayEvent.sender_event_id == event_id)
                        found = (await s.scalars(query)).all()
                except Exception:
                    found = []
                rows = len(found)
                status = found[0].status if found else None
                if status in ("processed", "ignored"):
                    break
                await asyncio.sleep(0.2)
        finally:
            await client.close()
        outcome = status or "lost"
        return Row(
            f"webhook during {'Redis' if outage == 'redis' else 'PostgreSQL'} outage",
            outcome,
            time.monotonic() - started,
            max(0, rows - 1),
            0 if status else 1,
            "answered " + " then ".join(map(str, answers)),
        )

    return run


async def no_fault(lab: Lab, video: Path, chat: int) -> Row:
    lab.start_worker("w1")

    async def inject(asset_id: Any) -> str:
        return "the baseline: same talk, same worker"

    return await _pipeline(lab, video, chat, "no fault (baseline)", inject)


SCENARIOS: dict[str, Scenario] = {
    "baseline": no_fault,
    "sigkill-transcribe": worker_signal(signal.SIGKILL, ("transcribing",)),
    "sigkill-render": worker_signal(signal.SIGKILL, ("generating",)),
    "sigterm-transcribe": worker_signal(signal.SIGTERM, ("transcribing",)),
    "sigterm-render": worker_signal(signal.SIGTERM, ("generating",)),
    "long-task": longer_than_lease,
    "pg-transcribe": postgres_outage(("transcribing",)),
    "pg-render": postgres_outage(("generating",)),
    "redis-restart": redis_restart,
    "poison": poison_file,
    "webhook-redis": webhook_during("redis"),
    "webhook-pg": webhook_during("pg"),
}


async def main(only: list[str] | None, video: Path | None) -> int:
    work = Path(tempfile.mkdtemp(prefix="recast-chaos-"))
    if video is None:
        video = work / "talk.mp4"
        make_talk_video(video, SENTENCES * 2, width=640, height=360)
    rows: list[Row] = []
    for n, (name, scenario) in enumerate(SCENARIOS.items()):
        if only and not any(o in name for o in only):
            continue
        root = work / name
        root.mkdir()
        print(f"… {name}", flush=True)
        try:
            async with Lab(root) as lab:
                rows.append(await scenario(lab, video, 9200000 + n))
        except Exception as exc:  # a scenario that cannot even run is a result too
            rows.append(Row(name, f"error: {type(exc).__name__}", 0, 0, 1, str(exc)[:80]))
    print("\n| fault | outcome | until done (s) | duplicated rows/charges/messages | assets left non-terminal | note |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r.fault} | {r.outcome} | {r.seconds:.1f} | {r.duplicated} | {r.non_terminal} | {r.note} |")
    shutil.rmtree(work, ignore_errors=True)
    bad = [r for r in rows if r.duplicated or r.non_terminal]
    return 1 if bad else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated substrings of scenario names")
    parser.add_argument("--video", type=Path)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.only.split(",") if args.only else None, args.video)))
