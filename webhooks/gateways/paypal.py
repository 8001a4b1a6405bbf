"""PayPal: transmission headers, verified offline with a cached certificate or by PayPal's API.

Offline: the signed message is `transmission_id|transmission_time|webhook_id|crc32(raw body)` and
`paypal-transmission-sig` is its base64 RSA-SHA256 signature by the certificate at `paypal-cert-url`.
The certificate URL comes from the request, so it is only fetched from an allow-listed PayPal host
(a forged URL pointing at an attacker's certificate would otherwise verify anything), then cached.
Without a cached certificate we ask `/v1/notifications/verify-webhook-signature` and cache the
certificate after PayPal said SUCCESS, so later events verify without a round trip.
"""

from __future__ import annotations

import base64
import binascii
import logging
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from core.billing.gateway_clients import PayPalRest
from core.billing.gateways import GatewayError
from webhooks.gateways.base import (
    BadSignature,
    VerifiedEvent,
    ascii_header,
    body_digest,
    event_text,
    parse_object,
)

log = logging.getLogger(__name__)

PAYPAL_CERT_HOSTS = frozenset(
    {
        ("https", "api.paypal.com", 443),
        ("https", "api-m.paypal.com", 443),
        ("https", "api.sandbox.paypal.com", 443),
        ("https", "api-m.sandbox.paypal.com", 443),
    }
)
_HEADERS = (
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
    "paypal-auth-algo",
)


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def signed_message(transmission_id: str, transmission_time: str, webhook_id: str, body: bytes) -> bytes:
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()


class PayPalVerifier:
    sender = "paypal"

    def __init__(
        self,
        *,
        webhook_id: str | None,
        rest: PayPalRest | None,
        extra_cert_origins: frozenset[tuple[str, str, int]] = frozenset(),
    ) -> None:
        self._webhook_id = webhook_id
        self._rest = rest
        self._allowed = PAYPAL_CERT_HOSTS | extra_cert_origins
        self.certs: dict[str, rsa.RSAPublicKey] = {}

    def cert_allowed(self, url: str) -> bool:
        try:
            return origin(url) in self._allowed
        except ValueError:  # an unparsable URL or port
            return False

    async def fetch_cert(self, url: str) -> rsa.RSAPublicKey:
        if not self.cert_allowed(url):
            raise BadSignature("certificate url not on the allow-list")
        if (key := self.certs.get(url)) is not None:
            return key
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            http.get(url, allow_redirects=False) as resp,
        ):
            if resp.status != 200:
                raise GatewayError(f"paypal cert: {resp.status}")
            pem = await resp.read()
        cert = x509.load_pem_x509_certificate(pem)
        now = datetime.now(UTC)
        if not (cert.not_valid_before_utc <= now <= cert.not_valid_after_utc):
            raise BadSignature("certificate expired or not yet valid")
        public = cert.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            raise BadSignature("certificate key is not RSA")
        self.certs[url] = public
        return public

    def verify_offline(self, key: rsa.RSAPublicKey, headers: Mapping[str, str], body: bytes) -> None:
        assert self._webhook_id is not None
        if headers.get("paypal-auth-algo", "SHA256withRSA") != "SHA256withRSA":
            raise BadSignature("unsupported algorithm")
        try:
            signature = base64.b64decode(headers["paypal-transmission-sig"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadSignature("signature is not base64") from exc
        message = signed_message(
            headers["paypal-transmission-id"], headers["paypal-transmission-time"], self._webhook_id, body
        )
        try:
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise BadSignature("signature mismatch") from exc

    async def verify_by_api(self, headers: Mapping[str, str], payload: dict[str, object]) -> None:
        assert self._rest is not None
        answer = await self._rest.post(
            "/v1/notifications/verify-webhook-signature",
            {
                "auth_algo": headers["paypal-auth-algo"],
                "cert_url": headers["paypal-cert-url"],
                "transmission_id": headers["paypal-transmission-id"],
                "transmission_sig": headers["paypal-transmission-sig"],
                "transmission_time": headers["paypal-transmission-time"],
                "webhook_id": self._webhook_id,
                "webhook_event": payload,
            },
        )
        if answer.get("verification_status") != "SUCCESS":
            raise BadSignature("paypal says FAILURE")

    async def verify(self, headers: Mapping[str, str], body: bytes) -> VerifiedEvent:
        # Every transmission header is ASCII when PayPal sends it; anything else cannot verify.
        if not self._webhook_id or any(not ascii_header(headers, h) for h in _HEADERS):
            raise BadSignature("missing transmission headers or webhook id")
        cert_url = headers["paypal-cert-url"]
        if not self.cert_allowed(cert_url):
            raise BadSignature("certificate url not on the allow-list")
        payload, malformed = parse_object(body)
        key = self.certs.get(cert_url)
        if key is not None:
            self.verify_offline(key, headers, body)
        else:
            try:
                if self._rest is None:
                    raise GatewayError("no PayPal API credentials")
                if malformed:
                    # PayPal's API is asked about the parsed event: only the certificate can vouch.
                    raise GatewayError(f"body is malformed ({malformed})")
                await self.verify_by_api(headers, payload)
            except GatewayError as exc:
                # PayPal's API unreachable (or not configured): the certificate path decides alone.
                log.warning("paypal verify API not used (%s); verifying with the certificate", exc)
                try:
                    key = await self.fetch_cert(cert_url)
                except (GatewayError, aiohttp.ClientError, ValueError) as cert_exc:
                    raise BadSignature("cannot verify") from cert_exc
                self.verify_offline(key, headers, body)
            else:
                try:
                    await self.fetch_cert(cert_url)
                except (GatewayError, aiohttp.ClientError, ValueError, BadSignature) as exc:
                    log.info("paypal cert not cached: %s", exc)
        event_id = payload.get("id")
        if not isinstance(event_id, str) or not event_id:
            event_id, malformed = body_digest(body), malformed or "event without id"
        return VerifiedEvent(self.sender, event_id, event_text(payload.get("event_type")), payload, malformed)
