"""Inbox domain."""
