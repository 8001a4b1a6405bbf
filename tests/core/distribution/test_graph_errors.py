"""Meta's Graph API answers most failures with HTTP 400 and the reason in its `error` envelope: the code, not
the status, says what the publisher should do next."""

from __future__ import annotations

import json

import pytest

from core.distribution.errors import (
    ContentRejected,
    OutcomeUnknown,
    PlatformError,
    PlatformUnavailable,
    QuotaExhausted,
    RateLimited,
    TokenRevoked,
)
from core.distribution.platforms.http import graph_error_for, graph_retry_after


def _body(code: int, subcode: int | None = None, **extra: object) -> str:
    error: dict[str, object] = {"message": "m", "type": "OAuthException", "code": code, "fbtrace_id": "A1", **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    return json.dumps({"error": error})


@pytest.mark.parametrize(
    ("status", "body", "creates", "expected"),
    [
        pytest.param(400, _body(190, 463), False, TokenRevoked, id="190-expired"),
        pytest.param(400, _body(190, 458), True, TokenRevoked, id="190-app-removed"),
        pytest.param(400, _body(9, 2207042), True, QuotaExhausted, id="ig-publishing-limit"),
        pytest.param(400, _body(4), False, RateLimited, id="4-app-limit"),
        pytest.param(400, _body(17), True, RateLimited, id="17-user-limit"),
        pytest.param(400, _body(32), True, RateLimited, id="32-page-limit"),
        pytest.param(400, _body(613), True, RateLimited, id="613-custom-limit"),
        pytest.param(400, _body(2), True, OutcomeUnknown, id="2-unavailable-on-create"),
        pytest.param(400, _body(2), False, PlatformUnavailable, id="2-unavailable-on-read"),
        pytest.param(400, _body(-2, 2207003), False, PlatformUnavailable, id="ig-download-timeout"),
        pytest.param(400, _body(100, 33, is_transient=True), False, PlatformUnavailable, id="is-transient"),
        pytest.param(500, _body(1), True, OutcomeUnknown, id="500-with-envelope"),
        pytest.param(502, "<html>Bad Gateway</html>", True, OutcomeUnknown, id="bare-502-on-create"),
        pytest.param(503, "<html>Service Unavailable</html>", False, PlatformUnavailable, id="bare-503-on-read"),
        pytest.param(400, _body(200), True, ContentRejected, id="200-permission"),
        pytest.param(400, _body(506), True, ContentRejected, id="506-duplicate"),
    ],
)
def test_the_graph_error_code_decides(status: int, body: str, creates: bool, expected: type[PlatformError]) -> None:
    error = graph_error_for(status, body, {}, label="Instagram", creates=creates)
    assert type(error) is expected


def test_a_rejection_carries_metas_message_for_people_when_it_gives_one() -> None:
    body = _body(36000, 2207004, error_user_msg="The image is too large to download. It should be less than 8 MiB.")
    error = graph_error_for(400, body, {}, label="Instagram", creates=False)
    assert error.user_message == (
        "Instagram rejected the post: The image is too large to download. It should be less than 8 MiB."
    )
    assert "fbtrace A1" in str(error) and "2207004" in str(error)
    permission = graph_error_for(400, _body(10), {}, label="Facebook", creates=True)
    assert permission.user_message.startswith("Facebook refused the post: the account lacks the permission")


def test_the_retry_time_comes_from_retry_after_or_the_business_use_case_header() -> None:
    assert graph_retry_after({"Retry-After": "7"}) == 7.0
    usage = {"1": [{"type": "pages", "estimated_time_to_regain_access": 4}], "2": [{"type": "instagram"}]}
    assert graph_retry_after({"X-Business-Use-Case-Usage": json.dumps(usage)}) == 240.0
    assert graph_retry_after({"X-Business-Use-Case-Usage": "not json"}) is None
    assert graph_retry_after({}) is None
