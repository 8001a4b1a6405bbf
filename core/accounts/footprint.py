"""Every row Recast holds about one creator, found once for the export and the deletion alike.

A creator's rows are the ones carrying their `user_id`, plus the rows of the organizations they own (their
personal workspace) and what hangs off those (an asset's drafts, a draft's scheduled posts). One module
finds them, so `/export` and `/delete_account` can never disagree about what "your data" is.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import Organization
from core.brand.models import BrandProfile
from core.content.models import ContentAsset
from core.distribution.models import ContentCalendar, PlatformConnection, ScheduledPost
from core.repurposing.models import GeneratedContent, RepurposingJob

# Columns that hold secrets (plain or encrypted): never exported, never copied anywhere.
SECRET_COLUMNS = frozenset({"password_hash", "access_token", "refresh_token", "token", "bot_token"})


@dataclass
class Footprint:
    user_id: uuid.UUID
    organization_ids: list[uuid.UUID] = field(default_factory=list)
    asset_ids: list[uuid.UUID] = field(default_factory=list)
    brand_ids: list[uuid.UUID] = field(default_factory=list)
    draft_ids: list[uuid.UUID] = field(default_factory=list)
    job_ids: list[uuid.UUID] = field(default_factory=list)
    connection_ids: list[uuid.UUID] = field(default_factory=list)
    post_ids: list[uuid.UUID] = field(default_factory=list)
    calendar_ids: list[uuid.UUID] = field(default_factory=list)


def _in(column: Any, ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    return column.in_(ids) if ids else false()


async def _ids(session: AsyncSession, column: Any, *where: ColumnElement[bool]) -> list[uuid.UUID]:
    # Soft-deleted rows are still the creator's data: exported and deleted too.
    stmt = select(column).where(or_(*where)).order_by(column).execution_options(include_deleted=True)
    return list((await session.scalars(stmt)).all())


async def footprint(*, session: AsyncSession, user_id: uuid.UUID) -> Footprint:
    """The ids of the creator's rows in the tables that others hang off."""
    fp = Footprint(user_id=user_id)
    fp.organization_ids = await _ids(session, Organization.id, Organization.owner_id == user_id)
    orgs = fp.organization_ids
    fp.asset_ids = await _ids(
        session, ContentAsset.id, ContentAsset.user_id == user_id, _in(ContentAsset.organization_id, orgs)
    )
    fp.brand_ids = await _ids(
        session, BrandProfile.id, BrandProfile.user_id == user_id, _in(BrandProfile.organization_id, orgs)
    )
    fp.draft_ids = await _ids(
        session,
        GeneratedContent.id,
        GeneratedContent.user_id == user_id,
        _in(GeneratedContent.content_asset_id, fp.asset_ids),
    )
    fp.job_ids = await _ids(
        session,
        RepurposingJob.id,
        RepurposingJob.user_id == user_id,
        _in(RepurposingJob.content_asset_id, fp.asset_ids),
        _in(RepurposingJob.organization_id, orgs),
    )
    fp.connection_ids = await _ids(
        session,
        PlatformConnection.id,
        PlatformConnection.user_id == user_id,
        _in(PlatformConnection.organization_id, orgs),
    )
    fp.post_ids = await _ids(
        session,
        ScheduledPost.id,
        ScheduledPost.user_id == user_id,
        _in(ScheduledPost.generated_content_id, fp.draft_ids),
        _in(ScheduledPost.platform_connection_id, fp.connection_ids),
    )
    fp.calendar_ids = await _ids(
        session, ContentCalendar.id, ContentCalendar.user_id == user_id, _in(ContentCalendar.organization_id, orgs)
    )
    return fp
