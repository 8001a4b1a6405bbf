"""The strategy's calendar suggestions become entries in the creator's week (in their timezone, once), and
accepting one really schedules the draft there when it can, or keeps the slot until the draft is approved;
dismissing lets it go; nobody touches another creator's calendar."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.accounts import service as accounts
from core.accounts.models import Organization, User
from core.common.clock import utcnow
from core.common.errors import NotAllowed
from core.content.models import ContentAnalysis, ContentAsset
from core.deps import CoreDeps
from core.distribution import calendar, calendar_feed, service
from core.distribution.connections import Owner
from core.distribution.models import CalendarEntry, ContentCalendar, PostStatus, ScheduledPost
from core.distribution.platforms.names import Platform
from core.distribution.slots import PRIORS
from core.repurposing import planning
from core.repurposing.models import GeneratedContent, RepurposingStrategy
from core.work.models import WorkUnit
from core.workflow import solo
from core.workflow.models import ApprovalWorkflow
from tests.distribution_fixtures import Creator, connect_linkedin
from tests.fakes.linkedin_api import FakeLinkedIn

# What plan_strategy recommends for a video with no brand choice, in its order.
FORMATS = [
    {"format": "linkedin_post", "platforms": ["linkedin"]},
    {"format": "twitter_thread", "platforms": ["twitter"]},
    {"format": "instagram_caption", "platforms": ["instagram"]},
    {"format": "youtube_shorts", "platforms": ["youtube"]},
    {"format": "blog_article", "platforms": ["blog"]},
    {"format": "short_video", "platforms": ["instagram", "youtube_shorts"]},
]
SCORES = {"linkedin": 80, "twitter": 75, "instagram": 70, "youtube": 65, "blog": 60}


def _local(s: calendar.Suggestion, tz: str) -> str:
    return s.at_utc.astimezone(ZoneInfo(tz)).strftime("%a %Y-%m-%d %H:%M")


def test_suggestions_spread_the_week_at_typical_hours_in_kolkata() -> None:
    monday = datetime(2026, 12, 7, 4, 30, tzinfo=UTC)  # Mon 10:00 in Kolkata
    got = calendar.week_suggestions(FORMATS, "Asia/Kolkata", monday)
    assert [(s.format, s.platform, _local(s, "Asia/Kolkata")) for s in got] == [
        ("linkedin_post", Platform.LINKEDIN, "Tue 2026-12-08 09:00"),
        ("short_video", Platform.INSTAGRAM, "Tue 2026-12-08 19:00"),  # every day had one: the best hour left
        ("twitter_thread", Platform.X, "Wed 2026-12-09 09:00"),
        ("instagram_caption", Platform.INSTAGRAM, "Thu 2026-12-10 19:00"),
        ("youtube_shorts", Platform.YOUTUBE, "Fri 2026-12-11 17:00"),
    ]  # no blog: there is nowhere for Recast to post it
    assert got[0].at_utc == datetime(2026, 12, 8, 3, 30, tzinfo=UTC)  # IST is UTC+5:30
    assert got[0].as_json() == {
        "format": "linkedin_post",
        "platform": "linkedin",
        "date": "2026-12-08",
        "time": "09:00",
        "at": "2026-12-08T03:30:00+00:00",
        "score": 1.0,
        "source": "typical for LinkedIn",
    }
    assert calendar.week_suggestions(FORMATS, "Asia/Kolkata", monday) == got  # deterministic


def test_suggestions_keep_local_hours_across_a_dst_change() -> None:
    # Fri 30 Oct 2026, noon in New York (EDT, UTC-4); clocks go back on Sun 1 Nov (EST, UTC-5).
    friday = datetime(2026, 10, 30, 16, 0, tzinfo=UTC)
    got = {s.format: s for s in calendar.week_suggestions(FORMATS, "America/New_York", friday)}
    linkedin, youtube = got["linkedin_post"], got["youtube_shorts"]
    assert _local(linkedin, "America/New_York") == "Tue 2026-11-03 09:00"
    assert linkedin.at_utc == datetime(2026, 11, 3, 14, 0, tzinfo=UTC)  # 09:00 EST, not 13:00 UTC as in EDT
    assert _local(youtube, "America/New_York") == "Sat 2026-10-31 17:00"  # tomorrow, still EDT
    assert youtube.at_utc == datetime(2026, 10, 31, 21, 0, tzinfo=UTC)
    for s in got.values():
        assert s.day > friday.date() and s.day <= friday.date() + timedelta(days=7)
        assert (s.day.weekday(), s.at.hour) in PRIORS[s.platform]


async def _register(session, timezone: str) -> User:  # type: ignore[no-untyped-def]
    external = str(uuid.uuid4().int % 10**12)
    reg = await accounts.register_chat_user(
        session=session,
        provider="telegram",
        external_user_id=external,
        chat_id=external,
        full_name="Asha Rao",
        username=None,
    )
    reg.user.timezone = timezone
    return reg.user


async def _plan(session, user: User, org=None) -> tuple[ContentAsset, RepurposingStrategy]:  # type: ignore[no-untyped-def]
    asset = ContentAsset(
        user_id=user.id,
        organization_id=org,
        title="Consistency beats talent",
        content_type="video",
        file_url="file:///nowhere",
        upload_status="processing",
        metadata_={"has_video": True},
    )
    session.add(asset)
    await session.flush()
    analysis = ContentAnalysis(content_asset_id=asset.id, transcript="a talk", platform_scores=SCORES)
    session.add(analysis)
    await session.flush()
    strategy = await planning.plan_strategy(session=session, asset=asset, analysis=analysis, brand=None)
    return asset, strategy


async def _entries(session, user_id: uuid.UUID) -> list[CalendarEntry]:  # type: ignore[no-untyped-def]
    return list(
        (
            await session.scalars(
                select(CalendarEntry)
                .join(ContentCalendar, ContentCalendar.id == CalendarEntry.calendar_id)
                .where(ContentCalendar.user_id == user_id)
                .order_by(CalendarEntry.scheduled_date, CalendarEntry.scheduled_time)
            )
        ).all()
    )


@pytest.mark.parametrize("timezone", ["Asia/Kolkata", "America/New_York"])
async def test_planning_a_source_puts_its_suggestions_in_the_creators_week_once(session, timezone: str) -> None:
    user = await _register(session, timezone)
    asset, strategy = await _plan(session, user)
    suggestions = strategy.content_calendar_suggestions
    assert [s["format"] for s in suggestions] and all(s["platform"] != "blog" for s in suggestions)
    entries = await _entries(session, user.id)
    assert len(entries) == len(suggestions) == 5
    today = utcnow().astimezone(ZoneInfo(timezone)).date()
    days = [e.scheduled_date for e in entries]
    assert all(today < d <= today + timedelta(days=7) for d in days)
    assert len(set(days)) >= 4  # spread over the week, not piled on one day
    for entry, suggestion in zip(entries, sorted(suggestions, key=lambda s: s["at"]), strict=True):
        assert calendar.state_of(entry) == calendar.EntryState.SUGGESTED
        assert (entry.scheduled_date.isoformat(), entry.scheduled_time, entry.platform) == (
            suggestion["date"],
            time.fromisoformat(suggestion["time"]),
            suggestion["platform"],
        )
        local = datetime.combine(entry.scheduled_date, entry.scheduled_time or time(), tzinfo=ZoneInfo(timezone))
        assert local.astimezone(UTC).isoformat() == suggestion["at"]  # the wall clock is the creator's
        assert "of “Consistency beats talent”" in (entry.notes or "")
        week = await session.get(ContentCalendar, entry.calendar_id)
        assert week.start_date.weekday() == 0 and week.start_date <= entry.scheduled_date <= week.end_date
        assert week.ai_strategy == {"timezone": timezone}

    # The planner again (a redelivered task), and the entries step again: nothing new.
    assert (
        await planning.plan_strategy(
            session=session,
            asset=asset,
            analysis=await session.scalar(select(ContentAnalysis).where(ContentAnalysis.content_asset_id == asset.id)),
            brand=None,
        )
        is strategy
    )
    again = await calendar.add_suggestions(
        session, strategy=strategy, user_id=user.id, organization_id=None, timezone=timezone, source_title=None
    )
    assert {e.id for e in again} == {e.id for e in entries}
    assert len(await _entries(session, user.id)) == 5

    # A second source fills the same weekly calendars: one per user per week.
    await _plan(session, user)
    assert len(await _entries(session, user.id)) == 10
    per_week = (
        await session.execute(
            select(ContentCalendar.start_date, func.count())
            .where(ContentCalendar.user_id == user.id)
            .group_by(ContentCalendar.start_date)
        )
    ).all()
    assert per_week and all(n == 1 for _, n in per_week)


# --- accepting: with the real LinkedIn connect flow and the scheduling it leads to ----------------------


async def _source_with_draft(deps: CoreDeps, who: Creator) -> tuple[CalendarEntry, GeneratedContent]:
    """The creator's upload planned (its entries made) and its LinkedIn draft written; the LinkedIn entry."""
    async with deps.sessionmaker() as session:
        user = await session.get_one(User, who.user_id)
        asset, _ = await _plan(session, user)
        draft = GeneratedContent(
            user_id=user.id,
            content_asset_id=asset.id,
            content_type="social_post",
            target_platform="linkedin",
            content_text=f"Consistency beats talent. Show up every week. ({uuid.uuid4().hex[:6]})",
            metadata_={"output_format": "linkedin_post"},
        )
        session.add(draft)
        await session.commit()
        [entry] = [e for e in await _entries(session, user.id) if calendar.format_of(e) == "linkedin_post"][-1:]
        return entry, draft


async def _accept(deps: CoreDeps, user_id: uuid.UUID, entry_id: uuid.UUID) -> tuple[calendar.Accepted, str]:
    async with deps.sessionmaker() as session:
        result = await calendar.accept_entry(session, deps.settings, Owner(user_id), entry_id, timezone="Asia/Kolkata")
        await session.commit()
        return result, calendar.describe(result)


async def _approve(deps: CoreDeps, user_id: uuid.UUID, draft_id: uuid.UUID) -> list[calendar.Accepted]:
    async with deps.sessionmaker() as session:
        await solo.approve_draft_solo(session=session, draft_id=draft_id, user_id=user_id)
        draft = await session.get_one(GeneratedContent, draft_id)
        kept = await calendar.schedule_kept(session, Owner(user_id), draft, timezone="Asia/Kolkata")
        await session.commit()
        return kept


async def _posts(deps: CoreDeps, draft_id: uuid.UUID) -> list[ScheduledPost]:
    async with deps.sessionmaker() as session:
        rows = await session.scalars(select(ScheduledPost).where(ScheduledPost.generated_content_id == draft_id))
        return list(rows.all())


def _kolkata_today() -> date:
    return utcnow().astimezone(ZoneInfo("Asia/Kolkata")).date()


def _entry_instant(entry: CalendarEntry) -> datetime:
    return datetime.combine(entry.scheduled_date, entry.scheduled_time or time(), tzinfo=ZoneInfo("Asia/Kolkata"))


async def test_accepting_an_approved_draft_with_an_account_schedules_it_at_the_slot(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    await connect_linkedin(publish_deps, linkedin, creator)
    entry, draft = await _source_with_draft(publish_deps, creator)
    assert await _approve(publish_deps, creator.user_id, draft.id) == []  # nothing kept for it yet
    result, said = await _accept(publish_deps, creator.user_id, entry.id)
    assert result.kept == calendar.Kept.SCHEDULED
    [post] = await _posts(publish_deps, draft.id)
    assert post.status == PostStatus.SCHEDULED and post.platform == "linkedin"
    assert post.scheduled_for == _entry_instant(entry)
    when = _entry_instant(entry).strftime("%a %d %b, %H:%M")
    assert said == (
        f"Scheduled for {when} Asia/Kolkata on LinkedIn (Asha Rao): the LinkedIn post. "
        "I'll send the link here when it's live."
    )
    async with publish_deps.sessionmaker() as session:
        unit = await session.get_one(WorkUnit, result.unit)
        assert unit.kind == "distribution.publish_post" and unit.payload == {"post_id": str(post.id)}
        stored = await session.get_one(CalendarEntry, entry.id)
        assert calendar.state_of(stored) == calendar.EntryState.ACCEPTED
        assert calendar.post_id_of(stored) == post.id and stored.generated_content_id == draft.id
        # Scheduled entries are listed as their posts, not again as slots.
        listed = await calendar.week(session, Owner(creator.user_id), today=_kolkata_today())
        assert entry.id not in {w.entry.id for w in listed}

    again, said_again = await _accept(publish_deps, creator.user_id, entry.id)  # a double tap
    assert again.kept == calendar.Kept.ALREADY_SCHEDULED and "already scheduled on LinkedIn (Asha Rao)" in said_again
    assert len(await _posts(publish_deps, draft.id)) == 1


async def test_accepting_before_approval_keeps_the_slot_and_approving_schedules_it(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    await connect_linkedin(publish_deps, linkedin, creator)
    entry, draft = await _source_with_draft(publish_deps, creator)
    result, said = await _accept(publish_deps, creator.user_id, entry.id)
    assert result.kept == calendar.Kept.AWAITING_APPROVAL
    when = _entry_instant(entry).strftime("%a %d %b, %H:%M")
    assert said == f"Kept {when} Asia/Kolkata for the LinkedIn post; it will be scheduled when you approve the draft."
    assert await _posts(publish_deps, draft.id) == []  # kept, not scheduled
    async with publish_deps.sessionmaker() as session:  # the feed shows the kept slot as tentative
        feed = await calendar_feed.ics(session, creator.user_id)
    stamp = _entry_instant(entry).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    event = feed.split(f"UID:entry-{entry.id}@recast\r\n")[1].split("END:VEVENT")[0]
    assert f"DTSTART:{stamp}" in event and "STATUS:TENTATIVE" in event
    assert "SUMMARY:LinkedIn: LinkedIn post (slot kept)" in event

    [kept] = await _approve(publish_deps, creator.user_id, draft.id)
    assert kept.kept == calendar.Kept.SCHEDULED and kept.entry.id == entry.id
    [post] = await _posts(publish_deps, draft.id)
    async with publish_deps.sessionmaker() as session:  # now the post is the event, confirmed; the slot isn't twice
        feed = await calendar_feed.ics(session, creator.user_id)
    assert f"UID:entry-{entry.id}@recast" not in feed
    assert f"UID:{post.id}@recast\r\n" in feed and f"DTSTART:{stamp}" in feed
    assert post.scheduled_for == _entry_instant(entry) and post.status == PostStatus.SCHEDULED
    assert await _approve(publish_deps, creator.user_id, draft.id) == []  # approving again schedules nothing more
    assert len(await _posts(publish_deps, draft.id)) == 1


async def test_accepting_without_an_account_or_a_draft_says_nothing_is_scheduled(
    publish_deps: CoreDeps, creator: Creator
) -> None:
    entry, draft = await _source_with_draft(publish_deps, creator)
    async with publish_deps.sessionmaker() as session:  # another format's entry, whose draft isn't written
        [x_entry] = [e for e in await _entries(session, creator.user_id) if calendar.format_of(e) == "twitter_thread"]
    waiting, said = await _accept(publish_deps, creator.user_id, entry.id)
    assert waiting.kept == calendar.Kept.AWAITING_APPROVAL and not waiting.has_account
    assert "Nothing is scheduled yet: connect LinkedIn with /connect and approve the draft" in said
    [kept] = await _approve(publish_deps, creator.user_id, draft.id)
    assert kept.kept == calendar.Kept.NEEDS_ACCOUNT and kept.post is None
    assert "no LinkedIn account is connected, so nothing is scheduled yet" in calendar.describe(kept)
    assert await _posts(publish_deps, draft.id) == []

    unsupported, said = await _accept(publish_deps, creator.user_id, x_entry.id)  # X's app isn't set up here
    assert unsupported.kept == calendar.Kept.NOT_SUPPORTED
    assert "Recast can't post to X from here, so post it yourself then" in said


async def test_dismissing_lets_the_slot_go_and_others_calendars_are_refused(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    entry, draft = await _source_with_draft(publish_deps, creator)
    async with publish_deps.sessionmaker() as session:
        stranger = Owner((await _register(session, "Asia/Kolkata")).id)
        await session.commit()
        with pytest.raises(NotAllowed, match="isn't one of yours"):
            await calendar.accept_entry(session, publish_deps.settings, stranger, entry.id, timezone="UTC")
        await session.rollback()
        with pytest.raises(NotAllowed, match="isn't one of yours"):
            await calendar.dismiss_entry(session, stranger, entry.id)
        await session.rollback()
        assert await calendar.week(session, stranger, today=_kolkata_today()) == []
        stored = await session.get_one(CalendarEntry, entry.id)
        assert calendar.state_of(stored) == calendar.EntryState.SUGGESTED  # untouched

        dismissed = await calendar.dismiss_entry(session, Owner(creator.user_id), entry.id)
        await session.commit()
        assert calendar.state_of(dismissed) == calendar.EntryState.DISMISSED
        listed = await calendar.week(session, Owner(creator.user_id), today=_kolkata_today())
        assert entry.id not in {w.entry.id for w in listed} and len(listed) == 4
    # A dismissed slot is not scheduled by approving its draft.
    await connect_linkedin(publish_deps, linkedin, creator)
    assert await _approve(publish_deps, creator.user_id, draft.id) == []
    assert await _posts(publish_deps, draft.id) == []


async def test_a_slot_for_a_team_reviewed_draft_is_kept_without_promising_a_schedule(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    await connect_linkedin(publish_deps, linkedin, creator)
    async with publish_deps.sessionmaker() as session:
        user = await session.get_one(User, creator.user_id)
        org = Organization(name="Studio", slug=f"studio-{uuid.uuid4().hex[:8]}", owner_id=user.id, type="agency")
        session.add(org)
        await session.flush()
        session.add(
            ApprovalWorkflow(
                organization_id=org.id,
                name="Client review",
                stages=[{"order": 1, "name": "Manager", "role": "manager"}],
            )
        )
        await _plan(session, user, org.id)
        await session.commit()
        [entry] = [e for e in await _entries(session, user.id) if calendar.format_of(e) == "linkedin_post"]
    result, said = await _accept(publish_deps, creator.user_id, entry.id)
    assert result.kept == calendar.Kept.AWAITING_TEAM
    assert said.endswith(
        "It needs your team's approval first, so nothing is scheduled yet: once it's approved, "
        "tap 🗓 Schedule on it in /calendar."
    )


async def test_a_kept_slot_the_platform_would_refuse_does_not_undo_the_approval(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    await connect_linkedin(publish_deps, linkedin, creator)
    entry, draft = await _source_with_draft(publish_deps, creator)
    async with publish_deps.sessionmaker() as session:
        row = await session.get_one(GeneratedContent, draft.id)
        row.content_text = "Show up. " * 400  # 3,600 characters: LinkedIn takes 3,000
        await session.commit()
    await _accept(publish_deps, creator.user_id, entry.id)
    [refused] = await _approve(publish_deps, creator.user_id, draft.id)
    assert refused.kept == calendar.Kept.REFUSED
    said = calendar.describe(refused)
    assert "couldn't be scheduled for" in said and "LinkedIn takes up to 3,000 characters" in said
    assert await _posts(publish_deps, draft.id) == []
    async with publish_deps.sessionmaker() as session:
        assert await service.is_approved(session, draft.id)  # the approval stands
        stored = await session.get_one(CalendarEntry, entry.id)
        assert calendar.state_of(stored) == calendar.EntryState.ACCEPTED and calendar.post_id_of(stored) is None
