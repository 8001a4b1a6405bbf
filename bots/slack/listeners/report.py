"""`/recast report [client] [YYYY-MM]`: a client account's monthly report as a PDF, on request.

The same builder as the 1st-of-the-month job (`core.analytics.report`), for the last full month in the
client's timezone or the month named. In the client's own channel the file goes there; asked about a client
from anywhere else it goes to the asker's direct messages with Recast, so one client's report never lands
in another client's channel (as `/recast stats`).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.listeners.stats import client_asked
from core.analytics import report as monthly
from core.analytics.figures import Scope
from core.common.clock import utcnow
from core.db.session import session_scope
from core.deps import CoreDeps
from core.distribution.agency import client_timezone

NO_CLIENT_CHANNEL = (
    "This channel isn't linked to a client account. Run `/recast report <client>` (its name or slug, and a "
    "month like `2026-11` if you want another one), or `/recast report` in the client's channel."
)
BAD_MONTH = "I read months as `YYYY-MM`, e.g. `/recast report acme 2026-11`."
NO_FILES_SCOPE = (
    "I couldn't upload the report: this workspace installed Recast before it could post files (the Slack "
    "permission `files:write`). An admin reinstalls Recast in this workspace (Slack then asks for that "
    "permission), and `/recast report` works."
)
NOT_IN_CHANNEL = (
    "I couldn't upload the report here: invite me to this channel first (`/invite @Recast`), then ask again."
)


def parse(arg: str) -> tuple[str, monthly.Month | None, bool]:
    """(the client asked about, the month or None for the last full one, whether the month was unreadable):
    the month is the last word when it looks like one (`acme foods 2026-11`, `2026-11`)."""
    words = arg.split()
    if words and monthly.MONTH_RE.match(words[-1]):
        month = monthly.parse_month(words[-1])
        return " ".join(words[:-1]), month, month is None
    if words and _looks_like_a_month(words[-1]):
        return " ".join(words[:-1]), None, True
    return " ".join(words), None, False


def _looks_like_a_month(word: str) -> bool:
    digits = word.replace("-", "").replace("/", "")
    return digits.isdigit() and len(digits) >= 4


async def command(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient, arg: str) -> None:
    reply = {"channel": body["channel_id"], "user": body["user_id"]}
    name, month, unreadable = parse(arg)
    if unreadable:
        await client.chat_postEphemeral(**reply, text=BAD_MONTH)
        return
    now = utcnow()
    async with session_scope(deps.sessionmaker) as session:
        found = await client_asked(session, client, body, name, no_channel=NO_CLIENT_CHANNEL)
        if isinstance(found, str):
            await client.chat_postEphemeral(**reply, text=found)
            return
        account, own_channel = found
        timezone = await client_timezone(session, account.id)
        last = monthly.last_full_month(now, timezone)
        if month is not None and (month.year, month.month) > (last.year, last.month):
            await client.chat_postEphemeral(
                **reply,
                text=f"{month.name} isn't over yet for *{account.name}*. `/recast report` gives {last.name}.",
            )
            return
        built = await monthly.build_report(
            session, Scope.CLIENT, account.id, month or last, timezone=timezone, owner_name=account.name
        )
    if not built.has_anything:
        await client.chat_postEphemeral(
            **reply,
            text=(
                f"Nothing to report for *{account.name}* in {built.month.name}: no post went out through Recast "
                "and none reported figures that month."
            ),
        )
        return
    pdf = monthly.render_pdf(built)
    where = body["channel_id"]
    if not own_channel and not where.startswith("D"):
        opened = await client.conversations_open(users=body["user_id"])
        where = opened["channel"]["id"]
    try:
        await client.files_upload_v2(
            channel=where,
            content=pdf,
            filename=built.filename,
            title=f"{account.name}: {built.month.name} report",
            initial_comment=monthly.summary(built) + (f" Asked for by <@{body['user_id']}>." if own_channel else ""),
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if error in ("missing_scope", "not_allowed_token_type"):
            await client.chat_postEphemeral(**reply, text=NO_FILES_SCOPE)
            return
        if error in ("not_in_channel", "channel_not_found"):
            await client.chat_postEphemeral(**reply, text=NOT_IN_CHANNEL)
            return
        raise
    if where != body["channel_id"]:
        await client.chat_postEphemeral(
            **reply, text=f"I've sent *{account.name}*'s {built.month.name} report to our direct messages."
        )
