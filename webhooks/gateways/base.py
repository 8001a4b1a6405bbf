"""What every gateway verifier returns, and the two ways a request can be refused or set aside."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from core.inbox.payload import MalformedPayload
from core.inbox.payload import parse_object as parse_payload


class BadSignature(Exception):
    """The request is not provably from the gateway. Answered 400 with no detail, nothing stored."""


class MalformedBody(Exception):
    """Raised by a verifier only once the request is proven authentic: stored as `malformed`."""


@dataclass(frozen=True)
class VerifiedEvent:
    sender: str
    event_id: str
    event_type: str | None
    payload: dict[str, Any]
    # Why an authentic request is no event we can process (stored, never processed); None if it is.
    malformed: str | None = None


class Verifier(Protocol):
    sender: str

    async def verify(self, headers: Mapping[str, str], body: bytes) -> VerifiedEvent: ...


def parse_object(body: bytes) -> tuple[dict[str, Any], str | None]:
    """The JSON object, or `({}, reason)` when the (already verified) body is malformed."""
    try:
        return parse_payload(body), None
    except MalformedPayload as exc:
        return {}, str(exc)


def ascii_header(headers: Mapping[str, str], name: str) -> str:
    """A signature-scheme header, or "" when it is missing or not ASCII (so it cannot verify)."""
    value = headers.get(name, "")
    return value if value.isascii() else ""


def split_secrets(raw: str | None) -> list[str]:
    """`"new,old"` → both, so a secret can be rotated without refusing in-flight retries."""
    return [s.strip() for s in (raw or "").split(",") if s.strip()]


def signed_by_any(secrets: list[bytes], data: bytes, given_hex: bytes, digest: Any = hashlib.sha256) -> bool:
    """Whether `given_hex` is the hex HMAC of `data` under one of `secrets` (constant-time compares)."""
    return any(hmac.compare_digest(hmac.new(s, data, digest).hexdigest().encode(), given_hex) for s in secrets)


def body_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def event_text(value: Any) -> str | None:
    """A payload's event type or id as text (None when absent)."""
    return str(value) if value is not None and value != "" else None
