"""Each platform's webhook signature is checked on the exact bytes, and each handshake answers only what
it should: a forged, stale or altered delivery is refused; a handshake without our token or topic is too."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from core.distribution.platforms.meta_signed import SignatureInvalid, parse_signed_request
from webhooks.gateways.base import BadSignature
from webhooks.platforms import linkedin, meta, tiktok, youtube

SECRET = "app-secret"
BODY = json.dumps({"object": "instagram", "entry": [{"id": "1784", "changes": [{"field": "comments"}]}]}).encode()
ATOM = b"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns="http://www.w3.org/2005/Atom">
 <entry><yt:videoId>dQw4w9WgXcQ</yt:videoId><yt:channelId>UCabc</yt:channelId><title>Consistency</title>
  <published>2026-12-02T01:00:00+00:00</published><updated>2026-12-02T01:05:00+00:00</updated></entry>
</feed>"""


def _hex(key: str, data: bytes, algo=hashlib.sha256) -> str:  # type: ignore[no-untyped-def]
    return hmac.new(key.encode(), data, algo).hexdigest()


async def test_meta_accepts_its_signature_and_refuses_an_altered_body() -> None:
    verifier = meta.MetaVerifier([SECRET])
    event = await verifier.verify({"X-Hub-Signature-256": "sha256=" + _hex(SECRET, BODY)}, BODY)
    assert event.event_type == "instagram" and event.malformed is None
    with pytest.raises(BadSignature):
        await verifier.verify({"X-Hub-Signature-256": "sha256=" + _hex(SECRET, BODY)}, BODY + b" ")
    with pytest.raises(BadSignature):
        await verifier.verify({}, BODY)


def test_meta_handshake_needs_our_verify_token() -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert meta.subscription_challenge(query, "tok") == "1158201444"
    assert meta.subscription_challenge({**query, "hub.verify_token": "guess"}, "tok") is None
    assert meta.subscription_challenge(query, None) is None


def test_meta_signed_request_is_checked_before_it_is_read() -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"algorithm": "HMAC-SHA256", "user_id": "1784"}).encode())
    encoded = payload.decode().rstrip("=")
    signature = base64.urlsafe_b64encode(hmac.new(SECRET.encode(), encoded.encode(), hashlib.sha256).digest())
    signed = signature.decode().rstrip("=") + "." + encoded
    assert parse_signed_request(signed, [SECRET])["user_id"] == "1784"
    with pytest.raises(SignatureInvalid):
        parse_signed_request(signed, ["another-secret"])
    with pytest.raises(SignatureInvalid):
        parse_signed_request("garbage", [SECRET])


async def test_linkedin_challenge_and_signature() -> None:
    answer = linkedin.challenge_response("f0b1c2d3-0000-4000-8000-000000000000", SECRET)
    assert answer["challengeResponse"] == _hex(SECRET, b"f0b1c2d3-0000-4000-8000-000000000000")
    verifier = linkedin.LinkedInVerifier([SECRET])
    body = json.dumps({"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notificationId": 42}).encode()
    for header in (_hex(SECRET, body), "hmacsha256=" + _hex(SECRET, body)):
        event = await verifier.verify({"X-LI-Signature": header}, body)
        assert event.event_id == "42"
    with pytest.raises(BadSignature):
        await verifier.verify({"X-LI-Signature": _hex("wrong", body)}, body)


async def test_tiktok_refuses_stale_and_forged_signatures() -> None:
    verifier = tiktok.TikTokVerifier([SECRET])
    body = json.dumps({"event": "post.publish.complete", "user_openid": "act.1"}).encode()
    now = str(int(time.time()))
    event = await verifier.verify({"TikTok-Signature": f"t={now},s={_hex(SECRET, now.encode() + b'.' + body)}"}, body)
    assert event.event_type == "post.publish.complete"
    old = str(int(time.time()) - 3600)
    with pytest.raises(BadSignature, match="stale"):
        await verifier.verify({"TikTok-Signature": f"t={old},s={_hex(SECRET, old.encode() + b'.' + body)}"}, body)
    with pytest.raises(BadSignature):
        await verifier.verify({"TikTok-Signature": f"t={now},s={_hex(SECRET, body)}"}, body)


async def test_youtube_feed_is_verified_and_parsed_and_intent_only_for_our_channels() -> None:
    verifier = youtube.YouTubeVerifier([SECRET])
    event = await verifier.verify({"X-Hub-Signature": "sha1=" + _hex(SECRET, ATOM, hashlib.sha1)}, ATOM)
    assert event.payload["videos"][0]["video_id"] == "dQw4w9WgXcQ"
    with pytest.raises(BadSignature):
        await verifier.verify({"X-Hub-Signature": "sha1=" + _hex("x", ATOM, hashlib.sha1)}, ATOM)
    query = {"hub.mode": "subscribe", "hub.topic": youtube.TOPIC_PREFIX + "UCabc", "hub.challenge": "c1"}
    assert youtube.intent_challenge(query, {"UCabc"}) == "c1"
    assert youtube.intent_challenge(query, {"UCother"}) is None
