"""The OAuth callback fuzzed for the platforms whose sign-in takes several calls: TikTok (token, user info,
creator info), YouTube (Google's token, `channels.list`), Instagram and Facebook (Facebook Login's code
exchange, the short-lived token traded for a long-lived one, `me/permissions`, `me`, `me/accounts`, and each
Page token's `debug_token`). The sibling of `test_fuzz_oauth_callback.py` (LinkedIn and X, one token call).

Each example issues a real state the way `/connect` does, takes a code from the local platform's consent
page (or makes one up, or sends none), and has ONE of the sign-in's calls answer normally, with garbage,
with JSON of the wrong shape or types, 4xx, 5xx, 429 or too slowly; sometimes the callback comes twice, or
on another platform's path. Over real HTTP into the web app (real PostgreSQL, Redis, outbox): no 5xx, no
traceback, no connection row without its tokens or with an account the platform didn't name, a used state
refused the second time, the chat told exactly what happened, and no token or secret in the logs, the page
or the chat."""

from __future__ import annotations

import html
import json
import logging
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from fuzzing import ODD_TEXT, examples, raw_request, unhandled
from hypothesis import event, given
from hypothesis import strategies as st
from sign_ins import SignIns, authorize, sign_ins

from core.deps import CoreDeps
from core.distribution import connect
from core.distribution.connections import Owner
from core.distribution.platforms.names import Platform, label
from tests.distribution_fixtures import sent_texts
from tests.fakes.meta_graph_api import GraphFault
from tests.fakes.tiktok_api import Fault as TikTokFault
from tests.fakes.youtube_api import SignInFault

# This helper's range (8810001-8810999), unique in the suite: one chat per test (the database outlives them).
CHAT_IDS = {"test_each_sign_in_call_answering_badly_connects_nothing_and_page_and_chat_say_exactly_why": "8810002"}
CHAT_ID = "8810001"
ODD_SECRET = "fuzz-odd-secret"  # the token inside the "odd" answers: it must not be logged or shown either

PLATFORMS = {
    "tiktok": Platform.TIKTOK,
    "youtube": Platform.YOUTUBE,
    "instagram": Platform.INSTAGRAM,
    "facebook": Platform.FACEBOOK,
}
# The sign-in's calls, in the order they are made; the first one takes the code.
STEPS = {
    "tiktok": ["token", "user_info", "creator_info"],
    "youtube": ["token", "channels"],
    "instagram": ["access_token", "fb_exchange_token", "permissions", "me", "accounts"],
    "facebook": ["access_token", "fb_exchange_token", "permissions", "accounts", "debug_token", "me"],
}
NAMES = {"tiktok": "@asha.makes", "youtube": "@asharao", "instagram": "@asha.builds", "facebook": "Asha Rao Studio"}
LONG_NAME = "\x00" + "é" * 300  # a NUL (PostgreSQL's text refuses it) and more than the column holds

# Bodies a 200 may carry at any call: none is what the platform documents.
BODIES = {
    "garbage": "<html>upstream proxy error</html>",
    "not an object": "[1, 2]",
    "empty object": "{}",
    "error string": '{"error": "x", "data": "x", "items": "x"}',
    "wrong types": '{"access_token": ["a"], "expires_in": [], "data": {"user": "x"}, "items": 7, "id": {"a": 1}}',
}
# Per call, an answer of the documented shape with a value that is off, and what it must lead to.
ODD: dict[tuple[str, str], tuple[str, str]] = {
    ("tiktok", "token"): (f'{{"access_token": "act.{ODD_SECRET}", "expires_in": "soon", "open_id": "x"}}', "unread"),
    ("tiktok", "user_info"): (
        '{"data": {"user": {"open_id": "", "display_name": 5}}, "error": {"code": "ok"}}',
        "unread",
    ),
    ("tiktok", "creator_info"): ('{"data": {"creator_username": ["asha"]}, "error": {"code": "ok"}}', "as Asha Rao"),
    ("youtube", "token"): (
        f'{{"access_token": "ya29.{ODD_SECRET}", "expires_in": "soon", "refresh_token": "1//{ODD_SECRET}"}}',
        "unread",
    ),
    ("youtube", "channels"): ('{"items": [{"id": null, "snippet": "x"}]}', "unread"),
    ("instagram", "access_token"): (f'{{"access_token": "EAAS{ODD_SECRET}", "expires_in": "soon"}}', "refused"),
    ("instagram", "fb_exchange_token"): (f'{{"access_token": "EAAL{ODD_SECRET}", "expires_in": "soon"}}', "unread"),
    ("instagram", "permissions"): (
        '{"data": [{"permission": "pages_show_list", "status": "granted"}, 5, "x"]}',
        "Instagram needs these permissions, which were not granted: instagram_basic,",
    ),
    ("instagram", "me"): ('{"id": null, "name": 5}', "unread"),
    ("instagram", "accounts"): (
        '{"data": [{"id": {"a": 1}, "name": 5, "instagram_business_account": {"id": ["x"], "username": 3}}]}',
        "None of the Facebook Pages you allowed has an Instagram business or creator account linked.",
    ),
}
ODD |= {("facebook", step): ODD[("instagram", step)] for step in ("access_token", "fb_exchange_token", "me")}
ODD |= {
    ("facebook", "permissions"): (
        ODD[("instagram", "permissions")][0],
        "Facebook needs these permissions, which were not granted: pages_read_engagement,",
    ),
    ("facebook", "accounts"): (
        '{"data": [{"id": {"a": 1}, "name": 5, "access_token": 7}, {"id": "1", "access_token": ""}]}',
        "You don't manage a Facebook Page that you allowed Recast to use.",
    ),
    ("facebook", "debug_token"): ('{"data": {"is_valid": true, "expires_at": "never", "user_id": 5}}', "unread"),
}
STATUSES = {"400": "refused", "401": "refused", "429": "down", "500": "down", "503": "down", "slow": "down"}
# Google's answers that are well formed but leave Recast without what a connection needs.
GOOGLE = {
    "no refresh token": "YouTube gave Recast access for an hour only",
    "no channel": "This Google account has no YouTube channel yet.",
    "long name": "as " + "é" * 255,
}
FAULTS = ["none", *BODIES, "odd", *STATUSES]


def reason(platform: str, kind: str) -> str:
    """The chat's reason for a failure of kind `unread`, `down` or `refused` (else the text itself)."""
    name = label(PLATFORMS[platform])
    return {
        "unread": f"{name} answered the sign-in with something Recast couldn't read.",
        "down": f"{name} didn't answer the sign-in in time, or had a problem on its side.",
        "refused": f"{name} didn't accept the sign-in (a sign-in works once, for a few minutes).",
    }.get(kind, kind)


@dataclass
class Callback:
    platform: str  # the one the state is issued for
    path: str  # the platform segment of the callback
    state: str  # "real", "forged", "none", "other platform"
    code: str  # "granted", "odd", "none"
    error: str | None
    step: str  # the call that meets the fault
    fault: str
    replay: bool
    extra: list[tuple[str, str]] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"Callback({self.platform} /oauth/{self.path}/callback state={self.state} code={self.code}"
            f" error={(self.error or '')[:20]!r} {self.step}: {self.fault} replay={self.replay}"
            f" extra={[(k[:10], v[:10]) for k, v in self.extra]})"
        )

    def outcome(self) -> str:
        """What a callback that spends the state must end in: "as <name>" (connected) or the chat's reason."""
        first_step_fails = self.fault != "none" and self.step == STEPS[self.platform][0]
        if self.code == "odd" and not first_step_fails:
            return reason(self.platform, "refused")  # the platform refuses a made-up code at its first call
        if self.fault == "none":
            return f"as {NAMES[self.platform]}"
        if self.fault in GOOGLE:
            return GOOGLE[self.fault]
        if (self.platform, self.step) == ("tiktok", "creator_info") and self.fault != "401":
            return "as Asha Rao"  # only the @handle comes from there: the display name stands in
        if self.fault == "odd":
            return reason(self.platform, ODD[(self.platform, self.step)][1])
        if self.fault in STATUSES:
            return reason(self.platform, STATUSES[self.fault])
        if (self.platform, self.step, self.fault) == ("tiktok", "token", "error string"):
            return reason(self.platform, "refused")  # TikTok's own OAuth error shape, if with a 200
        return reason(self.platform, "unread")


@st.composite
def callbacks(draw: st.DrawFn) -> Callback:
    # Mostly a real state and a granted code: the sign-in's calls are what is fuzzed here.
    state = draw(st.sampled_from(["forged", "none", "other platform"])) if draw(st.integers(0, 7)) == 0 else "real"
    platform = draw(st.sampled_from(sorted(PLATFORMS)))
    faults = FAULTS + (list(GOOGLE) if platform == "youtube" else [])
    step = draw(st.sampled_from(STEPS[platform]))
    fault = draw(st.sampled_from(faults))
    if fault == "no refresh token":
        step = "token"
    elif fault in ("no channel", "long name"):
        step = "channels"
    return Callback(
        platform=platform,
        path=draw(st.sampled_from(sorted(set(PLATFORMS) - {platform}))) if state == "other platform" else platform,
        state=state,
        code=draw(st.sampled_from(["odd", "none"])) if draw(st.integers(0, 6)) == 0 else "granted",
        error=draw(st.one_of(st.sampled_from(["access_denied", ""]), ODD_TEXT))
        if draw(st.integers(0, 6)) == 0
        else None,
        step=step,
        fault=fault,
        replay=draw(st.integers(0, 3)) == 0,
        extra=draw(st.lists(st.tuples(ODD_TEXT, ODD_TEXT), max_size=2)),
    )


class Web(SignIns):
    def set_fault(self, cb: Callback) -> None:
        """The fault on the one call, in the platform's own wire format."""
        self.tiktok.faults.clear()
        self.youtube.sign_in_faults.clear()
        self.meta.faults.clear()
        if cb.fault == "none":
            return
        body = BODIES.get(cb.fault) or (ODD[(cb.platform, cb.step)][0] if cb.fault == "odd" else None)
        if cb.fault == "no channel":
            body = '{"kind": "youtube#channelListResponse", "items": []}'
        elif cb.fault == "long name":
            body = json.dumps({"items": [{"id": self.youtube.channel_id, "snippet": {"title": LONG_NAME}}]})
        hang = 1.5 if cb.fault == "slow" else 0.0  # past platform_timeout_s (1 s in publish_deps)
        status = int(cb.fault) if cb.fault in STATUSES and cb.fault != "slow" else None
        if cb.platform == "tiktok":
            code = {400: "invalid_params", 401: "access_token_invalid", 429: "rate_limit_exceeded"}.get(status or 0)
            self.tiktok.faults.append(
                TikTokFault(endpoint=cb.step, status=status or 200, code=code, hang_s=hang, body=body)
            )
        elif cb.platform == "youtube":
            missing = cb.fault == "no refresh token"
            self.youtube.sign_in_faults.append(
                SignInFault(endpoint=cb.step, status=status, body=body, hang_s=hang, no_refresh_token=missing)
            )
        else:
            graph_code = {400: 100, 401: 190, 429: 4}.get(status or 0)  # a 5xx: Meta's edge, no Graph error
            self.meta.faults.append(GraphFault(cb.step, status=status or 200, code=graph_code, hang_s=hang, body=body))

    def account_ids(self, platform: str) -> set[str]:
        """The platform_user_ids a connection of `platform` may have: the accounts the fakes name."""
        return {
            "tiktok": {self.tiktok.open_id},
            "youtube": {self.youtube.channel_id},
            "instagram": {f"{self.meta.ig_user_id}@{self.meta.user_id}"},
            "facebook": {f"{self.meta.page_id}@{self.meta.user_id}"},
        }[platform]

    def secrets(self) -> list[str]:
        return [
            *self.tiktok.tokens,
            *self.tiktok.refresh_tokens,
            *self.youtube.tokens,
            *self.youtube.refresh_tokens,
            *self.meta.user_tokens,
            *self.meta.page_tokens,
            self.tiktok.client_secret,
            self.youtube.client_secret,
            self.meta.app_secret,
            ODD_SECRET,
        ]


@pytest.fixture
async def web(publish_deps: CoreDeps, request: pytest.FixtureRequest) -> AsyncIterator[Web]:
    async with sign_ins(publish_deps, CHAT_IDS.get(request.node.name, CHAT_ID)) as site:
        # The odd long-lived token is one Meta issued (only its expiry is off): the calls made with it work.
        site.meta.user_tokens[f"EAAL{ODD_SECRET}"] = site.meta.user_id
        yield Web(**vars(site))


def _target(cb: Callback, state: str | None, code: str | None) -> bytes:
    pairs = [("state", state), ("code", code), ("error", cb.error), *cb.extra]
    encoded = urllib.parse.urlencode(
        [(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in pairs if v is not None]
    )
    return f"/oauth/{cb.path}/callback?{encoded}".encode()


def _said(answer: bytes) -> str:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"text/html" in head.lower(), head
    assert len(body) < 3000, len(body)
    return html.unescape(body.decode())


async def _nothing_half_stored(web: Web) -> None:
    """Every connection has its tokens and is an account the platform named; at most one per platform."""
    rows = await web.connections()
    assert all(r.access_token and r.platform_user_id in web.account_ids(r.platform) for r in rows), [
        (r.platform, r.platform_user_id) for r in rows
    ]
    assert all(r.refresh_token for r in rows if r.platform in ("tiktok", "youtube")), "a renewable token was lost"
    assert len({r.platform for r in rows}) == len(rows), [(r.platform, r.platform_user_id) for r in rows]


# Every call of every sign-in, each answering each way once (with a real state and a granted code, and
# the callback sent again after): the grid the fuzz below samples with odd states, codes and parameters.
GRID = [
    (platform, step, fault)
    for platform, steps in STEPS.items()
    for step in steps
    for fault in FAULTS[1:] + (list(GOOGLE) if platform == "youtube" else [])
    if not (fault in GOOGLE and step != {"no refresh token": "token"}.get(fault, "channels"))
]


async def test_each_sign_in_call_answering_badly_connects_nothing_and_page_and_chat_say_exactly_why(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    assert len(GRID) > 150, len(GRID)
    for platform, step, fault in GRID:
        cb = Callback(platform, platform, "real", "granted", None, step, fault, replay=True)
        await _callback(web, caplog, cb)


@examples(60)
@given(data=st.data())
async def test_multi_step_sign_ins_with_odd_callbacks_get_no_5xx_store_nothing_half_and_tell_the_chat_exactly(
    web: Web, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    cb = data.draw(callbacks(), label="callback")
    forged = data.draw(st.one_of(ODD_TEXT, st.just(f"{uuid.uuid4().hex}.AAAA")), label="forged")
    odd_code = data.draw(ODD_TEXT, label="code")
    await _callback(web, caplog, cb, forged=forged, odd_code=odd_code, fuzzed=True)


async def _callback(
    web: Web,
    caplog: pytest.LogCaptureFixture,
    cb: Callback,
    *,
    forged: str | None = None,
    odd_code: str | None = None,
    fuzzed: bool = False,
) -> None:
    """Send the callback (and again, for a replay) and check every property."""
    caplog.set_level(logging.INFO)
    deps, platform = web.deps, PLATFORMS[cb.platform]
    name = label(platform)
    link = await connect.sign_in_link(deps.redis, deps.settings, platform, Owner(web.user_id), web.chat)
    state: str | None = None
    if cb.state in ("real", "other platform"):
        state = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["state"][0]
    elif cb.state == "forged":
        state = forged
    code = odd_code if cb.code == "odd" else None
    if cb.code == "granted":
        code = await authorize(link)
    web.set_fault(cb)
    chat_before = len(sent_texts(deps, web.chat))
    before = len(caplog.records)

    target = _target(cb, state, code)
    status, answer = await raw_request(web.port, "GET", target)
    web.set_fault(Callback(cb.platform, cb.path, "-", "-", None, cb.step, "none", False))
    assert status < 500, (cb, status, answer[:400])
    assert unhandled(caplog.records[before:]) == [], cb
    if len(target) > 8190:  # aiohttp's parser refuses a request line that long before any handler
        assert status == 400 and sent_texts(deps, web.chat)[chat_before:] == [], cb
        return
    page = _said(answer)
    told = sent_texts(deps, web.chat)[chat_before:]
    await _nothing_half_stored(web)

    real = cb.state == "real"
    used = real and (bool(cb.error) or (bool(state) and bool(code)))  # the callback spent the state
    outcome = cb.outcome()
    kind = "declined" if cb.error else "connected" if outcome.startswith("as ") else "not connected"
    if fuzzed:
        event(f"{cb.platform}: {status}, {kind}" if used else f"state not used: {status}")
    if real and cb.error:
        assert status == 200 and f"You declined on {name}'s page" in page, (cb, page)
        assert told == [f"{name} wasn't connected: you declined on its page. /connect starts again."], cb
    elif used and outcome.startswith("as "):
        assert status == 200 and f"{name} connected ✅" in page and outcome in page, (cb, page)
        assert told == [f"Connected {name} {outcome}. Approved drafts can now be published there."], (cb, told)
    elif used:  # the page and the chat both say why, and how to start again
        assert status == 400 and f"{name} wasn't connected" in page and outcome in page, (cb, status, page)
        if outcome in {reason(cb.platform, kind) for kind in ("unread", "down", "refused")}:
            assert told == [f"{name} wasn't connected: {outcome} /connect starts again."], (cb, told)
        else:  # the account's own reason, which says what to change (its start is enough here)
            assert len(told) == 1 and told[0].startswith(f"{name} wasn't connected: {outcome}"), (cb, told)
            # how to start again, said once: by the account's reason or after it
            assert (told[0].count("connect again") + told[0].count("/connect starts again")) == 1, (cb, told)
    else:  # forged, missing, or meant for another platform: no chat to tell, nothing learnt
        refused = status in (400, 404) and "/connect" in page
        assert refused or (status == 200 and "declined" in page), (cb, status, page)
        assert told == [], (cb, told)

    if cb.replay:  # the same redirect again, with a fresh code from the consent page, and no fault
        status, answer = await raw_request(web.port, "GET", _target(cb, state, await authorize(link)))
        again = _said(answer)
        assert status < 500 and unhandled(caplog.records[before:]) == [], cb
        if used and not cb.error:
            assert status == 400 and "expired or was already used" in again, (cb, status, again)
        told_again = sent_texts(deps, web.chat)[chat_before + len(told) :]
        assert len(told_again) == (1 if real and not used else 0), (cb, told_again)
        page += again
        told += told_again
        await _nothing_half_stored(web)
    # No token any platform issued, no app secret, nor the one in an odd answer: in the logs, pages or chat.
    # (The fakes' own access log shows the Graph API's query strings, as Meta's would: not Recast's logs.)
    ours = [r for r in caplog.records[before:] if r.name != "aiohttp.access" or '"GET /oauth/' in r.getMessage()]
    seen = [r.getMessage() + (r.exc_text or "") for r in ours] + [page, *told]
    assert [s for s in web.secrets() for line in seen if s in line] == [], cb
