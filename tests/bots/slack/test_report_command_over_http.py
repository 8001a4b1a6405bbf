"""`/recast report [client] [YYYY-MM]` end to end over HTTP: signed Slack requests to the real bolt app, the
fake Slack Web API's external upload (files.getUploadURLExternal, the bytes, files.completeUploadExternal), and
rows with known figures in a real database. The PDF is the monthly job's (`core.analytics.report`); each
refusal says what to do next."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from bots.slack.listeners.report import BAD_MONTH, NO_FILES_SCOPE, parse
from core.accounts.models import ClientAccount
from core.analytics import report as monthly
from core.analytics.models import EngagementMetric
from core.common.clock import utcnow
from core.content.models import ContentAsset
from core.db.session import session_scope
from core.deps import CoreDeps
from core.distribution.models import PostStatus, ScheduledPost
from core.repurposing.models import GeneratedContent
from tests.bots.slack.conftest import BOTH_LOGINS, CHANNEL, Agency, SlackHTTP
from tests.fakes.slack_api import FakeSlack

NEW_YORK = "America/New_York"
TITLE = "Consistency beats talent"


def _month() -> monthly.Month:
    return monthly.last_full_month(utcnow(), NEW_YORK)


async def _november_like_rows(deps: CoreDeps, agency: Agency) -> monthly.Month:
    """In the client's last full month (New York): a LinkedIn post published on its 5th, read on the 6th (200
    impressions, 10 likes) and the 20th (500 impressions, 30 likes, 5 comments): views 500, engagement 35."""
    month = _month()
    team = agency.team
    start = datetime(month.year, month.month, 1, 12, tzinfo=ZoneInfo(NEW_YORK))
    async with session_scope(deps.sessionmaker) as s:
        client = await s.get_one(ClientAccount, team.client.id)
        client.settings = {**(client.settings or {}), "timezone": NEW_YORK}
        asset = ContentAsset(
            user_id=team.creator.id,
            organization_id=team.org.id,
            client_account_id=team.client.id,
            title="Talk",
            content_type="text",
            file_url="text://talk",
        )
        s.add(asset)
        await s.flush()
        draft = GeneratedContent(
            user_id=team.creator.id, content_asset_id=asset.id, title=TITLE, content_type="social_post"
        )
        s.add(draft)
        await s.flush()
        published = start + timedelta(days=4)
        s.add(
            ScheduledPost(
                generated_content_id=draft.id,
                user_id=team.creator.id,
                platform="linkedin",
                scheduled_for=published,
                status=PostStatus.PUBLISHED,
                published_at=published,
                platform_post_url="https://www.linkedin.com/feed/update/urn:li:share:6410/",
            )
        )
        for day, impressions, likes, comments in ((5, 200, 10, 0), (19, 500, 30, 5)):
            s.add(
                EngagementMetric(
                    generated_content_id=draft.id,
                    platform="linkedin",
                    collected_at=start + timedelta(days=day),
                    impressions=impressions,
                    likes=likes,
                    comments=comments,
                    shares=0,
                )
            )
    return month


async def _ephemeral(slack: SlackHTTP, fake: FakeSlack, user: str, text: str, *, channel: str = CHANNEL) -> str:
    before = len(fake.calls_to("chat.postEphemeral"))
    assert await slack.command(user, text, channel=channel) == ""
    calls = await fake.wait_for("chat.postEphemeral", count=before + 1)
    assert calls[-1].params["user"] == user and calls[-1].params["channel"] == channel
    return str(calls[-1].params["text"])


def test_the_month_is_the_last_word_when_it_looks_like_one() -> None:
    assert parse("acme foods 2026-11") == ("acme foods", monthly.Month(2026, 11), False)
    assert parse("2026-11") == ("", monthly.Month(2026, 11), False)
    assert parse("acme") == ("acme", None, False)
    assert parse("") == ("", None, False)
    assert parse("acme 2026-13") == ("acme", None, True)
    assert parse("acme 11/2026") == ("acme", None, True)


@BOTH_LOGINS
async def test_report_in_the_clients_channel_uploads_its_last_months_pdf_there(deps, slack, fake_slack, agency):
    month = await _november_like_rows(deps, agency)
    manager = agency.slack_ids["manager"]
    assert await slack.command(manager, "report") == ""
    await fake_slack.wait_for("files.completeUploadExternal")
    (upload,) = fake_slack.shared
    assert upload.channel_id == CHANNEL and upload.filename == f"recast-report-acme-foods-{month.key}.pdf"
    comment = upload.initial_comment or ""
    assert comment.startswith(f"Acme Foods: {month.name} report. Views 500 (") and "Engagement 35 (" in comment
    assert comment.endswith(f"1 post(s) published. Asked for by <@{manager}>.")
    (asked,) = fake_slack.calls_to("files.getUploadURLExternal")
    assert int(asked.params["length"]) == len(upload.data)
    pdf = PdfReader(io.BytesIO(upload.data))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert f"Acme Foods — {month.name}" in text and TITLE in text


@BOTH_LOGINS
async def test_report_by_name_and_month_from_elsewhere_goes_to_the_askers_messages(deps, slack, fake_slack, agency):
    month = await _november_like_rows(deps, agency)
    manager = agency.slack_ids["manager"]
    note = await _ephemeral(slack, fake_slack, manager, f"report Acme Foods {month.key}", channel="C0ELSEWHERE")
    assert note == f"I've sent *Acme Foods*'s {month.name} report to our direct messages."
    (opened,) = fake_slack.calls_to("conversations.open")
    dm = opened.response["channel"]["id"]
    (upload,) = fake_slack.shared
    assert upload.channel_id == dm and dm.startswith("D") and "Asked for by" not in (upload.initial_comment or "")


@BOTH_LOGINS
async def test_report_says_what_to_do_for_unknown_clients_months_without_data_and_bad_months(
    deps, slack, fake_slack, agency
):
    month = await _november_like_rows(deps, agency)
    manager = agency.slack_ids["manager"]
    unknown = await _ephemeral(slack, fake_slack, manager, "report initech")
    assert unknown == "I don't know a client account by that name in this workspace's organization."
    before = month.previous()
    empty = await _ephemeral(slack, fake_slack, manager, f"report acme {before.key}")
    assert empty == (
        f"Nothing to report for *Acme Foods* in {before.name}: no post went out through Recast and none "
        "reported figures that month."
    )
    current = month.next()
    early = await _ephemeral(slack, fake_slack, manager, f"report {current.key}")
    assert early == f"{current.name} isn't over yet for *Acme Foods*. `/recast report` gives {month.name}."
    assert await _ephemeral(slack, fake_slack, manager, "report acme 2026-13") == BAD_MONTH
    unlinked = await _ephemeral(slack, fake_slack, manager, "report", channel="C0RANDOM")
    assert unlinked.startswith("This channel isn't linked to a client account. Run `/recast report <client>`")
    refused = await _ephemeral(slack, fake_slack, agency.slack_ids["outsider"], "report acme")
    assert refused == "Only the team's owners, admins, managers and the client's reviewers can see its figures."
    stranger = await _ephemeral(slack, fake_slack, f"U{uuid.uuid4().hex[:10].upper()}", "report acme")
    assert stranger.startswith("I don't know your Slack account yet.")
    assert not fake_slack.shared


@BOTH_LOGINS
async def test_report_without_the_files_permission_says_to_reinstall(deps, slack, fake_slack, agency):
    await _november_like_rows(deps, agency)
    fake_slack.fail_next("files.getUploadURLExternal", "missing_scope")
    said = await _ephemeral(slack, fake_slack, agency.slack_ids["manager"], "report")
    assert said == NO_FILES_SCOPE and "files:write" in said
    assert not fake_slack.shared
