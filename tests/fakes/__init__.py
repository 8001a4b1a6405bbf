"""Fakes of external services that speak the real wire formats, for end-to-end tests."""
