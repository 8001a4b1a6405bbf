"""A client account's figures in Slack, end to end over HTTP: signed Slack requests to the real bolt app, the fake
Slack Web API (files_upload_v2's external upload flow included), `engagement_metrics` rows with known values in
a real database, and a real worker and outbox for the weekly digest. Expectations are computed by hand from
the rows: a period's figure is the newest counter before its end minus the newest before its start."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import func, select

from core.accounts.models import ClientAccount
from core.analytics.models import EngagementMetric
from core.analytics.stats import week_start
from core.common.clock import utcnow
from core.content.models import ContentAsset
from core.db.session import session_scope
from core.deps import CoreDeps
from core.distribution.models import PostStatus, ScheduledPost
from core.integrations import slack_links
from core.notify import outbox
from core.repurposing.models import GeneratedContent
from core.work.models import WorkUnit
from recast.commands import with_slack_notices
from tests.bots.slack.conftest import BOTH_LOGINS, CHANNEL, TEAM, Agency, SlackHTTP
from tests.fakes.slack_api import Call, FakeSlack

pytestmark = BOTH_LOGINS

NEW_YORK = "America/New_York"
POST_URL = "https://www.linkedin.com/feed/update/urn:li:share:4242/"
THIS_WEEK_BAR, LAST_WEEK_BAR = (0x25, 0x63, 0xEB), (0xCB, 0xD5, 0xE1)


async def _client_in(deps: CoreDeps, agency: Agency, timezone: str) -> None:
    async with session_scope(deps.sessionmaker) as s:
        client = await s.get_one(ClientAccount, agency.team.client.id)
        client.settings = {**(client.settings or {}), "timezone": timezone}


async def _published_draft(deps: CoreDeps, agency: Agency, client_id: uuid.UUID, title: str) -> uuid.UUID:
    """A LinkedIn post of the client account, published (its link kept), with no figures yet."""
    team = agency.team
    async with session_scope(deps.sessionmaker) as s:
        asset = ContentAsset(
            user_id=team.creator.id,
            organization_id=team.org.id,
            client_account_id=client_id,
            title="Talk",
            content_type="text",
            file_url="text://talk",
        )
        s.add(asset)
        await s.flush()
        draft = GeneratedContent(
            user_id=team.creator.id, content_asset_id=asset.id, title=title, content_type="social_post"
        )
        s.add(draft)
        await s.flush()
        s.add(
            ScheduledPost(
                generated_content_id=draft.id,
                user_id=team.creator.id,
                platform="linkedin",
                scheduled_for=utcnow() - timedelta(days=30),
                status=PostStatus.PUBLISHED,
                published_at=utcnow() - timedelta(days=30),
                platform_post_url=POST_URL,
            )
        )
        return draft.id


async def _metrics(deps: CoreDeps, draft_id: uuid.UUID, rows: list[tuple[datetime, int, int, int, int]]) -> None:
    """(collected_at, impressions, likes, comments, shares) rows: cumulative counters, as LinkedIn reports."""
    async with session_scope(deps.sessionmaker) as s:
        for when, impressions, likes, comments, shares in rows:
            s.add(
                EngagementMetric(
                    generated_content_id=draft_id,
                    platform="linkedin",
                    collected_at=when,
                    views=None,
                    impressions=impressions,
                    likes=likes,
                    comments=comments,
                    shares=shares,
                )
            )


async def _this_week_figures(deps: CoreDeps, agency: Agency) -> None:
    """Last week's span: 100 impressions, 10 likes; just before this week 150/12; this week 400, 30 + 5.
    This week so far: 400 - 150 = 250 views, 35 - 12 = 23 engagements; the same days last week: 100, 10."""
    now = utcnow()
    start = week_start(now, NEW_YORK)
    half = (now - start) / 2
    draft = await _published_draft(deps, agency, agency.team.client.id, "Consistency beats talent")
    await _metrics(
        deps,
        draft,
        [
            (start - timedelta(days=7) + half, 100, 10, 0, 0),
            (start - timedelta(minutes=1), 150, 12, 0, 0),
            (start + half, 400, 30, 5, 0),
        ],
    )


def _said(call: Call) -> str:
    """Everything a message shows: its text and its blocks' texts."""
    parts = [str(call.params.get("text") or "")]
    for block in call.params.get("blocks") or []:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts += [e.get("text", "") for e in block.get("elements") or [] if isinstance(e, dict)]
    return "\n".join(parts)


def _png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (1080, 1080)
    colours = {c for _, c in image.convert("RGB").getcolors(maxcolors=1_000_000) or []}
    assert THIS_WEEK_BAR in colours and LAST_WEEK_BAR in colours  # both periods' bars are drawn
    return image


async def _ephemeral(slack: SlackHTTP, fake: FakeSlack, user: str, text: str, *, channel: str = CHANNEL) -> str:
    before = len(fake.calls_to("chat.postEphemeral"))
    assert await slack.command(user, text, channel=channel) == ""
    calls = await fake.wait_for("chat.postEphemeral", count=before + 1)
    assert calls[-1].params["user"] == user and calls[-1].params["channel"] == channel
    return str(calls[-1].params["text"])


async def test_stats_in_the_clients_channel_answers_with_its_week_and_uploads_the_chart(
    deps, slack, fake_slack, agency
):
    await _client_in(deps, agency, NEW_YORK)
    manager = agency.slack_ids["manager"]
    empty = await _ephemeral(slack, fake_slack, manager, "stats")
    assert empty.startswith("No figures for *Acme Foods* yet. Posts published through Recast")
    assert "an hour after they go out" in empty
    assert not fake_slack.shared and not fake_slack.calls_to("chat.postMessage")

    await _this_week_figures(deps, agency)
    assert await slack.command(manager, "stats") == ""
    (answer,) = await fake_slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == CHANNEL)
    said = _said(answer)
    assert f"*Acme Foods* · this week so far vs the same days last week ({NEW_YORK})" in said
    assert "Views 250 (+150%) · Engagement 23 (+130%)" in said
    assert "• LinkedIn: 250 views, 23 engagements (+130%)" in said
    assert f"1. <{POST_URL}|Consistency beats talent> — LinkedIn, 23 engagements" in said
    assert (
        "From 1 post(s) with figures this week; engagement = likes + comments + shares + saves. "
        f"Asked for by <@{manager}>." in said
    )
    assert answer.params["text"] == "Acme Foods: Views 250 (+150%) · Engagement 23 (+130%) this week so far"

    await fake_slack.wait_for("files.completeUploadExternal")
    (chart,) = fake_slack.shared
    assert chart.channel_id == CHANNEL and chart.filename == "acme-this-week.png"
    _png(chart.data)


async def test_stats_by_name_from_elsewhere_goes_to_the_askers_messages(deps, slack, fake_slack, agency):
    await _client_in(deps, agency, NEW_YORK)
    await _this_week_figures(deps, agency)
    manager = agency.slack_ids["manager"]
    note = await _ephemeral(slack, fake_slack, manager, "stats Acme Foods", channel="C0OTHERCLIENT")
    assert note == "I've sent *Acme Foods*'s figures to our direct messages, so they stay with you."
    (opened,) = fake_slack.calls_to("conversations.open")
    dm = opened.response["channel"]["id"]
    assert opened.params["users"] == manager and dm.startswith("D")
    (answer,) = await fake_slack.wait_for("chat.postMessage")
    assert answer.params["channel"] == dm and "Views 250 (+150%) · Engagement 23 (+130%)" in _said(answer)
    assert "Asked for by" not in _said(answer)
    await fake_slack.wait_for("files.completeUploadExternal")
    (chart,) = fake_slack.shared
    assert chart.channel_id == dm  # never into the channel it was asked from
    _png(chart.data)


async def test_stats_says_why_not_to_whoever_may_not_see_or_asks_about_nobody(deps, slack, fake_slack, agency):
    await _this_week_figures(deps, agency)
    refused = await _ephemeral(slack, fake_slack, agency.slack_ids["outsider"], "stats")  # a creator of the team
    assert refused == "Only the team's owners, admins, managers and the client's reviewers can see its figures."
    unknown = await _ephemeral(slack, fake_slack, agency.slack_ids["manager"], "stats initech")
    assert unknown == "I don't know a client account by that name in this workspace's organization."
    unlinked = await _ephemeral(slack, fake_slack, agency.slack_ids["manager"], "stats", channel="C0RANDOM")
    assert unlinked.startswith("This channel isn't linked to a client account. Run `/recast stats <client>`")
    stranger = await _ephemeral(slack, fake_slack, "U0STRANGER", "stats acme")
    assert stranger.startswith("I don't know your Slack account yet.")
    assert not fake_slack.calls_to("chat.postMessage") and not fake_slack.shared


async def test_app_home_lists_this_weeks_figures_of_the_clients_the_person_can_see(deps, slack, fake_slack, agency):
    await _client_in(deps, agency, NEW_YORK)
    await _this_week_figures(deps, agency)
    async with session_scope(deps.sessionmaker) as s:
        s.add(ClientAccount(organization_id=agency.team.org.id, name="Globex", slug="globex"))
    manager, outsider = agency.slack_ids["manager"], agency.slack_ids["outsider"]

    await slack.event({"type": "app_home_opened", "user": manager, "channel": "D0HOME", "tab": "home"})
    (home,) = await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == manager)
    blocks = home.params["view"]["blocks"]
    assert blocks[0]["text"]["text"] == "This week so far"
    assert blocks[1]["text"]["text"] == (
        "*Acme Foods*: 250 views (+150%) · 23 engagements (+130%)\n*Globex*: no figures yet"
    )

    await slack.event({"type": "app_home_opened", "user": outsider, "channel": "D0HOME2", "tab": "home"})
    (theirs,) = await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == outsider)
    assert "This week so far" not in str(theirs.params["view"]["blocks"])  # a creator sees no client's figures


# ----------------------------------------------------------------------------------------------- the digest

MONDAY = datetime(2026, 11, 30, tzinfo=ZoneInfo(NEW_YORK))  # a Monday


def _ny(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=ZoneInfo(NEW_YORK))


async def _digest_figures(deps: CoreDeps, agency: Agency) -> None:
    """The week before (16–22 Nov): 300 impressions and 8 + 12 likes + 2 comments = 22 gained from nothing.
    Last week (23–29 Nov): 700 - 300 = 400 views, (40 + 5 + 3) - 22 = 26 engagements. The Monday morning row
    (30 Nov, before the digest) is this week's and must not count."""
    draft = await _published_draft(deps, agency, agency.team.client.id, "Consistency beats talent")
    await _metrics(
        deps,
        draft,
        [
            (_ny(18, 12), 100, 8, 0, 0),
            (_ny(22, 23), 300, 20, 2, 0),  # 04:00 UTC on the 23rd: still the week before in New York
            (_ny(25, 12), 700, 40, 5, 3),
            (_ny(30, 7), 900, 60, 5, 3),
        ],
    )


async def _run_digests(deps: CoreDeps, worker: Any, at: datetime, organization_id: uuid.UUID) -> None:
    # One agency's clients: other tests' client accounts in the same database have digests due too.
    await deps.enqueue("analytics.send_client_digests", at=at.isoformat(), organization_id=str(organization_id))
    await worker.drain()


async def test_the_weekly_digest_is_posted_once_per_client_per_week_on_the_clients_monday(
    deps, slack, fake_slack, agency, worker
):
    with_slack_notices(deps)
    org = agency.team.org.id
    await _client_in(deps, agency, NEW_YORK)
    await _digest_figures(deps, agency)
    async with session_scope(deps.sessionmaker) as s:  # a linked client with nothing published: no digest
        globex = ClientAccount(organization_id=agency.team.org.id, name="Globex", slug="globex")
        s.add(globex)
        await s.flush()
        await slack_links.link_channel(session=s, team_id=TEAM, channel_id="C0GLOBEX", client_account_id=globex.id)

    await _run_digests(deps, worker, MONDAY.replace(hour=8, minute=30), org)  # before 09:00 in New York
    await _run_digests(deps, worker, MONDAY - timedelta(days=1, hours=-10), org)  # Sunday 10:00
    assert not fake_slack.shared

    # Slack throttles the first try; the outbox sends it again.
    fake_slack.fail_next("files.completeUploadExternal", "ratelimited", status=429, retry_after=1)
    await _run_digests(deps, worker, MONDAY.replace(hour=9, minute=5), org)
    await fake_slack.wait_for("files.completeUploadExternal", lambda c: c.response.get("ok") is True)
    await worker.drain()
    await _run_digests(deps, worker, MONDAY.replace(hour=9, minute=5), org)  # the same hour's unit again
    await _run_digests(deps, worker, MONDAY.replace(hour=15), org)  # a later hour of the same Monday
    await _run_digests(deps, worker, MONDAY + timedelta(days=1, hours=9), org)  # Tuesday

    (digest,) = fake_slack.shared
    assert digest.channel_id == CHANNEL and digest.thread_ts is None
    assert digest.filename == "acme-week-2026-11-30.png"
    assert digest.initial_comment == "\n".join(
        [
            f"*Acme Foods: last week* (Mon 23 Nov – Sun 29 Nov, {NEW_YORK}) against the week before",
            "Views 400 (+33%) · Engagement 26 (+18%)",  # 100/300 = 33 %, 4/22 = 18 %
            "• LinkedIn: 400 views, 26 engagements (+18%)",
            "Top pieces:",
            f"1. <{POST_URL}|Consistency beats talent> — LinkedIn, 26 engagements",
            "From 1 post(s) with figures last week; engagement = likes + comments + shares + saves.",
        ]
    )
    _png(digest.data)
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 2  # the throttled try and the one that went
    async with deps.sessionmaker() as s:
        units = await s.scalar(
            select(func.count())
            .select_from(WorkUnit)
            .where(
                WorkUnit.kind == outbox.SEND,
                WorkUnit.dedupe_key.like(f"analytics.digest:{agency.team.client.id}:%"),
            )
        )
    assert units == 1

    # The next Monday is another week: a new digest, of that week.
    await _run_digests(deps, worker, MONDAY + timedelta(days=7, hours=9), org)
    await fake_slack.wait_for("files.completeUploadExternal", lambda c: c.response.get("ok") is True, count=2)
    assert [f.filename for f in fake_slack.shared] == ["acme-week-2026-11-30.png", "acme-week-2026-12-07.png"]
    assert fake_slack.shared[1].initial_comment.startswith(
        f"*Acme Foods: last week* (Mon 30 Nov – Sun 06 Dec, {NEW_YORK}) against the week before\n"
        "Views 200 (−50%) · Engagement 20 (−23%)"  # 900 - 700 and 68 - 48 against 400 and 26
    )
