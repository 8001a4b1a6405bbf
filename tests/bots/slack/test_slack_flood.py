"""Flood control on the Slack door: signed requests to the real bolt app (local Slack Web API, real Redis
and PostgreSQL, durable work units stored for real and left unrun). A command flood gets one ephemeral
"slow down" and then silence; a flood of file shares gets work only for the files within the limit, each
file counted once although Slack announces it twice."""

from __future__ import annotations

import logging
import uuid

import pytest
from floods import Figures, work_units_mentioning

from bots.slack.blocks import APPROVE
from bots.slack.flood import sender_of
from core.common.clock import utcnow
from core.content.models import ContentAsset
from tasks.worker import attach, make_queue
from tests.bots.slack.conftest import CHANNEL, TEAM, block_action
from tests.bots.slack.test_submissions_over_http import eventually, file_events

HELP_MARK = "/recast"


@pytest.fixture
def deps(deps):
    """The limits are read when the bolt app is built (the `slack` fixture), so they are set first."""
    deps.settings = deps.settings.model_copy(
        update={"flood_user_messages_per_minute": 8, "flood_user_uploads_per_hour": 2}
    )
    return deps


async def test_a_command_flood_gets_one_slow_down_and_no_listener_runs(deps, slack, fake_slack) -> None:
    user = f"U{uuid.uuid4().hex[:10].upper()}"
    answers = [await slack.command(user, "what-is-this") for _ in range(15)]
    helped = [a for a in answers if HELP_MARK in a and "slow down" not in a]
    told = [a for a in answers if "slow down" in a]
    assert len(helped) == 8 and len(told) == 1 and answers[8] == told[0]
    assert "try again in" in told[0] and "costs you nothing" in told[0]
    assert answers[9:] == [""] * 6  # dropped: 200 with nothing to show, no listener ran
    print(Figures("slack (user: 15 commands)", 15, 7, 8, 0, 0, 0).line())


async def test_a_flood_of_file_shares_queues_work_only_within_the_limit(deps, slack, fake_slack, run_id) -> None:
    queue = f"recast-flood-{run_id}-{uuid.uuid4().hex[:6]}"
    attach(deps, make_queue(deps, queue))
    since = utcnow()
    user = f"U{uuid.uuid4().hex[:10].upper()}"
    files = [f"F{uuid.uuid4().hex[:10].upper()}" for _ in range(5)]
    try:
        for file_id in files:
            for event in file_events(user, file_id):  # `file_shared` and the `message` carrying it
                await slack.event(event)
        async with deps.sessionmaker() as s:
            await eventually(lambda: _units_for_all(deps, files[:2], since), timeout=60)
            refused_units = await work_units_mentioning(s, files[2:], since)
            units = await work_units_mentioning(s, files, since)
            assets = await s.scalar(
                ContentAsset.__table__.select().where(ContentAsset.metadata_["slack"]["file_id"].astext.in_(files))
            )
    finally:
        await deps.redis.delete(queue)
    told = [c for c in fake_slack.calls_to("chat.postEphemeral") if c.params.get("user") == user]
    assert len(told) == 1 and "sending files" in told[0].params["text"] and told[0].params["channel"] == CHANNEL
    assert refused_units == 0 and assets is None  # refused files: no unit, no asset (so no charge)
    print(Figures("slack (user: 5 files, 10 events)", 10, 6, 4, units, 0, 0).line())


async def test_a_flood_of_button_clicks_gets_one_slow_down_and_the_rest_is_dropped(
    deps, slack, fake_slack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bots.slack.flood")
    user = f"U{uuid.uuid4().hex[:10].upper()}"
    statuses = []
    for _ in range(15):  # approve clicks on assets nobody has
        click = block_action(team=TEAM, channel=CHANNEL, user=user, action_id=APPROVE, value=str(uuid.uuid4()))
        statuses.append((await slack.interact(click))[0])
    assert statuses == [200] * 15  # refused clicks are acknowledged too (Slack shows an error otherwise)
    refused = sum(user in r.getMessage() and "slack flood" in r.getMessage() for r in caplog.records)
    told = [c.params["text"] for c in fake_slack.calls_to("chat.postEphemeral") if c.params.get("user") == user]
    assert refused == 7 and len(told) == 1 and "slow down" in told[0], told
    print(Figures("slack (user: 15 button clicks)", 15, refused, 15 - refused, 0, 0, 0).line())


async def _units_for_all(deps, files: list[str], since) -> bool:
    async with deps.sessionmaker() as s:
        return all([await work_units_mentioning(s, [f], since) for f in files])


def test_who_counts_as_a_sender() -> None:
    assert sender_of({"type": "event_callback", "team_id": TEAM, "event": {"type": "message", "bot_id": "B1"}}) is None
    assert sender_of({"type": "event_callback", "event": {"type": "app_home_opened", "user": "U1"}}) is None
    assert sender_of({"type": "url_verification", "challenge": "x"}) is None
    click = sender_of({"type": "block_actions", "user": {"id": "U1", "team_id": TEAM}, "channel": {"id": CHANNEL}})
    assert click is not None and (click.user, click.channel, click.files) == ("U1", CHANNEL, ())
