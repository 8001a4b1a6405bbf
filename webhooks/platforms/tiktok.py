"""TikTok: `TikTok-Signature: t=<unix seconds>,s=<hex HMAC-SHA256(client secret, "<t>.<raw body>")>`.
A signature older than `TOLERANCE_S` is refused (a replayed delivery), as is one from the future."""

from __future__ import annotations

import time
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

TOLERANCE_S = 300


class TikTokVerifier:
    sender = "tiktok"

    def __init__(self, client_secrets: list[str]) -> None:
        self._secrets = [s.encode() for s in client_secrets]

    async def verify(self, headers: Mapping[str, str], body: bytes) -> VerifiedEvent:
        parts = dict(item.split("=", 1) for item in ascii_header(headers, "TikTok-Signature").split(",") if "=" in item)
        stamp, signature = parts.get("t", ""), parts.get("s", "").lower().encode()
        if not stamp.isdigit() or not signature or not self._secrets:
            raise BadSignature("missing signature, timestamp or secret")
        if abs(time.time() - int(stamp)) > TOLERANCE_S:
            raise BadSignature("stale signature")
        signed = stamp.encode() + b"." + body
        if not signed_by_any(self._secrets, signed, signature):
            raise BadSignature("signature mismatch")
        payload, malformed = parse_object(body)
        return VerifiedEvent(self.sender, body_digest(body), event_text(payload.get("event")), payload, malformed)
