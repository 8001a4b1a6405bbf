"""The rules of who a Slack user is to Recast and what they may do from Slack, without Slack: the adapter hands
in the facts (a profile e-mail, the admin flag)."""

from __future__ import annotations

import uuid

import pytest

from core.integrations import slack_links, slack_people
from core.integrations.errors import NotAWorkspaceAdmin, NoWorkflow, SlackUserNotLinked, WorkspaceNotLinked
from core.workflow.errors import InvalidWorkflow
from tests.core.workflow.builders import build_team


async def test_a_member_links_by_team_email_once_and_then_by_their_slack_link(core_deps):
    team_id, slack_user = f"T{uuid.uuid4().hex[:8]}", f"U{uuid.uuid4().hex[:8]}"
    asked: list[str] = []
    async with core_deps.sessionmaker() as s:
        team = await build_team(s)
        await slack_links.link_workspace(session=s, team_id=team_id, organization_id=team.org.id)

        async def email() -> str | None:
            asked.append(slack_user)
            return team.manager.email.upper()  # Slack's e-mail, matched without case

        first = await slack_people.identify(session=s, slack_user_id=slack_user, team_id=team_id, email=email)
        again = await slack_people.identify(session=s, slack_user_id=slack_user, team_id=team_id, email=email)
        assert first == again == team.manager.id and asked == [slack_user]  # linked: Slack isn't asked again
        assert await slack_people.approvers_of(session=s, slack_user_ids=[slack_user]) == [team.manager.id]
        with pytest.raises(InvalidWorkflow):
            await slack_people.approvers_of(session=s, slack_user_ids=["U0NOBODY"])

        async def no_email() -> str | None:
            return None

        with pytest.raises(SlackUserNotLinked):
            await slack_people.check_submitter(
                session=s, team_id=team_id, channel_id=None, slack_user_id="U0NOBODY", email=no_email
            )
        with pytest.raises(NoWorkflow):  # a member, but no workflow would review the drafts
            await slack_people.check_submitter(
                session=s, team_id=team_id, channel_id=None, slack_user_id=slack_user, email=no_email
            )
        with pytest.raises(WorkspaceNotLinked):
            await slack_people.check_submitter(
                session=s, team_id="T0UNLINKED", channel_id=None, slack_user_id=slack_user, email=no_email
            )


def test_only_a_slack_admin_starts_an_agency_and_only_for_an_unlinked_workspace():
    assert slack_people.can_start_agency(None, slack_admin=True)
    assert not slack_people.can_start_agency(None, slack_admin=False)
    slack_people.require_workspace_admin(slack_admin=True)
    with pytest.raises(NotAWorkspaceAdmin):
        slack_people.require_workspace_admin(slack_admin=False)
