"""AI ports (transcriber, embedder, writer) and their providers."""
