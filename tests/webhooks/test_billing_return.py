"""`/billing/return`, where a gateway sends the creator back after checkout: it says what happened
(paid only once the stored payment succeeded, cancelled, or being confirmed) and links back to the chat."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from core.accounts.service import register_chat_user
from core.billing.checkout import return_url
from core.billing.models import Payment
from core.seed.service import apply_seed
from webhooks.app import make_web_app


async def _pending_payment(deps) -> uuid.UUID:
    async with deps.sessionmaker() as s:
        await apply_seed(session=s)
        reg = await register_chat_user(
            session=s,
            provider="telegram",
            external_user_id=str(uuid.uuid4().int)[:9],
            chat_id="5620001",
            full_name="Asha Creator",
        )
        payment = Payment(
            user_id=reg.user.id,
            amount=Decimal(799),
            currency="INR",
            status="pending",
            payment_gateway="razorpay",
            gateway_response={"plan_slug": "creator-monthly"},
        )
        s.add(payment)
        await s.commit()
        return payment.id


async def _page(client: TestClient[Any, Any], url: str) -> tuple[int, str]:
    path = url.split("://", 1)[1].split("/", 1)[1]
    async with client.get("/" + path) as resp:
        assert resp.content_type == "text/html"
        return resp.status, await resp.text()


async def test_the_return_page_tells_what_happened_and_links_back_to_the_bot(make_settings, make_deps):
    deps = make_deps(make_settings())
    payment_id = await _pending_payment(deps)
    base = deps.settings.public_base_url
    client: TestClient[Any, Any] = TestClient(
        TestServer(make_web_app(deps, bot_username="recast_test_bot"), host="127.0.0.1")
    )
    await client.start_server()
    try:
        status, page = await _page(client, return_url(base, payment_id, cancelled=True))
        assert status == 200 and "Payment cancelled" in page and "Nothing was charged" in page
        assert 'href="https://t.me/recast_test_bot"' in page

        # The gateway says "paid" but its webhook has not been processed yet: not claimed as paid.
        status, page = await _page(client, return_url(base, payment_id) + "&razorpay_payment_link_status=paid")
        assert status == 200 and "Confirming your payment" in page and "received" not in page

        async with deps.sessionmaker() as s:
            payment = await s.get_one(Payment, payment_id)
            payment.status = "succeeded"
            await s.commit()
        status, page = await _page(client, return_url(base, payment_id))
        assert status == 200 and "Payment received" in page and "Your Creator plan is active" in page

        status, page = await _page(client, return_url(base, uuid.uuid4()))
        assert status == 404 and "couldn't find this payment" in page
        status, page = await _page(client, f"{base}/billing/return")
        assert status == 404 and "t.me/recast_test_bot" in page
    finally:
        await client.close()


async def test_without_a_known_bot_the_page_says_to_go_back_to_the_chat(make_settings, make_deps, make_client):
    deps = make_deps(make_settings())
    payment_id = await _pending_payment(deps)
    client = await make_client(deps)
    status, page = await _page(client, return_url(deps.settings.public_base_url, payment_id))
    assert status == 200 and "Confirming your payment" in page and "go back to the chat" in page
    assert "t.me" not in page
