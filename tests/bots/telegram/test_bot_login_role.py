"""The Telegram door and the worker as production runs them: connected as the RLS-bound login role. A
creator goes from /start to approved drafts; every session on the way names who acts, or it would see
nothing (tests/core/db/test_login_role.py)."""

from __future__ import annotations

from sqlalchemy import select
from test_bot_flow import running_bot

from core.accounts.models import ChatIdentity
from core.db.session import make_sessionmaker
from core.repurposing.models import GeneratedContent
from core.seed.service import apply_seed
from core.workflow.models import ApprovalRequest

TALK = (
    "Most freelancers lose money to scope creep, and it starts with one small favour. "
    "Write a scope document before the first call, and send it before you quote a price. "
    "When a client asks for something new, say yes, and send the price of the change the same day. "
    "Keep revisions to two rounds, and say so in the contract. "
    "Clients respect limits that are written down, because they protect both sides. "
    "The second habit is a change log: every request goes into one shared list with its price and its date. "
    "At the end of the month the list is your invoice, and nobody is surprised by it. "
    "The third habit is saying no to work that is not yours, kindly and in writing, with a referral. "
    "Scope creep is not a client problem, it is a process problem, and a process is something you can fix."
)
CREATOR = 5990001  # an id no other test uses: identities persist in the run's database


async def test_a_creator_goes_from_start_to_approved_drafts_with_the_login_role(login_deps, engine, redis_url, run_id):
    owner = make_sessionmaker(engine)  # the tables' owner: reference data, and the checks after
    async with owner() as session:
        await apply_seed(session=session)
        await session.commit()
    async with running_bot(login_deps, redis_url, run_id) as tg:
        tg.user_sends_command(CREATOR, "start", first_name="Meera")
        await tg.wait_for_message(CREATOR, contains="what's your email", timeout=10)
        tg.user_sends_text(CREATOR, "meera@example.in")
        await tg.wait_for_message(CREATOR, contains="Saved meera@example.in", timeout=10)

        file_id = tg.add_file(TALK.encode())
        tg.user_sends_document(CREATOR, file_id, file_name="talk.txt", mime_type="text/plain")
        linkedin = await tg.wait_for_message(CREATOR, contains="📝 LinkedIn post", timeout=60)
        await tg.wait_for_message(CREATOR, contains="100% · Done", timeout=60)
        approve = next(d for d in linkedin.callback_data if d.startswith("d:a:"))
        tg.user_presses_button(CREATOR, linkedin.message_id, approve)
        await tg.wait_for_message(CREATOR, contains="Approved", timeout=10)

        tg.user_sends_command(CREATOR, "usage")
        usage = await tg.wait_for_message(CREATOR, contains="Uploads:", timeout=10)
        tg.user_sends_command(CREATOR, "history")
        history = await tg.wait_for_message(CREATOR, contains="Your recent uploads", timeout=10)

        async with owner() as s:
            identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(CREATOR)))
            assert identity is not None
            user_id = identity.user_id
            drafts = (await s.scalars(select(GeneratedContent).where(GeneratedContent.user_id == user_id))).all()
            approved = (await s.scalars(select(ApprovalRequest).where(ApprovalRequest.status == "approved"))).all()
        assert len(drafts) >= 4
        assert any(a.generated_content_id in {d.id for d in drafts} for a in approved)
        assert "Uploads: 1 of" in usage.content and "AI credits: 6 of" in usage.content  # charged once
        assert "talk · text file" in history.content

        # /export, then /delete_account: the deletion removes the tenant itself, so it runs as maintenance.
        tg.user_sends_command(CREATOR, "export")
        await tg.wait_for(lambda c: c.method == "sendDocument", timeout=30)
        tg.user_sends_command(CREATOR, "delete_account")
        ask = await tg.wait_for_message(CREATOR, contains="Delete", timeout=10)
        tg.user_presses_button(CREATOR, ask.message_id, ask.callback_data[0])
        done = await tg.wait_for_message(CREATOR, contains="Done — your Recast account is deleted", timeout=30)
    assert "1 upload," in done.content
    async with owner() as s:
        assert await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(CREATOR))) is None
        assert not (await s.scalars(select(GeneratedContent).where(GeneratedContent.user_id == user_id))).all()
