"""Razorpay: `X-Razorpay-Signature` = hex HMAC-SHA256(webhook secret, raw body); id in `x-razorpay-event-id`.

Why not `razorpay.Utility.verify_webhook_signature`: it takes the body as `str`, so the bytes would
have to be decoded (and could be re-encoded differently) before hashing; we hash the exact bytes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from webhooks.gateways.base import BadSignature, VerifiedEvent, ascii_header, body_digest, event_text, parse_object


class RazorpayVerifier:
    sender = "razorpay"

    def __init__(self, secrets: list[str]) -> None:
        self._secrets = [s.encode() for s in secrets]

    async def verify(self, headers: Mapping[str, str], body: bytes) -> VerifiedEvent:
        signature = ascii_header(headers, "X-Razorpay-Signature").strip().lower().encode()
        if not signature or not self._secrets:
            raise BadSignature("missing signature or secret")
        ok = False
        for secret in self._secrets:
            expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
            ok |= hmac.compare_digest(expected, signature)
        if not ok:
            raise BadSignature("signature mismatch")
        payload, malformed = parse_object(body)
        # Razorpay sends the same x-razorpay-event-id on every retry of one event.
        event_id = headers.get("x-razorpay-event-id") or body_digest(body)
        return VerifiedEvent(self.sender, event_id, event_text(payload.get("event")), payload, malformed)
