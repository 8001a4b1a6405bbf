"""Issue 16: generated Slack requests, signed with the signing secret, through the real bolt app mounted
on the web app (local Slack Web API, real PostgreSQL and Redis, a linked agency workspace): `/recast`
commands with every verb and odd arguments, button clicks with every action id and garbage values, modal
submissions with generated state, message and file events, plus garbage bodies, wrong content types and
unsigned requests. No 5xx, and no unhandled exception in the logs (lazy listeners included)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from urllib.parse import urlencode

import pytest
from fuzzing import JSON, ODD_TEXT, examples, unhandled
from hypothesis import given
from hypothesis import strategies as st

from bots.slack.blocks import (
    APPROVE,
    CHANGES,
    CHANGES_MODAL,
    QA_FAIL,
    QA_FAIL_MODAL,
    QA_MODAL,
    QA_PASS,
    QA_SEND,
    REJECT,
    REJECT_MODAL,
    WORKFLOW_MODAL,
)
from bots.slack.listeners.commands import LAZY_VERBS
from bots.slack.publish_blocks import CONNECT_LINK, PUBLISH_NOW, SCHEDULE, SCHEDULE_MODAL
from bots.slack.setup_blocks import SETUP_CHANNEL, SETUP_CHANNEL_MODAL, SETUP_START, SETUP_TEST, SETUP_WORKFLOW
from tests.bots.slack.conftest import CHANNEL, TEAM, Agency, SlackHTTP, block_action, view_submission

ACTIONS = [APPROVE, CHANGES, REJECT, CONNECT_LINK, PUBLISH_NOW, SCHEDULE, QA_SEND, QA_PASS, QA_FAIL]
ACTIONS += [SETUP_START, SETUP_CHANNEL, SETUP_WORKFLOW, SETUP_TEST]
VIEWS = [SCHEDULE_MODAL, QA_MODAL, QA_FAIL_MODAL, CHANGES_MODAL, REJECT_MODAL, WORKFLOW_MODAL, SETUP_CHANNEL_MODAL]
VERBS = [*LAZY_VERBS, "help", "what-is-this", "workflow", "xyzzy", ""]


@pytest.fixture
def deps(deps):
    """The fuzzer is one person clicking a lot: flood limits are the flood test's subject."""
    deps.settings = deps.settings.model_copy(
        update={
            "flood_user_messages_per_minute": 10**6,
            "flood_chat_messages_per_minute": 10**6,
            "flood_user_uploads_per_hour": 10**6,
        }
    )
    return deps


def ids(agency: Agency) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(sorted(agency.slack_ids.values())), st.just("UNOBODY00"), ODD_TEXT)


def values() -> st.SearchStrategy[str]:
    return st.one_of(ODD_TEXT, st.builds(lambda: str(uuid.uuid4())), st.just(json.dumps({"asset": "x"})))


@st.composite
def requests(draw: st.DrawFn, agency: Agency) -> tuple[str, str, str]:
    """(what, body, content type) of a signed request."""
    kind = draw(st.sampled_from(["command", "command", "action", "action", "view", "event", "garbage"]))
    user = draw(ids(agency))
    channel = draw(st.one_of(st.just(CHANNEL), st.just("C0GENERAL"), ODD_TEXT))
    if kind == "command":
        text = f"{draw(st.sampled_from(VERBS))} {draw(st.one_of(st.just(''), ODD_TEXT, values()))}".strip()
        form = {"team_id": draw(st.one_of(st.just(TEAM), ODD_TEXT)), "channel_id": channel, "user_id": user}
        form |= {
            "command": "/recast",
            "text": text,
            "trigger_id": "trig",
            "response_url": "https://hooks.slack.invalid/1",
        }
        return f"command {text!r}", urlencode(form), "application/x-www-form-urlencoded"
    if kind == "action":
        action_id = draw(st.one_of(st.sampled_from(ACTIONS), ODD_TEXT))
        payload = block_action(
            team=TEAM,
            channel=draw(st.one_of(st.none(), st.just(channel))),
            user=user,
            action_id=action_id,
            value=draw(values()),
            message_ts=draw(st.one_of(st.just("1"), ODD_TEXT)),
        )
        if draw(st.integers(0, 4)) == 0:
            payload["actions"] = draw(st.one_of(st.just([]), JSON))
        return f"action {action_id!r}", urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    if kind == "view":
        callback_id = draw(st.one_of(st.sampled_from(VIEWS), ODD_TEXT))
        state = draw(
            st.dictionaries(
                st.text(max_size=8),
                st.dictionaries(st.text(max_size=8), st.one_of(JSON, st.builds(lambda v: {"value": v}, ODD_TEXT))),
                max_size=3,
            )
        )
        payload = view_submission(team=TEAM, user=user, callback_id=callback_id, meta=draw(values()), values=state)
        return f"view {callback_id!r}", urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    if kind == "event":
        event = draw(
            st.one_of(
                st.builds(
                    lambda t, u, c: {"type": "message", "text": t, "user": u, "channel": c},
                    ODD_TEXT,
                    st.just(user),
                    st.just(channel),
                ),
                st.builds(
                    lambda f: {"type": "file_shared", "file_id": f, "user_id": user, "channel_id": channel}, ODD_TEXT
                ),
                st.builds(lambda: {"type": "app_home_opened", "user": user, "tab": "home"}),
                JSON.map(
                    lambda j: {"type": "message", "subtype": "file_share", "user": user, "channel": channel, "files": j}
                ),
            )
        )
        envelope = {"team_id": TEAM, "api_app_id": "A0RECAST", "type": "event_callback", "event": event}
        envelope |= {"event_id": f"Ev{uuid.uuid4().hex[:12]}", "event_time": int(time.time())}
        return f"event {event.get('type')}", json.dumps(envelope), "application/json"
    body = draw(
        st.one_of(
            ODD_TEXT,
            JSON.map(json.dumps),
            st.just("payload=%7Bnot json"),
            st.just("payload=null"),
            st.just('{"type": "url_verification"}'),
            st.builds(lambda j: urlencode({"payload": json.dumps(j)}), JSON),
        )
    )
    content_type = draw(st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""]))
    return "garbage", body, content_type


@examples(60)
@given(data=st.data())
async def test_generated_signed_requests_get_no_5xx_and_no_unhandled_exception(
    deps, slack: SlackHTTP, agency: Agency, fake_slack, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    caplog.set_level(logging.INFO)
    what, body, content_type = data.draw(requests(agency), label="request")
    before = len(caplog.records)
    resp = await slack.send(body, content_type)
    assert resp.status < 500, (what, resp.status)
    await asyncio.sleep(0.1)  # lazy listeners run after the ack
    assert unhandled(caplog.records[before:]) == [], what


@examples(20)
@given(
    body=st.one_of(ODD_TEXT, st.just("command=/recast&text=help")),
    headers=st.fixed_dictionaries(
        {},
        optional={
            "X-Slack-Request-Timestamp": st.one_of(st.just("0"), st.just(str(int(time.time()))), ODD_TEXT),
            "X-Slack-Signature": st.one_of(st.just("v0=00"), ODD_TEXT),
        },
    ),
)
async def test_unsigned_and_forged_requests_are_refused(
    slack: SlackHTTP, caplog: pytest.LogCaptureFixture, body: str, headers: dict[str, str]
) -> None:
    caplog.set_level(logging.INFO)
    # What aiohttp's client can send (its own check refuses control characters in a header).
    headers = {k: "".join(c for c in v if c.isprintable() and ord(c) < 256) for k, v in headers.items()}
    async with slack.http.post(
        slack.url,
        data=body.encode("utf-8", "surrogatepass"),
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    ) as resp:
        assert resp.status in (400, 401)  # 400: a body bolt cannot read, refused before the signature
    assert unhandled(caplog.records) == []


async def test_a_body_bolt_cannot_read_is_a_400_not_a_500(slack: SlackHTTP, caplog: pytest.LogCaptureFixture) -> None:
    # Found by the Slack fuzzer: bolt parses the body before the signature check, so these raised out of the
    # handler as a 500 with a traceback, signed or not.
    caplog.set_level(logging.INFO)
    for body, content_type in [
        ("payload=%7Bnot json", "application/json"),
        ("payload=null", "application/x-www-form-urlencoded"),
        ("[1, 2]", "application/json"),
        # Signed, but not what Slack sends: bolt's own kwargs read `actions[0]` and `event["type"]`.
        (
            SlackHTTP.interactive_body({"type": "block_actions", "team": {"id": TEAM}, "actions": []}),
            "application/x-www-form-urlencoded",
        ),
        (json.dumps({"type": "event_callback", "team_id": TEAM, "event": [1]}), "application/json"),
    ]:
        assert (await slack.send(body, content_type)).status == 400
    async with slack.http.post(slack.url, data=b"\xff\xfe", headers={"Content-Type": "text/plain"}) as resp:
        assert resp.status == 400
    stamp = {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"}
    async with slack.http.post(slack.url, data=b"command=/recast", headers=stamp) as resp:
        assert resp.status == 401  # bolt's int() of the timestamp raised: a 500 for anyone's unsigned request
    stamp["X-Slack-Request-Timestamp"] = "9" * 400
    async with slack.http.post(slack.url, data=b"command=/recast", headers=stamp) as resp:
        assert resp.status == 401  # found by the deep fuzz run: an OverflowError in bolt's float() of it
    stamp = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=\u00a1"}
    async with slack.http.post(slack.url, data=b"command=/recast", headers=stamp) as resp:
        assert resp.status == 401  # found by the deep fuzz run: hmac.compare_digest raised on a non-ASCII one
    assert unhandled(caplog.records) == []


async def test_a_click_whose_value_is_not_ours_is_acknowledged_and_runs_no_listener(
    slack: SlackHTTP, caplog: pytest.LogCaptureFixture
) -> None:
    # Found by the deep fuzz run: "request changes" with an empty value raised in its ack-phase listener (500).
    caplog.set_level(logging.INFO)
    for action_id in (CHANGES, REJECT, QA_SEND, QA_FAIL, SCHEDULE):
        click = block_action(team=TEAM, channel=CHANNEL, user="U0SOMEONE", action_id=action_id, value="")
        assert await slack.interact(click) == (200, "")
    assert unhandled(caplog.records) == []
    assert sum("its value is not one of ours" in r.getMessage() for r in caplog.records) == 5


async def test_a_form_without_the_input_its_modal_has_is_acknowledged_and_runs_no_listener(
    slack: SlackHTTP, caplog: pytest.LogCaptureFixture
) -> None:
    # Found by the deep fuzz run: a QA "fail" form without its feedback input raised in its ack listener (500).
    caplog.set_level(logging.INFO)
    for callback_id in (QA_FAIL_MODAL, CHANGES_MODAL, REJECT_MODAL, SETUP_CHANNEL_MODAL):
        form = view_submission(team=TEAM, user="U0SOMEONE", callback_id=callback_id, meta="x", values={"a": {}})
        assert await slack.interact(form) == (200, "")
    assert unhandled(caplog.records) == []
    assert sum("submitted without the input its modal has" in r.getMessage() for r in caplog.records) == 4
