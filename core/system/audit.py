"""Audit trail: every state transition worth explaining later gets an `audit_logs` row.

Each row carries the door it came through: `AuditSource` (channel, source address, user agent, actor),
set by the adapter at its edge (`acting_as`) and filled in by `core.system.models` for every `AuditLog`,
whether made here or directly. Metadata is scrubbed of secrets on the way in (`core.common.redaction`).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.system.audit_source import CHANNELS, AuditSource, acting_as, current, reset, set_source
from core.system.models import AuditLog

__all__ = ["CHANNELS", "AuditSource", "acting_as", "current", "record", "reset", "set_source"]


async def record(
    *,
    session: AsyncSession,
    action: str,
    user_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    resource_type: str | None = None,
    resource_id: uuid.UUID | None = None,
    metadata: dict[str, Any] | None = None,
) -> AuditLog:
    """An audit row; the channel, address and user agent come from the current `AuditSource`."""
    entry = AuditLog(
        action=action,
        user_id=user_id,
        organization_id=organization_id,
        resource_type=resource_type,
        resource_id=resource_id,
        metadata_=metadata or {},
    )
    session.add(entry)
    await session.flush()
    return entry
