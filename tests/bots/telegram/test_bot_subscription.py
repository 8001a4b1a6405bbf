"""/subscription, /invoices and /gstin through the bot: a Stripe-renewing plan is cancelled at period end
(after a confirmation) and resumed, Stripe being a local server speaking its API; a one-time plan offers
no button; invoices come back as PDF documents; a GSTIN is checked, saved and printed on the next invoice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from aiohttp import web
from chat import last_message_id, reply_to
from fakes.site import local_site
from sqlalchemy import select
from test_bot_flow import running_bot

from core.accounts.models import ChatIdentity
from core.billing import invoices
from core.billing.gateway_clients import StripeGateway
from core.billing.models import Payment, Subscription, SubscriptionPlan
from core.common.clock import local_time, utcnow
from core.deps import Providers
from core.seed.service import apply_seed

CREATOR = 5630001


async def _ready(core_deps, tg, user_id: int):
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    tg.user_sends_command(user_id, "start")
    await tg.wait_for_message(user_id, contains="what's your email", timeout=15)
    tg.user_sends_command(user_id, "skip")
    await tg.wait_for_message(user_id, contains="No problem", timeout=15)
    async with core_deps.sessionmaker() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(user_id)))
        return identity.user_id


async def _on_pro(core_deps, user_id, **gateway_ids):
    async with core_deps.sessionmaker() as s:
        plan = await s.scalar(select(SubscriptionPlan).where(SubscriptionPlan.slug == "pro-monthly"))
        sub = await s.scalar(select(Subscription).where(Subscription.user_id == user_id))
        sub.plan_id, sub.status = plan.id, "active"
        sub.current_period_start, sub.current_period_end = utcnow(), utcnow() + timedelta(days=20)
        for column, value in gateway_ids.items():
            setattr(sub, column, value)
        await s.commit()
        day = local_time(sub.current_period_end, "Asia/Kolkata")
        return f"{day.day} {day:%b %Y}"


async def test_cancel_a_stripe_renewal_at_period_end_after_confirming_then_resume(live_deps, redis_url, run_id):
    updates: list[dict[str, str]] = []

    async def stripe_subscription(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer sk_test_local"
        body = dict(await request.post())
        updates.append(body)
        return web.json_response(
            {
                "id": request.match_info["id"],
                "object": "subscription",
                "status": "active",
                "cancel_at_period_end": body["cancel_at_period_end"] == "true",
            }
        )

    async with local_site([web.post("/v1/subscriptions/{id}", stripe_subscription)]) as stripe_api:
        live_deps.providers = Providers(gateways={"stripe": StripeGateway("sk_test_local", api_base=stripe_api)})
        async with running_bot(live_deps, redis_url, run_id) as tg:
            user_id = await _ready(live_deps, tg, CREATOR)
            end = await _on_pro(live_deps, user_id, stripe_subscription_id="sub_Test1")
            status = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "subscription"), "renews on")
            assert f"Pro (monthly): renews on {end} through Stripe." in status.content
            assert status.callback_data == ["sub:cancel"]

            tg.user_presses_button(CREATOR, status.message_id, "sub:cancel")
            confirm = await tg.wait_for_message(CREATOR, contains="Cancel the renewal of Pro?", timeout=15)
            assert f"stays active until {end}" in confirm.content and updates == []  # nothing done before "yes"
            tg.user_presses_button(CREATOR, confirm.message_id, "sub:keep")
            await tg.wait_for_message(CREATOR, contains="nothing changed", timeout=15)
            assert updates == []

            tg.user_presses_button(CREATOR, status.message_id, "sub:cancel")
            confirm = await tg.wait_for_message(
                CREATOR, contains="Cancel the renewal", timeout=15, since_message_id=confirm.message_id
            )
            tg.user_presses_button(CREATOR, confirm.message_id, "sub:cancel:yes")
            done = await tg.wait_for_message(CREATOR, contains="Done. Pro (monthly): cancelled", timeout=15)
            assert f"stays active until {end}, then ends. Nothing more will be charged." in done.content
            assert updates == [{"cancel_at_period_end": "true"}]
            assert done.callback_data == ["sub:resume"]

            tg.user_presses_button(CREATOR, done.message_id, "sub:resume")
            await tg.wait_for_message(CREATOR, contains="Resumed. Pro (monthly): renews on", timeout=15)
            assert updates[-1] == {"cancel_at_period_end": "false"}
    async with live_deps.sessionmaker() as s:
        sub = await s.scalar(select(Subscription).where(Subscription.user_id == user_id))
        assert sub.status == "active" and not sub.cancel_at_period_end


async def test_a_one_time_plan_says_it_does_not_renew_and_offers_no_button(live_deps, redis_url, run_id):
    async with running_bot(live_deps, redis_url, run_id) as tg:
        user_id = await _ready(live_deps, tg, CREATOR + 1)
        trial = await reply_to(
            tg, CREATOR + 1, lambda: tg.user_sends_command(CREATOR + 1, "subscription"), "Free trial of Creator"
        )
        assert "nothing is charged" in trial.content and trial.callback_data == []
        end = await _on_pro(live_deps, user_id)
        paid = await reply_to(
            tg, CREATOR + 1, lambda: tg.user_sends_command(CREATOR + 1, "subscription"), "Pro (monthly): paid until"
        )
    assert f"paid until {end}. It doesn't renew by itself, so nothing more will be charged." in paid.content
    assert paid.callback_data == []


async def test_invoices_come_back_as_pdfs_and_a_gstin_is_checked_and_used(live_deps, redis_url, run_id):
    async with running_bot(live_deps, redis_url, run_id) as tg:
        user_id = await _ready(live_deps, tg, CREATOR + 2)
        await reply_to(tg, CREATOR + 2, lambda: tg.user_sends_command(CREATOR + 2, "invoices"), "No invoices yet")
        wrong = await reply_to(
            tg, CREATOR + 2, lambda: tg.user_sends_command(CREATOR + 2, "gstin", "27AAPFU0939F1ZW"), "typo"
        )
        assert "Saved" not in wrong.content
        await reply_to(
            tg,
            CREATOR + 2,
            lambda: tg.user_sends_command(CREATOR + 2, "gstin", "27aapfu0939f1zv"),
            "Saved ✅ GSTIN 27AAPFU0939F1ZV",
        )
        async with live_deps.sessionmaker() as s:  # a payment succeeds: the webhook's processing issues this
            payment = Payment(
                user_id=user_id,
                amount=Decimal(1999),
                currency="INR",
                status="succeeded",
                payment_gateway="razorpay",
                paid_at=utcnow(),
            )
            s.add(payment)
            await s.flush()
            invoice = await invoices.issue_for_payment(
                session=s,
                settings=live_deps.settings,
                store=live_deps.store,
                payment=payment,
                description="Recast Pro (monthly)",
            )
            number = invoice.invoice_number
            await s.commit()
        assert invoice.gst_number == "27AAPFU0939F1ZV"
        listing = await reply_to(
            tg, CREATOR + 2, lambda: tg.user_sends_command(CREATOR + 2, "invoices"), "Your invoices"
        )
        assert f"• {number}" in listing.content and "₹1,999.00 (paid)" in listing.content
        assert listing.callback_data == [f"inv:{invoice.id.hex}"]
        since = last_message_id(tg, CREATOR + 2)
        tg.user_presses_button(CREATOR + 2, listing.message_id, f"inv:{invoice.id.hex}")
        sent = await tg.wait_for_message(CREATOR + 2, contains=f"Invoice {number}", timeout=15, since_message_id=since)
        assert sent.media_kind == "document"
        assert tg.file_bytes(sent.media["file_id"]).startswith(b"%PDF")
        assert sent.media["file_name"] == number.replace("/", "-") + ".pdf"
        await reply_to(tg, CREATOR + 2, lambda: tg.user_sends_command(CREATOR + 2, "gstin", "off"), "GSTIN removed")


async def test_the_new_commands_are_in_the_menu_and_in_help(live_deps, redis_url, run_id):
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession

    from bots.telegram.app import set_commands

    async with running_bot(live_deps, redis_url, run_id) as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
        try:
            await set_commands(bot)
        finally:
            await bot.session.close()
        menu = [c["command"] for commands in tg.commands.values() for c in commands]
        assert {"subscription", "invoices", "gstin"} <= set(menu)
        await _ready(live_deps, tg, CREATOR + 3)
        help_text = await reply_to(tg, CREATOR + 3, lambda: tg.user_sends_command(CREATOR + 3, "help"), "/brand")
    missing = [name for name in menu if f"/{name}" not in help_text.content and name not in ("start", "help")]
    assert missing == [], help_text.content
