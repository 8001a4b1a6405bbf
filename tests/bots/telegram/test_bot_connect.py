"""/connect and /connections through the bot: the creator taps a sign-in button, approves on LinkedIn (a
local server speaking LinkedIn's OAuth), lands on recast web, hears in the chat what was connected, sees the
account in /connections and disconnects it (LinkedIn revokes the token) after a confirmation."""

from __future__ import annotations

import aiohttp
from aiohttp.test_utils import TestServer
from chat import reply_to, seed_and_onboard
from test_bot_flow import running_bot

from webhooks.app import make_web_app

CREATOR = 5640001
UNCONFIGURED = 5640002


async def test_connecting_listing_and_disconnecting_linkedin_from_the_chat(
    publish_deps, linkedin, redis_url, run_id
) -> None:
    web = TestServer(make_web_app(publish_deps, bot_username="recast_test_bot"), host="127.0.0.1")
    await web.start_server()
    publish_deps.settings = publish_deps.settings.model_copy(update={"public_base_url": str(web.make_url(""))})
    try:
        async with running_bot(publish_deps, redis_url, run_id) as tg:
            await seed_and_onboard(publish_deps, tg, CREATOR)
            offer = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "connect"), "Connect an account")
            [button] = offer.buttons
            assert button["text"] == "Connect LinkedIn" and button["url"].startswith(linkedin.base_url)
            async with aiohttp.ClientSession() as browser, browser.get(button["url"]) as page:
                assert page.status == 200 and "LinkedIn connected ✅" in await page.text()
            await tg.wait_for_message(CREATOR, contains="Connected LinkedIn as Asha Rao.", timeout=15)

            listing = await reply_to(
                tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "connections"), "Your connected accounts"
            )
            assert "• LinkedIn (Asha Rao): connected" in listing.content
            [disconnect] = listing.callback_data
            confirm = await reply_to(
                tg,
                CREATOR,
                lambda: tg.user_presses_button(CREATOR, listing.message_id, disconnect),
                "Disconnect LinkedIn (Asha Rao)?",
            )
            yes = next(b["callback_data"] for b in confirm.buttons if b["text"] == "Yes, disconnect")
            done = await reply_to(
                tg, CREATOR, lambda: tg.user_presses_button(CREATOR, confirm.message_id, yes), "Disconnected"
            )
            assert done.content == (
                "Disconnected LinkedIn (Asha Rao). Its tokens are deleted here and LinkedIn revoked Recast's access."
            )
            assert linkedin.revoked_tokens, "LinkedIn's revoke endpoint was called"
            empty = await reply_to(
                tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "connections"), "No accounts connected yet"
            )
            assert "/connect adds one" in empty.content
    finally:
        await web.close()


async def test_connect_on_a_server_without_platform_apps_says_so(live_deps, redis_url, run_id) -> None:
    async with running_bot(live_deps, redis_url, run_id) as tg:
        await seed_and_onboard(live_deps, tg, UNCONFIGURED)
        answer = await reply_to(
            tg, UNCONFIGURED, lambda: tg.user_sends_command(UNCONFIGURED, "connect"), "Publishing isn't set up"
        )
        assert answer.buttons == [] and "Copy text" in answer.content
