"""Short-lived chat state for /export and /delete_account, in Redis (every key with a TTL).

Deletion: `/delete_account` offers a one-time nonce carried by its Confirm button. Pressing it claims the
nonce atomically (compare-and-set), so a double tap or a second device deletes once, and the second press
learns whether the first is still running or done. Keys are per chat account (not per Recast user): after
the deletion the user row may be gone, and a late press must still get a truthful answer.

Export: one export at a time per chat account, then a short cool-down so repeated taps don't rebuild and
resend large files (Telegram limits bots per chat, too).
"""

from __future__ import annotations

import secrets
from enum import StrEnum

from redis.asyncio import Redis

CONFIRM_TTL_S = 600
EXPORT_BUSY_TTL_S = 900
EXPORT_COOLDOWN_S = 600

# KEYS[1]: the confirmation key. ARGV: the nonce pressed, the value to set when it matches, TTL seconds.
# Returns "ok" when the nonce was live and is now claimed, else the current value (nil when none).
_CLAIM = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
  return 'ok'
end
return v
"""


class Claim(StrEnum):
    OK = "ok"  # this press owns the deletion
    RUNNING = "running"  # another press of this button is deleting right now
    DONE = "done"  # this button already deleted the account
    EXPIRED = "expired"  # no live confirmation with this nonce (timed out, cancelled or replaced)


def _key(namespace: str, kind: str, subject: str) -> str:
    key = f"account:{kind}:{subject}"
    return f"{namespace}:{key}" if namespace else key


class DeletionConfirmations:
    def __init__(self, redis: Redis, *, namespace: str = "") -> None:
        self.redis = redis
        self.namespace = namespace

    def _k(self, subject: str) -> str:
        return _key(self.namespace, "delete-confirm", subject)

    async def offer(self, subject: str) -> str:
        """A new nonce for the Confirm button (replacing any earlier offer)."""
        nonce = secrets.token_hex(8)
        await self.redis.set(self._k(subject), nonce, ex=CONFIRM_TTL_S)
        return nonce

    async def claim(self, subject: str, nonce: str) -> Claim:
        found = await self.redis.eval(_CLAIM, 1, self._k(subject), nonce, f"running:{nonce}", CONFIRM_TTL_S)
        value = found.decode() if isinstance(found, bytes) else found
        if value == "ok":
            return Claim.OK
        if value == f"running:{nonce}":
            return Claim.RUNNING
        if value == f"done:{nonce}":
            return Claim.DONE
        return Claim.EXPIRED

    async def finish(self, subject: str, nonce: str) -> None:
        await self.redis.set(self._k(subject), f"done:{nonce}", ex=CONFIRM_TTL_S)

    async def release(self, subject: str) -> None:
        """The claimed deletion did not happen: the button no longer works, /delete_account starts again."""
        await self.redis.delete(self._k(subject))

    async def withdraw(self, subject: str, nonce: str) -> Claim:
        """Cancel: the offer ends if it is still open. Returns what the nonce was (OK: it was open)."""
        claim = await self.claim(subject, nonce)
        if claim is Claim.OK:
            await self.redis.delete(self._k(subject))
        return claim


class ExportSlots:
    def __init__(self, redis: Redis, *, namespace: str = "") -> None:
        self.redis = redis
        self.namespace = namespace

    def _k(self, subject: str) -> str:
        return _key(self.namespace, "export", subject)

    async def take(self, subject: str) -> tuple[bool, str | None, int]:
        """(True, ...) if this request may build an export now; else (False, "preparing" | "sent", seconds left)."""
        if await self.redis.set(self._k(subject), "preparing", nx=True, ex=EXPORT_BUSY_TTL_S):
            return True, None, 0
        value = await self.redis.get(self._k(subject))
        ttl = int(await self.redis.ttl(self._k(subject)))
        state = value.decode() if isinstance(value, bytes) else value
        return False, state, max(ttl, 1)

    async def sent(self, subject: str) -> None:
        await self.redis.set(self._k(subject), "sent", ex=EXPORT_COOLDOWN_S)

    async def free(self, subject: str) -> None:
        await self.redis.delete(self._k(subject))
