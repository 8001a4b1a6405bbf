"""Distribution tasks: publish a due post (the unit is due at the post's time)."""

from __future__ import annotations

import uuid

from core.deps import CoreDeps
from core.distribution import notices, publishing, upkeep
from core.notify import outbox
from tasks.registry import task


@task(publishing.PUBLISH, max_attempts=8)
async def publish_post(post_id: str, deps: CoreDeps) -> dict[str, str | None]:
    async with deps.sessionmaker() as session:
        outcome = await publishing.publish_post(session, deps.settings, uuid.UUID(post_id))
        units = await notices.record_outcome(session, outcome)
        await session.commit()
    await outbox.flush(deps, units)
    return {"result": outcome.result, "url": outcome.url}


@task("distribution.refresh_tokens", max_attempts=3)
async def refresh_tokens(deps: CoreDeps) -> dict[str, int]:
    """Scheduled: refresh tokens that expire within a week; warn owners whose token runs out before a post."""
    refreshed, messages = await upkeep.refresh_due(deps.sessionmaker, deps.settings)
    async with deps.sessionmaker() as session:
        warnings = await upkeep.warn_expiring(session)
        await session.commit()
    await outbox.flush(deps, messages + warnings)
    return {"refreshed": refreshed, "refresh_failed": len(messages), "warned": len(warnings)}
