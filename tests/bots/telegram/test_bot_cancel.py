"""/cancel end to end: the real bot polling the Bot API stand-in, a real worker, real PostgreSQL.

A request the bot makes is held in flight (`FakeTelegram.hold`) so the cancel lands at a known step;
what the creator is told must match what reached the chat and what was charged."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timedelta

from chat import onboard
from fakes.telegram_api import CHAT_WRITES, Call, FakeTelegram
from sqlalchemy import func, select, text
from test_bot_flow import TALK, running_bot

from core.accounts.models import ChatIdentity
from core.billing.models import UsageTracking
from core.content.models import ContentAsset
from core.repurposing.formats import FORMATS
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.seed.service import apply_seed
from core.system.models import AuditLog
from core.work.models import WorkUnit

CREATOR = 5580001


def _drafts_in_chat(tg: FakeTelegram, user: int) -> list[str]:
    return [m.content for m in tg.messages_to(user) if m.content.startswith("📝")]


def _is_draft_send(tg: FakeTelegram, user: int, call: Call) -> bool:
    text = str(call.params.get("text") or call.params.get("caption") or "")
    return call.method in CHAT_WRITES and call.params.get("chat_id") == user and text.startswith("📝")


async def settled(core_deps, since: datetime, timeout: float = 60.0) -> None:
    """Wait until no work unit made since `since` (this test's) is queued or running and due: every job,
    delivery and retry has ended. Other tests' units in the same database, such as posts scheduled for
    tomorrow, are not this test's to wait for."""
    deadline = time.monotonic() + timeout
    while True:
        async with core_deps.sessionmaker() as s:
            busy = await s.scalar(
                select(func.count())
                .select_from(WorkUnit)
                .where(
                    WorkUnit.state.in_(("queued", "running")),
                    WorkUnit.created_at >= since,
                    WorkUnit.run_after <= func.now() + timedelta(seconds=30),
                )
            )
        if not busy:
            return
        assert time.monotonic() < deadline, f"{busy} work unit(s) still busy"
        await asyncio.sleep(0.3)


async def _waiting_for_a_lock(core_deps, timeout: float = 20.0) -> None:
    """Wait until a database session is blocked on a row lock (here: /cancel on the draft being sent)."""
    deadline = time.monotonic() + timeout
    while True:
        async with core_deps.sessionmaker() as s:
            waiting = await s.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        assert time.monotonic() < deadline, "nothing waited for the draft being sent"
        await asyncio.sleep(0.1)


async def _state(core_deps, user: int):
    async with core_deps.sessionmaker() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(user)))
        asset = await s.scalar(select(ContentAsset).where(ContentAsset.user_id == identity.user_id))
        jobs = (await s.scalars(select(RepurposingJob).where(RepurposingJob.content_asset_id == asset.id))).all()
        drafts = (await s.scalars(select(GeneratedContent).where(GeneratedContent.content_asset_id == asset.id))).all()
        usage = await s.scalar(select(UsageTracking).where(UsageTracking.user_id == identity.user_id))
        refunds = (
            await s.scalars(
                select(AuditLog).where(AuditLog.user_id == identity.user_id, AuditLog.action == "usage_refunded")
            )
        ).all()
    return asset, jobs, drafts, usage, refunds


async def test_cancel_while_drafts_arrive_stops_the_rest_and_gives_back_their_credits(live_deps, redis_url, run_id):
    core_deps = live_deps
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
        started = await session.scalar(select(func.now()))  # the database's clock, as created_at's
    user = CREATOR
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await onboard(tg, user, first_name="Asha")
        # The third draft's send is held in flight: two drafts have arrived, the third is being sent.
        third = tg.hold(lambda call: _is_draft_send(tg, user, call) and len(_drafts_in_chat(tg, user)) >= 2)
        tg.user_sends_document(user, tg.add_file(TALK.encode()), file_name="talk.txt", mime_type="text/plain")
        held = await third.wait_reached(timeout=60)
        tg.user_sends_command(user, "cancel")
        await _waiting_for_a_lock(core_deps)  # the cancel waits for the send under way to end
        tg.fail_next(1, error_code=502, description="Bad Gateway", methods={held.method}, chat_id=user)
        third.release()  # ...and that send fails: the third draft has not arrived
        reply = await tg.wait_for_message(user, contains="Stopped", timeout=30)
        await settled(core_deps, started)
        await asyncio.sleep(1.0)  # a late draft would have been sent by now
        arrived = _drafts_in_chat(tg, user)
        progress = await tg.wait_for_message(user, contains="Cancelled", timeout=10)

    asset, jobs, drafts, usage, refunds = await _state(core_deps, user)
    delivered = [d for d in drafts if (d.metadata_ or {}).get("delivered_message_id")]
    assert len(arrived) == len(delivered) == 2, arrived
    assert asset.upload_status == "cancelled" and progress.message_id < reply.message_id
    assert "2 drafts had already arrived" in reply.content
    assert f"the other {len(jobs) - 2} drafts won't come" in reply.content
    kept_formats = {(d.metadata_ or {})["output_format"] for d in delivered}
    assert sorted(j.status for j in jobs) == sorted(["completed"] * 2 + ["cancelled"] * (len(jobs) - 2))
    assert {j.output_format for j in jobs if j.status == "completed"} == kept_formats
    # Charged: the upload and the credits of the two drafts that arrived; the third's credits came back.
    assert usage.content_uploads == 1
    assert usage.ai_credits_used == sum(FORMATS[f].credits for f in kept_formats)
    given_back = sum(int(r.metadata_["credits"]) for r in refunds)
    match = re.search(r"gave back the (\d+) AI credit", reply.content)
    assert match is not None and int(match.group(1)) == given_back > 0, reply.content
    assert "upload and" in reply.content and "still count" in reply.content


async def test_cancel_before_any_draft_is_written_counts_nothing(live_deps, redis_url, run_id):
    core_deps = live_deps
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
        started = await session.scalar(select(func.now()))  # the database's clock, as created_at's
    user = CREATOR + 1
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await onboard(tg, user, first_name="Asha")
        analysing = tg.hold(
            lambda call: (
                call.method == "editMessageText"
                and call.params.get("chat_id") == user
                and "Analysing" in str(call.params.get("text"))
            )
        )
        tg.user_sends_document(user, tg.add_file(TALK.encode()), file_name="talk.txt", mime_type="text/plain")
        await analysing.wait_reached(timeout=60)
        tg.user_sends_command(user, "cancel")
        reply = await tg.wait_for_message(user, contains="Stopped", timeout=30)
        analysing.release()  # the pipeline goes on to its next step, sees the cancel and stops
        await settled(core_deps, started)
        await asyncio.sleep(1.0)
        status = next(m for m in tg.messages_to(user) if any("Queued" in (h or "") for h in m.history))

    asset, jobs, drafts, usage, refunds = await _state(core_deps, user)
    assert "No drafts had been written yet" in reply.content and "Your upload was not counted" in reply.content
    assert "credit" not in reply.content
    assert _drafts_in_chat(tg, user) == [] and jobs == [] and drafts == []
    assert asset.upload_status == "cancelled"
    assert (usage.content_uploads, usage.ai_credits_used) == (0, 0)
    assert [r.metadata_["uploads"] for r in refunds] == [1]
    # The progress edit that was under way landed late; the message still ends as "Cancelled".
    assert status.content.endswith("Cancelled.") and any("Analysing" in (h or "") for h in status.history)
