"""LinkedIn: the validation GET `?challengeCode=<uuid>` is answered with `{"challengeCode", "challengeResponse":
hex HMAC-SHA256(client secret, challengeCode)}`; each POST carries `X-LI-Signature`, the hex HMAC-SHA256 of
the raw body under the client secret (sometimes prefixed `hmacsha256=`)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from webhooks.gateways.base import (
    BadSignature,
    VerifiedEvent,
    ascii_header,
    body_digest,
    event_text,
    parse_object,
    signed_by_any,
)


def challenge_response(challenge_code: str, client_secret: str) -> dict[str, str]:
    digest = hmac.new(client_secret.encode(), challenge_code.encode(), hashlib.sha256).hexdigest()
    return {"challengeCode": challenge_code, "challengeResponse": digest}


class LinkedInVerifier:
    sender = "linkedin"

    def __init__(self, client_secrets: list[str]) -> None:
        self._secrets = [s.encode() for s in client_secrets]

    async def verify(self, headers: Mapping[str, str], body: bytes) -> VerifiedEvent:
        signature = ascii_header(headers, "X-LI-Signature").strip().lower().removeprefix("hmacsha256=").encode()
        if not signature or not self._secrets:
            raise BadSignature("missing signature or secret")
        if not signed_by_any(self._secrets, body, signature):
            raise BadSignature("signature mismatch")
        payload, malformed = parse_object(body)
        event_id = event_text(payload.get("notificationId")) or body_digest(body)
        return VerifiedEvent(self.sender, event_id, event_text(payload.get("type")), payload, malformed)
