"""From approval to a live post, in the chat: a creator with LinkedIn connected approves a LinkedIn draft,
taps Publish now and gets the post's link; approves another and schedules it with a typed time (read in
their timezone), which /calendar then lists and cancels. A creator without a connection is told how to get one."""

from __future__ import annotations

import aiohttp
from aiohttp.test_utils import TestServer
from chat import last_message_id, reply_to, seed_and_onboard
from sqlalchemy import select
from test_bot_flow import TALK, running_bot

from core.distribution.models import PostStatus, ScheduledPost
from webhooks.app import make_web_app

CREATOR = 5650001


async def _linkedin_draft(tg, user_id: int):  # type: ignore[no-untyped-def]
    """Upload the talk; the new LinkedIn draft's message (once the whole upload is done)."""
    since = last_message_id(tg, user_id)
    file_id = tg.add_file(TALK.encode())
    tg.user_sends_document(user_id, file_id, file_name="talk.txt", mime_type="text/plain")
    draft = await tg.wait_for_message(user_id, contains="📝 LinkedIn post", timeout=90, since_message_id=since)
    await tg.wait_for_message(user_id, contains="drafts received", timeout=90, since_message_id=since)
    return draft


async def test_approve_then_publish_now_and_schedule_from_the_chat(publish_deps, linkedin, redis_url, run_id) -> None:
    web = TestServer(make_web_app(publish_deps), host="127.0.0.1")
    await web.start_server()
    publish_deps.settings = publish_deps.settings.model_copy(update={"public_base_url": str(web.make_url(""))})
    try:
        async with running_bot(publish_deps, redis_url, run_id) as tg:
            await seed_and_onboard(publish_deps, tg, CREATOR)
            draft = await _linkedin_draft(tg, CREATOR)
            approve = next(d for d in draft.callback_data if d.startswith("d:a:"))
            told = await reply_to(
                tg, CREATOR, lambda: tg.user_presses_button(CREATOR, draft.message_id, approve), "Approved"
            )
            assert "Connect LinkedIn with /connect" in told.content and told.buttons == []

            offer = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "connect"), "Connect an account")
            async with aiohttp.ClientSession() as browser, browser.get(offer.buttons[0]["url"]) as page:
                assert page.status == 200
            await tg.wait_for_message(CREATOR, contains="Connected LinkedIn as Asha Rao.", timeout=15)

            draft = await _linkedin_draft(tg, CREATOR)
            approve = next(d for d in draft.callback_data if d.startswith("d:a:"))
            offered = await reply_to(
                tg, CREATOR, lambda: tg.user_presses_button(CREATOR, draft.message_id, approve), "Publish it now"
            )
            labels = [b["text"] for b in offered.buttons]
            assert labels == ["🚀 Publish now · LinkedIn (Asha Rao)", "🗓 Schedule"]
            assert all(len(b["callback_data"].encode()) <= 64 for b in offered.buttons)
            now = offered.buttons[0]["callback_data"]
            going = await reply_to(
                tg, CREATOR, lambda: tg.user_presses_button(CREATOR, offered.message_id, now), "Publishing on"
            )
            assert going.content == "Publishing on LinkedIn (Asha Rao) now. I'll send the link here when it's live."
            live = await tg.wait_for_message(CREATOR, contains="Published on LinkedIn", timeout=30)
            assert len(linkedin.posts) == 1 and linkedin.posts[0]["id"] in live.content

            draft = await _linkedin_draft(tg, CREATOR)
            approve = next(d for d in draft.callback_data if d.startswith("d:a:"))
            offered = await reply_to(
                tg, CREATOR, lambda: tg.user_presses_button(CREATOR, draft.message_id, approve), "Publish it now"
            )
            schedule = offered.buttons[1]["callback_data"]
            slots = await reply_to(
                tg, CREATOR, lambda: tg.user_presses_button(CREATOR, offered.message_id, schedule), "When should it"
            )
            assert "typical for LinkedIn" in slots.content and "Asia/Kolkata" in slots.content
            assert len(slots.buttons) == 4 and slots.buttons[-1]["text"] == "⌨️ Pick a time"
            pick = slots.buttons[-1]["callback_data"]
            await reply_to(
                tg, CREATOR, lambda: tg.user_presses_button(CREATOR, slots.message_id, pick), "Send the time"
            )
            unclear = await reply_to(tg, CREATOR, lambda: tg.user_sends_text(CREATOR, "whenever"), "couldn't read")
            assert "tomorrow 9:30" in unclear.content
            pick_again = await reply_to(
                tg, CREATOR, lambda: tg.user_presses_button(CREATOR, slots.message_id, pick), "Send the time"
            )
            assert pick_again
            scheduled = await reply_to(
                tg, CREATOR, lambda: tg.user_sends_text(CREATOR, "tomorrow 9:30"), "Scheduled on LinkedIn"
            )
            assert "09:30 Asia/Kolkata" in scheduled.content
            listing = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "calendar"), "Coming up")
            assert "09:30 Asia/Kolkata — LinkedIn:" in listing.content
            [cancel] = [d for d in listing.callback_data if d.startswith("pc:")]  # the rest: suggested slots
            stopped = await reply_to(
                tg, CREATOR, lambda: tg.user_presses_button(CREATOR, listing.message_id, cancel), "Cancelled the"
            )
            assert "09:30 Asia/Kolkata. It won't go out." in stopped.content
            after = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "calendar"), "Suggested slots")
            assert "Coming up" not in after.content and not any(d.startswith("pc:") for d in after.callback_data)
    finally:
        await web.close()
    async with publish_deps.sessionmaker() as session:
        statuses = sorted((await session.scalars(select(ScheduledPost.status))).all())
    assert PostStatus.PUBLISHED in statuses and PostStatus.CANCELLED in statuses
