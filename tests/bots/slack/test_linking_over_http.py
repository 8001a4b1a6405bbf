"""Linking Slack to Recast over HTTP: `/recast link`, `/recast channel`, `/recast member`, `/recast invite`,
with signed requests to the real bolt app, a local Slack Web API (users.info by email) and a real database."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from core.accounts.models import ChatIdentity, ClientAccount, TeamMember, User
from core.db.session import session_scope
from core.integrations.slack_models import SlackChannel, SlackWorkspace
from tests.bots.slack.conftest import BOTH_LOGINS
from tests.core.workflow.builders import Team, build_team

pytestmark = BOTH_LOGINS


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
    # Nobody to "ask your admin" about: the stranger is told how to get in (an invite) or start afresh.
    text = unknown.params["text"]
    assert "can't match your Slack account to a member of *Northwind Agency*" in text
    assert f"recast org invite {team.org.slug}" in text and "/recast setup" in text and "ask your" not in text.lower()
    await slack.command(manager, "link no-such-agency", team=team_id)
    notes = await ephemeral_to(fake_slack, manager, count=2)
    assert "I don't know that organization" in notes[1].params["text"]
    async with deps.sessionmaker() as s:
        assert await s.get(SlackWorkspace, team_id) is None


async def test_an_owners_invite_links_a_new_workspace_once_and_a_forged_one_is_refused(deps, slack, fake_slack):
    team = await fresh_team(deps)
    home_team, owner = new_team_id(), new_user_id()
    fake_slack.add_user(owner, team.owner.email, "Olivia")
    await slack.command(owner, f"link {team.org.slug}", team=home_team)
    await ephemeral_to(fake_slack, owner)

    await slack.command(owner, "invite", team=home_team)
    notes = await ephemeral_to(fake_slack, owner, count=2)
    code = notes[1].params["text"].split("`")[1]
    assert code.startswith("inv.") and f"/recast link {code}" in notes[1].params["text"]

    # Someone Recast has never seen, in another workspace, joins with it: matched to nobody, so created.
    other_team, newcomer = new_team_id(), new_user_id()
    email = f"dev-{uuid.uuid4().hex[:6]}@example.org"
    fake_slack.add_user(newcomer, email, "Devika")
    forged = "inv." + code.removeprefix("inv.")[:-4] + "AAAA"
    await slack.command(newcomer, f"link {forged}", team=other_team)
    (refused,) = await ephemeral_to(fake_slack, newcomer)
    assert "invalid, has expired or was already used" in refused.params["text"]
    await slack.command(newcomer, f"link {code}", team=other_team, channel="C0NEWS")
    notes = await ephemeral_to(fake_slack, newcomer, count=2)
    assert "linked to *Northwind Agency* and you are a team admin" in notes[1].params["text"]
    async with deps.sessionmaker() as s:
        ws = await s.get_one(SlackWorkspace, other_team)
        user = await s.get_one(User, await identity_of(deps, newcomer))
        role = await s.scalar(
            select(TeamMember.role).where(TeamMember.organization_id == team.org.id, TeamMember.user_id == user.id)
        )
    assert (ws.organization_id, ws.default_channel_id, user.email, role) == (team.org.id, "C0NEWS", email, "admin")

    # Single use: the same code in a third workspace is refused and links nothing.
    third, someone = new_team_id(), new_user_id()
    fake_slack.add_user(someone, "someone@example.org", "Sam")
    await slack.command(someone, f"link {code}", team=third)
    (used,) = await ephemeral_to(fake_slack, someone)
    assert "already used" in used.params["text"]
    async with deps.sessionmaker() as s:
        assert await s.get(SlackWorkspace, third) is None


async def test_only_the_owner_invites(deps, slack, fake_slack):
    team = await fresh_team(deps)
    team_id, owner, manager = new_team_id(), new_user_id(), new_user_id()
    fake_slack.add_user(owner, team.owner.email, "Olivia")
    fake_slack.add_user(manager, team.manager.email, "Manoj")
    await slack.command(owner, f"link {team.org.slug}", team=team_id)
    await ephemeral_to(fake_slack, owner)
    await slack.command(manager, "invite", team=team_id)
    (refused,) = await ephemeral_to(fake_slack, manager)
    assert "Only the organization's owner can invite" in refused.params["text"]
    await slack.command(owner, "invite boss", team=team_id)
    notes = await ephemeral_to(fake_slack, owner, count=2)
    assert "An invite's role is one of admin, manager, creator, client" in notes[1].params["text"]


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
        rows = (
            await s.execute(
                select(SlackChannel.channel_id, ClientAccount.name, ClientAccount.slug)
                .join(ClientAccount, ClientAccount.id == SlackChannel.client_account_id)
                .where(SlackChannel.team_id == team_id)
                .order_by(SlackChannel.channel_id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("C0ACME", "Acme Foods", "acme"),
        ("C0GLOBEX", "Globex Retail", "globex-retail"),
    ]


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
        member = await s.scalar(
            select(TeamMember).where(TeamMember.organization_id == team.org.id, TeamMember.user_id == user_id)
        )
    assert (user.email, user.full_name, member.role, member.invited_by) == (
        email,
        "Priya Nair",
        "manager",
        team.owner.id,
    )

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
        roles = dict(
            (
                await s.execute(
                    select(TeamMember.user_id, TeamMember.role).where(TeamMember.organization_id == team.org.id)
                )
            ).all()
        )
    assert (roles[user_id], roles[team.owner.id]) == ("admin", "owner")


async def test_unknown_subcommands_get_help(slack):
    text = await slack.command("U0ANY", "dance")
    assert "/recast link <organization or invite>" in text and "/recast submit" in text and "/recast setup" in text


async def test_an_operators_cli_invite_lets_the_first_admin_of_a_new_workspace_in(
    deps, slack, fake_slack, slack_db_url, monkeypatch, capsys
):
    from recast.cli import main

    team = await fresh_team(deps)
    monkeypatch.setenv("DATABASE_URL", slack_db_url)
    monkeypatch.setenv("RECAST_SECRET_KEY", deps.settings.recast_secret_key.get_secret_value())
    assert await asyncio.to_thread(main, ["org", "invite", team.org.slug]) == 0
    out = capsys.readouterr().out
    assert "Invite into Northwind Agency (good once, for 7 days; joins as admin)" in out
    code = out.split("/recast link ")[1].split()[0]

    team_id, admin = new_team_id(), new_user_id()
    fake_slack.add_user(admin, f"ana-{admin.lower()}@example.org", "Ana")
    await slack.command(admin, f"link {code}", team=team_id)
    (note,) = await ephemeral_to(fake_slack, admin)
    assert "linked to *Northwind Agency* and you are a team admin" in note.params["text"]
    assert await asyncio.to_thread(main, ["org", "invite", "no-such-org"]) == 1
    assert "I don't know that organization" in capsys.readouterr().err
