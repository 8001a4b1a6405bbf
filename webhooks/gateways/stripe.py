"""Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]` over `"{t}.{raw body}"`.

`stripe.WebhookSignature.verify_header` checks every v1 (Stripe sends two while a secret rolls) with a
constant-time compare and rejects old timestamps; it does not reject timestamps from the future, so a
captured request signed with a skewed clock could be replayed later. We add that check.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import stripe

from webhooks.gateways.base import BadSignature, VerifiedEvent, ascii_header, body_digest, event_text, parse_object

TOLERANCE_SECONDS = 300


def _timestamp(header: str) -> int:
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError as exc:
                raise BadSignature("bad timestamp") from exc
    raise BadSignature("no timestamp")


class StripeVerifier:
    sender = "stripe"

    def __init__(self, secrets: list[str], *, tolerance: int = TOLERANCE_SECONDS) -> None:
        self._secrets = secrets
        self._tolerance = tolerance

    async def verify(self, headers: Mapping[str, str], body: bytes) -> VerifiedEvent:
        header = ascii_header(headers, "Stripe-Signature")
        if not header or not self._secrets:
            raise BadSignature("missing signature or secret")
        if _timestamp(header) > time.time() + self._tolerance:
            raise BadSignature("timestamp in the future")
        try:
            payload_text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            # The SDK signs text: a non-UTF-8 body cannot be proven to be Stripe's.
            raise BadSignature("body is not UTF-8") from exc
        for secret in self._secrets:
            try:
                stripe.WebhookSignature.verify_header(payload_text, header, secret, self._tolerance)
                break
            except stripe.SignatureVerificationError:
                continue
        else:
            raise BadSignature("signature mismatch")
        payload, malformed = parse_object(body)
        event_id = payload.get("id")
        if not isinstance(event_id, str) or not event_id:
            event_id, malformed = body_digest(body), malformed or "event without id"
        return VerifiedEvent(self.sender, event_id, event_text(payload.get("type")), payload, malformed)
