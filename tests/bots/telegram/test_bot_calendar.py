"""/calendar over the fake Telegram: an empty week says what to do; after an upload the strategy's slots
are listed with Accept / Dismiss; accepting the LinkedIn slot before approval keeps it (and says so),
approving the draft then schedules it there (one scheduled post at that time, listed with Cancel);
dismissing a slot removes it; a slot Recast can't post to is kept with the truth about it."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp.test_utils import TestServer
from chat import reply_to, seed_and_onboard
from sqlalchemy import select
from test_bot_flow import running_bot
from test_bot_publish import _linkedin_draft

from core.accounts.models import ChatIdentity
from core.content.models import ContentAnalysis, ContentAsset
from core.distribution.models import CalendarEntry, PostStatus, ScheduledPost
from core.repurposing import planning
from webhooks.app import make_web_app

CREATOR = 5650021
KOLKATA = ZoneInfo("Asia/Kolkata")


def _button(message, starts: str, mentions: str) -> str:  # type: ignore[no-untyped-def]
    return next(b["callback_data"] for b in message.buttons if b["text"].startswith(starts) and mentions in b["text"])


def _line(message, mentions: str) -> str:  # type: ignore[no-untyped-def]
    return next(line for line in message.content.splitlines() if mentions in line)


def _dismiss_next_to(message, mentions: str) -> str:  # type: ignore[no-untyped-def]
    """The Dismiss button in the row of the slot whose Accept button mentions `mentions`."""
    texts = [b["text"] for b in message.buttons]
    at = next(i for i, t in enumerate(texts) if t.startswith("✅ Accept") and mentions in t)
    assert texts[at + 1] == "✖ Dismiss"
    return str(message.buttons[at + 1]["callback_data"])


async def _user_id(deps):  # type: ignore[no-untyped-def]
    async with deps.sessionmaker() as session:
        identity = await session.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(CREATOR)))
        return identity.user_id


async def test_calendar_lists_suggested_slots_and_accept_and_dismiss_do_what_they_say(
    publish_deps, linkedin, redis_url, run_id
) -> None:
    web = TestServer(make_web_app(publish_deps), host="127.0.0.1")
    await web.start_server()
    publish_deps.settings = publish_deps.settings.model_copy(update={"public_base_url": str(web.make_url(""))})
    try:
        async with running_bot(publish_deps, redis_url, run_id) as tg:
            await seed_and_onboard(publish_deps, tg, CREATOR)
            empty = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "calendar"), "Nothing")
            assert empty.content.startswith("Nothing scheduled or suggested for the coming week.")
            assert "/calendar/" in empty.content and empty.buttons == []

            offer = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "connect"), "Connect an account")
            async with aiohttp.ClientSession() as browser, browser.get(offer.buttons[0]["url"]) as page:
                assert page.status == 200
            await tg.wait_for_message(CREATOR, contains="Connected LinkedIn as Asha Rao.", timeout=15)

            draft = await _linkedin_draft(tg, CREATOR)
            week = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "calendar"), "Suggested slots")
            assert "Coming up" not in week.content  # nothing scheduled yet
            assert all(len(d.encode()) <= 64 for d in week.callback_data)
            linkedin_line = _line(week, "LinkedIn post")
            assert "Asia/Kolkata — LinkedIn: LinkedIn post of" in linkedin_line
            accept = _button(week, "✅ Accept", "LinkedIn post")
            assert (
                len([b for b in week.buttons if b["text"] == "✖ Dismiss"])
                == len([b for b in week.buttons if b["text"].startswith("✅ Accept")])
                >= 3
            )

            kept = await reply_to(tg, CREATOR, lambda: tg.user_presses_button(CREATOR, week.message_id, accept), "Kept")
            assert kept.content.endswith("for the LinkedIn post; it will be scheduled when you approve the draft.")
            when = kept.content.removeprefix("Kept ").split(" for the ")[0]  # e.g. "Tue 08 Dec, 09:00 Asia/Kolkata"
            assert when in linkedin_line
            user_id = await _user_id(publish_deps)
            async with publish_deps.sessionmaker() as session:
                posts = await session.scalars(select(ScheduledPost.id).where(ScheduledPost.user_id == user_id))
                assert posts.all() == []  # kept, not scheduled

            dismiss_x = _dismiss_next_to(week, "X thread")
            gone = await reply_to(
                tg, CREATOR, lambda: tg.user_presses_button(CREATOR, week.message_id, dismiss_x), "Dismissed"
            )
            assert gone.content == "Dismissed: no X thread is planned for that slot."

            instagram = _button(week, "✅ Accept", "Instagram caption")
            told = await reply_to(
                tg, CREATOR, lambda: tg.user_presses_button(CREATOR, week.message_id, instagram), "Kept"
            )
            assert "Recast can't post to Instagram from here, so post it yourself then" in told.content

            again = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "calendar"), "Suggested slots")
            assert "X thread" not in again.content
            assert _line(again, "LinkedIn post").endswith("(kept; waiting for the draft's approval)")
            assert not any("LinkedIn post" in b["text"] for b in again.buttons)  # only Dismiss is left for it

            approve = next(d for d in draft.callback_data if d.startswith("d:a:"))
            approved = await reply_to(
                tg, CREATOR, lambda: tg.user_presses_button(CREATOR, draft.message_id, approve), "Approved"
            )
            assert approved.content == (
                f"✅ Approved. Scheduled for {when} on LinkedIn (Asha Rao): the LinkedIn post. "
                "I'll send the link here when it's live."
            )
            assert approved.buttons == []

            listing = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "calendar"), "Coming up")
            assert f"• {when} — LinkedIn:" in listing.content
            assert "LinkedIn post of" not in listing.content  # listed once, as the post
            assert [b["text"] for b in listing.buttons if b["callback_data"].startswith("pc:")] == [f"✖ Cancel {when}"]

            # A busy week (three more sources planned): the soonest twelve slots, and how many more there are.
            async with publish_deps.sessionmaker() as session:
                for n in range(3):
                    asset = ContentAsset(user_id=user_id, title=f"Talk {n}", content_type="document", file_url="x")
                    session.add(asset)
                    await session.flush()
                    analysis = ContentAnalysis(content_asset_id=asset.id, transcript="a talk")
                    session.add(analysis)
                    await session.flush()
                    await planning.plan_strategy(session=session, asset=asset, analysis=analysis, brand=None)
                await session.commit()
            busy = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "calendar"), "Suggested slots")
            shown = [line for line in busy.content.splitlines() if " of “" in line]
            assert len(shown) == 12 and "… and 2 more later in the week (dismiss some to see them)." in busy.content
            assert len(busy.content) < 4096 and len(busy.buttons) <= 100
    finally:
        await web.close()
    async with publish_deps.sessionmaker() as session:
        [post] = (await session.scalars(select(ScheduledPost).where(ScheduledPost.user_id == user_id))).all()
        entry = await session.scalar(select(CalendarEntry).where(CalendarEntry.scheduled_post_id == post.id))
    assert post.status == PostStatus.SCHEDULED and entry is not None
    slot = datetime.combine(entry.scheduled_date, entry.scheduled_time or time(), tzinfo=KOLKATA)
    assert post.scheduled_for == slot.astimezone(UTC)
