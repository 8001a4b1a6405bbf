"""Linking Slack to Recast over HTTP: `/recast link`, `/recast channel`, `/recast member`, `/recast install-link`,
with signed requests to the real bolt app, a local Slack Web API (users.info by email) and a real database."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from core.accounts.models import ChatIdentity, ClientAccount, TeamMember, User
from core.db.session import session_scope
from core.workflow.slack_models import SlackChannel, SlackWorkspace
from core.workflow.slack_secrets import install_code
from tests.core.workflow.builders import Team, build_team


def new_team_id() -> str:
    return f"T{uuid.uuid4().hex[:10].upper()}"


def new_user_id() -> str:
    return f"U{uuid.uuid4().hex[:10].upper()}"


async def fresh_team(deps) -> Team:
    async with session_scope(deps.sessionmaker) as s:
        return await build_team(s)


async def ephemeral_to(fake_slack, user: str, count: int = 1):
    return await fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == user, count=count)


async def identity_of(deps, slack_user: str) -> uuid.UUID | None:
    async with deps.sessionmaker() as s:
        return await s.scalar(
            select(ChatIdentity.user_id).where(
                ChatIdentity.provider == "slack", ChatIdentity.external_user_id == slack_user
            )
        )


async def test_an_owner_found_by_slack_email_links_the_workspace(deps, slack, fake_slack):
    team = await fresh_team(deps)
    team_id, owner = new_team_id(), new_user_id()
    fake_slack.add_user(owner, team.owner.email.upper(), "Olivia")  # Slack may capitalise emails

    assert await slack.command(owner, f"link {team.org.slug}", team=team_id, channel="C0GENERAL") == ""
    (note,) = await ephemeral_to(fake_slack, owner)
    assert "linked to *Northwind Agency*" in note.params["text"] and "<#C0GENERAL>" in note.params["text"]
    async with deps.sessionmaker() as s:
        ws = await s.get_one(SlackWorkspace, team_id)
    assert (ws.organization_id, ws.default_channel_id) == (team.org.id, "C0GENERAL")
    assert await identity_of(deps, owner) == team.owner.id
    assert [c.params["user"] for c in fake_slack.calls_to("users.info")] == [owner]


async def test_only_owners_and_admins_may_link_and_unknown_organizations_are_explained(deps, slack, fake_slack):
    team = await fresh_team(deps)
    team_id, manager, stranger = new_team_id(), new_user_id(), new_user_id()
    fake_slack.add_user(manager, team.manager.email, "Manoj")
    fake_slack.add_user(stranger, "stranger@example.org", "Stan")

    await slack.command(manager, f"link {team.org.slug}", team=team_id)
    (refused,) = await ephemeral_to(fake_slack, manager)
    assert "Only the organization's owners and admins" in refused.params["text"]
    await slack.command(stranger, f"link {team.org.slug}", team=team_id)
    (unknown,) = await ephemeral_to(fake_slack, stranger)
    assert "don't know your Slack account" in unknown.params["text"]
    await slack.command(manager, "link no-such-agency", team=team_id)
    notes = await ephemeral_to(fake_slack, manager, count=2)
    assert "I don't know that organization" in notes[1].params["text"]
    async with deps.sessionmaker() as s:
        assert await s.get(SlackWorkspace, team_id) is None


async def test_an_install_code_links_too_and_a_forged_one_is_refused(deps, slack, fake_slack):
    team = await fresh_team(deps)
    team_id, owner = new_team_id(), new_user_id()
    fake_slack.add_user(owner, team.owner.email, "Olivia")
    secret = deps.settings.recast_secret_key.get_secret_value()
    code = install_code(secret, team.org.id)
    forged = install_code("another-secret", team.org.id)

    await slack.command(owner, f"link {forged}", team=team_id)
    (refused,) = await ephemeral_to(fake_slack, owner)
    assert "I don't know that organization" in refused.params["text"]
    await slack.command(owner, f"link {code}", team=team_id)
    notes = await ephemeral_to(fake_slack, owner, count=2)
    assert "linked to *Northwind Agency*" in notes[1].params["text"]
    async with deps.sessionmaker() as s:
        assert (await s.get_one(SlackWorkspace, team_id)).organization_id == team.org.id


async def test_channel_links_a_client_account_creating_it_when_missing(deps, slack, fake_slack):
    team = await fresh_team(deps)
    team_id, owner, manager = new_team_id(), new_user_id(), new_user_id()
    fake_slack.add_user(owner, team.owner.email, "Olivia")
    fake_slack.add_user(manager, team.manager.email, "Manoj")
    await slack.command(owner, f"link {team.org.slug}", team=team_id, channel="C0GENERAL")
    await ephemeral_to(fake_slack, owner)

    await slack.command(owner, "channel acme", team=team_id, channel="C0ACME")
    notes = await ephemeral_to(fake_slack, owner, count=2)
    assert "Drafts for *Acme Foods* are now reviewed in this channel" in notes[1].params["text"]
    await slack.command(owner, "channel Globex Retail", team=team_id, channel="C0GLOBEX")
    notes = await ephemeral_to(fake_slack, owner, count=3)
    assert "*Globex Retail* (a new client account)" in notes[2].params["text"]
    await slack.command(manager, "channel Initech", team=team_id, channel="C0INITECH")
    (refused,) = await ephemeral_to(fake_slack, manager)
    assert "Only the organization's owners and admins" in refused.params["text"]

    async with deps.sessionmaker() as s:
        rows = (await s.execute(
            select(SlackChannel.channel_id, ClientAccount.name, ClientAccount.slug)
            .join(ClientAccount, ClientAccount.id == SlackChannel.client_account_id)
            .where(SlackChannel.team_id == team_id).order_by(SlackChannel.channel_id)
        )).all()
    assert [tuple(r) for r in rows] == [("C0ACME", "Acme Foods", "acme"),
                                        ("C0GLOBEX", "Globex Retail", "globex-retail")]


async def test_channel_in_an_unlinked_workspace_says_how_to_link(deps, slack, fake_slack):
    team = await fresh_team(deps)
    owner = new_user_id()
    fake_slack.add_user(owner, team.owner.email, "Olivia")
    await slack.command(owner, "channel Acme", team=new_team_id())
    (note,) = await ephemeral_to(fake_slack, owner)
    assert "isn't linked to a Recast organization yet" in note.params["text"]


async def test_member_sets_a_slack_users_role_and_only_owners_grant_owner(deps, slack, fake_slack):
    team = await fresh_team(deps)
    team_id, owner, newcomer = new_team_id(), new_user_id(), new_user_id()
    fake_slack.add_user(owner, team.owner.email, "Olivia")
    email = f"priya-{uuid.uuid4().hex[:6]}@example.in"
    fake_slack.add_user(newcomer, email, "Priya Nair")
    await slack.command(owner, f"link {team.org.slug}", team=team_id)
    await ephemeral_to(fake_slack, owner)

    await slack.command(owner, f"member <@{newcomer}|priya> manager", team=team_id)
    notes = await ephemeral_to(fake_slack, owner, count=2)
    assert f"<@{newcomer}> is now a team manager" in notes[1].params["text"]
    user_id = await identity_of(deps, newcomer)
    async with deps.sessionmaker() as s:
        user = await s.get_one(User, user_id)
        member = await s.scalar(select(TeamMember).where(TeamMember.organization_id == team.org.id,
                                                         TeamMember.user_id == user_id))
    assert (user.email, user.full_name, member.role, member.invited_by) == (email, "Priya Nair", "manager",
                                                                            team.owner.id)

    # An admin (promoted by the owner) may manage roles, but not hand out ownership.
    await slack.command(owner, f"member <@{newcomer}> admin", team=team_id)
    await ephemeral_to(fake_slack, owner, count=3)
    await slack.command(newcomer, f"member <@{newcomer}> owner", team=team_id)
    (refused,) = await ephemeral_to(fake_slack, newcomer)
    assert "Only an owner can make someone an owner" in refused.params["text"]
    await slack.command(newcomer, f"member <@{owner}> client", team=team_id)
    notes = await ephemeral_to(fake_slack, newcomer, count=2)
    assert "Only an owner can change an owner's role" in notes[1].params["text"]
    await slack.command(newcomer, f"member <@{newcomer}> boss", team=team_id)
    notes = await ephemeral_to(fake_slack, newcomer, count=3)
    assert "Roles are owner, admin, manager, creator and client" in notes[2].params["text"]
    async with deps.sessionmaker() as s:
        roles = dict((await s.execute(select(TeamMember.user_id, TeamMember.role)
                                      .where(TeamMember.organization_id == team.org.id))).all())
    assert (roles[user_id], roles[team.owner.id]) == ("admin", "owner")


async def test_install_link_is_for_admins_and_carries_a_valid_code(deps, slack, fake_slack):
    team = await fresh_team(deps)
    team_id, owner = new_team_id(), new_user_id()
    fake_slack.add_user(owner, team.owner.email, "Olivia")
    await slack.command(owner, f"link {team.org.slug}", team=team_id)
    await ephemeral_to(fake_slack, owner)
    await slack.command(owner, "install-link", team=team_id)
    notes = await ephemeral_to(fake_slack, owner, count=2)
    # Single-workspace mode (these tests) has nothing to install; the OAuth tests cover the link itself.
    assert "single-workspace mode" in notes[1].params["text"]


async def test_unknown_subcommands_get_help(slack):
    text = await slack.command("U0ANY", "dance")
    assert "/recast link <organization>" in text and "/recast submit" in text
