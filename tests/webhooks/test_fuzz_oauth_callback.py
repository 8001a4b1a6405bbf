"""Issue 16: `/oauth/{platform}/callback` fuzzed with REAL states. Each example issues a state for LinkedIn
or X (PKCE) the way `/connect` does (`connect.sign_in_link`, stored in Redis), takes a code from the local
platform's consent page or makes one up, then sends the callback generated `code`, `error`,
`error_description` and extra parameters, sometimes twice (a replay), sometimes on the other platform's path,
while that platform's token endpoint answers normally, with garbage, JSON without a token, 4xx, 5xx or
too slowly. Over real HTTP into the web app (real PostgreSQL, Redis, outbox): no 5xx, no traceback, nothing
half-stored (no connection row without tokens, at most the one account), no token in the logs, a replayed
state refused with a truthful page, and the creator told the truth in chat: connected, declined, or not
connected and why."""

from __future__ import annotations

import logging
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from fuzzing import ODD_TEXT, examples, raw_request, unhandled
from hypothesis import event, given
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import select

from core.accounts.models import ChatIdentity, User
from core.deps import CoreDeps
from core.distribution import connect
from core.distribution.connections import Owner
from core.distribution.models import PlatformConnection
from core.distribution.platforms.names import Platform
from core.notify.ports import ChatRef
from tests.distribution_fixtures import sent_texts
from tests.fakes.linkedin_api import FakeLinkedIn, Fault
from tests.fakes.x_api import FakeX, XFault
from webhooks.app import make_web_app

CHAT_ID = "6510001"  # this helper's range (6510000-6519999), unique in the suite
FAULTS: dict[str, Fault | None] = {
    "none": None,
    "garbage": Fault(body="<html>upstream proxy error</html>"),
    "not an object": Fault(body="[1, 2]"),
    "no token": Fault(body='{"expires_in": 3600}'),
    "odd expiry": Fault(body='{"access_token": "li-at-x", "expires_in": "soon"}'),
    "400": Fault(status=400),
    "401": Fault(status=401),
    "429": Fault(status=429, retry_after=5),
    "500": Fault(status=500),
    "503": Fault(status=503),
    "slow": Fault(status=200, hang_s=1.5),  # past platform_timeout_s (1 s in publish_deps)
}


def x_fault(fault: Fault | None) -> XFault | str | None:
    """The same fault for the fake X's token endpoint."""
    if fault is None:
        return None
    return fault.body if fault.body is not None else XFault(status=fault.status, hang_s=fault.hang_s)


# The platform each example connects (the state is issued for it), as the chat and page name it.
PLATFORMS = {"linkedin": Platform.LINKEDIN, "x": Platform.X}
LABELS = {"linkedin": "LinkedIn", "x": "X"}
NAMES = {"linkedin": "Asha Rao", "x": "@asha_builds"}


@dataclass
class Callback:
    platform: str  # the one the state is issued for: "linkedin", or "x" (PKCE)
    path: str  # the platform segment of the callback
    state: str  # "real", "forged", "none", "other platform"
    code: str  # "granted", "odd", "none"
    error: str | None
    description: str | None
    fault: str
    replay: bool
    extra: list[tuple[str, str]] = field(default_factory=list)

    def __repr__(self) -> str:
        extra = [(k[:20], v[:20]) for k, v in self.extra]
        return (
            f"Callback({self.platform} /oauth/{self.path}/callback state={self.state} code={self.code}"
            f" error={(self.error or '')[:30]!r}"
            f" description={(self.description or '')[:20]!r} fault={self.fault} replay={self.replay} extra={extra})"
        )


@st.composite
def callbacks(draw: st.DrawFn) -> Callback:
    state = draw(st.sampled_from(["real", "real", "real", "real", "forged", "none", "other platform"]))
    platform = draw(st.sampled_from(sorted(PLATFORMS)))
    return Callback(
        platform=platform,
        path=({"linkedin": "x", "x": "linkedin"}[platform]) if state == "other platform" else platform,
        state=state,
        code=draw(st.sampled_from(["granted", "granted", "granted", "odd", "none"])),
        error=draw(
            st.one_of(st.none(), st.none(), st.none(), st.sampled_from(["user_cancelled_authorize", ""]), ODD_TEXT)
        ),
        description=draw(st.one_of(st.none(), ODD_TEXT)),
        fault=draw(st.sampled_from(sorted(FAULTS))),
        replay=draw(st.integers(0, 3)) == 0,
        extra=draw(st.lists(st.tuples(ODD_TEXT, ODD_TEXT), max_size=3)),
    )


def _target(cb: Callback, state: str | None, code: str | None) -> bytes:
    pairs = [("state", state), ("code", code), ("error", cb.error), ("error_description", cb.description)]
    pairs += cb.extra  # after ours: a repeated key is read as its first value
    encoded = urllib.parse.urlencode(
        [(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in pairs if v is not None]
    )
    return f"/oauth/{cb.path}/callback?{encoded}".encode()


@dataclass
class Web:
    deps: CoreDeps
    port: int
    user_id: uuid.UUID
    chat: ChatRef
    linkedin: FakeLinkedIn
    x: FakeX

    async def authorize(self, link: str) -> str:
        """The code the platform's consent page sends back for the sign-in link (bound to its PKCE challenge)."""
        async with aiohttp.ClientSession() as browser, browser.get(link, allow_redirects=False) as page:
            assert page.status == 302, await page.text()
            return urllib.parse.parse_qs(urllib.parse.urlsplit(page.headers["Location"]).query)["code"][0]

    def set_fault(self, platform: str, fault: Fault | None) -> None:
        self.linkedin.token_faults[:] = [Fault(**vars(fault))] if fault and platform == "linkedin" else []
        self.x.token_faults[:] = [f for f in [x_fault(fault)] if f is not None] if platform == "x" else []

    def account_of(self, platform: str) -> str:
        return self.linkedin.member_id if platform == "linkedin" else self.x.user_id


@pytest.fixture
async def web(publish_deps: CoreDeps, linkedin: FakeLinkedIn) -> AsyncIterator[Web]:
    x = await FakeX().__aenter__()
    publish_deps.settings = publish_deps.settings.model_copy(
        update={
            "x_client_id": x.client_id,
            "x_client_secret": SecretStr(x.client_secret),
            "x_api_base": x.base_url,
            "x_authorize_url": f"{x.base_url}/i/oauth2/authorize",
            # One address sends every refused callback: the web limits are another test's subject.
            "web_refusals_per_minute": 10**6,
            "web_requests_per_minute": 10**6,
            "rate_limit_namespace": f"oauth-fuzz-{uuid.uuid4().hex[:10]}",
        }
    )
    server = TestServer(make_web_app(publish_deps, bot_username="recast_test_bot"), host="127.0.0.1")
    await server.start_server()
    publish_deps.settings = publish_deps.settings.model_copy(
        update={"public_base_url": str(server.make_url("")).rstrip("/")}
    )
    async with publish_deps.sessionmaker() as session:
        user = User(email=f"fuzz-{uuid.uuid4().hex[:8]}@example.com", password_hash="!x", full_name="Asha")
        session.add(user)
        await session.flush()
        session.add(ChatIdentity(provider="telegram", external_user_id=CHAT_ID, chat_id=CHAT_ID, user_id=user.id))
        await session.commit()
    assert server.port is not None
    try:
        yield Web(publish_deps, server.port, user.id, ChatRef("telegram", CHAT_ID), linkedin, x)
    finally:
        await server.close()
        await x.__aexit__(None, None, None)


async def _connections(web: Web) -> list[PlatformConnection]:
    async with web.deps.sessionmaker() as session:
        rows = await session.scalars(select(PlatformConnection).where(PlatformConnection.user_id == web.user_id))
        return list(rows.all())


def _said(answer: bytes) -> str:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"text/html" in head.lower(), head
    assert len(body) < 3000, len(body)  # a short page, whatever was sent
    return body.decode()


@examples(60)
@given(data=st.data())
async def test_callbacks_with_real_states_get_no_5xx_store_nothing_half_and_tell_the_chat_the_truth(
    web: Web, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    caplog.set_level(logging.INFO)
    cb = data.draw(callbacks(), label="callback")
    deps, name, who = web.deps, LABELS[cb.platform], NAMES[cb.platform]
    # The state in the link is used only when the example says so.
    link = await connect.sign_in_link(deps.redis, deps.settings, PLATFORMS[cb.platform], Owner(web.user_id), web.chat)
    state: str | None = None
    if cb.state in ("real", "other platform"):
        state = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["state"][0]
    elif cb.state == "forged":
        state = data.draw(st.one_of(ODD_TEXT, st.just("abc.def"), st.just(f"{uuid.uuid4().hex}.AAAA")), label="forged")
    code = data.draw(ODD_TEXT, label="code") if cb.code == "odd" else None
    if cb.code == "granted":
        code = await web.authorize(link)
    web.set_fault(cb.platform, FAULTS[cb.fault])
    chat_before = len(sent_texts(deps, web.chat))
    before = len(caplog.records)

    target = _target(cb, state, code)
    status, answer = await raw_request(web.port, "GET", target)
    web.set_fault(cb.platform, None)
    assert status < 500, (cb, status, answer[:400])
    assert unhandled(caplog.records[before:]) == [], cb
    if len(target) > 8190:  # aiohttp's parser refuses a request line that long before any handler (a WARNING)
        assert status == 400 and sent_texts(deps, web.chat)[chat_before:] == [], cb
        return
    page = _said(answer)
    told = sent_texts(deps, web.chat)[chat_before:]
    await _nothing_half_stored(web)

    real = cb.state == "real"
    used = real and (bool(cb.error) or (bool(state) and bool(code)))  # the callback spent the state
    event(f"{name}: status {status}, {len(told)} chat message(s), fault {cb.fault if used and not cb.error else '-'}")
    if real and cb.error:
        assert status == 200 and f"You declined on {name}'s page" in page, (cb, page)
        assert told == [f"{name} wasn't connected: you declined on its page. /connect starts again."], cb
    elif real and code and cb.code == "granted" and cb.fault == "none":
        assert status == 200 and f"{name} connected ✅" in page and f"as {who}" in page, (cb, page)
        assert told == [f"Connected {name} as {who}. Approved drafts can now be published there."], cb
        assert web.account_of(cb.platform) in {r.platform_user_id for r in await _connections(web)}
    elif used:  # the code was refused, or the platform failed: the page and the chat both say so, and how to restart
        assert status == 400 and f"{name} wasn't connected" in page and "Start again with /connect" in page, cb
        assert len(told) == 1 and told[0].startswith(f"{name} wasn't connected: {name} "), (cb, told)
        assert told[0].endswith("/connect starts again."), told
    else:  # forged, missing, or meant for another platform: no chat to tell, nothing learnt
        refused = status in (400, 404) and ("/connect" in page or "platform Recast knows" in page)
        assert refused or (status == 200 and "declined" in page), (cb, status, page)
        assert told == [], (cb, told)

    if cb.replay:  # the same redirect again, with a fresh code from the consent page
        status, answer = await raw_request(web.port, "GET", _target(cb, state, await web.authorize(link)))
        page = _said(answer)
        assert status < 500 and unhandled(caplog.records[before:]) == [], cb
        if used and not cb.error:
            assert status == 400 and "expired or was already used" in page, (cb, status, page)
        assert len(sent_texts(deps, web.chat)) - chat_before == len(told) + (0 if used else 1 if real else 0), cb
        await _nothing_half_stored(web)
    # No token either platform issued (nor an app's secret, nor the one in the "odd expiry" answer) in any log.
    secrets = [*web.linkedin.tokens, *web.linkedin.refresh_tokens, *web.x.tokens, web.linkedin.client_secret, "li-at-x"]
    logged = [r.getMessage() + (r.exc_text or "") for r in caplog.records[before:]]
    assert [s for s in secrets for line in logged if s in line] == [], cb


async def _nothing_half_stored(web: Web) -> None:
    """Every connection is the platform's one account, with its tokens; at most one per platform."""
    rows = await _connections(web)
    assert all(r.access_token and r.platform_user_id == web.account_of(r.platform) for r in rows), rows
    assert len({r.platform for r in rows}) == len(rows), [(r.platform, r.platform_user_id) for r in rows]
