"""Secrets at rest: authenticated encryption per purpose, versioned ciphertexts, signatures per label."""

from __future__ import annotations

import pytest

from core.common import secrets


def test_a_secret_round_trips_and_is_unreadable_under_another_purpose_or_key():
    box = secrets.SecretBox("key-one", b"slack-token-encryption")
    sealed = box.encrypt("xoxb-123")
    assert sealed is not None and sealed.startswith("fernet:v1:") and "xoxb" not in sealed
    assert box.encrypt(sealed) == sealed  # already sealed: not sealed twice
    assert box.decrypt(sealed) == "xoxb-123"
    assert box.decrypt("legacy-plaintext") == "legacy-plaintext"  # stored before encryption existed
    for other in (
        secrets.SecretBox("key-one", b"platform-token"),
        secrets.SecretBox("key-two", b"slack-token-encryption"),
    ):
        with pytest.raises(secrets.Undecryptable):
            other.decrypt(sealed)


def test_signatures_depend_on_the_label_and_the_key():
    data = b"\x01" * 16
    assert secrets.sign("k", b"slack-invite", data) == secrets.sign("k", b"slack-invite", data)
    assert secrets.sign("k", b"slack-invite", data) != secrets.sign("k", b"other", data)
    assert secrets.sign("k", b"slack-invite", data) != secrets.sign("k2", b"slack-invite", data)
    assert secrets.unb64(secrets.b64(data)) == data
