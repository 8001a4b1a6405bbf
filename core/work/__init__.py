"""Durable work: every unit of background work is a row with a state, attempts and a lease."""
