"""Issue 16: generated query strings against the Slack OAuth install doors, `/slack/install` and
`/slack/oauth_redirect`, over real HTTP into the real bolt app in OAuth mode (local Slack Web API answering
`oauth.v2.access`, real PostgreSQL and Redis): invites (valid, forged, odd), states (really issued with
their cookie, forged, odd), codes (good, odd), `error`, junk keys, huge, Unicode and NUL values and bad
escapes, written byte for byte. No 5xx, no traceback logged at ERROR, no token or secret in the logs or in
any stored row, and every answer either Slack's authorize redirect or a short page saying what to do next."""

from __future__ import annotations

import logging
import re
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from fuzzing import ODD_TEXT, examples, raw_request, tables_holding, unhandled
from hypothesis import event, given
from hypothesis import strategies as st
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import make_slack_app, mount_slack
from core.common import redaction
from core.db.session import session_scope
from core.deps import CoreDeps
from core.integrations import slack_onboarding
from tests.bots.slack.conftest import OAUTH_SECRET, SIGNING_SECRET, Installer, SlackHTTP
from tests.core.workflow.builders import build_team
from webhooks.app import make_web_app

RUN = uuid.uuid4().hex[:12]
CLIENT_SECRET = f"slackclientsecret{RUN}"
INSTALLED_TOKEN = f"xoxb-fuzz-installed-{RUN}"
# What must never be written to a log or stored as plain text.
SECRETS = (CLIENT_SECRET, INSTALLED_TOKEN, SIGNING_SECRET, OAUTH_SECRET)
KEYS = ["invite", "state", "code", "error", "error_description", "redirect_uri", "team"]
BAD_ESCAPES = [b"%", b"%zz", b"state=%ff%fe", b"&&&==", b"code=a=b", b"state=%00&code=%00", b";;", b"invite=%c3%28"]


@pytest.fixture
def oauth_deps(oauth_deps):
    """OAuth mode with secrets unique to this module, so a stored row or log line holding one came from here."""
    oauth_deps.settings = oauth_deps.settings.model_copy(
        update={
            "slack_client_secret": SecretStr(CLIENT_SECRET),
            # One address sends every refused query: the web limits are another test's subject.
            "web_refusals_per_minute": 10**6,
            "web_requests_per_minute": 10**6,
            "rate_limit_namespace": f"slack-oauth-fuzz-{RUN}",
        }
    )
    return oauth_deps


@dataclass
class Doors:
    installer: Installer
    invite: str  # a valid invite code of an agency made for the test


@pytest.fixture
async def doors(oauth_deps, fake_slack) -> AsyncIterator[Doors]:
    """The web app as `recast web` composes it (Slack mounted through `extra_routes`, log redaction on)."""
    fake_slack.installed_token = INSTALLED_TOKEN
    fake_slack.oauth_team_id = f"T{uuid.uuid4().hex[:10].upper()}"  # a workspace of this test's own
    fake_slack.oauth_user_id = f"U{uuid.uuid4().hex[:10].upper()}"
    fake_slack.add_user(fake_slack.oauth_user_id, f"fuzz-{RUN}@example.org", "Fuzz Installer")
    async with session_scope(oauth_deps.sessionmaker) as s:
        team = await build_team(s)
        invite = await slack_onboarding.create_invite(
            session=s, secret=OAUTH_SECRET, organization_id=team.org.id, by_user_id=team.owner.id
        )
    factory = logging.getLogRecordFactory()
    redaction.install_log_redaction(oauth_deps.settings)  # what `recast` does after logging.basicConfig
    client = AsyncWebClient(base_url=fake_slack.base_url)
    bolt = make_slack_app(oauth_deps, client=client)
    server = TestServer(make_web_app(oauth_deps, extra_routes=lambda app: mount_slack(app, bolt)), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            slack = SlackHTTP(str(server.make_url("/slack/events")), http, client)
            yield Doors(Installer(str(server.make_url("")).rstrip("/"), http, slack), invite)
    finally:
        await server.close()
        logging.setLogRecordFactory(factory)


@dataclass
class Query:
    door: str
    pairs: list[tuple[str, str]]
    raw: bytes | None = None  # not even urlencoded
    real_state: bool = False  # ask /slack/install for a state first and send it with its cookie

    def __repr__(self) -> str:  # hypothesis prints the falsifying example
        pairs = [(k[:40], v[:40]) for k, v in self.pairs]
        return f"Query({self.door} {pairs!r} raw={self.raw!r} real_state={self.real_state})"

    def target(self, state: str | None) -> bytes:
        if self.raw is not None:
            return self.door.encode() + b"?" + self.raw
        pairs = [(k, state if (k == "state" and state is not None) else v) for k, v in self.pairs]
        if state is not None and not any(k == "state" for k, _ in pairs):
            pairs.append(("state", state))
        encoded = urllib.parse.urlencode(
            [(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in pairs]
        )
        return (self.door + ("?" + encoded if encoded else "")).encode()


def values(invite: str) -> st.SearchStrategy[str]:
    return st.one_of(
        ODD_TEXT,
        st.sampled_from(["good-code", "access_denied", invite, "inv." + invite.removeprefix("inv.")[:-4] + "AAAA"]),
        st.just("x" * 3000),  # long, but inside aiohttp's 8 KiB request line,
    )


@st.composite
def queries(draw: st.DrawFn, invite: str) -> Query:
    door = draw(st.sampled_from(["/slack/install", "/slack/oauth_redirect", "/slack/oauth_redirect"]))
    if draw(st.integers(0, 7)) == 0:
        return Query(door, [], raw=draw(st.sampled_from(BAD_ESCAPES)))
    names = st.one_of(st.sampled_from(KEYS), st.sampled_from(KEYS), ODD_TEXT)
    pairs = draw(st.lists(st.tuples(names, values(invite)), max_size=5))
    real = door == "/slack/oauth_redirect" and draw(st.integers(0, 2)) > 0
    if real and draw(st.booleans()):
        pairs.append(("code", "good-code"))
    return Query(door, pairs, real_state=real)


_PAGE = re.compile(rb"<p>(.*?)</p>", re.S)
# What a page that tells the visitor what to do next says.
NEXT_STEP = ("try again", "start again", "ask ", "open slack", "install", "/recast", "contact")


def _leaks(records: list[logging.LogRecord]) -> list[str]:
    found = []
    for r in records:
        line = r.getMessage() + (str(r.exc_info[1]) if r.exc_info else "") + (r.exc_text or "")
        found += [f"{r.name}: {s[:12]}…" for s in SECRETS if s in line]
    return found


@examples(60)
@given(data=st.data())
async def test_generated_install_and_redirect_queries_get_no_5xx_no_traceback_no_leak_and_a_page_saying_what_next(
    oauth_deps: CoreDeps, doors: Doors, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    caplog.set_level(logging.DEBUG)
    installer = doors.installer
    query = data.draw(queries(doors.invite), label="query")
    port = int(urllib.parse.urlsplit(installer.base).port or 0)
    before = len(caplog.records)
    headers: list[tuple[bytes, bytes]] = []
    state = None
    if query.real_state:
        status, location = await installer.authorize("")
        assert status == 302, location
        state = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["state"][0]
        headers.append((b"Cookie", installer.cookie.encode()))
    target = query.target(state)
    status, answer = await raw_request(port, "GET", target, headers)
    head, _, body = answer.partition(b"\r\n\r\n")
    records = caplog.records[before:]
    event(f"{query.door} {'real state ' if query.real_state else ''}-> {status}")
    assert status < 500, (query, status, answer[:600])
    assert unhandled(records) == [], query
    assert _leaks(records) == [], query
    assert INSTALLED_TOKEN.encode() not in answer and CLIENT_SECRET.encode() not in answer
    if len(target) > 8190:  # aiohttp's parser refuses a request line that long before any handler (a WARNING)
        assert status == 400, (query, answer[:300])
        return
    if status in (301, 302, 303, 307):  # only to Slack's authorize page, with a state we issued
        location = next(v for k, _, v in (h.partition(b": ") for h in head.split(b"\r\n")) if k.lower() == b"location")
        assert location.startswith(b"https://slack.com/oauth/v2/authorize?"), location
        return
    assert b"text/html" in head.lower(), (query, head)
    assert len(body) < 4000, (query, len(body))  # short: no echo of a 3,000-character value
    said = b" ".join(_PAGE.findall(body)) or body
    assert any(step.encode() in said.lower() for step in NEXT_STEP), (query, status, said[:400])
    if status == 200:  # a real state met the good code: the workspace was installed, its token sealed
        engine = oauth_deps.sessionmaker.kw["bind"]
        assert await tables_holding(engine, SECRETS) == {}, query
