"""`/oauth/linkedin/callback` on the real web app: the browser goes from the sign-in link through LinkedIn's
consent page (the fake redirects back like LinkedIn) to Recast, which connects the account and says so in
the chat and on the page; a used, forged or declined sign-in connects nothing and says what to do."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from core.deps import CoreDeps
from core.distribution import connect
from core.distribution.connections import Owner
from core.distribution.models import PlatformConnection
from core.distribution.platforms.names import Platform
from tests.distribution_fixtures import Creator, sent_texts
from tests.fakes.linkedin_api import FakeLinkedIn, Fault
from webhooks.app import make_web_app


async def _browse(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as browser, browser.get(url) as page:
        return page.status, await page.text(), str(page.url)


async def _connections(deps: CoreDeps, who: Creator) -> int:
    async with deps.sessionmaker() as session:
        stmt = select(func.count()).select_from(PlatformConnection).where(PlatformConnection.user_id == who.user_id)
        return int(await session.scalar(stmt) or 0)


async def _server(deps: CoreDeps) -> TestServer:
    server = TestServer(make_web_app(deps, bot_username="recast_test_bot"), host="127.0.0.1")
    await server.start_server()
    return server


async def test_approving_on_linkedin_connects_the_account_and_says_so_in_chat_and_page(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    server = await _server(publish_deps)
    try:
        publish_deps.settings = publish_deps.settings.model_copy(update={"public_base_url": str(server.make_url(""))})
        link = await connect.sign_in_link(
            publish_deps.redis, publish_deps.settings, Platform.LINKEDIN, Owner(creator.user_id), creator.chat
        )
        status, page, landed = await _browse(link)
        assert status == 200 and landed.startswith(str(server.make_url("/oauth/linkedin/callback")))
        assert "LinkedIn connected ✅" in page and "as Asha Rao" in page
        assert 'href="https://t.me/recast_test_bot"' in page
        assert sent_texts(publish_deps, creator.chat) == [
            "Connected LinkedIn as Asha Rao. Approved drafts can now be published there."
        ]
        # The same redirect replayed (a reload, or someone who copied the URL) connects nothing more.
        status, page, _ = await _browse(landed)
        assert status == 400 and "expired or was already used" in page
        assert await _connections(publish_deps, creator) == 1
    finally:
        await server.close()


async def test_declining_on_linkedin_connects_nothing_and_the_chat_hears_it(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    server = await _server(publish_deps)
    try:
        publish_deps.settings = publish_deps.settings.model_copy(update={"public_base_url": str(server.make_url(""))})
        linkedin.decline = True
        link = await connect.sign_in_link(
            publish_deps.redis, publish_deps.settings, Platform.LINKEDIN, Owner(creator.user_id), creator.chat
        )
        status, page, _ = await _browse(link)
        assert status == 200 and "You declined on LinkedIn's page, so nothing was connected." in page
        assert sent_texts(publish_deps, creator.chat) == [
            "LinkedIn wasn't connected: you declined on its page. /connect starts again."
        ]
        assert await _connections(publish_deps, creator) == 0
    finally:
        await server.close()


async def test_a_forged_state_or_unknown_platform_gets_a_clear_page(publish_deps: CoreDeps) -> None:
    server = await _server(publish_deps)
    try:
        status, page, _ = await _browse(str(server.make_url("/oauth/linkedin/callback?state=abc.def&code=x")))
        assert status == 400 and "Start again with /connect" in page
        status, page, _ = await _browse(str(server.make_url("/oauth/myspace/callback?state=a&code=b")))
        assert status == 404 and "platform Recast knows" in page
        status, page, _ = await _browse(str(server.make_url("/oauth/linkedin/callback")))
        assert status == 400 and "didn't send a sign-in code" in page
    finally:
        await server.close()


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        pytest.param(Fault(status=400), "LinkedIn didn't accept the sign-in", id="code-refused"),
        pytest.param(Fault(status=503), "LinkedIn didn't answer the sign-in in time", id="5xx"),
        pytest.param(Fault(status=200, hang_s=1.5), "LinkedIn didn't answer the sign-in in time", id="slow"),
        pytest.param(
            Fault(body="<html>proxy</html>"),
            "LinkedIn answered the sign-in with something Recast couldn't read",
            id="garbage",
        ),
        pytest.param(
            Fault(body='{"expires_in": 60}'),
            "LinkedIn answered the sign-in with something Recast couldn't read",
            id="no-token",
        ),
    ],
)
async def test_a_token_exchange_that_fails_connects_nothing_and_the_page_and_chat_say_why(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, fault: Fault, reason: str
) -> None:
    # Found by the callback fuzzer with real states: a refused code or a 5xx answered 502, garbage or a body
    # without a token raised out of the handler (500 and a traceback), and in every case the chat the connect
    # began in heard nothing though its sign-in was used up.
    server = await _server(publish_deps)
    try:
        publish_deps.settings = publish_deps.settings.model_copy(update={"public_base_url": str(server.make_url(""))})
        linkedin.token_faults.append(fault)
        link = await connect.sign_in_link(
            publish_deps.redis, publish_deps.settings, Platform.LINKEDIN, Owner(creator.user_id), creator.chat
        )
        status, page, _ = await _browse(link)
        assert status == 400 and "LinkedIn wasn't connected" in page and reason in page, page
        assert "Nothing was connected. Start again with /connect in the chat." in page
        (told,) = sent_texts(publish_deps, creator.chat)
        assert told.startswith(f"LinkedIn wasn't connected: {reason}") and told.endswith("/connect starts again.")
        assert await _connections(publish_deps, creator) == 0
    finally:
        await server.close()


async def test_a_forged_state_whose_mac_is_not_ascii_gets_a_clear_page_not_a_500(publish_deps: CoreDeps) -> None:
    # Found by the callback fuzzer: hmac.compare_digest raised TypeError on a non-ASCII MAC, with or without
    # `error` (a 500 and a traceback for anyone's link).
    server = await _server(publish_deps)
    try:
        for query in ("state=abc.%C3%A9t%C3%A9&code=x", "state=abc.%C3%A9t%C3%A9&error=access_denied"):
            status, page, _ = await _browse(str(server.make_url(f"/oauth/linkedin/callback?{query}")))
            assert status in (200, 400) and ("Start again with /connect" in page or "nothing was connected" in page)
    finally:
        await server.close()


async def test_a_token_answer_the_client_cannot_read_keeps_the_token_out_of_the_log(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator, caplog: pytest.LogCaptureFixture
) -> None:
    # Found by the callback fuzzer: the warning for an unreadable token answer quoted the answer, token and all.
    server = await _server(publish_deps)
    try:
        publish_deps.settings = publish_deps.settings.model_copy(update={"public_base_url": str(server.make_url(""))})
        linkedin.token_faults.append(Fault(body='{"access_token": "li-at-never-logged", "expires_in": "soon"}'))
        link = await connect.sign_in_link(
            publish_deps.redis, publish_deps.settings, Platform.LINKEDIN, Owner(creator.user_id), creator.chat
        )
        status, page, _ = await _browse(link)
        assert status == 400 and "couldn't read" in page
    finally:
        await server.close()
    warned = [r.getMessage() for r in caplog.records if "connecting linkedin failed" in r.getMessage()]
    assert len(warned) == 1 and "access_token" in warned[0] and "li-at-never-logged" not in warned[0], warned
