"""A client account's figures for Slack: `/recast stats [client]`, the App Home lines and the weekly digest.

All figures are `core.analytics.figures` gains with scope CLIENT, in the client account's timezone
(`agency.client_timezone`). Who may see a client's figures is who may publish its drafts
(`agency.require_publisher`: the organization's owners, admins, managers and the client's reviewers).

The weekly digest covers the last full week, Monday 00:00 to Monday 00:00 in the client's timezone, against
the week before. It is due from 09:00 on the client's Monday to the end of that Monday (a scheduler that was
down all Monday skips that week rather than posting last week's figures on a Thursday). The hourly task
records it as an outbox message keyed by client and week, so a second run, or a second scheduler, posts it
once; a Slack failure leaves the outbox unit to be retried.
"""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts.models import ClientAccount, TeamMember
from core.analytics import charts
from core.analytics.figures import Scope, period_figures
from core.analytics.stats import WeekStats, change, top_pieces, week_start, week_stats
from core.common.clock import utcnow
from core.common.errors import NotAllowed
from core.distribution import agency
from core.distribution.platforms.names import label
from core.integrations import slack_links
from core.integrations.slack_models import SlackChannel
from core.notify import outbox
from core.notify.ports import OutgoingMessage
from core.storage.files import FileStore
from core.work.models import WorkUnit

DIGEST_HOUR = 9  # local time on the client's Monday
HOME_CLIENTS = 10  # App Home lines at most (one pair of queries each)


class UnknownClient(NotAllowed):
    user_message = "I don't know a client account by that name in this workspace's organization."


@dataclass(frozen=True)
class ClientStats:
    client: ClientAccount
    stats: WeekStats


async def find_client(session: AsyncSession, organization_id: uuid.UUID, ref: str) -> ClientAccount:
    """The organization's client account named by slug or name (`UnknownClient` otherwise)."""
    name = " ".join(ref.split()).lower()
    client = await session.scalar(
        select(ClientAccount)
        .where(
            ClientAccount.organization_id == organization_id,
            ClientAccount.deleted_at.is_(None),
            or_(func.lower(ClientAccount.slug) == name, func.lower(ClientAccount.name) == name),
        )
        .order_by(ClientAccount.created_at)
        .limit(1)
    )
    if client is None:
        raise UnknownClient()
    return client


async def require_viewer(session: AsyncSession, client: ClientAccount, user_id: uuid.UUID) -> None:
    """Whoever may publish the client's drafts may see how they did (`agency.NotAPublisher` otherwise)."""
    try:
        await agency.require_publisher(session, client, user_id)
    except agency.NotAPublisher as exc:
        raise NotAllowed(
            "Only the team's owners, admins, managers and the client's reviewers can see its figures."
        ) from exc


async def client_stats(session: AsyncSession, client: ClientAccount, *, now: datetime | None = None) -> ClientStats:
    """This week so far against the same span of last week, in the client's timezone (`/recast stats`)."""
    timezone = await agency.client_timezone(session, client.id)
    stats = await week_stats(session, client.id, timezone, now=now, scope=Scope.CLIENT, owner_id=client.id)
    return ClientStats(client, stats)


def closed_week(monday: date, timezone: str) -> tuple[datetime, datetime, datetime]:
    """(the week before's start, last week's start, its end): local Mondays at 00:00 before `monday`, each
    with its own UTC offset, so a week with a DST change is 167 or 169 hours long."""
    end = datetime(monday.year, monday.month, monday.day, tzinfo=ZoneInfo(timezone))
    start = week_start(end - timedelta(days=1), timezone)
    return week_start(start - timedelta(days=1), timezone), start, end


async def closed_week_stats(session: AsyncSession, client: ClientAccount, monday: date) -> WeekStats:
    """The full week before local Monday `monday` against the week before it (the digest's figures): in the
    result, `this_week` is that last full week and `last_week` the one before."""
    timezone = await agency.client_timezone(session, client.id)
    before, start, end = closed_week(monday, timezone)
    last = await period_figures(session, Scope.CLIENT, client.id, start, end)
    previous = await period_figures(session, Scope.CLIENT, client.id, before, start)
    stats = WeekStats(timezone, last, previous)
    stats.top = await top_pieces(session, last, 3)
    return stats


async def visible_clients(session: AsyncSession, user_id: uuid.UUID) -> list[ClientAccount]:
    """The client accounts whose figures the user may see, by organization and name."""
    orgs = select(TeamMember.organization_id).where(
        TeamMember.user_id == user_id,
        TeamMember.role.in_(agency.PUBLISHER_ROLES),
        or_(TeamMember.status.is_(None), TeamMember.status == "active"),
    )
    rows = await session.scalars(
        select(ClientAccount)
        .where(ClientAccount.organization_id.in_(orgs), ClientAccount.deleted_at.is_(None))
        .order_by(ClientAccount.name)
    )
    return list(rows)


async def home_figures(
    session: AsyncSession, user_id: uuid.UUID | None, *, now: datetime | None = None
) -> list[ClientStats]:
    """App Home: this week so far for each client account the user can see (at most `HOME_CLIENTS`)."""
    if user_id is None:
        return []
    clients = await visible_clients(session, user_id)
    return [await client_stats(session, c, now=now) for c in clients[:HOME_CLIENTS]]


def digest_due(now: datetime, timezone: str) -> date | None:
    """The local Monday whose digest is due at `now` (from 09:00 to midnight on a Monday), else None."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.date() if local.weekday() == 0 and local.hour >= DIGEST_HOUR else None


def digest_key(client_id: uuid.UUID, monday: date) -> str:
    """The outbox key of a client's digest for a week: one message per client per week."""
    return f"analytics.digest:{client_id}:{monday.isoformat()}"


@dataclass(frozen=True)
class DueDigest:
    client: ClientAccount
    team_id: str
    channel_id: str
    monday: date
    stats: WeekStats


async def due_digests(
    session: AsyncSession, *, now: datetime | None = None, organization_id: uuid.UUID | None = None
) -> list[DueDigest]:
    """Client accounts with a linked Slack channel whose Monday digest is due at `now` and not yet recorded.

    A client with nothing published through Recast in either week gets no digest: a weekly "nothing to
    report" in a client's own channel reads as a report of neglect and teaches people to ignore the
    digest; `/recast stats` says how figures arrive to whoever asks."""
    now = now or utcnow()
    rows = await session.execute(
        select(ClientAccount, SlackChannel.team_id, SlackChannel.channel_id)
        .join(SlackChannel, SlackChannel.client_account_id == ClientAccount.id)
        .where(
            ClientAccount.deleted_at.is_(None),
            *([ClientAccount.organization_id == organization_id] if organization_id else []),
        )
        .order_by(ClientAccount.created_at)
    )
    due: list[DueDigest] = []
    for client, team_id, channel_id in rows.all():
        monday = digest_due(now, await agency.client_timezone(session, client.id))
        if monday is None or await _recorded(session, digest_key(client.id, monday)):
            continue
        stats = await closed_week_stats(session, client, monday)
        if stats.has_figures:
            due.append(DueDigest(client, team_id, channel_id, monday, stats))
    return due


async def _recorded(session: AsyncSession, key: str) -> bool:
    found = await session.scalar(
        select(WorkUnit.id).where(WorkUnit.kind == outbox.SEND, WorkUnit.dedupe_key == key).limit(1)
    )
    return found is not None


def digest_text(digest: DueDigest) -> str:
    """The digest's message (Slack mrkdwn: it is only ever sent to a client's Slack channel)."""
    now, before = digest.stats.this_week, digest.stats.last_week
    end = digest.monday - timedelta(days=1)
    start = digest.monday - timedelta(days=7)
    lines = [
        f"*{digest.client.name}: last week* ({start:%a %d %b} – {end:%a %d %b}, {digest.stats.timezone}) "
        "against the week before",
        f"Views {now.total.views:,} ({change(now.total.views, before.total.views)}) · "
        f"Engagement {now.total.engagement:,} ({change(now.total.engagement, before.total.engagement)})",
    ]
    for platform in digest.stats.platforms:
        a, b = now.by_platform.get(platform), before.by_platform.get(platform)
        views, acts = (a.views, a.engagement) if a else (0, 0)
        lines.append(
            f"• {label(platform)}: {views:,} views, {acts:,} engagements ({change(acts, b.engagement if b else 0)})"
        )
    if digest.stats.top:
        lines.append("Top pieces:")
        lines += [
            f"{n}. " + (f"<{t.url}|{t.title}>" if t.url else t.title) + f" — {label(t.platform)}, "
            f"{t.engagement:,} engagements"
            for n, t in enumerate(digest.stats.top, 1)
        ]
    lines.append(
        f"From {now.posts_counted} post(s) with figures last week; engagement = likes + comments + shares + saves."
    )
    return "\n".join(lines)


async def record_due_digests(
    sessionmaker: async_sessionmaker[AsyncSession],
    store: FileStore,
    *,
    now: datetime | None = None,
    organization_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Record each due digest (text and chart) as an outbox message to its client's channel, one commit per
    client; returns the new outbox units for the caller to flush."""
    async with sessionmaker() as session:
        due = await due_digests(session, now=now, organization_id=organization_id)
    units: list[uuid.UUID] = []
    for digest in due:
        with tempfile.TemporaryDirectory() as tmp:
            chart = charts.week_chart(digest.stats, Path(tmp) / "week.png", legend=("Last week", "Week before"))
            url = store.put_path(chart, f"analytics/digests/{digest.client.id}/{digest.monday.isoformat()}.png")
        message = OutgoingMessage(
            text=digest_text(digest),
            photo=store.local_path(url),
            filename=f"{digest.client.slug}-week-{digest.monday.isoformat()}.png",
        )
        async with sessionmaker() as session:
            unit = await _record(session, digest, message)
            await session.commit()
        if unit is not None:
            units.append(unit)
    return units


async def _record(session: AsyncSession, digest: DueDigest, message: OutgoingMessage) -> uuid.UUID | None:
    """The new outbox unit, or None when another run recorded this digest since `due_digests` looked."""
    key = digest_key(digest.client.id, digest.monday)
    if await _recorded(session, key):
        return None
    # Two runs passing the check at once still make one message: the outbox unit's key is unique.
    chat = slack_links.slack_chat(digest.team_id, digest.channel_id)
    return await outbox.record(session, chat, message, key=key)
