"""Issue 11, item 6: on a server without a payment gateway /plans and /upgrade say plainly that it takes
no payments and whom to contact; a creator over a trial limit is told when the trial ends (their time)."""

from __future__ import annotations

from chat import reply_to, seed_and_onboard
from sqlalchemy import select, update
from test_bot_flow import TALK, running_bot

from core.accounts.models import ChatIdentity, User
from core.billing.gateway_clients import StripeGateway
from core.billing.models import Subscription, UsageTracking
from core.common.clock import local_time
from core.content.models import ContentAsset
from core.deps import Providers

CREATOR = 5590001


async def _user(core_deps, tg_user: int) -> User:
    async with core_deps.sessionmaker() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(tg_user)))
        return await s.get_one(User, identity.user_id)


async def test_without_a_gateway_plans_and_upgrade_name_the_billing_contact(live_deps, redis_url, run_id):
    live_deps.settings.billing_contact = "billing@agency.example"
    async with running_bot(live_deps, redis_url, run_id) as tg:
        await seed_and_onboard(live_deps, tg, CREATOR)
        plans = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "plans"), "Recast plans")
        assert "/upgrade" not in plans.content
        assert "doesn't take payments" in plans.content and "billing@agency.example" in plans.content
        for args in ("pro-monthly", None, "no-such-plan USD"):
            reply = await reply_to(
                tg, CREATOR, lambda a=args: tg.user_sends_command(CREATOR, "upgrade", a), "doesn't take payments"
            )
            assert "contact billing@agency.example" in reply.content and "try again later" not in reply.content


async def test_with_only_a_dollar_gateway_rupee_upgrades_point_to_dollars(live_deps, redis_url, run_id):
    # A configured Stripe client that is never called: choosing the currency happens before any checkout.
    live_deps.providers = Providers(gateways={"stripe": StripeGateway("sk_test_unused", api_base="http://127.0.0.1:9")})
    async with running_bot(live_deps, redis_url, run_id) as tg:
        await seed_and_onboard(live_deps, tg, CREATOR + 1)
        reply = await reply_to(
            tg, CREATOR + 1, lambda: tg.user_sends_command(CREATOR + 1, "upgrade", "pro-monthly"), "Payments in INR"
        )
        assert "/upgrade pro-monthly USD" in reply.content
        plans = await reply_to(tg, CREATOR + 1, lambda: tg.user_sends_command(CREATOR + 1, "plans"), "Recast plans")
        assert "/upgrade" not in plans.content and "/plans USD" in plans.content
        usd = await reply_to(
            tg, CREATOR + 1, lambda: tg.user_sends_command(CREATOR + 1, "plans", "USD"), "Recast plans (USD)"
        )
        assert "→ /upgrade pro-monthly" in usd.content


async def test_over_the_trial_limit_says_when_the_trial_ends_in_the_creators_timezone(live_deps, redis_url, run_id):
    async with running_bot(live_deps, redis_url, run_id) as tg:
        await seed_and_onboard(live_deps, tg, CREATOR + 2)
        user = await _user(live_deps, CREATOR + 2)
        await reply_to(tg, CREATOR + 2, lambda: tg.user_sends_command(CREATOR + 2, "usage"), "Uploads: 0 of 10")
        async with live_deps.sessionmaker() as s:
            await s.execute(update(UsageTracking).where(UsageTracking.user_id == user.id).values(content_uploads=10))
            trial_end = await s.scalar(select(Subscription.trial_end).where(Subscription.user_id == user.id))
            await s.commit()
        day = local_time(trial_end, "Asia/Kolkata").date()
        file_id = tg.add_file(TALK.encode())
        tg.user_sends_document(CREATOR + 2, file_id, file_name="talk.txt", mime_type="text/plain")
        refused = await tg.wait_for_message(CREATOR + 2, contains="free trial", timeout=15)
    assert f"which ends on {day.day} {day:%b %Y}" in refused.content
    assert "this month" not in refused.content and "renews" not in refused.content
    async with live_deps.sessionmaker() as s:
        assert (await s.scalars(select(ContentAsset).where(ContentAsset.user_id == user.id))).all() == []
