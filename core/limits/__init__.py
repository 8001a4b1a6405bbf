"""Flood control for every door: sliding-window counters in Redis (`ratelimit:{subject}:{endpoint}`)."""
