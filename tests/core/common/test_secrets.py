"""Secrets at rest: authenticated encryption per purpose, versioned ciphertexts, signatures per label."""

from __future__ import annotations

import pytest

from core.common import secrets


def test_a_secret_round_trips_and_is_unreadable_under_another_purpose_or_key():
    box = secrets.SecretBox("key-one", b"slack-token-encryption")
    sealed = box.encrypt("xoxb-123")
    assert sealed is not None and sealed.startswith("fernet:v2:") and "xoxb" not in sealed
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


def test_after_a_key_change_old_ciphertexts_still_decrypt_and_new_ones_name_the_new_key():
    old = secrets.SecretBox("old-key", b"platform-token")
    under_old = old.encrypt("token-1")
    legacy = secrets.PREFIX + old._fernets[secrets.key_id("old-key")].encrypt(b"token-0").decode()
    rotated = secrets.SecretBox(["new-key", "old-key"], b"platform-token")
    assert rotated.decrypt(under_old) == "token-1"
    assert rotated.decrypt(legacy) == "token-0"  # v1 values carry no key id: every key is tried
    assert not rotated.is_current(under_old) and not rotated.is_current(legacy)
    fresh = rotated.reencrypt(under_old)
    assert fresh is not None and fresh.startswith(f"{secrets.KEYED}{secrets.key_id('new-key')}:")
    assert rotated.is_current(fresh) and rotated.reencrypt(fresh) == fresh
    assert secrets.SecretBox("new-key", b"platform-token").decrypt(fresh) == "token-1"
    with pytest.raises(secrets.Undecryptable):
        secrets.SecretBox("new-key", b"platform-token").decrypt(under_old)  # old key dropped too early
    assert "old-key" not in under_old and "new-key" not in fresh  # the key id is a MAC, not the key


def test_signatures_made_under_an_old_key_verify_while_it_is_listed():
    data = b"\x02" * 16
    mac = secrets.sign("old-key", b"slack-invite", data)
    assert secrets.verify(["new-key", "old-key"], b"slack-invite", data, mac)
    assert not secrets.verify("new-key", b"slack-invite", data, mac)
    assert secrets.verify_b64(["new-key", "old-key"], b"slack-invite", data, secrets.b64(mac))
    assert not secrets.verify_b64(["new-key", "old-key"], b"other", data, secrets.b64(mac))


def test_a_mac_that_is_not_ascii_does_not_verify_and_does_not_raise():
    from core.common.secrets import verify_b64

    # Found by the OAuth callback fuzzer: hmac.compare_digest raised TypeError on it (a 500).
    assert verify_b64("key-for-the-test", b"label", b"data", "\u00e9t\u00e9") is False
