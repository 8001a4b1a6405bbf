"""Issue 15: "❓ Why N?" under a draft and /why (/why 2) explain the quality score check by check.
Real aiogram polling the Bot API stand-in, a real worker, PostgreSQL, the offline writer."""

from __future__ import annotations

import re

from chat import onboard, reply_to, seed_and_onboard
from test_bot_flow import TALK, running_bot

CREATOR = 6210101
NEWCOMER = 6210102


async def test_why_n_under_a_draft_and_slash_why_explain_the_score_check_by_check(live_deps, redis_url, run_id):
    core_deps = live_deps
    user = CREATOR
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await seed_and_onboard(core_deps, tg, user)
        tg.user_sends_document(user, tg.add_file(TALK.encode()), file_name="talk.txt", mime_type="text/plain")
        await tg.wait_for_message(user, contains="100% · Done", timeout=90)
        drafts = [m for m in tg.messages_to(user) if m.content.startswith("📝")]
        assert drafts
        for draft in drafts:  # every draft shows a score with checks behind it, and the button to see them
            score = re.search(r"quality (\d+)/100", draft.content.split("\n", 1)[0])
            assert score, draft.content[:80]
            labels = [b["text"] for b in draft.buttons]
            assert f"❓ Why {score.group(1)}?" in labels
        post = next(m for m in drafts if m.content.startswith("📝 LinkedIn post"))
        score = re.search(r"quality (\d+)/100", post.content).group(1)  # type: ignore[union-attr]
        why_data = next(d for d in post.callback_data if d.startswith("d:w:"))

        answer = await reply_to(
            tg, user, lambda: tg.user_presses_button(user, post.message_id, why_data), contains="Why "
        )
        assert answer.content.startswith(f"Why {score}/100?")
        for check, top in (("Complete sentences", 25), ("No talk frame", 15), ("Key points", 25)):
            assert re.search(rf"{check}: [\d.]+/{top}", answer.content), answer.content
        assert "What to do:" in answer.content or "Nothing cost points" in answer.content
        assert answer.buttons == []  # an answer, not another draft

        newest = drafts[-1]
        latest = await reply_to(tg, user, lambda: tg.user_sends_command(user, "why"), contains="Why ")
        assert latest.content.split("\n", 1)[0].startswith(newest.content.split(" · ")[0])
        before = drafts[-2]
        second = await reply_to(tg, user, lambda: tg.user_sends_command(user, "why", "2"), contains="Why ")
        assert second.content.split("\n", 1)[0].startswith(before.content.split(" · ")[0])
        before_score = re.search(r"quality (\d+)/100", before.content).group(1)  # type: ignore[union-attr]
        assert f"Why {before_score}/100?" in second.content

        far = await reply_to(tg, user, lambda: tg.user_sends_command(user, "why", "500"), contains="fewer than")
        assert "/why 2" in far.content
        wrong = await reply_to(tg, user, lambda: tg.user_sends_command(user, "why", "latest"), contains="/why 2")
        assert "Send /why for your newest draft" in wrong.content

        await onboard(tg, NEWCOMER)
        empty = await reply_to(tg, NEWCOMER, lambda: tg.user_sends_command(NEWCOMER, "why"), contains="no drafts")
        assert "Send me a video" in empty.content
