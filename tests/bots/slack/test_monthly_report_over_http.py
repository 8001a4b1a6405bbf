"""A client account's monthly report goes to the client's Slack channel as a file, over the Slack Web API's
external upload (files.getUploadURLExternal, the bytes POSTed to the upload URL, files.completeUploadExternal
into the channel with the summary as its comment), once however often the hourly task runs on the 1st; a
client account with no channel linked has its report sent to the agency owner's Telegram chat, saying why."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from pypdf import PdfReader

from core.analytics import report
from core.analytics.report import Month
from core.integrations.slack_models import SlackChannel, SlackWorkspace
from core.notify.ports import RecordingNotifier
from core.notify.routing import RoutedNotifier
from recast.commands import with_slack_notices
from tests.bots.slack.conftest import TEAM
from tests.report_rows import A_TITLE, add_rows, add_user

NOV = Month(2026, 11)
CRUMB_CHANNEL = "C0CRUMB"


async def test_a_client_accounts_report_is_uploaded_to_its_channel_once(deps, fake_slack) -> None:
    with_slack_notices(deps)
    assert isinstance(deps.notifier, RoutedNotifier) and isinstance(deps.notifier.default, RecordingNotifier)
    telegram = deps.notifier.default
    async with deps.sessionmaker() as session:
        owner = await add_user(session, chat_id="5650911", name="Agency Owner")
        crumb = await add_rows(session, NOV, user=owner, client=True, client_name="Crumb & Co")
        other = await add_user(session, chat_id="5650912", name="Second Owner")
        rye = await add_rows(session, NOV, user=other, client=True, client_name="Rye Ltd")
        assert crumb.client_id is not None and crumb.organization_id is not None
        if await session.get(SlackWorkspace, TEAM) is None:
            session.add(SlackWorkspace(team_id=TEAM, organization_id=crumb.organization_id))
            await session.flush()
        session.add(SlackChannel(team_id=TEAM, channel_id=CRUMB_CHANNEL, client_account_id=crumb.client_id))
        await session.commit()

    first = datetime(2026, 12, 1, 3, tzinfo=UTC)  # 08:30 on 1 December in India
    await report.send_monthly(deps, now=first)
    await report.send_monthly(deps, now=first.replace(hour=4))

    (upload,) = [u for u in fake_slack.shared if u.channel_id == CRUMB_CHANNEL]
    assert upload.filename == "recast-report-crumb-co-2026-11.pdf"
    assert (upload.initial_comment or "").startswith("Crumb & Co: November 2026 report. Views 1,100 (+1000%)")
    (asked,) = [c for c in fake_slack.calls_to("files.getUploadURLExternal") if c.params["filename"] == upload.filename]
    assert int(asked.params["length"]) == len(upload.data)
    pdf = PdfReader(io.BytesIO(upload.data))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "Crumb & Co — November 2026" in text and A_TITLE in text and "Views 1,100 100 +1000%" in text
    assert len(pdf.pages[1].images) == 1
    assert not fake_slack.calls_to("chat.postMessage")  # the summary is the file's comment, not a second message

    # Rye Ltd has no channel: its report goes to the agency owner's Telegram chat, once, saying so; each owner
    # also gets their own creator report there.
    to_other = [m for c, m in telegram.sent if c.chat_id == "5650912"]
    (rye_sent,) = [m for m in to_other if m.text.startswith("Rye Ltd:")]
    assert "Rye Ltd has no Slack channel linked, so its report comes here." in rye_sent.text
    assert rye_sent.filename == "recast-report-rye-ltd-2026-11.pdf" and rye_sent.document is not None
    assert rye.client_id is not None
    assert [m.filename for m in to_other if m.text.startswith("Second Owner:")] == [
        "recast-report-second-owner-2026-11.pdf"
    ]
    assert [m.filename for c, m in telegram.sent if c.chat_id == "5650911"] == [
        "recast-report-agency-owner-2026-11.pdf"
    ]
