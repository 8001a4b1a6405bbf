"""Meta's `signed_request` (deauthorize and data-deletion callbacks): `<b64url signature>.<b64url JSON>`,
the signature an HMAC-SHA256 of the encoded payload under the app secret. Checked at the door (the webhook
verifier) and read again when the stored event is processed."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qs

from core.common.secrets import unb64


class SignatureInvalid(Exception):
    """Not a signed request from Meta under any configured app secret."""


def parse_signed_request(signed_request: str, app_secrets: list[str]) -> dict[str, Any]:
    """Meta's `signed_request` (deauthorize and data-deletion callbacks): `<b64url sig>.<b64url JSON>`,
    the signature an HMAC-SHA256 of the encoded payload under the app secret. Raises SignatureInvalid."""
    sig_part, _, payload_part = signed_request.partition(".")
    if not sig_part or not payload_part or not signed_request.isascii():
        raise SignatureInvalid("not a signed request")
    try:
        signature, raw = unb64(sig_part), unb64(payload_part)
    except ValueError as exc:
        raise SignatureInvalid("undecodable signed request") from exc
    if not any(
        hmac.compare_digest(hmac.new(s.encode(), payload_part.encode(), hashlib.sha256).digest(), signature)
        for s in app_secrets
    ):
        raise SignatureInvalid("signature mismatch")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise SignatureInvalid("payload is not JSON") from exc
    if not isinstance(data, dict) or str(data.get("algorithm", "")).upper() != "HMAC-SHA256":
        raise SignatureInvalid("unexpected algorithm")
    return data


def signed_request_of(form_body: bytes, app_secrets: list[str]) -> dict[str, Any]:
    fields = parse_qs(form_body.decode("ascii", errors="replace"))
    return parse_signed_request((fields.get("signed_request") or [""])[0], app_secrets)
