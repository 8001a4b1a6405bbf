"""Publishing for agency teams in Slack, end to end over HTTP: signed Slack requests to the real bolt app, the
fake Slack Web API, the fake LinkedIn (OAuth and Posts API), the real web app's OAuth callback, a real
database and a real worker running the publishing units."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import func, select

from bots.slack import outbox
from bots.slack.publish_blocks import PUBLISH_NOW, SCHEDULE, SCHEDULE_MODAL
from core.accounts.models import ClientAccount
from core.common.clock import utcnow
from core.deps import CoreDeps
from core.distribution import connect, connections, upkeep
from core.distribution.connections import Owner
from core.distribution.models import PlatformConnection, PostStatus, ScheduledPost
from core.distribution.platforms.names import Platform
from core.distribution.ports import Account, TokenSet
from core.integrations import slack_links
from core.notify import outbox as notify_outbox
from tests.bots.slack.conftest import BOTH_LOGINS, CHANNEL, TEAM, Agency, SlackHTTP, telegram_sent, view_submission
from tests.bots.slack.test_approvals_over_http import FORM, buttons, click
from tests.core.workflow.builders import make_draft
from tests.fakes.linkedin_api import FakeLinkedIn
from tests.fakes.slack_api import Call, FakeSlack

pytestmark = BOTH_LOGINS


async def _browse(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as browser, browser.get(url) as page:
        return page.status, await page.text()


async def _connect_over_slack(slack: SlackHTTP, fake_slack: FakeSlack, user: str) -> str:
    """`/recast connect linkedin` in the client's channel; the sign-in button's URL."""
    before = len(fake_slack.calls_to("chat.postEphemeral"))
    assert await slack.command(user, "connect linkedin") == ""
    calls = await fake_slack.wait_for("chat.postEphemeral", count=before + 1)
    reply = calls[-1]
    assert reply.params["user"] == user and reply.params["channel"] == CHANNEL
    (row,) = [b for b in reply.params["blocks"] if b["type"] == "actions"]
    (button,) = row["elements"]
    assert button["text"]["text"] == "Connect LinkedIn"
    return str(button["url"])


async def _connected_linkedin(deps: CoreDeps, linkedin: FakeLinkedIn, agency: Agency) -> PlatformConnection:
    """The client account's LinkedIn, connected through the real flow (sign-in link, LinkedIn's redirect)."""
    owner = Owner(agency.team.manager.id, agency.team.client.id, agency.team.org.id)
    url = await connect.sign_in_link(
        deps.redis, deps.settings, Platform.LINKEDIN, owner, slack_links.slack_chat(TEAM, CHANNEL)
    )
    async with deps.sessionmaker() as session:
        connected = await connect.finish_connect(
            session,
            deps.redis,
            deps.settings,
            Platform.LINKEDIN,
            state=parse_qs(urlparse(url).query)["state"][0],
            code=linkedin.grant_code(),
        )
        await session.commit()
    await connect.after_commit(deps, connected)
    async with deps.sessionmaker() as session:
        return await session.get_one(PlatformConnection, connected.connection_id)


async def _approve_both_stages(
    deps: CoreDeps, slack: SlackHTTP, fake_slack: FakeSlack, agency: Agency
) -> tuple[uuid.UUID, Call]:
    """A draft for the client posted for approval and approved at both stages by clicks; (draft id, its post)."""
    draft_id = await make_draft(deps, agency.team)
    await outbox.post_approval(deps, slack.client, draft_id)
    (post,) = await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params.get("channel") == CHANNEL and "blocks" in c.params
    )
    ts = post.response["ts"]
    manager, client = agency.slack_ids["manager"], agency.slack_ids["client"]
    await slack.send(
        slack.interactive_body(click(manager, "recast_approve", buttons(post)["recast_approve"], ts)), FORM
    )
    (redrawn,) = await fake_slack.wait_for("chat.update", lambda c: c.params["ts"] == ts)
    await slack.send(
        slack.interactive_body(click(client, "recast_approve", buttons(redrawn)["recast_approve"], ts)), FORM
    )
    await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == ts and "was approved by" in c.params["text"]
    )
    return draft_id, post


def _in_thread(post: Call, needle: str) -> Any:
    ts = post.response["ts"]
    return lambda c: c.params.get("thread_ts") == ts and needle in (c.params.get("text") or "")


def _offer_rows(call: Call) -> list[list[dict[str, Any]]]:
    return [b["elements"] for b in call.params.get("blocks") or [] if b["type"] == "actions"]


async def test_connecting_linkedin_from_a_client_channel_connects_it_for_the_client_and_says_so_there(
    deps, publishing_web, slack, fake_slack, linkedin, agency
):
    url = await _connect_over_slack(slack, fake_slack, agency.slack_ids["manager"])
    status, page = await _browse(url)  # LinkedIn's consent page sends the browser back to our callback
    assert status == 200 and "LinkedIn connected ✅" in page
    (said,) = await fake_slack.wait_for("chat.postMessage", lambda c: "is connected for" in c.params["text"])
    assert said.params["channel"] == CHANNEL and "thread_ts" not in said.params
    assert said.params["text"].startswith("LinkedIn (Asha Rao) is connected for Acme Foods.")
    async with deps.sessionmaker() as s:
        (row,) = (
            await s.scalars(
                select(PlatformConnection).where(PlatformConnection.client_account_id == agency.team.client.id)
            )
        ).all()
    assert (row.organization_id, row.user_id, row.platform) == (agency.team.org.id, agency.team.manager.id, "linkedin")

    # `/recast connections` lists the client's accounts with their state.
    assert await slack.command(agency.slack_ids["client"], "connections") == ""
    (listed,) = await fake_slack.wait_for("chat.postEphemeral", lambda c: c.params["text"].startswith("Accounts "))
    assert listed.params["text"] == "Accounts *Acme Foods* publishes to:\n• LinkedIn (Asha Rao): connected"


async def test_connect_says_what_to_do_when_it_cannot(deps, publishing_web, slack, fake_slack, agency):
    manager = agency.slack_ids["manager"]
    for text, expected in (
        ("connect myspace", "I don't know a platform called “myspace”. Try `/recast connect linkedin`."),
        (
            "connect x",
            "X isn't set up on this server (its operator hasn't added its app keys). Try `/recast connect linkedin`.",
        ),
    ):
        before = len(fake_slack.calls_to("chat.postEphemeral"))
        assert await slack.command(manager, text) == ""
        calls = await fake_slack.wait_for("chat.postEphemeral", count=before + 1)
        assert calls[-1].params["text"] == expected and "blocks" not in calls[-1].params
    # A channel that reviews no client: nothing to connect an account for.
    assert await slack.command(manager, "connect linkedin", channel="C0RANDOM") == ""
    (said,) = await fake_slack.wait_for("chat.postEphemeral", lambda c: c.params["channel"] == "C0RANDOM")
    assert said.params["text"].startswith("This channel isn't linked to a client account")
    # A creator of the team may not connect the client's accounts.
    assert await slack.command(agency.slack_ids["outsider"], "connect linkedin") == ""
    (refused,) = await fake_slack.wait_for(
        "chat.postEphemeral", lambda c: c.params["user"] == agency.slack_ids["outsider"]
    )
    assert refused.params["text"].startswith("Only the team's owners, admins, managers")
    async with deps.sessionmaker() as s:
        mine = PlatformConnection.client_account_id == agency.team.client.id
        assert await s.scalar(select(func.count()).select_from(PlatformConnection).where(mine)) == 0


async def test_the_last_approval_offers_publish_now_only_where_the_draft_fits_and_publishes_once(
    deps, publishing_web, slack, fake_slack, linkedin, agency, worker
):
    li = await _connected_linkedin(deps, linkedin, agency)
    async with deps.sessionmaker() as s:  # an X account of the client: it can't carry a LinkedIn post
        x = await connections.save_connection(
            s,
            deps.settings,
            platform="x",
            owner=Owner(agency.team.manager.id, agency.team.client.id, agency.team.org.id),
            account=Account("x-1", "acmefoods"),
            tokens=TokenSet("x-token"),
        )
        await s.commit()
    draft_id, post = await _approve_both_stages(deps, slack, fake_slack, agency)

    (offer,) = await fake_slack.wait_for("chat.postMessage", _in_thread(post, "Publish it now or schedule it"))
    assert "Asia/Kolkata" in offer.params["text"]
    (row,) = _offer_rows(offer)
    assert [(e["action_id"], e["text"]["text"]) for e in row] == [
        (PUBLISH_NOW, "🚀 Publish now · LinkedIn (Asha Rao)"),
        (SCHEDULE, "🗓 Schedule"),
    ]
    assert str(x.id) not in json.dumps(offer.params["blocks"]) and str(li.id) in row[0]["value"]
    assert "queued" not in json.dumps([c.params for c in fake_slack.calls]).lower()

    manager = agency.slack_ids["manager"]
    await slack.send(slack.interactive_body(click(manager, PUBLISH_NOW, row[0]["value"], post.response["ts"])), FORM)
    await fake_slack.wait_for("chat.postMessage", _in_thread(post, f"<@{manager}> is publishing it on LinkedIn"))
    (linked,) = await fake_slack.wait_for("chat.postMessage", _in_thread(post, "Published on LinkedIn (Asha Rao): "))
    assert len(linkedin.posts) == 1
    async with deps.sessionmaker() as s:
        (published,) = (
            await s.scalars(select(ScheduledPost).where(ScheduledPost.generated_content_id == draft_id))
        ).all()
    assert published.status == PostStatus.PUBLISHED and published.platform_post_url
    assert linked.params["text"].endswith(published.platform_post_url)

    # The old button clicked again posts nothing more, and says where it is.
    await slack.send(slack.interactive_body(click(manager, PUBLISH_NOW, row[0]["value"], post.response["ts"])), FORM)
    (again,) = await fake_slack.wait_for("chat.postEphemeral", lambda c: "already published" in c.params["text"])
    assert published.platform_post_url in again.params["text"]
    await worker.drain()
    assert len(linkedin.posts) == 1


async def test_schedule_reads_a_typed_time_in_the_client_accounts_timezone(
    deps, publishing_web, slack, fake_slack, linkedin, agency, worker
):
    async with deps.sessionmaker.begin() as s:
        client = await s.get_one(ClientAccount, agency.team.client.id)
        client.settings = {"timezone": "Europe/London"}
    await _connected_linkedin(deps, linkedin, agency)
    draft_id, post = await _approve_both_stages(deps, slack, fake_slack, agency)
    (offer,) = await fake_slack.wait_for("chat.postMessage", _in_thread(post, "Publish it now or schedule it"))
    assert "Europe/London" in offer.params["text"]
    (row,) = _offer_rows(offer)
    manager = agency.slack_ids["manager"]
    await slack.send(slack.interactive_body(click(manager, SCHEDULE, row[1]["value"], post.response["ts"])), FORM)
    (opened,) = await fake_slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == SCHEDULE_MODAL and "Europe/London" in json.dumps(view)
    (slot_block,) = [b for b in view["blocks"] if b.get("block_id") == "slot"]
    assert len(slot_block["element"]["options"]) == 3  # the suggested slots

    # Nothing picked or typed: the modal stays open and says why.
    status, answer = await slack.interact(
        view_submission(team=TEAM, user=manager, callback_id=SCHEDULE_MODAL, meta=view["private_metadata"], values={})
    )
    assert status == 200 and "Pick a suggested time or type one." in answer
    typed = {"when": {"value": {"type": "plain_text_input", "value": "tomorrow 9:30"}}}
    status, answer = await slack.interact(
        view_submission(
            team=TEAM, user=manager, callback_id=SCHEDULE_MODAL, meta=view["private_metadata"], values=typed
        )
    )
    assert status == 200 and "errors" not in answer
    london = ZoneInfo("Europe/London")
    tomorrow = (utcnow().astimezone(london) + timedelta(days=1)).date()
    expected = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9, 30, tzinfo=london).astimezone(UTC)
    async with deps.sessionmaker() as s:
        (scheduled,) = (
            await s.scalars(select(ScheduledPost).where(ScheduledPost.generated_content_id == draft_id))
        ).all()
    assert (scheduled.status, scheduled.scheduled_for, scheduled.timezone) == ("scheduled", expected, "Europe/London")
    (said,) = await fake_slack.wait_for("chat.postMessage", _in_thread(post, f"<@{manager}> scheduled it on LinkedIn"))
    assert "09:30 Europe/London" in said.params["text"]
    assert linkedin.posts == []  # not due yet


async def test_without_platform_keys_connect_says_publishing_is_not_set_up(deps, slack, fake_slack, agency):
    assert await slack.command(agency.slack_ids["manager"], "connect linkedin") == ""
    (said,) = await fake_slack.wait_for("chat.postEphemeral")
    assert said.params["text"].startswith("Publishing isn't set up on this server yet") and "blocks" not in said.params


async def test_declining_on_linkedin_is_said_in_the_channel(deps, publishing_web, slack, fake_slack, linkedin, agency):
    linkedin.decline = True
    url = await _connect_over_slack(slack, fake_slack, agency.slack_ids["manager"])
    status, page = await _browse(url)
    assert status == 200 and "nothing was connected" in page
    (said,) = await fake_slack.wait_for("chat.postMessage", lambda c: "wasn't connected" in c.params["text"])
    assert said.params["channel"] == CHANNEL
    assert said.params["text"] == "LinkedIn wasn't connected: you declined on its page. `/recast connect` starts again."


async def test_an_approval_without_an_account_says_how_to_connect_one(
    deps, publishing_web, slack, fake_slack, linkedin, agency, worker
):
    _, post = await _approve_both_stages(deps, slack, fake_slack, agency)
    (how,) = await fake_slack.wait_for("chat.postMessage", _in_thread(post, "To publish it from here"))
    assert how.params["text"] == "To publish it from here, connect Acme Foods's account: `/recast connect linkedin`."
    assert not _offer_rows(how)


async def test_a_revoked_client_account_holds_the_post_until_anyone_on_the_team_reconnects_it_from_slack(
    deps, publishing_web, slack, fake_slack, linkedin, agency, worker
):
    li = await _connected_linkedin(deps, linkedin, agency)  # connected by the manager
    draft_id, post = await _approve_both_stages(deps, slack, fake_slack, agency)
    (offer,) = await fake_slack.wait_for("chat.postMessage", _in_thread(post, "Publish it now or schedule it"))
    linkedin.revoke_all()  # the member removed Recast's access on LinkedIn
    manager, reviewer = agency.slack_ids["manager"], agency.slack_ids["client"]
    value = _offer_rows(offer)[0][0]["value"]
    await slack.send(slack.interactive_body(click(manager, PUBLISH_NOW, value, post.response["ts"])), FORM)

    # The client's channel hears it (with the command that fixes it), and the post waits.
    (held,) = await fake_slack.wait_for(
        "chat.postMessage", lambda c: "no longer accepts" in c.params["text"] and c.params.get("thread_ts") is None
    )
    assert held.params["channel"] == CHANNEL and "`/recast connect linkedin`" in held.params["text"]
    async with deps.sessionmaker() as s:
        (waiting,) = (
            await s.scalars(select(ScheduledPost).where(ScheduledPost.generated_content_id == draft_id))
        ).all()
    assert waiting.status == PostStatus.HELD and linkedin.posts == []
    # Not on Telegram: a Reconnect button there would connect the creator's own LinkedIn, not the client's.
    told = [m for chat, m in telegram_sent(deps) if "no longer accepts" in m.text]
    assert told == []

    # The client's reviewer reconnects it: the same connection comes back and the held post goes out.
    status, _ = await _browse(await _connect_over_slack(slack, fake_slack, reviewer))
    assert status == 200
    (back,) = await fake_slack.wait_for("chat.postMessage", lambda c: "back on schedule" in c.params["text"])
    assert back.params["text"].startswith("LinkedIn (Asha Rao) is connected for Acme Foods.")
    await fake_slack.wait_for("chat.postMessage", _in_thread(post, "Published on LinkedIn (Asha Rao): "))
    assert len(linkedin.posts) == 1
    async with deps.sessionmaker() as s:
        rows = (
            await s.scalars(
                select(PlatformConnection).where(PlatformConnection.client_account_id == agency.team.client.id)
            )
        ).all()
    assert [(r.id, r.status, r.user_id) for r in rows] == [(li.id, "active", agency.team.manager.id)]


async def test_a_client_token_linkedin_refuses_to_renew_is_said_in_the_clients_channel(
    deps, publishing_web, slack, fake_slack, linkedin, agency
):
    li = await _connected_linkedin(deps, linkedin, agency)
    async with deps.sessionmaker.begin() as s:
        row = await s.get_one(PlatformConnection, li.id)
        row.token_expires_at = utcnow() + timedelta(days=2)  # inside the scheduler's refresh window
    linkedin.refresh_refused = True
    _, units = await upkeep.refresh_due(deps.sessionmaker, deps.settings)
    await notify_outbox.flush(deps, units)
    (said,) = await fake_slack.wait_for("chat.postMessage", lambda c: "refused to renew" in c.params["text"])
    assert said.params["channel"] == CHANNEL and "thread_ts" not in said.params
    assert said.params["text"].endswith("To reconnect, run `/recast connect linkedin` in the client's channel.")
    async with deps.sessionmaker() as s:
        assert (await s.get_one(PlatformConnection, li.id)).status == "refresh_failed"


async def test_calendar_shows_the_clients_coming_week_and_disconnect_revokes_and_cancels_it(
    deps, publishing_web, slack, fake_slack, linkedin, agency, worker
):
    manager = agency.slack_ids["manager"]
    assert await slack.command(manager, "calendar") == ""
    (empty,) = await fake_slack.wait_for("chat.postEphemeral", lambda c: "Nothing is scheduled" in c.params["text"])
    assert empty.params["text"].startswith("Nothing is scheduled for *Acme Foods* in the coming week.")

    await _connected_linkedin(deps, linkedin, agency)
    draft_id, post = await _approve_both_stages(deps, slack, fake_slack, agency)
    (offer,) = await fake_slack.wait_for("chat.postMessage", _in_thread(post, "Publish it now or schedule it"))
    (row,) = _offer_rows(offer)
    await slack.send(slack.interactive_body(click(manager, SCHEDULE, row[1]["value"], post.response["ts"])), FORM)
    (opened,) = await fake_slack.wait_for("views.open")
    typed = {"when": {"value": {"type": "plain_text_input", "value": "tomorrow 9:30"}}}
    meta = opened.params["view"]["private_metadata"]
    await slack.interact(view_submission(team=TEAM, user=manager, callback_id=SCHEDULE_MODAL, meta=meta, values=typed))
    await fake_slack.wait_for("chat.postMessage", _in_thread(post, f"<@{manager}> scheduled it on LinkedIn"))

    # Anyone on the client's team sees what goes out, in the client's timezone (the default, Asia/Kolkata).
    assert await slack.command(agency.slack_ids["client"], "calendar") == ""
    (week,) = await fake_slack.wait_for("chat.postEphemeral", lambda c: c.params["text"].startswith("Coming up for"))
    lines = week.params["text"].split("\n")
    assert lines[0] == "Coming up for *Acme Foods* (times in Asia/Kolkata):"
    assert len(lines) == 2 and "09:30" in lines[1] and "— LinkedIn: " in lines[1]

    # Disconnecting: which account must be said; then tokens go, LinkedIn revokes, the post is cancelled.
    assert await slack.command(manager, "disconnect") == ""
    (which,) = await fake_slack.wait_for("chat.postEphemeral", lambda c: c.params["text"].startswith("Which account?"))
    assert "`linkedin Asha Rao`" in which.params["text"]
    assert await slack.command(manager, "disconnect linkedin") == ""
    (gone,) = await fake_slack.wait_for("chat.postMessage", lambda c: " disconnected " in c.params["text"])
    assert gone.params["channel"] == CHANNEL
    assert gone.params["text"] == (
        f"<@{manager}> disconnected LinkedIn (Asha Rao) for *Acme Foods*. Its tokens are deleted here and "
        "LinkedIn revoked Recast's access. 1 scheduled post(s) were cancelled."
    )
    async with deps.sessionmaker() as s:
        (scheduled,) = (
            await s.scalars(select(ScheduledPost).where(ScheduledPost.generated_content_id == draft_id))
        ).all()
        left = await connections.connections_of(
            s, Owner(agency.team.manager.id, agency.team.client.id, agency.team.org.id)
        )
    assert scheduled.status == PostStatus.CANCELLED and left == []
    assert linkedin.posts == []
