"""What the multi-step sign-ins (TikTok, YouTube, Instagram, Facebook) do with answers the platforms don't
document: each test is a bug the sign-in fuzz (`test_fuzz_oauth_exchanges.py`) found, over the real web app
and the platform's fake. Before the fixes each was a 500 with a traceback, a connection stored for an
account the platform never named, or a chat told the wrong reason."""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator

import pytest
from fuzzing import unhandled
from sign_ins import SignIns, sign_ins

from core.deps import CoreDeps
from core.distribution import connections
from core.distribution.clients import client_for
from core.distribution.errors import OutcomeUnknown
from core.distribution.models import PlatformConnection
from core.distribution.platforms.names import Platform
from core.distribution.ports import PostContent
from tests.fakes.meta_graph_api import GraphFault
from tests.fakes.tiktok_api import Fault
from tests.fakes.youtube_api import SignInFault

CHAT_IDS = itertools.count(8810100)  # this helper's range (8810001-8810999): a chat per test


@pytest.fixture
async def site(publish_deps: CoreDeps) -> AsyncIterator[SignIns]:
    async with sign_ins(publish_deps, str(next(CHAT_IDS))) as opened:
        yield opened


def _unread(name: str) -> str:
    return f"{name} answered the sign-in with something Recast couldn't read."


async def _refused_with(
    site: SignIns, caplog: pytest.LogCaptureFixture, platform: Platform, name: str, reason: str
) -> None:
    """The sign-in ends on a 400 page and one chat message giving `reason`, with nothing stored."""
    caplog.set_level(logging.INFO)
    status, page, told = await site.sign_in(platform)
    assert unhandled(caplog.records) == []
    assert status == 400 and f"{name} wasn't connected" in page and reason in page, (status, page)
    again = "" if "connect again" in reason.lower() else " /connect starts again."  # said once, not twice
    assert told == [f"{name} wasn't connected: {reason}{again}"]
    assert await site.connections() == []


async def _connected_as(site: SignIns, platform: Platform, name: str, who: str) -> PlatformConnection:
    status, page, told = await site.sign_in(platform)
    assert status == 200 and f"{name} connected ✅" in page, (status, page)
    assert len(told) == 1 and told[0].startswith(f"Connected {name} as {who}. "), told
    [row] = await site.connections()
    return row


# ------------------------------------------------------------ TikTok


@pytest.mark.parametrize(
    "answer",
    [
        '{"access_token": "act.x", "expires_in": "soon", "open_id": "x"}',  # int("soon"): was a 500
        "<html>upstream proxy error</html>",  # was "TikTok didn't accept the sign-in"
        '{"expires_in": 86400}',
    ],
)
async def test_a_tiktok_token_answer_without_a_readable_token_connects_nothing_and_says_tiktok_sent_garbage(
    site: SignIns, caplog: pytest.LogCaptureFixture, answer: str
) -> None:
    site.tiktok.faults.append(Fault(endpoint="token", body=answer))
    await _refused_with(site, caplog, Platform.TIKTOK, "TikTok", _unread("TikTok"))


async def test_a_tiktok_token_endpoint_at_its_rate_limit_is_told_as_busy_not_as_a_refused_sign_in(
    site: SignIns, caplog: pytest.LogCaptureFixture
) -> None:
    site.tiktok.faults.append(Fault(endpoint="token", status=429))
    reason = "TikTok didn't answer the sign-in in time, or had a problem on its side."
    await _refused_with(site, caplog, Platform.TIKTOK, "TikTok", reason)


@pytest.mark.parametrize(
    "answer",
    [
        "<html>upstream proxy error</html>",  # user.get on {}: a KeyError, a 500
        '{"error": "x", "data": "x"}',  # .get on a string: an AttributeError, a 500
        '{"data": {"user": {"open_id": "", "display_name": "Asha"}}, "error": {"code": "ok"}}',  # stored as ""
    ],
)
async def test_tiktok_user_info_without_an_open_id_stores_no_connection_and_says_tiktok_sent_garbage(
    site: SignIns, caplog: pytest.LogCaptureFixture, answer: str
) -> None:
    site.tiktok.faults.append(Fault(endpoint="user_info", body=answer))
    await _refused_with(site, caplog, Platform.TIKTOK, "TikTok", _unread("TikTok"))


async def test_a_tiktok_handle_that_is_not_text_is_left_out_and_the_display_name_names_the_account(
    site: SignIns,
) -> None:
    # It was shown and stored as "@['asha']".
    answer = '{"data": {"creator_username": ["asha"]}, "error": {"code": "ok"}}'
    site.tiktok.faults.append(Fault(endpoint="creator_info", body=answer))
    row = await _connected_as(site, Platform.TIKTOK, "TikTok", "Asha Rao")
    assert row.platform_username == "Asha Rao" and row.platform_user_id == site.tiktok.open_id


# ------------------------------------------------------------ YouTube (Google)


async def test_a_google_sign_in_without_a_refresh_token_is_refused_with_what_to_do(
    site: SignIns, caplog: pytest.LogCaptureFixture
) -> None:
    # It was stored with an hour's access token and no way to renew it: every later post failed.
    site.youtube.sign_in_faults.append(SignInFault("token", no_refresh_token=True))
    reason = (
        "YouTube gave Recast access for an hour only (Google sent no refresh token), so scheduled posts would "
        "fail. Remove Recast under Third-party apps at myaccount.google.com/connections, then /connect again."
    )
    await _refused_with(site, caplog, Platform.YOUTUBE, "YouTube", reason)


@pytest.mark.parametrize(
    ("endpoint", "answer"),
    [
        ("token", "<html>upstream proxy error</html>"),  # json.loads: a 500
        ("token", '{"error": "x"}'),  # ["access_token"]: a 500
        ("token", '{"access_token": "ya29.x", "expires_in": "soon", "refresh_token": "1//x"}'),
        ("channels", "[1, 2]"),  # .get on a list: a 500
        ("channels", '{"items": [{"id": null, "snippet": "x"}]}'),  # snippet.get on a string: a 500
    ],
)
async def test_a_garbled_google_answer_at_sign_in_connects_nothing_and_says_youtube_sent_garbage(
    site: SignIns, caplog: pytest.LogCaptureFixture, endpoint: str, answer: str
) -> None:
    site.youtube.sign_in_faults.append(SignInFault(endpoint, body=answer))
    await _refused_with(site, caplog, Platform.YOUTUBE, "YouTube", _unread("YouTube"))


async def test_a_google_account_without_a_channel_is_told_so_not_that_the_sign_in_was_refused(
    site: SignIns, caplog: pytest.LogCaptureFixture
) -> None:
    # The reason was lost: "YouTube didn't accept the sign-in (a sign-in works once, ...)".
    site.youtube.sign_in_faults.append(SignInFault("channels", body='{"kind": "youtube#channelListResponse"}'))
    reason = "This Google account has no YouTube channel yet. Create one on YouTube, then connect again."
    await _refused_with(site, caplog, Platform.YOUTUBE, "YouTube", reason)


async def test_a_channel_name_with_a_nul_and_over_255_characters_is_stored_without_the_nul_and_cut(
    site: SignIns,
) -> None:
    # PostgreSQL refuses a NUL in text, and the column holds 255: the insert raised, a 500.
    title = "\\u0000" + "é" * 300
    answer = f'{{"items": [{{"id": "{site.youtube.channel_id}", "snippet": {{"title": "{title}"}}}}]}}'
    site.youtube.sign_in_faults.append(SignInFault("channels", body=answer))
    row = await _connected_as(site, Platform.YOUTUBE, "YouTube", "é" * 255)
    assert row.platform_username == "é" * 255 and row.refresh_token


# ------------------------------------------------------------ Instagram and Facebook (Meta)


@pytest.mark.parametrize(
    ("platform", "call", "answer"),
    [
        (Platform.INSTAGRAM, "access_token", "<html>upstream proxy error</html>"),  # json.loads: a 500
        (Platform.INSTAGRAM, "fb_exchange_token", '{"access_token": 5}'),  # was "didn't accept"
        (Platform.INSTAGRAM, "permissions", "<html>upstream proxy error</html>"),  # json.loads: a 500
        (Platform.INSTAGRAM, "me", '{"name": "Asha"}'),  # me["id"]: a 500
        (Platform.FACEBOOK, "accounts", '{"data": "x"}'),  # was "You don't manage a Facebook Page"
        (Platform.FACEBOOK, "debug_token", '{"data": {"is_valid": true, "expires_at": "never", "user_id": "1"}}'),
        (Platform.FACEBOOK, "me", "{}"),  # page["id"]: a 500
    ],
)
async def test_a_garbled_meta_answer_at_any_sign_in_call_connects_nothing_and_says_meta_sent_garbage(
    site: SignIns, caplog: pytest.LogCaptureFixture, platform: Platform, call: str, answer: str
) -> None:
    site.meta.faults.append(GraphFault(call, status=200, body=answer))
    name = "Instagram" if platform == Platform.INSTAGRAM else "Facebook"
    await _refused_with(site, caplog, platform, name, _unread(name))


async def test_a_long_lived_meta_token_with_an_unreadable_expiry_connects_nothing_and_says_why(
    site: SignIns, caplog: pytest.LogCaptureFixture
) -> None:
    # A token Meta issued, with `expires_in` not a number: int() raised, a 500.
    site.meta.user_tokens["EAAL-odd"] = site.meta.user_id
    site.meta.faults.append(GraphFault("fb_exchange_token", body='{"access_token": "EAAL-odd", "expires_in": "soon"}'))
    await _refused_with(site, caplog, Platform.INSTAGRAM, "Instagram", _unread("Instagram"))


@pytest.mark.parametrize(
    ("call", "answer"),
    [
        ("me", '{"id": {"a": 1}}'),  # stored as "17841400000000001@{'a': 1}"
        ("accounts", '{"data": [{"instagram_business_account": {"id": ["x"], "username": "x"}}]}'),  # "['x']@..."
    ],
)
async def test_an_instagram_account_or_person_id_that_is_not_an_id_stores_no_connection(
    site: SignIns, caplog: pytest.LogCaptureFixture, call: str, answer: str
) -> None:
    site.meta.faults.append(GraphFault(call, status=200, body=answer))
    reason = (
        _unread("Instagram")
        if call == "me"
        else "None of the Facebook Pages you allowed has an Instagram business or creator account linked. Link the "
        "Instagram account to a Page (Instagram: Settings → Account type and tools), then /connect again."
    )
    await _refused_with(site, caplog, Platform.INSTAGRAM, "Instagram", reason)


async def test_a_page_token_whose_debug_token_names_no_person_stores_no_facebook_connection(
    site: SignIns, caplog: pytest.LogCaptureFixture
) -> None:
    # It was stored as "<page>@" (the deauthorize callback finds connections by the person after the @).
    site.meta.faults.append(GraphFault("debug_token", status=200, body='{"data": {"is_valid": true}}'))
    await _refused_with(site, caplog, Platform.FACEBOOK, "Facebook", _unread("Facebook"))


async def test_a_page_post_answered_2xx_with_garbage_is_an_unknown_outcome_not_a_crash(site: SignIns) -> None:
    # json.loads raised out of the publisher. The post may exist: the next try looks for it before posting.
    connection = await _connected_as(site, Platform.FACEBOOK, "Facebook", site.meta.page_name)
    client = client_for(site.deps.settings, Platform.FACEBOOK)
    site.meta.faults.append(GraphFault("feed", after_create=True, body="<html>upstream proxy error</html>"))
    with pytest.raises(OutcomeUnknown):
        await client.publish(connections.credentials(site.deps.settings, connection), PostContent(text="Hello"))
    assert len(site.meta.page_posts) == 1  # it was made: posting again as is would post it twice
