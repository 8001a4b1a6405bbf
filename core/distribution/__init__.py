"""Distribution domain."""
