"""Cashfree: `x-webhook-signature` = base64(HMAC-SHA256(secret, x-webhook-timestamp + raw body)).

The SDK's `PGVerifyWebhookSignature` compares with `==` and has no timestamp window; we compare in
constant time and refuse timestamps more than five minutes away from now in either direction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from webhooks.gateways.base import BadSignature, VerifiedEvent, ascii_header, body_digest, event_text, parse_object

TOLERANCE_SECONDS = 300


def _event_id(headers: Mapping[str, str], payload: dict[str, Any], body: bytes) -> str:
    if key := headers.get("x-idempotency-key"):
        return key
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    assert isinstance(data, dict)
    payment = data.get("payment") if isinstance(data.get("payment"), dict) else {}
    refund = data.get("refund") if isinstance(data.get("refund"), dict) else {}
    assert isinstance(payment, dict) and isinstance(refund, dict)
    ref = refund.get("cf_refund_id") or payment.get("cf_payment_id")
    if ref:
        return f"{payload.get('type')}:{ref}:{payment.get('payment_status') or refund.get('refund_status')}"
    return body_digest(body)


class CashfreeVerifier:
    sender = "cashfree"

    def __init__(self, secrets: list[str], *, tolerance: int = TOLERANCE_SECONDS) -> None:
        self._secrets = [s.encode() for s in secrets]
        self._tolerance = tolerance

    async def verify(self, headers: Mapping[str, str], body: bytes) -> VerifiedEvent:
        signature = ascii_header(headers, "x-webhook-signature").strip().encode()
        timestamp = ascii_header(headers, "x-webhook-timestamp")
        if not signature or not timestamp or not self._secrets:
            raise BadSignature("missing signature, timestamp or secret")
        if not timestamp.isdigit() or len(timestamp) > 16:
            raise BadSignature("bad timestamp")
        ts = int(timestamp)
        seconds = ts / 1000 if ts > 10**11 else ts  # Cashfree sends milliseconds
        if abs(time.time() - seconds) > self._tolerance:
            raise BadSignature("timestamp outside the window")
        ok = False
        for secret in self._secrets:
            digest = hmac.new(secret, timestamp.encode() + body, hashlib.sha256).digest()
            ok |= hmac.compare_digest(base64.b64encode(digest), signature)
        if not ok:
            raise BadSignature("signature mismatch")
        payload, malformed = parse_object(body)
        return VerifiedEvent(
            self.sender, _event_id(headers, payload, body), event_text(payload.get("type")), payload, malformed
        )
