"""One module per payment gateway: its webhook payloads → `core.billing.facts.Facts`."""
