"""The creator's content calendar: a strategy's suggestions (which draft, on which platform, when) become
`calendar_entries` in the creator's week (`content_calendars`, one per user per week, Monday to Sunday in
their timezone); the creator accepts or dismisses each.

Accepting keeps the slot. If the entry's draft is approved and an account that can carry it is connected,
it is scheduled there at the entry's time (`service.schedule_draft`); otherwise approving the draft later
schedules it (`schedule_kept`, called from the approve path).

An entry's state is its `status` (`suggested` / `accepted` / `dismissed`, with `decided_at`) and, once
scheduled, `scheduled_post_id`; its `tags` say what it is for: `format:<output format>` and
`strategy:<id>` (the strategy that suggested it, which makes re-planning idempotent). The entry's date and
time are the creator's wall clock in the calendar's timezone (`content_calendars.ai_strategy["timezone"]`).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.common.clock import utcnow
from core.common.errors import NotAllowed, RecastError
from core.config import Settings
from core.content.models import ContentAsset
from core.distribution import connections, service
from core.distribution.clients import configured_clients
from core.distribution.connections import Owner
from core.distribution.models import (
    CalendarEntry,
    ConnectionStatus,
    ContentCalendar,
    PlatformConnection,
    PostStatus,
    ScheduledPost,
)
from core.distribution.notices import local_time
from core.distribution.platforms.names import Platform, label
from core.distribution.slots import MIN_LEAD, PRIORS, zone
from core.repurposing.formats import FORMATS
from core.repurposing.models import GeneratedContent, RepurposingStrategy
from core.workflow import workflows

DAYS_AHEAD = 7  # suggestions go from tomorrow to a week from today: drafts need writing and approving first
LIVE = (PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.HELD)

# The planner's platform names (core.repurposing.formats) as the platforms Recast publishes to. The blog
# has none: there is nowhere for Recast to post it, so it gets no slot.
PLATFORM_OF: dict[str, Platform] = {
    "linkedin": Platform.LINKEDIN,
    "twitter": Platform.X,
    "x": Platform.X,
    "instagram": Platform.INSTAGRAM,
    "youtube": Platform.YOUTUBE,
    "youtube_shorts": Platform.YOUTUBE,
    "tiktok": Platform.TIKTOK,
    "facebook": Platform.FACEBOOK,
}


class EntryState(StrEnum):
    SUGGESTED = "suggested"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"


class SlotPassed(RecastError):
    user_message = "That slot has already passed. Pick a time for the draft with 🗓 Schedule instead."


@dataclass(frozen=True)
class Suggestion:
    """One suggested post: the format, where, and when (the creator's local day and time, and as UTC)."""

    format: str
    platform: Platform
    day: date
    at: time
    at_utc: datetime
    score: float

    def as_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "platform": str(self.platform),
            "date": self.day.isoformat(),
            "time": self.at.strftime("%H:%M"),
            "at": self.at_utc.isoformat(),
            "score": round(self.score, 2),
            "source": f"typical for {label(self.platform)}",
        }


def _platform(rec: dict[str, Any]) -> Platform | None:
    for name in rec.get("platforms") or []:
        platform = PLATFORM_OF.get(str(name))
        if platform is not None and platform in PRIORS:
            return platform
    return None


def week_suggestions(formats: list[dict[str, Any]], timezone: str, now: datetime) -> list[Suggestion]:
    """A slot for each recommended format that Recast can publish, in the coming week of the creator's
    timezone: the best typical hour for its platform (`slots.PRIORS`), spread so each day takes as few posts
    as it can (ties: the better score, then the earlier). Deterministic for a given `now`."""
    tz = zone(timezone)
    today = now.astimezone(tz).date()
    taken: Counter[date] = Counter()
    used: set[datetime] = set()
    out: list[Suggestion] = []
    for rec in formats:
        platform = _platform(rec)
        if platform is None:
            continue
        candidates = []
        for offset in range(1, DAYS_AHEAD + 1):
            day = today + timedelta(days=offset)
            for (weekday, hour), score in PRIORS[platform].items():
                if weekday != day.weekday():
                    continue
                at_utc = datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)
                if at_utc not in used:
                    candidates.append((day, time(hour), score, at_utc))
        if not candidates:
            continue
        day, at, score, at_utc = min(candidates, key=lambda c: (taken[c[0]], -c[2], c[3]))
        taken[day] += 1
        used.add(at_utc)
        out.append(Suggestion(str(rec["format"]), platform, day, at, at_utc, score))
    return sorted(out, key=lambda s: s.at_utc)


# --- an entry's state and tags ---------------------------------------------------------------------------


def _tag(entry: CalendarEntry, key: str) -> str | None:
    prefix = f"{key}:"
    return next((t.removeprefix(prefix) for t in entry.tags or [] if t.startswith(prefix)), None)


def state_of(entry: CalendarEntry) -> EntryState:
    return EntryState(entry.status) if entry.status else EntryState.SUGGESTED


def format_of(entry: CalendarEntry) -> str:
    return _tag(entry, "format") or ""


def post_id_of(entry: CalendarEntry) -> uuid.UUID | None:
    return entry.scheduled_post_id


def _set(entry: CalendarEntry, *, state: EntryState | None = None, post: uuid.UUID | None = None) -> None:
    if state is not None:
        entry.status, entry.decided_at = state.value, utcnow()
    if post is not None:
        entry.scheduled_post_id = post


def what(entry: CalendarEntry) -> str:
    """“LinkedIn post”, “X thread”, “Short clip”..."""
    fmt = FORMATS.get(format_of(entry))
    return fmt.label if fmt else "post"


# --- making entries from a strategy ---------------------------------------------------------------------


def _week_of(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


async def _lock_calendars(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Serialise calendar writes of one user (no unique constraint on content_calendars(user, week) in the
    seed): two uploads planned at once must not make two calendars for one week."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"calendar:{user_id}"})


async def _calendar_for(
    session: AsyncSession, user_id: uuid.UUID, organization_id: uuid.UUID | None, day: date, timezone: str
) -> ContentCalendar:
    start, end = _week_of(day)
    found = await session.scalar(
        select(ContentCalendar)
        .where(
            ContentCalendar.user_id == user_id,
            ContentCalendar.client_account_id.is_(None),
            ContentCalendar.start_date == start,
        )
        .order_by(ContentCalendar.created_at)
        .limit(1)
    )
    if found is not None:
        return found
    calendar = ContentCalendar(
        user_id=user_id,
        organization_id=organization_id,
        name=f"Week of {start:%d %b %Y}",
        description="Posting slots suggested by Recast for your drafts",
        start_date=start,
        end_date=end,
        is_ai_generated=True,
        ai_strategy={"timezone": timezone},
    )
    session.add(calendar)
    await session.flush()
    return calendar


async def add_suggestions(
    session: AsyncSession,
    *,
    strategy: RepurposingStrategy,
    user_id: uuid.UUID,
    organization_id: uuid.UUID | None,
    timezone: str,
    source_title: str | None,
) -> list[CalendarEntry]:
    """The strategy's calendar suggestions as `suggested` entries in the creator's weekly calendars.
    Idempotent: a strategy whose entries exist gets no second set."""
    await _lock_calendars(session, user_id)
    marker = f"strategy:{strategy.id}"
    existing = list(
        (
            await session.scalars(
                select(CalendarEntry)
                .join(ContentCalendar, ContentCalendar.id == CalendarEntry.calendar_id)
                .where(ContentCalendar.user_id == user_id, CalendarEntry.tags.contains([marker]))
            )
        ).all()
    )
    if existing:
        return existing
    entries = []
    for item in strategy.content_calendar_suggestions or []:
        if not isinstance(item, dict) or "date" not in item or "time" not in item:
            continue  # strategies planned before suggestions had slots
        day, at = date.fromisoformat(item["date"]), time.fromisoformat(item["time"])
        calendar = await _calendar_for(session, user_id, organization_id, day, timezone)
        fmt = FORMATS.get(str(item["format"]))
        title = f" of “{source_title}”" if source_title else ""
        entries.append(
            CalendarEntry(
                calendar_id=calendar.id,
                scheduled_date=day,
                scheduled_time=at,
                platform=str(item["platform"]),
                notes=f"{fmt.label if fmt else item['format']}{title} ({item.get('source', 'suggested')})",
                status=EntryState.SUGGESTED.value,
                tags=[f"format:{item['format']}", marker],
            )
        )
    session.add_all(entries)
    await session.flush()
    return entries


# --- reading the week -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekEntry:
    entry: CalendarEntry
    at: datetime  # UTC
    state: EntryState
    draft_approved: bool
    draft_ready: bool


async def _timezone_of(session: AsyncSession, entry: CalendarEntry) -> str:
    calendar = await session.get(ContentCalendar, entry.calendar_id)
    return str(((calendar.ai_strategy if calendar else None) or {}).get("timezone") or "Asia/Kolkata")


def _instant(entry: CalendarEntry, timezone: str) -> datetime:
    return datetime.combine(entry.scheduled_date, entry.scheduled_time or time(9), tzinfo=zone(timezone)).astimezone(
        UTC
    )


async def _draft_for(session: AsyncSession, entry: CalendarEntry, user_id: uuid.UUID) -> GeneratedContent | None:
    """The entry's draft: the one it is linked to, else the source's draft of its format (an approved one
    first: a regenerated version may be the one the creator approved)."""
    if entry.generated_content_id is not None:
        return await session.get(GeneratedContent, entry.generated_content_id)
    strategy_id = _tag(entry, "strategy")
    strategy = await session.get(RepurposingStrategy, uuid.UUID(strategy_id)) if strategy_id else None
    if strategy is None or strategy.content_asset_id is None:
        return None
    drafts = (
        await session.scalars(
            select(GeneratedContent)
            .where(
                GeneratedContent.content_asset_id == strategy.content_asset_id,
                GeneratedContent.user_id == user_id,
                GeneratedContent.metadata_["output_format"].astext == format_of(entry),
            )
            .order_by(GeneratedContent.created_at)
        )
    ).all()
    for draft in drafts:
        if await service.is_approved(session, draft.id):
            return draft
    return drafts[0] if drafts else None


async def _team_reviewed(session: AsyncSession, entry: CalendarEntry) -> bool:
    """Whether the entry's source is under a team approval workflow (its drafts are approved in Slack)."""
    strategy_id = _tag(entry, "strategy")
    strategy = await session.get(RepurposingStrategy, uuid.UUID(strategy_id)) if strategy_id else None
    asset = (
        await session.get(ContentAsset, strategy.content_asset_id) if strategy and strategy.content_asset_id else None
    )
    if asset is None:
        return False
    found = await workflows.workflow_for(
        session=session, organization_id=asset.organization_id, client_account_id=asset.client_account_id
    )
    return found is not None


async def _live_post(session: AsyncSession, entry: CalendarEntry) -> ScheduledPost | None:
    post_id = post_id_of(entry)
    if post_id is None:
        return None
    post = await session.get(ScheduledPost, post_id)
    return post if post is not None and post.status in LIVE else None


async def week(session: AsyncSession, owner: Owner, *, today: date) -> list[WeekEntry]:
    """The owner's suggested and kept (accepted, not yet scheduled) entries from `today` (their local date)
    through the coming week, soonest first. Scheduled ones show as posts; dismissed ones not at all."""
    rows = (
        await session.scalars(
            select(CalendarEntry)
            .join(ContentCalendar, ContentCalendar.id == CalendarEntry.calendar_id)
            .where(
                ContentCalendar.user_id == owner.user_id,
                CalendarEntry.scheduled_date >= today,
                CalendarEntry.scheduled_date <= today + timedelta(days=DAYS_AHEAD),
            )
        )
    ).all()
    now = utcnow()
    out = []
    for entry in rows:
        state = state_of(entry)
        if state == EntryState.DISMISSED or post_id_of(entry) is not None:
            continue  # a scheduled entry is listed as its post (and a cancelled post's slot is let go)
        at = _instant(entry, await _timezone_of(session, entry))
        if at < now:
            continue
        draft = await _draft_for(session, entry, owner.user_id)
        approved = draft is not None and await service.is_approved(session, draft.id)
        out.append(WeekEntry(entry, at, state, approved, draft is not None))
    return sorted(out, key=lambda w: w.at)


async def kept(session: AsyncSession, user_id: uuid.UUID) -> list[tuple[CalendarEntry, datetime]]:
    """The slots the creator accepted that aren't scheduled yet and are still ahead, with their UTC time
    (the .ics feed shows them as tentative)."""
    rows = (
        await session.scalars(
            select(CalendarEntry)
            .join(ContentCalendar, ContentCalendar.id == CalendarEntry.calendar_id)
            .where(
                ContentCalendar.user_id == user_id,
                CalendarEntry.status == EntryState.ACCEPTED,
                CalendarEntry.scheduled_date >= utcnow().date() - timedelta(days=1),
            )
        )
    ).all()
    now = utcnow()
    out = []
    for entry in rows:
        if post_id_of(entry) is None and (at := _instant(entry, await _timezone_of(session, entry))) >= now:
            out.append((entry, at))
    return sorted(out, key=lambda pair: pair[1])


# --- accepting and dismissing ---------------------------------------------------------------------------


class Kept(StrEnum):
    SCHEDULED = "scheduled"  # a scheduled post now exists at the entry's time
    ALREADY_SCHEDULED = "already_scheduled"  # the draft was already scheduled on that account: that post stands
    AWAITING_DRAFT = "awaiting_draft"  # the draft is still being written
    AWAITING_APPROVAL = "awaiting_approval"  # approving it schedules it
    AWAITING_TEAM = "awaiting_team"  # a team workflow approves it (in Slack): then 🗓 Schedule in /calendar
    NEEDS_ACCOUNT = "needs_account"  # approved, but no connected account can carry it
    NOT_SUPPORTED = "not_supported"  # Recast can't post there from this server
    REFUSED = "refused"  # approved, but the platform wouldn't take it as it is (e.g. too long): the reason says


@dataclass(frozen=True)
class Accepted:
    entry: CalendarEntry
    kept: Kept
    at: datetime  # the entry's time, UTC
    timezone: str  # the creator's, for saying it
    post: ScheduledPost | None = None
    connection: PlatformConnection | None = None
    unit: uuid.UUID | None = None  # a new publish unit (due later: the sweeper pushes it)
    has_account: bool = False  # a working account on the entry's platform is connected
    reason: str | None = None  # why it was refused


async def _owned_entry(session: AsyncSession, owner: Owner, entry_id: uuid.UUID) -> CalendarEntry:
    entry = await session.scalar(
        select(CalendarEntry)
        .join(ContentCalendar, ContentCalendar.id == CalendarEntry.calendar_id)
        .where(CalendarEntry.id == entry_id, ContentCalendar.user_id == owner.user_id)
        .with_for_update(of=CalendarEntry)
    )
    if entry is None:
        raise NotAllowed("That calendar entry isn't one of yours.")
    return entry


async def _schedule_on(
    session: AsyncSession, owner: Owner, entry: CalendarEntry, draft: GeneratedContent, at: datetime, timezone: str
) -> tuple[Kept, ScheduledPost | None, PlatformConnection | None, uuid.UUID | None]:
    targets = [c for c in await service.targets_for(session, owner, draft) if c.platform == entry.platform]
    if not targets:
        return Kept.NEEDS_ACCOUNT, None, None, None
    connection = targets[0]  # the newest working account on that platform
    post, unit = await service.schedule_draft(
        session, owner=owner, draft_id=draft.id, connection_id=connection.id, when=at, timezone=timezone
    )
    entry.generated_content_id = draft.id
    _set(entry, post=post.id)
    return (Kept.SCHEDULED if unit is not None else Kept.ALREADY_SCHEDULED), post, connection, unit


async def accept_entry(
    session: AsyncSession, settings: Settings, owner: Owner, entry_id: uuid.UUID, *, timezone: str
) -> Accepted:
    """Keep the entry's slot; schedule its draft there now if it is approved and an account can carry it.
    Accepting again retries the scheduling (e.g. after connecting the account)."""
    entry = await _owned_entry(session, owner, entry_id)
    at = _instant(entry, await _timezone_of(session, entry))
    live = await _live_post(session, entry)
    if live is not None:
        connection = await session.get(PlatformConnection, live.platform_connection_id)
        return Accepted(entry, Kept.ALREADY_SCHEDULED, live.scheduled_for, timezone, live, connection)
    if at < utcnow() + MIN_LEAD:
        raise SlotPassed()
    _set(entry, state=EntryState.ACCEPTED)
    platform = PLATFORM_OF.get(entry.platform or "")
    if platform is None or platform not in configured_clients(settings):
        return Accepted(entry, Kept.NOT_SUPPORTED, at, timezone)
    has_account = any(
        c.platform == entry.platform and c.status == ConnectionStatus.ACTIVE
        for c in await connections.connections_of(session, owner)
    )
    draft = await _draft_for(session, entry, owner.user_id)
    approved = draft is not None and await service.is_approved(session, draft.id)
    if not approved and await _team_reviewed(session, entry):
        # The approve path that schedules kept slots is the creator's own (Telegram): promise nothing else.
        return Accepted(entry, Kept.AWAITING_TEAM, at, timezone, has_account=has_account)
    if draft is None:
        return Accepted(entry, Kept.AWAITING_DRAFT, at, timezone, has_account=has_account)
    if not approved:
        return Accepted(entry, Kept.AWAITING_APPROVAL, at, timezone, has_account=has_account)
    kept, post, connection, unit = await _schedule_on(session, owner, entry, draft, at, timezone)
    return Accepted(entry, kept, post.scheduled_for if post else at, timezone, post, connection, unit, has_account)


async def dismiss_entry(session: AsyncSession, owner: Owner, entry_id: uuid.UUID) -> CalendarEntry:
    """Let the slot go. An entry already scheduled stays so: its post is cancelled from /calendar."""
    entry = await _owned_entry(session, owner, entry_id)
    if await _live_post(session, entry) is not None:
        raise NotAllowed("That slot is already scheduled: cancel the post instead.")
    _set(entry, state=EntryState.DISMISSED)
    return entry


async def schedule_kept(
    session: AsyncSession, owner: Owner, draft: GeneratedContent, *, timezone: str
) -> list[Accepted]:
    """Called when a draft is approved: every slot the owner kept for it (accepted, not yet scheduled, still
    ahead) is scheduled now on an account that can carry it. Slots with no such account stay kept."""
    fmt = service.format_of(draft)
    rows = (
        await session.scalars(
            select(CalendarEntry)
            .join(ContentCalendar, ContentCalendar.id == CalendarEntry.calendar_id)
            .where(
                ContentCalendar.user_id == owner.user_id,
                CalendarEntry.status == EntryState.ACCEPTED,
                CalendarEntry.tags.contains([f"format:{fmt}"]),
                func.coalesce(CalendarEntry.generated_content_id, draft.id) == draft.id,
            )
            .with_for_update(of=CalendarEntry)
        )
    ).all()
    out = []
    for entry in rows:
        if post_id_of(entry) is not None:
            continue
        resolved = await _draft_for(session, entry, owner.user_id)
        if resolved is None or resolved.id != draft.id:
            continue
        at = _instant(entry, await _timezone_of(session, entry))
        if at < utcnow() + MIN_LEAD:
            continue  # the kept slot went by before the approval: the Schedule button offers new ones
        try:
            # A savepoint: a draft the platform would refuse must not undo the approval that got us here.
            async with session.begin_nested():
                kept, post, connection, unit = await _schedule_on(session, owner, entry, draft, at, timezone)
        except RecastError as exc:
            out.append(Accepted(entry, Kept.REFUSED, at, timezone, reason=exc.user_message))
            continue
        out.append(
            Accepted(entry, kept, post.scheduled_for if post else at, timezone, post, connection, unit, bool(post))
        )
    return out


def _account(connection: PlatformConnection | None, platform: str) -> str:
    name = label(platform)
    return f"{name} ({connection.platform_username})" if connection and connection.platform_username else name


def describe(result: Accepted) -> str:
    """What accepting did, as the creator reads it (never “scheduled” unless a post is)."""
    when = local_time(result.at, result.timezone)
    thing, where = what(result.entry), label(result.entry.platform or "")
    account = _account(result.connection, result.entry.platform or "")
    kept = result.kept
    if kept in (Kept.AWAITING_DRAFT, Kept.AWAITING_APPROVAL) and not result.has_account:
        return (
            f"Kept {when} for the {thing}. Nothing is scheduled yet: connect {where} with /connect and approve "
            "the draft, and it will be scheduled then."
        )
    said = {
        Kept.SCHEDULED: f"Scheduled for {when} on {account}: the {thing}. I'll send the link here when it's live.",
        Kept.ALREADY_SCHEDULED: f"The {thing} is already scheduled on {account} for {when}.",
        Kept.AWAITING_DRAFT: (
            f"Kept {when} for the {thing}; it's still being written, and it will be scheduled when you approve it."
        ),
        Kept.AWAITING_APPROVAL: f"Kept {when} for the {thing}; it will be scheduled when you approve the draft.",
        Kept.AWAITING_TEAM: (
            f"Kept {when} for the {thing}. It needs your team's approval first, so nothing is scheduled yet: "
            "once it's approved, tap 🗓 Schedule on it in /calendar."
        ),
        Kept.NEEDS_ACCOUNT: (
            f"Kept {when} for the {thing}, but no {where} account is connected, so nothing is scheduled yet. "
            f"Connect {where} with /connect, then tap 🗓 Schedule on it in /calendar."
        ),
        Kept.NOT_SUPPORTED: (
            f"Kept {when} for the {thing} in your calendar. Recast can't post to {where} from here, "
            "so post it yourself then (tap “Copy text” on the draft)."
        ),
        Kept.REFUSED: f"The {thing} couldn't be scheduled for {when}, the slot you kept: {result.reason}",
    }
    return said[kept]
