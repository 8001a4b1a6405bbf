"""What every gateway verifier returns, and the two ways a request can be refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class BadSignature(Exception):
    """The request is not provably from the gateway. Answered 400 with no detail."""


class MalformedBody(Exception):
    """Signed (or unsignable) but not a JSON object we can name. Answered 400 and logged."""


@dataclass(frozen=True)
class VerifiedEvent:
    sender: str
    event_id: str
    event_type: str | None
    payload: dict[str, Any]


class Verifier(Protocol):
    sender: str

    async def verify(self, headers: Mapping[str, str], body: bytes) -> VerifiedEvent: ...


def parse_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedBody(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedBody("JSON body is not an object")
    return data


def split_secrets(raw: str | None) -> list[str]:
    """`"new,old"` → both, so a secret can be rotated without refusing in-flight retries."""
    return [s.strip() for s in (raw or "").split(",") if s.strip()]


def body_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()
