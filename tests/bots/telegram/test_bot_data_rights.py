"""/export and /delete_account through the bot (a fake Telegram Bot API): the zip arrives as a document with
the creator's data and no token; deletion shows what goes and what stays, Cancel deletes nothing, an
expired button says so, and a double-tapped Confirm deletes once and answers the second tap truthfully."""

from __future__ import annotations

import asyncio
import io
import zipfile

from chat import last_message_id, reply_to
from sqlalchemy import func, select
from test_bot_flow import running_bot

from core.accounts.models import ChatIdentity
from core.billing.models import Invoice
from core.content.models import ContentAsset
from core.repurposing.models import GeneratedContent
from core.system.models import AuditLog
from tests.privacy_rows import plant_creator

EXPORTER, DELETER, BYSTANDER = 5930001, 5930002, 5930003


async def _answer(tg, update: dict, timeout: float = 15.0) -> dict:
    """The bot's answer to a button press (the toast or alert the creator sees)."""
    query_id = update["callback_query"]["id"]
    for _ in range(int(timeout / 0.05)):
        answer = tg.callback_answers[query_id]
        if answer.get("answered"):
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"callback {query_id} was never answered")


async def test_export_sends_the_zip_as_a_document_then_asks_to_wait_before_another(live_deps, redis_url, run_id):
    asha = await plant_creator(live_deps, telegram_id=EXPORTER, name="Asha")
    async with running_bot(live_deps, redis_url, run_id) as tg:
        since = last_message_id(tg, EXPORTER)
        tg.user_sends_command(EXPORTER, "export")
        await tg.wait_for_message(EXPORTER, contains="Preparing your export…", timeout=15, since_message_id=since)
        sent = await tg.wait_for_message(EXPORTER, contains="Your Recast data", timeout=30, since_message_id=since)
        assert sent.media_kind == "document" and sent.media["file_name"].endswith(".zip")
        data = tg.file_bytes(sent.media["file_id"])
        again = await reply_to(tg, EXPORTER, lambda: tg.user_sends_command(EXPORTER, "export"), "a few minutes ago")
        assert "Preparing" not in again.content
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    assert files[f"transcripts/{asha.asset_id}.txt"].decode() == asha.transcript
    assert {"README.txt", "profile.json", "drafts.json", "connections.json", "invoices.json"} <= set(files)
    everything = b"\n".join(files.values())
    assert not [s for s in asha.secrets if s.encode() in everything]


async def test_delete_account_cancel_expired_and_a_double_tapped_confirm(live_deps, redis_url, run_id):
    creator = await plant_creator(live_deps, telegram_id=DELETER, name="Dev")
    bystander = await plant_creator(live_deps, telegram_id=BYSTANDER, name="Bina", seed=False)
    async with running_bot(live_deps, redis_url, run_id) as tg:
        ask = "Delete your Recast account?"
        first = await reply_to(tg, DELETER, lambda: tg.user_sends_command(DELETER, "delete_account"), ask)
        assert "• 1 upload with their transcripts" in first.content and "• 1 draft" in first.content
        assert "1 scheduled post: cancelled" in first.content
        assert "Kept, because tax law requires it: 1 invoice and 1 payment record, for 8 years" in first.content
        assert "/export" in first.content
        yes_first, no_first = first.callback_data
        assert yes_first.startswith("acct:del:") and no_first.startswith("acct:keep:")

        # Cancel deletes nothing.
        tg.user_presses_button(DELETER, first.message_id, no_first)
        await tg.wait_for_message(DELETER, contains="Cancelled — nothing was deleted", timeout=15)

        # A newer /delete_account replaces the older offer: its Confirm has expired and says so.
        second = await reply_to(tg, DELETER, lambda: tg.user_sends_command(DELETER, "delete_account"), ask)
        third = await reply_to(tg, DELETER, lambda: tg.user_sends_command(DELETER, "delete_account"), ask)
        stale = await _answer(tg, tg.user_presses_button(DELETER, second.message_id, second.callback_data[0]))
        assert stale["show_alert"] and "expired, so nothing was deleted" in stale["text"]
        async with live_deps.sessionmaker() as s:
            assert await s.scalar(select(func.count()).where(ContentAsset.user_id == creator.user_id)) == 1

        # A double tap on Confirm: one deletion, and a truthful answer to the second tap.
        yes = third.callback_data[0]
        taps = [tg.user_presses_button(DELETER, third.message_id, yes) for _ in range(2)]
        done = await tg.wait_for_message(DELETER, contains="Done — your Recast account is deleted", timeout=30)
        answers = [await _answer(tg, t) for t in taps]
        assert done.callback_data == []
        assert "Deleted: " in done.content and "1 upload," in done.content and "1 draft," in done.content
        assert "Media files and brand-voice samples: deleted." in done.content
        assert "Kept, anonymised, for 8 years as GST law requires: 1 invoice, 1 payment record (the" in done.content
        texts = sorted(a["text"] for a in answers)
        assert texts[0] == "Account deleted" and "already" in texts[1] and "first tap" in texts[1]

        # After the deletion the bot no longer knows this chat account.
        await reply_to(tg, DELETER, lambda: tg.user_sends_command(DELETER, "export"), "Send /start")

    async with live_deps.sessionmaker() as s:
        entries = await s.scalar(
            select(func.count()).where(AuditLog.action == "account_deleted", AuditLog.resource_id == creator.user_id)
        )
        assert entries == 1
        assert await s.scalar(select(func.count()).where(ChatIdentity.user_id == creator.user_id)) == 0
        assert await s.scalar(select(func.count()).where(GeneratedContent.user_id == creator.user_id)) == 0
        invoice = await s.get_one(Invoice, creator.invoice_id)
        assert invoice.billing_address["anonymised"] is True and "legal_name" not in invoice.billing_address
        assert await s.scalar(select(func.count()).where(ContentAsset.user_id == bystander.user_id)) == 1
        assert await s.scalar(select(func.count()).where(GeneratedContent.user_id == bystander.user_id)) == 1
    assert not live_deps.store.local_path(live_deps.store.url_for(creator.media_key)).exists()
    assert live_deps.store.local_path(live_deps.store.url_for(bystander.media_key)).exists()
