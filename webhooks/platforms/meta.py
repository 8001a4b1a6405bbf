"""Meta (Instagram and Facebook Pages): `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>`;
the subscription handshake is `GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...`. Events come
batched as `entry[].changes[]`; Meta gives them no id, so the body's digest names the delivery (a retry of
the same batch is the same bytes). The deauthorize callback posts a `signed_request` form field instead."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from core.common.secrets import unb64
from webhooks.gateways.base import BadSignature, VerifiedEvent, ascii_header, body_digest, parse_object


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
        if not any(
            hmac.compare_digest(hmac.new(s, body, hashlib.sha256).hexdigest().encode(), given) for s in self._secrets
        ):
            raise BadSignature("signature mismatch")
        payload, malformed = parse_object(body)
        if not malformed and not isinstance(payload.get("entry"), list):
            malformed = "no entry list"
        kind = str(payload.get("object") or "") or None
        return VerifiedEvent(self.sender, body_digest(body), kind, payload, malformed)


def parse_signed_request(signed_request: str, app_secrets: list[str]) -> dict[str, Any]:
    """Meta's `signed_request` (deauthorize and data-deletion callbacks): `<b64url sig>.<b64url JSON>`,
    the signature an HMAC-SHA256 of the encoded payload under the app secret. Raises BadSignature."""
    sig_part, _, payload_part = signed_request.partition(".")
    if not sig_part or not payload_part or not signed_request.isascii():
        raise BadSignature("not a signed request")
    try:
        signature, raw = unb64(sig_part), unb64(payload_part)
    except ValueError as exc:
        raise BadSignature("undecodable signed request") from exc
    if not any(
        hmac.compare_digest(hmac.new(s.encode(), payload_part.encode(), hashlib.sha256).digest(), signature)
        for s in app_secrets
    ):
        raise BadSignature("signature mismatch")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadSignature("payload is not JSON") from exc
    if not isinstance(data, dict) or str(data.get("algorithm", "")).upper() != "HMAC-SHA256":
        raise BadSignature("unexpected algorithm")
    return data
