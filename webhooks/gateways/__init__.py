"""One verifier per payment gateway: check the signature on the raw bytes, name the event."""
