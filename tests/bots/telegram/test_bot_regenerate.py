"""Issue 11, item 9: Regenerate gives a visibly different draft each time, or says it has no new angle
and charges nothing. Real aiogram polling the Bot API stand-in, a real worker, PostgreSQL."""

from __future__ import annotations

import difflib
import itertools

from chat import last_message_id
from sqlalchemy import select
from test_bot_flow import TALK, running_bot

from core.accounts.models import ChatIdentity
from core.billing.models import UsageTracking
from core.repurposing.formats import FORMATS
from core.repurposing.models import GeneratedContent
from core.seed.service import apply_seed

CREATOR = 5600001


async def _credits(core_deps, user_id: int) -> int:
    async with core_deps.sessionmaker() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(user_id)))
        usage = await s.scalar(select(UsageTracking).where(UsageTracking.user_id == identity.user_id))
    return int(usage.ai_credits_used)


def _body(content: str) -> str:
    return content.split("\n\n", 1)[1]


async def _press_regenerate(tg, user: int, message) -> tuple[str, object]:
    """Press Regenerate; return ("fresh", the new draft message) or ("none", the bot's note)."""
    since = last_message_id(tg, user)
    tg.user_presses_button(user, message.message_id, next(d for d in message.callback_data if d.startswith("d:g:")))
    reply = await tg.wait_for_message(user, contains="", timeout=60, since_message_id=since)
    if reply.content.startswith("📝"):
        return "fresh", reply
    return "none", reply


async def test_regenerate_never_repeats_a_version_and_says_when_it_has_no_new_angle(live_deps, redis_url, run_id):
    core_deps = live_deps
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    user = CREATOR
    async with running_bot(core_deps, redis_url, run_id) as tg:
        tg.user_sends_command(user, "start")
        await tg.wait_for_message(user, contains="what's your email", timeout=15)
        tg.user_sends_command(user, "skip")
        tg.user_sends_document(user, tg.add_file(TALK.encode()), file_name="talk.txt", mime_type="text/plain")
        await tg.wait_for_message(user, contains="100% · Done", timeout=60)
        post = await tg.wait_for_message(user, contains="📝 LinkedIn post", timeout=5)
        credits = await _credits(core_deps, user)

        shown = [_body(post.content)]
        outcome, reply = "fresh", post
        for _ in range(12):  # far more presses than the offline writer has angles
            outcome, reply = await _press_regenerate(tg, user, post)
            if outcome == "none":
                break
            assert f"📝 LinkedIn post · version {len(shown) + 1}" in reply.content
            shown.append(_body(reply.content))
            assert await _credits(core_deps, user) == credits + FORMATS["linkedin_post"].credits * (len(shown) - 1)
        assert outcome == "none", "twelve presses and still a fresh angle each time?"
        assert "no new angle" in reply.content and "Nothing was charged" in reply.content
        paid = await _credits(core_deps, user)
        # Pressing again does not start cycling through old versions, and is still free.
        outcome, again = await _press_regenerate(tg, user, post)
        assert outcome == "none" and "no new angle" in again.content
        assert await _credits(core_deps, user) == paid

    assert len(shown) >= 2  # at least one fresh version before running out
    for a, b in itertools.combinations(shown, 2):
        assert difflib.SequenceMatcher(None, a.split(), b.split()).ratio() < 0.8, (a, b)
    async with core_deps.sessionmaker() as s:
        # This creator's draft: other tests on the live database leave LinkedIn drafts of their own.
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(user)))
        draft = await s.scalar(
            select(GeneratedContent)
            .where(
                GeneratedContent.user_id == identity.user_id,
                GeneratedContent.metadata_["output_format"].astext == "linkedin_post",
                GeneratedContent.target_platform == "linkedin",
            )
            .order_by(GeneratedContent.created_at.desc())
            .limit(1)
        )
    assert len(draft.metadata_["versions"]) == len(shown) - 1
