"""Connecting an account: the OAuth 2.0 authorization-code flow, started from chat, finished on `recast web`.

The `state` parameter is `<nonce>.<mac>`: the MAC (under RECAST_SECRET_KEY) proves Recast issued it; the
nonce's Redis entry (written when the flow starts, removed with GETDEL when the callback uses it, expiring
after `OAUTH_STATE_TTL_S`) makes it single-use and short-lived, and carries who asked, from which chat, and
the PKCE verifier for platforms that require PKCE.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

from core.common.secrets import b64, sign, verify_b64
from core.config import Settings
from core.distribution.errors import OAuthStateInvalid
from core.distribution.platforms.names import Platform
from core.notify.ports import ChatRef

STATE_LABEL = b"recast oauth state v1"
STATE_TTL_S = 600


def _key(nonce: str) -> str:
    return f"oauth:state:{nonce}"


def redirect_uri(settings: Settings, platform: Platform) -> str:
    return f"{settings.public_base_url.rstrip('/')}/oauth/{platform}/callback"


@dataclass(frozen=True)
class PendingConnect:
    platform: Platform
    user_id: uuid.UUID
    client_account_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    chat: ChatRef
    code_verifier: str | None


def pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


async def issue_state(redis: Redis, settings: Settings, pending: PendingConnect) -> str:
    nonce = secrets.token_urlsafe(18)
    mac = b64(sign(settings.recast_secret_key.get_secret_value(), STATE_LABEL, nonce.encode()))
    record = {
        "platform": str(pending.platform),
        "user_id": str(pending.user_id),
        "client_account_id": str(pending.client_account_id) if pending.client_account_id else None,
        "organization_id": str(pending.organization_id) if pending.organization_id else None,
        "chat": [pending.chat.provider, pending.chat.chat_id],
        "code_verifier": pending.code_verifier,
    }
    await redis.set(_key(nonce), json.dumps(record), ex=STATE_TTL_S)
    return f"{nonce}.{mac}"


async def redeem_state(redis: Redis, settings: Settings, platform: Platform, state: str) -> PendingConnect:
    """The pending connect behind `state`, consumed. `OAuthStateInvalid` if forged, used, expired or meant
    for another platform."""
    nonce, _, mac = state.partition(".")
    if not nonce or not verify_b64(settings.secret_keys(), STATE_LABEL, nonce.encode(), mac):
        raise OAuthStateInvalid(detail="state MAC mismatch")
    # Looked at before it is consumed: a state sent to another platform's callback is refused without
    # using it up, so the person's real sign-in still works. GETDEL then takes it once.
    peeked = await redis.get(_key(nonce))
    if peeked is not None and json.loads(peeked)["platform"] != platform:
        raise OAuthStateInvalid(detail="state issued for another platform")
    raw = await redis.getdel(_key(nonce))
    if raw is None:
        raise OAuthStateInvalid(detail="state unknown, used or expired")
    record = json.loads(raw)
    return PendingConnect(
        platform=platform,
        user_id=uuid.UUID(record["user_id"]),
        client_account_id=uuid.UUID(record["client_account_id"]) if record["client_account_id"] else None,
        organization_id=uuid.UUID(record["organization_id"]) if record["organization_id"] else None,
        chat=ChatRef(record["chat"][0], record["chat"][1]),
        code_verifier=record["code_verifier"],
    )


def new_code_verifier() -> str:
    return secrets.token_urlsafe(48)
