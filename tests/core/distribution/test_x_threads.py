"""An X thread goes out as one post per part, each replying to the one before, exactly once: a part whose
answer is lost is found among the account's posts and the thread carries on after it. Connecting X runs
the OAuth 2.0 PKCE flow through recast web."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from core.deps import CoreDeps
from core.distribution import connect, publishing
from core.distribution.connections import Owner
from core.distribution.models import PlatformConnection, PostStatus
from core.distribution.platforms.names import Platform
from core.repurposing.models import GeneratedContent
from core.work import submit as work
from tests.distribution_fixtures import Creator, now, wait_for_status
from tests.fakes.x_api import FakeX, XFault
from tests.workers import running_worker
from webhooks.app import make_web_app

THREAD = [
    "1/3 Most creators post once and disappear for a month. Here is what works instead 🧵",
    "2/3 Write for one person. When I wrote for early-stage founders, engagement doubled in six weeks.",
    "3/3 Show up every week and reply to every comment in the first hour. #PersonalBranding",
]


@pytest.fixture
async def x() -> AsyncIterator[FakeX]:
    async with FakeX() as fake:
        yield fake


@pytest.fixture
def x_deps(publish_deps: CoreDeps, x: FakeX) -> CoreDeps:
    publish_deps.settings = publish_deps.settings.model_copy(
        update={
            "x_client_id": x.client_id,
            "x_client_secret": SecretStr(x.client_secret),
            "x_api_base": x.base_url,
            "x_authorize_url": f"{x.base_url}/i/oauth2/authorize",
        }
    )
    return publish_deps


async def _connect_x(deps: CoreDeps, who: Creator) -> PlatformConnection:
    web = TestServer(make_web_app(deps), host="127.0.0.1")
    await web.start_server()
    try:
        deps.settings = deps.settings.model_copy(update={"public_base_url": str(web.make_url(""))})
        link = await connect.sign_in_link(deps.redis, deps.settings, Platform.X, Owner(who.user_id), who.chat)
        async with aiohttp.ClientSession() as browser, browser.get(link) as page:
            assert page.status == 200 and "X connected ✅" in await page.text()
    finally:
        await web.close()
    async with deps.sessionmaker() as session:
        [connection] = [
            c
            for c in (await session.execute(PlatformConnection.__table__.select())).all()
            if c.user_id == who.user_id and c.platform == "x"
        ]
        row = await session.get(PlatformConnection, connection.id)
        assert row is not None and row.platform_username == "@asha_builds"
        return row


async def test_a_thread_with_a_lost_answer_mid_way_is_posted_once_in_order(
    x_deps: CoreDeps, x: FakeX, creator: Creator, run_id: str
) -> None:
    connection = await _connect_x(x_deps, creator)
    async with x_deps.sessionmaker() as session:
        draft = GeneratedContent(
            user_id=creator.user_id,
            title="Post once, disappear",
            content_type="social_post",
            content_text="\n\n".join(THREAD),
            metadata_={"output_format": "twitter_thread", "tweets": THREAD},
        )
        session.add(draft)
        await session.flush()
        x.faults[2] = XFault(after_create=True, hang_s=3.0)  # part 2 is created, its answer never arrives
        post, unit = await publishing.schedule(
            session, draft=draft, connection=connection, when=now(), timezone="Asia/Kolkata"
        )
        await session.commit()
    async with running_worker(x_deps, f"x-{run_id}"):
        assert unit is not None
        await work.push(x_deps.work_queue, x_deps.sessionmaker, [unit])
        done = await wait_for_status(x_deps, post.id, PostStatus.PUBLISHED)
    assert [t["text"] for t in x.tweets] == THREAD
    assert [t["in_reply_to"] for t in x.tweets] == [None, x.tweets[0]["id"], x.tweets[1]["id"]]
    assert done.platform_post_id == x.tweets[0]["id"]
    assert done.platform_post_url == f"https://x.com/i/web/status/{x.tweets[0]['id']}"
    assert (done.post_metadata or {})["posted_ids"] == [t["id"] for t in x.tweets]


async def test_a_thread_post_over_280_characters_is_refused_when_scheduling(
    x_deps: CoreDeps, x: FakeX, creator: Creator
) -> None:
    connection = await _connect_x(x_deps, creator)
    long_part = "2/2 " + "word " * 70
    async with x_deps.sessionmaker() as session:
        draft = GeneratedContent(
            user_id=creator.user_id,
            content_type="social_post",
            content_text="x",
            metadata_={"output_format": "twitter_thread", "tweets": ["1/2 Short opener.", long_part]},
        )
        session.add(draft)
        await session.flush()
        with pytest.raises(publishing.NotPublishable) as refused:
            await publishing.schedule(session, draft=draft, connection=connection, when=now(), timezone="UTC")
    assert refused.value.user_message.startswith("X takes up to 280 characters a post and post 2 of the thread has")


@pytest.mark.parametrize(
    "answer",
    ["<html>proxy error</html>", '{"token_type": "bearer"}', '{"access_token": "x-at-1", "expires_in": "soon"}'],
)
async def test_a_token_answer_x_garbled_connects_nothing_and_the_page_and_chat_say_why(
    x_deps: CoreDeps, x: FakeX, creator: Creator, answer: str
) -> None:
    # Found by the callback fuzzer: the X client read the token answer with json.loads and ["access_token"], so
    # garbage, or JSON without the token, raised out of the callback (a 500 and a traceback).
    x.token_faults.append(answer)
    web = TestServer(make_web_app(x_deps), host="127.0.0.1")
    await web.start_server()
    try:
        x_deps.settings = x_deps.settings.model_copy(update={"public_base_url": str(web.make_url(""))})
        link = await connect.sign_in_link(
            x_deps.redis, x_deps.settings, Platform.X, Owner(creator.user_id), creator.chat
        )
        async with aiohttp.ClientSession() as browser, browser.get(link) as page:
            status, text = page.status, await page.text()
    finally:
        await web.close()
    assert (
        status == 400
        and "X answered the sign-in with something Recast couldn&#x27;t read" in text
        or ("X answered the sign-in with something Recast couldn't read" in text)
    )
    told = [m.text for c, m in x_deps.notifier.sent if c == creator.chat]  # type: ignore[attr-defined]
    assert told == [
        "X wasn't connected: X answered the sign-in with something Recast couldn't read. /connect starts again."
    ]
    async with x_deps.sessionmaker() as session:
        rows = (await session.execute(PlatformConnection.__table__.select())).all()
    assert [r for r in rows if r.user_id == creator.user_id] == []
