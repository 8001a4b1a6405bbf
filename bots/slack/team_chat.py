"""The Slack side of the team chat port (`core.workflow.ports.TeamChat`), which the `slack.*` tasks call."""

from __future__ import annotations

import uuid

from bots.slack import outbox, submissions
from bots.slack.blocks import draft_label
from core.deps import CoreDeps
from core.repurposing.models import GeneratedContent
from core.workflow.recipients import Notice


class SlackTeamChat:
    def draft_label(self, draft: GeneratedContent) -> str:
        return draft_label(draft)

    async def post_approval(self, deps: CoreDeps, draft_id: uuid.UUID, requested_by: uuid.UUID | None) -> None:
        await outbox.post_approval(deps, outbox.base_client(deps), draft_id, requested_by)

    async def deliver(self, deps: CoreDeps, notices: list[Notice]) -> None:
        await outbox.deliver(deps, outbox.base_client(deps), notices)

    async def revision_ready(self, deps: CoreDeps, request_id: uuid.UUID) -> None:
        await outbox.revision_ready(deps, outbox.base_client(deps), request_id)

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
        return await submissions.submit(
            deps, team_id=team_id, channel_id=channel_id, slack_user_id=chat_user_id, link=link, text=text
        )

    async def submit_file(
        self, deps: CoreDeps, *, team_id: str, channel_id: str | None, chat_user_id: str, file_id: str
    ) -> uuid.UUID | None:
        return await submissions.submit_file(
            deps, team_id=team_id, channel_id=channel_id, slack_user_id=chat_user_id, file_id=file_id
        )
