"""Publishing an approved draft from the chat: Publish now, or Schedule (suggested slots or a typed time),
and /calendar for what is coming up. Times are shown and read in the creator's timezone."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from bots.telegram.middleware import AfterCommit
from core.accounts.models import User
from core.common.clock import utcnow
from core.deps import CoreDeps
from core.distribution import calendar as content_calendar
from core.distribution import calendar_feed, connect, connections, service, slots
from core.distribution.connections import Owner
from core.distribution.models import PlatformConnection, PostStatus
from core.distribution.notices import caption_preview, local_time
from core.distribution.platforms.names import RULES, Platform, label
from core.distribution.post_media import PostMedia
from core.repurposing.models import GeneratedContent
from core.work import submit as work

PREFIX = "pb:"  # pb:<n|s|p|t>:<draft b64>:<connection b64>[:<minutes since epoch, base 36>]
CANCEL = "pc:"  # pc:<scheduled post b64>
ENTRY = "ce:"  # ce:<a|d>:<calendar entry b64> (accept / dismiss a suggested slot)
MAX_SLOTS_SHOWN = 12


class PickingTime(StatesGroup):
    when = State()


def _b64(value: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(value.bytes).decode().rstrip("=")


def _unb64(text: str) -> uuid.UUID:
    return uuid.UUID(bytes=base64.urlsafe_b64decode(text + "=="))


def _data(kind: str, draft_id: uuid.UUID, connection_id: uuid.UUID, at: datetime | None = None) -> str:
    data = f"{PREFIX}{kind}:{_b64(draft_id)}:{_b64(connection_id)}"
    if at is not None:
        data += ":" + _base36(int(at.timestamp() // 60))
    assert len(data.encode()) <= 64
    return data


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def _parse(data: str) -> tuple[str, uuid.UUID, uuid.UUID, datetime | None] | None:
    parts = data.removeprefix(PREFIX).split(":")
    try:
        kind, draft_id, connection_id = parts[0], _unb64(parts[1]), _unb64(parts[2])
        at = datetime.fromtimestamp(int(parts[3], 36) * 60, tz=UTC) if len(parts) > 3 else None
    except (IndexError, ValueError):
        return None
    return kind, draft_id, connection_id, at


def _account(connection: PlatformConnection) -> str:
    name = label(connection.platform)
    return f"{name} ({connection.platform_username})" if connection.platform_username else name


async def offer(
    session: AsyncSession, deps: CoreDeps, user: User, draft: GeneratedContent
) -> tuple[str, InlineKeyboardMarkup | None]:
    """What an approved draft offers. A slot the creator kept for it in /calendar is scheduled first: then
    that is all there is to say; a kept slot that couldn't be scheduled is said after the usual offer."""
    tz = user.timezone or "Asia/Kolkata"
    kept = await content_calendar.schedule_kept(session, Owner(user.id), draft, timezone=tz)
    said = " ".join(content_calendar.describe(k) for k in kept)
    if any(k.post is not None for k in kept):
        return f"✅ Approved. {said}", None
    text, buttons = await _offer(session, deps, user, draft)
    return (f"{text}\n\n{said}" if said else text), buttons


async def _offer(
    session: AsyncSession, deps: CoreDeps, user: User, draft: GeneratedContent
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Publish now / Schedule per connected account that can carry it,
    else how to connect one, else (nothing set up) the Copy button."""
    targets = await service.targets_for(session, Owner(user.id), draft)
    if targets:
        rows = [
            [
                InlineKeyboardButton(text=f"🚀 Publish now · {_account(c)}", callback_data=_data("n", draft.id, c.id)),
                InlineKeyboardButton(text="🗓 Schedule", callback_data=_data("s", draft.id, c.id)),
            ]
            for c in targets
        ]
        return "✅ Approved. Publish it now or schedule it:", InlineKeyboardMarkup(inline_keyboard=rows)
    fits = [p for p in connect.connectable(deps.settings) if service.format_of(draft) in RULES[p].formats]
    if fits:
        names = " or ".join(label(p) for p in fits)
        return (
            f"✅ Approved. Connect {names} with /connect to publish it from here, "
            "or tap “Copy text” to post it yourself.",
            None,
        )
    return "✅ Approved. It's ready to post — tap “Copy text” to grab it.", None


async def _schedule(
    session: AsyncSession,
    deps: CoreDeps,
    user: User,
    draft_id: uuid.UUID,
    connection_id: uuid.UUID,
    when: datetime | None,
    after_commit: AfterCommit,
) -> str:
    post, unit = await service.schedule_draft(
        session,
        owner=Owner(user.id),
        draft_id=draft_id,
        connection_id=connection_id,
        when=when,
        timezone=user.timezone or "Asia/Kolkata",
        store=deps.store,
    )
    await session.commit()
    connection = await session.get(PlatformConnection, connection_id)
    where = _account(connection) if connection else label(post.platform)
    if unit is None:
        return f"It's already scheduled on {where} for {local_time(post.scheduled_for, post.timezone)}."
    moved_from = (post.post_metadata or {}).get("moved_from")
    if when is None and not moved_from:  # due now: wake a worker (a later time is pushed by the sweeper)
        queue, sessionmaker = deps.work_queue, deps.sessionmaker
        after_commit.append(lambda: _push(queue, sessionmaker, unit))
    fixes = (PostMedia.from_json((post.post_metadata or {}).get("media")) or PostMedia("", "")).fixes
    first = f" First the clip is {' and '.join(fixes)}." if fixes else ""
    at = local_time(post.scheduled_for, post.timezone)
    if moved_from:
        cap = RULES[Platform(post.platform)].daily_posts
        asked = "now" if when is None else local_time(datetime.fromisoformat(moved_from), post.timezone)
        return (
            f"{label(post.platform)} takes {cap} posts a day from one account, and {where} already has {cap} in "
            f"the 24 hours up to {asked}: it's scheduled for {at} instead.{first} I'll send the link here when "
            "it's live."
        )
    if when is None:
        return f"Publishing on {where} now.{first} I'll send the link here when it's live."
    return f"Scheduled on {where} for {at}.{first} I'll send the link here when it's live."


async def _push(queue, sessionmaker, unit: uuid.UUID) -> None:  # type: ignore[no-untyped-def]
    await work.push(queue, sessionmaker, [unit])


async def on_button(
    query: CallbackQuery, session: AsyncSession, state: FSMContext, deps: CoreDeps, after_commit: AfterCommit
) -> None:
    parsed = _parse(query.data or "")
    if parsed is None or query.message is None:
        await query.answer("That button has expired. Approve the draft again to get fresh ones.", show_alert=True)
        return
    kind, draft_id, connection_id, at = parsed
    user = await current_user(session, query.from_user)
    tz = user.timezone or "Asia/Kolkata"
    if kind == "n":
        await query.answer()
        await query.message.answer(await _schedule(session, deps, user, draft_id, connection_id, None, after_commit))
    elif kind == "t" and at is not None:
        await query.answer()
        await query.message.answer(await _schedule(session, deps, user, draft_id, connection_id, at, after_commit))
    elif kind == "s":
        connection = await connections.connection_of(session, Owner(user.id), connection_id)
        suggested = await slots.suggest(
            session, deps.redis, user_id=user.id, platform=Platform(connection.platform), timezone=tz
        )
        rows = [
            [InlineKeyboardButton(text=local_time(s.at, tz), callback_data=_data("t", draft_id, connection_id, s.at))]
            for s in suggested
        ]
        rows.append([InlineKeyboardButton(text="⌨️ Pick a time", callback_data=_data("p", draft_id, connection_id))])
        source = suggested[0].source if suggested else "typical times"
        await query.answer()
        await query.message.answer(
            f"When should it go out on {_account(connection)}? Suggested ({source}, your time, {tz}):",
            reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
        )
    elif kind == "p":
        await state.set_state(PickingTime.when)
        await state.update_data(draft_id=draft_id.hex, connection_id=connection_id.hex)
        await query.answer()
        await query.message.answer(
            f"Send the time ({tz}), e.g. “tomorrow 9:30”, “fri 18:00” or “2026-12-05 18:00”. /cancel to stop."
        )
    else:
        await query.answer("That button has expired.", show_alert=True)


async def on_time(
    message: Message, session: AsyncSession, state: FSMContext, deps: CoreDeps, after_commit: AfterCommit
) -> None:
    user = await current_user(session, message.from_user)
    when = slots.parse_when(message.text or "", user.timezone or "Asia/Kolkata")  # a clear error if not a time
    data = await state.get_data()
    await state.clear()
    reply = await _schedule(
        session,
        deps,
        user,
        uuid.UUID(hex=data["draft_id"]),
        uuid.UUID(hex=data["connection_id"]),
        when,
        after_commit,
    )
    await message.answer(reply)


def _short(at: datetime, tz: str) -> str:
    return at.astimezone(slots.zone(tz)).strftime("%a %H:%M")


def _entry_line(item: content_calendar.WeekEntry, tz: str) -> str:
    entry = item.entry
    line = f"• {local_time(item.at, tz)} — {label(entry.platform or '')}: {entry.notes or content_calendar.what(entry)}"
    if item.state != content_calendar.EntryState.ACCEPTED:
        return line
    if not item.draft_ready:
        return line + " (kept; the draft is still being written)"
    if not item.draft_approved:
        return line + " (kept; waiting for the draft's approval)"
    return line + " (kept; not scheduled: tap 🗓 Schedule)"


def _entry_buttons(item: content_calendar.WeekEntry, tz: str) -> list[InlineKeyboardButton]:
    entry, when = item.entry, _short(item.at, tz)
    accept = "✅ Accept" if item.state == content_calendar.EntryState.SUGGESTED else "🗓 Schedule"
    buttons = [
        InlineKeyboardButton(
            text=f"{accept} {when} · {content_calendar.what(entry)}", callback_data=_entry_data("a", entry.id)
        ),
        InlineKeyboardButton(text="✖ Dismiss", callback_data=_entry_data("d", entry.id)),
    ]
    if item.state == content_calendar.EntryState.ACCEPTED and not item.draft_approved:
        return buttons[1:]  # kept: approving the draft schedules it; tapping would only say so again
    return buttons


def _entry_data(kind: str, entry_id: uuid.UUID) -> str:
    data = f"{ENTRY}{kind}:{_b64(entry_id)}"
    assert len(data.encode()) <= 64
    return data


async def calendar(message: Message, session: AsyncSession, deps: CoreDeps) -> None:
    user = await current_user(session, message.from_user)
    rows = await service.upcoming(session, Owner(user.id))
    tz = user.timezone or "Asia/Kolkata"
    today = utcnow().astimezone(slots.zone(tz)).date()
    entries = await content_calendar.week(session, Owner(user.id), today=today)
    subscribe = f"\n\nSee these in your calendar app: subscribe to {calendar_feed.feed_url(deps.settings, user.id)}"
    if not rows and not entries:
        await message.answer(
            "Nothing scheduled or suggested for the coming week. Send me a talk, a video or a link: I'll suggest "
            "when to post each draft here. Or approve a draft and tap 🗓 Schedule." + subscribe
        )
        return
    sections = []
    if rows:
        lines = [
            f"• {local_time(p.scheduled_for, tz)} — {label(p.platform)}: {caption_preview(p.post_caption)}"
            + (" (on hold: reconnect the account)" if p.status == PostStatus.HELD else "")
            for p in rows
        ]
        sections.append("Coming up:\n" + "\n".join(lines))
    more = len(entries) - MAX_SLOTS_SHOWN
    entries = entries[:MAX_SLOTS_SHOWN]  # Telegram's 4,096 characters and 100 buttons: the soonest first
    if entries:
        sections.append(
            "Suggested slots for the coming week (accept to keep one):\n"
            + "\n".join(_entry_line(e, tz) for e in entries)
            + (f"\n… and {more} more later in the week (dismiss some to see them)." if more > 0 else "")
        )
    buttons = [
        [InlineKeyboardButton(text=f"✖ Cancel {local_time(p.scheduled_for, tz)}", callback_data=CANCEL + _b64(p.id))]
        for p in rows
        if p.status != PostStatus.PUBLISHING  # being published: too late to stop
    ]
    buttons += [_entry_buttons(e, tz) for e in entries]
    await message.answer(
        "\n\n".join(sections) + subscribe,
        reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons) if buttons else None,
    )


async def entry_button(query: CallbackQuery, session: AsyncSession, deps: CoreDeps) -> None:
    """Accept or dismiss a suggested slot; the reply says what really happened (kept, or scheduled)."""
    user = await current_user(session, query.from_user)
    kind, _, raw = (query.data or "").removeprefix(ENTRY).partition(":")
    try:
        entry_id = _unb64(raw)
    except ValueError:
        entry_id = None
    if entry_id is None or kind not in ("a", "d"):
        await query.answer("That button has expired. Send /calendar again.", show_alert=True)
        return
    tz = user.timezone or "Asia/Kolkata"
    if kind == "a":
        result = await content_calendar.accept_entry(session, deps.settings, Owner(user.id), entry_id, timezone=tz)
        reply = content_calendar.describe(result)
    else:
        entry = await content_calendar.dismiss_entry(session, Owner(user.id), entry_id)
        reply = f"Dismissed: no {content_calendar.what(entry)} is planned for that slot."
    await session.commit()  # said only once it is so
    await query.answer("Done.")
    if query.message is not None:
        await query.message.answer(reply)


async def cancel_button(query: CallbackQuery, session: AsyncSession) -> None:
    user = await current_user(session, query.from_user)
    try:
        post_id = _unb64((query.data or "").removeprefix(CANCEL))
    except ValueError:
        await query.answer("That button has expired. Send /calendar again.", show_alert=True)
        return
    post = await service.cancel_post(session, Owner(user.id), post_id)
    await session.commit()  # said only once it is so
    await query.answer("Cancelled.")
    if query.message is not None:
        when = local_time(post.scheduled_for, user.timezone or "Asia/Kolkata")
        await query.message.answer(f"Cancelled the {label(post.platform)} post for {when}. It won't go out.")


def setup() -> Router:
    router = Router(name="publish")
    router.callback_query(F.data.startswith(PREFIX))(on_button)
    router.message(StateFilter(PickingTime.when), F.text & ~F.text.startswith("/"))(on_time)
    router.message(Command("calendar"))(calendar)
    router.callback_query(F.data.startswith(CANCEL))(cancel_button)
    router.callback_query(F.data.startswith(ENTRY))(entry_button)
    return router
