"""YouTube push notifications (WebSub through pubsubhubbub.appspot.com): the hub first verifies intent with
`GET ?hub.mode=subscribe&hub.topic=...&hub.challenge=...&hub.lease_seconds=...`, answered with the
challenge only for a topic Recast subscribed to; then it POSTs Atom feeds signed with
`X-Hub-Signature: sha1=<hex HMAC-SHA1(the subscription's secret, raw body)>`."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from core.distribution.platforms.youtube_feed import parse_feed
from webhooks.gateways.base import BadSignature, VerifiedEvent, ascii_header, body_digest, signed_by_any

TOPIC_PREFIX = "https://www.youtube.com/xml/feeds/videos.xml?channel_id="


def intent_challenge(query: Mapping[str, str], known_channels: set[str]) -> str | None:
    topic = query.get("hub.topic", "")
    if query.get("hub.mode") not in ("subscribe", "unsubscribe") or not topic.startswith(TOPIC_PREFIX):
        return None
    if topic.removeprefix(TOPIC_PREFIX) not in known_channels:
        return None
    return query.get("hub.challenge") or None


class YouTubeVerifier:
    sender = "youtube"

    def __init__(self, secrets: list[str]) -> None:
        self._secrets = [s.encode() for s in secrets]

    async def verify(self, headers: Mapping[str, str], body: bytes) -> VerifiedEvent:
        signature = ascii_header(headers, "X-Hub-Signature").strip().lower()
        if not signature.startswith("sha1=") or not self._secrets:
            raise BadSignature("missing signature or secret")
        given = signature.removeprefix("sha1=").encode()
        if not signed_by_any(self._secrets, body, given, hashlib.sha1):
            raise BadSignature("signature mismatch")
        payload, malformed = parse_feed(body)
        return VerifiedEvent(self.sender, body_digest(body), "feed", payload, malformed)
