"""Brand domain."""
