"""Outbox messages addressed to Slack (a channel, or an approval's thread) go through the Slack notifier to the
Slack Web API: delivered in the thread, retried after Slack's rate limit, given up on a channel that isn't there."""

from __future__ import annotations

import asyncio
import time
import uuid

from core.integrations.slack_links import slack_chat
from core.notify import outbox
from core.notify.ports import Button, ConnectAction, OutgoingMessage
from core.work.models import UnitState, WorkUnit
from recast.commands import with_slack_notices
from tests.bots.slack.conftest import CHANNEL, TEAM


async def _record(deps, chat, message) -> uuid.UUID:
    async with deps.sessionmaker() as session:
        unit = await outbox.record(session, chat, message, key=f"test:{uuid.uuid4().hex}")
        await session.commit()
    return unit


async def _state(deps, unit_id: uuid.UUID, *states: str, timeout: float = 30.0) -> WorkUnit:
    deadline = time.monotonic() + timeout
    while True:
        async with deps.sessionmaker() as session:
            unit = await session.get_one(WorkUnit, unit_id)
        if unit.state in states or time.monotonic() > deadline:
            return unit
        await asyncio.sleep(0.1)


async def test_a_thread_message_is_posted_in_the_thread_and_a_reconnect_button_becomes_the_command(
    deps, fake_slack, worker
):
    with_slack_notices(deps)
    message = OutgoingMessage(
        text="LinkedIn no longer accepts Recast's access.", buttons=[[Button("Reconnect", ConnectAction("linkedin"))]]
    )
    unit = await _record(deps, slack_chat(TEAM, CHANNEL, "1700000000.000042"), message)
    await outbox.flush(deps, [unit])
    (sent,) = await fake_slack.wait_for("chat.postMessage")
    assert (sent.params["channel"], sent.params["thread_ts"], sent.token) == (
        CHANNEL,
        "1700000000.000042",
        "xoxb-test-token",
    )
    assert sent.params["text"] == (
        "LinkedIn no longer accepts Recast's access.\n"
        "To reconnect, run `/recast connect linkedin` in the client's channel."
    )
    assert "blocks" not in sent.params  # no button that nothing would answer
    assert (await _state(deps, unit, UnitState.SUCCEEDED)).state == UnitState.SUCCEEDED


async def test_slacks_rate_limit_is_waited_out_and_a_missing_channel_is_given_up(deps, fake_slack, worker):
    with_slack_notices(deps)
    fake_slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)
    unit = await _record(deps, slack_chat(TEAM, CHANNEL), OutgoingMessage(text="LinkedIn is connected."))
    await outbox.flush(deps, [unit])  # refused: stays in the outbox, a worker sends it after the wait
    calls = await fake_slack.wait_for("chat.postMessage", count=2)
    assert [c.response["ok"] for c in calls] == [False, True] and calls[1].params["channel"] == CHANNEL
    assert (await _state(deps, unit, UnitState.SUCCEEDED)).state == UnitState.SUCCEEDED

    fake_slack.fail_next("chat.postMessage", "channel_not_found")
    gone = await _record(deps, slack_chat(TEAM, "C0GONE"), OutgoingMessage(text="Published."))
    await outbox.flush(deps, [gone])
    failed = await _state(deps, gone, UnitState.FAILED)
    assert failed.state == UnitState.FAILED and "channel_not_found" in (failed.last_error or "")
    await worker.drain()
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == "C0GONE"]) == 1
