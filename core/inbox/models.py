"""Inbox: every inbound webhook/update, stored raw before processing (processed at most once)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, LargeBinary, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, uuid_pk


class EventStatus(StrEnum):
    """`gateway_events.status` (a text column: rows read back compare equal to these)."""

    RECEIVED = "received"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"
    # Authentic, but no event we can process: stored as received, never processed; why is in last_error.
    MALFORMED = "malformed"


class GatewayEvent(Base):
    """Raw body + headers (as bytes) kept so a failed processing can be replayed. UNIQUE(sender,
    sender_event_id): an `IntegrityError` on insert means the event was already received."""

    __tablename__ = "gateway_events"
    __table_args__ = (
        UniqueConstraint("sender", "sender_event_id"),
        Index(
            "idx_gateway_events_pending",
            "status",
            postgresql_where=text("status IN ('received', 'failed')"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # razorpay, stripe, cashfree, paypal, telegram, slack, youtube, ...
    sender: Mapped[str] = mapped_column(String(30))
    sender_event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str | None] = mapped_column(String(100))
    raw_body: Mapped[bytes] = mapped_column(LargeBinary)
    # The gateway's own headers, decoded (searchable); `raw_headers` is every header line as received.
    headers: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    raw_headers: Mapped[bytes | None] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    processed_at: Mapped[datetime | None]
    # An `EventStatus` value.
    status: Mapped[str] = mapped_column(String(20), server_default=text("'received'"))
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
