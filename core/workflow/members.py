"""Team roles: who is an active member of an organization, in which role, and what they are called."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import TeamMember, User
from core.workflow.errors import (
    NotAManager,
)

ROLES = ("owner", "admin", "manager", "creator", "client")


MANAGER_ROLES = frozenset({"owner", "admin", "manager"})


async def role_in(session: AsyncSession, organization_id: uuid.UUID | None, user_id: uuid.UUID) -> str | None:
    if organization_id is None:
        return None
    return await session.scalar(
        select(TeamMember.role).where(
            TeamMember.organization_id == organization_id,
            TeamMember.user_id == user_id,
            or_(TeamMember.status.is_(None), TeamMember.status == "active"),
        )
    )


async def member_role(*, session: AsyncSession, organization_id: uuid.UUID, user_id: uuid.UUID) -> str | None:
    """The user's role in the organization, or None when they aren't an active member."""
    return await role_in(session, organization_id, user_id)


async def require_manager(*, session: AsyncSession, organization_id: uuid.UUID, user_id: uuid.UUID) -> str:
    role = await role_in(session, organization_id, user_id)
    if role not in MANAGER_ROLES:
        raise NotAManager()
    return str(role)


async def display_name(*, session: AsyncSession, user_id: uuid.UUID | None) -> str | None:
    if user_id is None:
        return None
    return await session.scalar(select(User.full_name).where(User.id == user_id))
