"""One database session per Slack request.

Bolt-python's `next()` in an app middleware does not wrap the listener (the listener runs after the
middleware chain returns), so the middleware only opens the session and puts it in `context["session"]`;
`finish_request_session`, called by the HTTP mount after `async_dispatch` (the listener has finished:
the app runs with `process_before_response=True`), is its one owner of the commit. It also says audit rows
come through the `slack` channel, with the workspace and user as actor.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.session import maintenance_scope, set_acting
from core.db.tenancy import act_for
from core.deps import CoreDeps
from core.integrations import slack_links
from core.system.audit import AuditSource, set_source


class RequestSession(AsyncSession):
    """A session that belongs to one Slack request. Bolt deep-copies the context for lazy listeners;
    refusing the copy makes bolt leave it out, so lazy work (after the response) opens its own session."""

    def __deepcopy__(self, memo: dict[int, Any]) -> RequestSession:
        raise TypeError("a request's database session is not shared with lazy listeners")


def session_middleware(deps: CoreDeps) -> Callable[..., Awaitable[Any]]:
    async def middleware(context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]) -> Any:  # noqa: A002
        session = RequestSession(**deps.sessionmaker.kw)
        organization_id = await _team_organization(deps, context.team_id)
        if organization_id is not None:
            # Row-level security: the request, the lazy listeners it starts (asyncio tasks copy the
            # context) and the work it queues act for the workspace's organization alone.
            act_for(session, organization_id)
            set_acting(organization_id)
        context["session"] = session
        # Set, not scoped: the listener runs after this returns, in this request's task, and lazy listeners
        # are tasks created after it (each copies it). The web middleware's reset ends it with the request.
        actor = f"slack:{context.team_id or context.enterprise_id}/{context.user_id}" if context.user_id else None
        set_source(AuditSource("slack", actor=actor))  # the HTTP peer is Slack: no address kept
        return await next()

    return middleware


async def _team_organization(deps: CoreDeps, team_id: str | None) -> uuid.UUID | None:
    """The organization a workspace belongs to (None before `/recast setup` links one): read as maintenance,
    since which organization acts is what is being found."""
    if not team_id:
        return None
    async with maintenance_scope(deps.sessionmaker) as session:
        found = await slack_links.workspace(session=session, team_id=team_id)
        return found.organization_id if found is not None else None


async def finish_request_session(context: dict[str, Any], *, ok: bool) -> None:
    """Commit (or roll back when the listener failed) and close the request's session, if one was opened."""
    session = context.pop("session", None)
    if not isinstance(session, AsyncSession):
        return
    try:
        if ok:
            await session.commit()
        else:
            await session.rollback()
    finally:
        await session.close()
