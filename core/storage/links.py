"""Signed, expiring links to stored media, for platforms that fetch a file by URL (Instagram, TikTok).

A link is `PUBLIC_BASE_URL/media/<token>`; the token carries the storage key and the expiry instant with a
MAC under a key derived from RECAST_SECRET_KEY for this purpose only (`core.common.secrets.sign`, the
scheme of the calendar feed and the OAuth state). Nobody can make a link to another file or stretch its
life. After a key change, links made under a key still in RECAST_SECRET_KEYS_OLD keep working until they
expire.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Sequence

from core.common.secrets import b64, keyring, sign, unb64, verify_b64

MEDIA_LABEL = b"recast media link v1"
_EXPIRY = struct.Struct(">Q")  # seconds since the epoch, then the key's UTF-8 bytes


class ForgedLink(Exception):
    """A media token we did not issue (or one altered after we did)."""


class ExpiredLink(Exception):
    """A media token we issued whose time is over."""


class MediaLinks:
    """Makes and checks media tokens; `clock` gives seconds since the epoch."""

    def __init__(self, *, secret: str | Sequence[str], base_url: str, clock: Callable[[], float] = time.time) -> None:
        self._keys = keyring(secret)
        self.base_url = base_url.rstrip("/")
        self._clock = clock

    def _mac(self, payload: bytes) -> str:
        return b64(sign(self._keys[0], MEDIA_LABEL, payload, length=16))

    def token(self, key: str, *, expires_s: int) -> str:
        if expires_s <= 0:
            raise ValueError(f"a media link must live a positive time, not {expires_s} s")
        payload = _EXPIRY.pack(int(self._clock()) + expires_s) + key.encode()
        return f"{b64(payload)}.{self._mac(payload)}"

    def url(self, key: str, *, expires_s: int) -> str:
        return f"{self.base_url}/media/{self.token(key, expires_s=expires_s)}"

    def key_of(self, token: str) -> str:
        """The storage key a token names; `ForgedLink` or `ExpiredLink` otherwise (the MAC is checked first,
        in constant time, so nothing of an unsigned token is believed, its expiry included)."""
        head, dot, mac = token.partition(".")
        try:
            payload = unb64(head)
        except (ValueError, TypeError) as exc:
            raise ForgedLink("not a media token") from exc
        if not dot or not verify_b64(self._keys, MEDIA_LABEL, payload, mac, length=16):
            raise ForgedLink("media token signature does not match")
        if len(payload) <= _EXPIRY.size:
            raise ForgedLink("media token carries no key")
        (expires_at,) = _EXPIRY.unpack_from(payload)
        if self._clock() > expires_at:
            raise ExpiredLink(f"media link expired at {expires_at}")
        try:
            return payload[_EXPIRY.size :].decode()
        except UnicodeDecodeError as exc:  # only a token signed with our key could get here
            raise ForgedLink("media token key is not UTF-8") from exc
