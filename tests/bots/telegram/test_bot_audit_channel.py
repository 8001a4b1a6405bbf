"""An account made by /start over the (fake) Bot API is audited as the `telegram` channel, with the sender
as actor and no address (the HTTP peer is Telegram, not the creator)."""

from __future__ import annotations

import uuid

from chat import seed_and_onboard
from sqlalchemy import select
from test_bot_flow import running_bot

from core.accounts.models import ChatIdentity
from core.system.models import AuditLog


async def test_start_audits_the_new_account_through_the_telegram_channel(live_deps, redis_url, run_id):
    creator = 5_700_000 + uuid.uuid4().int % 99_999
    async with running_bot(live_deps, redis_url, run_id) as tg:
        await seed_and_onboard(live_deps, tg, creator)
    async with live_deps.sessionmaker() as s:
        stmt = select(ChatIdentity).where(
            ChatIdentity.provider == "telegram", ChatIdentity.external_user_id == str(creator)
        )
        identity = await s.scalar(stmt)
        assert identity is not None
        rows = (await s.scalars(select(AuditLog).where(AuditLog.user_id == identity.user_id))).all()
    created = [r for r in rows if r.action == "user_created"]
    assert [(r.channel, r.ip_address, r.user_agent) for r in created] == [("telegram", None, None)]
    assert created[0].metadata_ == {"via": "telegram", "actor": f"telegram:{creator}"}
