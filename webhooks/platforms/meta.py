"""Meta (Instagram and Facebook Pages): `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>`;
the subscription handshake is `GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...`. Events come
batched as `entry[].changes[]`; Meta gives them no id, so the body's digest names the delivery (a retry of
the same batch is the same bytes). The deauthorize callback posts a `signed_request` form field instead."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from urllib.parse import parse_qs

from core.distribution.platforms.meta_signed import SignatureInvalid, parse_signed_request
from webhooks.gateways.base import BadSignature, VerifiedEvent, ascii_header, body_digest, parse_object, signed_by_any


def subscription_challenge(query: Mapping[str, str], verify_token: str | None) -> str | None:
    """The `hub.challenge` to echo when Meta's handshake carries our verify token; None refuses it."""
    if not verify_token or query.get("hub.mode") != "subscribe":
        return None
    if not hmac.compare_digest(query.get("hub.verify_token", "").encode(), verify_token.encode()):
        return None
    return query.get("hub.challenge") or None


class MetaVerifier:
    sender = "meta"

    def __init__(self, app_secrets: list[str]) -> None:
        self._secrets = [s.encode() for s in app_secrets]

    async def verify(self, headers: Mapping[str, str], body: bytes) -> VerifiedEvent:
        signature = ascii_header(headers, "X-Hub-Signature-256").strip().lower()
        if not signature.startswith("sha256=") or not self._secrets:
            raise BadSignature("missing signature or secret")
        given = signature.removeprefix("sha256=").encode()
        if not signed_by_any(self._secrets, body, given):
            raise BadSignature("signature mismatch")
        payload, malformed = parse_object(body)
        if not malformed and not isinstance(payload.get("entry"), list):
            malformed = "no entry list"
        kind = str(payload.get("object") or "") or None
        return VerifiedEvent(self.sender, body_digest(body), kind, payload, malformed)


class MetaDeauthorizeVerifier:
    """The deauthorize callback: a form with `signed_request`; stored as a `deauthorize` event whose payload
    is the verified request (`user_id` is the app-scoped id of the person who removed the app)."""

    sender = "meta"

    def __init__(self, app_secrets: list[str]) -> None:
        self._secrets = app_secrets

    async def verify(self, headers: Mapping[str, str], body: bytes) -> VerifiedEvent:
        if not self._secrets:
            raise BadSignature("no app secret")
        fields = parse_qs(body.decode("ascii", errors="replace"))
        try:
            data = parse_signed_request((fields.get("signed_request") or [""])[0], self._secrets)
        except SignatureInvalid as exc:
            raise BadSignature(str(exc)) from exc
        event_id = f"deauthorize:{data.get('user_id')}:{data.get('issued_at')}"
        return VerifiedEvent(self.sender, event_id, "deauthorize", data, None if data.get("user_id") else "no user_id")
