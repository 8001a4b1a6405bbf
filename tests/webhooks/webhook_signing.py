"""Signed requests built the way each gateway documents its scheme (test helper)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

RAZORPAY_SECRET = "rzp_whsec_test"
STRIPE_SECRET = "whsec_test_new"
STRIPE_OLD_SECRET = "whsec_test_old"
CASHFREE_SECRET = "cf_secret_test"
PAYPAL_WEBHOOK_ID = "WH-TEST-123"


def body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def razorpay(raw: bytes, *, secret: str = RAZORPAY_SECRET, event_id: str | None = None) -> dict[str, str]:
    return {
        "X-Razorpay-Signature": hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest(),
        "x-razorpay-event-id": event_id or "evt_" + uuid.uuid4().hex[:14],
        "Content-Type": "application/json",
    }


def stripe_v1(raw: bytes, secret: str, ts: int) -> str:
    return hmac.new(secret.encode(), f"{ts}.".encode() + raw, hashlib.sha256).hexdigest()


def stripe(raw: bytes, *, secrets: tuple[str, ...] = (STRIPE_SECRET,), ts: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    sigs = ",".join(f"v1={stripe_v1(raw, s, ts)}" for s in secrets)
    return {"Stripe-Signature": f"t={ts},{sigs}", "Content-Type": "application/json"}


def cashfree(raw: bytes, *, secret: str = CASHFREE_SECRET, ts_ms: int | None = None) -> dict[str, str]:
    ts = str(int(time.time() * 1000) if ts_ms is None else ts_ms)
    sig = base64.b64encode(hmac.new(secret.encode(), ts.encode() + raw, hashlib.sha256).digest()).decode()
    return {
        "x-webhook-signature": sig,
        "x-webhook-timestamp": ts,
        "x-webhook-version": "2023-08-01",
        "Content-Type": "application/json",
    }


class PayPalSigner:
    """A self-signed certificate standing in for PayPal's signing certificate."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts.paypal.com")])
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM)

    def headers(self, raw: bytes, cert_url: str, *, webhook_id: str = PAYPAL_WEBHOOK_ID) -> dict[str, str]:
        tid, ttime = str(uuid.uuid4()), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        message = f"{tid}|{ttime}|{webhook_id}|{zlib.crc32(raw)}".encode()
        sig = base64.b64encode(self.key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
        return {
            "paypal-transmission-id": tid,
            "paypal-transmission-time": ttime,
            "paypal-transmission-sig": sig,
            "paypal-cert-url": cert_url,
            "paypal-auth-algo": "SHA256withRSA",
            "Content-Type": "application/json",
        }
