"""One module per platform: its OAuth client and its publisher, both speaking the platform's documented API."""
