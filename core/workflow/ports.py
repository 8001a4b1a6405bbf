"""The team chat port: what worker tasks ask of a team's chat workspace (Slack) without importing its SDK.

Rendering (Block Kit), workspace tokens and the chat's own API calls stay in the adapter (`bots/slack`);
the `slack.*` tasks call these methods through `CoreDeps.team_chat`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.deps import CoreDeps
    from core.repurposing.models import GeneratedContent
    from core.workflow.recipients import Notice


class TeamChat(Protocol):
    def draft_label(self, draft: GeneratedContent) -> str:
        """How a draft is named in the chat's messages."""
        ...

    async def post_approval(self, deps: CoreDeps, draft_id: uuid.UUID, requested_by: uuid.UUID | None) -> None:
        """Open the draft's approval request and post it to its client's channel (once)."""
        ...

    async def deliver(self, deps: CoreDeps, notices: list[Notice]) -> None:
        """Send notices to their recipients (Telegram ones through the notifier, chat ones as DMs)."""
        ...

    async def revision_ready(self, deps: CoreDeps, request_id: uuid.UUID) -> None:
        """A revised version of the request's draft was written: post it and redraw what shows the request."""
        ...

    async def submit_link(
        self,
        deps: CoreDeps,
        *,
        team_id: str,
        channel_id: str,
        chat_user_id: str,
        link: str | None,
        text: str | None,
    ) -> uuid.UUID | None:
        """A link or pasted text sent from the chat into the pipeline; the content asset's id, if one was made."""
        ...

    async def submit_file(
        self, deps: CoreDeps, *, team_id: str, channel_id: str | None, chat_user_id: str, file_id: str
    ) -> uuid.UUID | None:
        """A file shared in the chat into the pipeline; the content asset's id, if one was made."""
        ...
