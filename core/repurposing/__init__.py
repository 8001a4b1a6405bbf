"""Repurposing domain."""
