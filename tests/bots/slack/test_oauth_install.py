"""The OAuth v2 install over HTTP: /slack/install[?invite=…] → Slack's authorize URL with a state →
/slack/oauth_redirect with a code → oauth.v2.access on the local Slack Web API → the installation stored (tokens
encrypted) and the workspace linked: to the invite's organization, or to a new agency the installer owns. Then a
signed request from that workspace is answered with the stored (decrypted) token."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from sqlalchemy import select

from core.accounts.models import ChatIdentity, Organization, TeamMember
from core.db.session import session_scope
from core.integrations import slack_onboarding
from core.integrations.slack_models import SlackInstallation, SlackInvite, SlackWorkspace
from core.integrations.slack_secrets import PREFIX, TokenCipher, TokenUnreadable, invite_of_code
from tests.bots.slack.conftest import BOTH_LOGINS, CLIENT_ID, Installer
from tests.bots.slack.conftest import OAUTH_SECRET as SECRET
from tests.core.workflow.builders import Team, build_team


async def _team(deps, fake_slack) -> Team:
    fake_slack.oauth_team_id = f"T{uuid.uuid4().hex[:10].upper()}"  # each test installs a workspace of its own
    fake_slack.oauth_user_id = f"U{uuid.uuid4().hex[:10].upper()}"  # and its own installer (ids are global)
    async with session_scope(deps.sessionmaker) as s:
        return await build_team(s)


async def _authorize(inst: Installer, query: str) -> tuple[int, str]:
    return await inst.authorize(query)


async def _callback(inst: Installer, state: str, code: str = "good-code") -> tuple[int, str]:
    return await inst.callback(state, code)


async def _invite(deps, team: Team) -> str:
    async with session_scope(deps.sessionmaker) as s:
        return await slack_onboarding.create_invite(
            session=s, secret=SECRET, organization_id=team.org.id, by_user_id=team.owner.id
        )


@BOTH_LOGINS
async def test_install_from_an_invite_stores_an_encrypted_token_and_links_the_workspace(
    oauth_deps, installer, fake_slack
):
    team = await _team(oauth_deps, fake_slack)
    who = fake_slack.oauth_user_id
    fake_slack.add_user(who, team.owner.email, "Olivia")
    code = await _invite(oauth_deps, team)

    status, location = await _authorize(installer, f"?invite={code}")
    assert status == 302
    authorize = urlparse(location)
    query = parse_qs(authorize.query)
    assert (authorize.netloc, authorize.path) == ("slack.com", "/oauth/v2/authorize")
    assert query["client_id"] == [CLIENT_ID] and "users:read.email" in query["scope"][0].split(",")
    state = query["state"][0]

    status, page = await _callback(installer, state)
    assert status == 200 and "linked to Northwind Agency" in page and "/recast setup" in page, page
    (access,) = fake_slack.calls_to("oauth.v2.access")
    assert access.params["code"] == "good-code"

    async with oauth_deps.sessionmaker() as s:
        row = await s.scalar(select(SlackInstallation).where(SlackInstallation.team_id == fake_slack.oauth_team_id))
        ws = await s.get_one(SlackWorkspace, fake_slack.oauth_team_id)
        installer_identity = await s.scalar(
            select(ChatIdentity.user_id).where(ChatIdentity.provider == "slack", ChatIdentity.external_user_id == who)
        )
    assert row is not None and row.organization_id == team.org.id and ws.organization_id == team.org.id
    # Encrypted at rest, in the column and in the stored Installation dict, and round-trips with the key.
    assert row.bot_token is not None and row.bot_token.startswith(PREFIX) and "xoxb-installed" not in row.bot_token
    assert "xoxb-installed" not in str(row.data) and row.data["bot_token"].startswith(PREFIX)
    assert TokenCipher(SECRET).decrypt(row.bot_token) == "xoxb-installed"
    with pytest.raises(TokenUnreadable):
        TokenCipher("a-different-key").decrypt(row.bot_token)
    assert installer_identity == team.owner.id  # the installer was matched to the owner by email

    # A state is good once: replaying the callback is refused and stores nothing more.
    status, _ = await _callback(installer, state)
    assert status == 401
    # So is the invite: a second install with it is refused before Slack is asked.
    status, location = await _authorize(installer, f"?invite={code}")
    assert (status, location) == (400, "")

    # Requests from the new workspace are answered with its own (decrypted) bot token.
    await installer.slack.command(who, "approvals", channel="C0OAUTH", team=fake_slack.oauth_team_id)
    (listing,) = await fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == who)
    assert listing.token == "xoxb-installed" and listing.params["channel"] == "C0OAUTH"
    async with oauth_deps.sessionmaker() as s:
        rows = await s.scalars(select(SlackInstallation).where(SlackInstallation.team_id == fake_slack.oauth_team_id))
    assert len(rows.all()) == 1


@BOTH_LOGINS
async def test_invite_command_hands_out_a_working_install_url(oauth_deps, installer, fake_slack):
    team = await _team(oauth_deps, fake_slack)
    who = fake_slack.oauth_user_id
    fake_slack.add_user(who, team.owner.email, "Olivia")
    status, location = await _authorize(installer, f"?invite={await _invite(oauth_deps, team)}")
    await _callback(installer, parse_qs(urlparse(location).query)["state"][0])

    await installer.slack.command(who, "invite", channel="C0OAUTH", team=fake_slack.oauth_team_id)
    (note,) = await fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == who)
    assert "https://recast.example.in/slack/install?invite=" in note.params["text"]
    code = note.params["text"].split("?invite=")[1].split("|")[0]
    async with oauth_deps.sessionmaker() as s:
        invite = await s.get_one(SlackInvite, invite_of_code(SECRET, code))
    assert (invite.organization_id, invite.used_at, invite.created_by) == (team.org.id, None, team.owner.id)

    # Another workspace installs with it: linked to the same organization, its installer an admin there.
    fake_slack.oauth_team_id = f"T{uuid.uuid4().hex[:10].upper()}"
    second = fake_slack.oauth_user_id = f"U{uuid.uuid4().hex[:10].upper()}"  # someone Recast doesn't know
    fake_slack.add_user(second, f"ines-{second.lower()}@example.org", "Ines")
    status, location = await _authorize(installer, f"?invite={code}")
    status, page = await _callback(installer, parse_qs(urlparse(location).query)["state"][0])
    assert status == 200 and "linked to Northwind Agency" in page
    async with oauth_deps.sessionmaker() as s:
        ws = await s.get_one(SlackWorkspace, fake_slack.oauth_team_id)
        role = await s.scalar(
            select(TeamMember.role)
            .join(ChatIdentity, ChatIdentity.user_id == TeamMember.user_id)
            .where(ChatIdentity.external_user_id == second, TeamMember.organization_id == team.org.id)
        )
    assert (ws.organization_id, role) == (team.org.id, "admin")


@BOTH_LOGINS
async def test_a_plain_install_starts_an_agency_owned_by_the_installer(oauth_deps, installer, fake_slack):
    fake_slack.oauth_team_id = f"T{uuid.uuid4().hex[:10].upper()}"
    founder = fake_slack.oauth_user_id = f"U{uuid.uuid4().hex[:10].upper()}"
    fake_slack.add_user(founder, f"founder-{founder.lower()}@example.org", "Farah Khan")
    status, location = await _authorize(installer, "")
    status, page = await _callback(installer, parse_qs(urlparse(location).query)["state"][0])
    assert status == 200 and "Your agency OAuth Workspace is ready and you are its owner" in page

    # A reinstall keeps the organization: no second agency.
    status, location = await _authorize(installer, "")
    status, page = await _callback(installer, parse_qs(urlparse(location).query)["state"][0])
    assert status == 200 and "reinstalled" in page
    async with oauth_deps.sessionmaker() as s:
        ws = await s.get_one(SlackWorkspace, fake_slack.oauth_team_id)
        org = await s.get_one(Organization, ws.organization_id)
        owner = await s.scalar(select(ChatIdentity.user_id).where(ChatIdentity.external_user_id == founder))
        role = await s.scalar(
            select(TeamMember.role).where(TeamMember.organization_id == org.id, TeamMember.user_id == owner)
        )
        rows = await s.scalars(
            select(SlackInstallation.organization_id).where(SlackInstallation.team_id == fake_slack.oauth_team_id)
        )
        linked = rows.all()
    assert (org.name, org.type, org.owner_id, role) == ("OAuth Workspace", "agency", owner, "owner")
    assert linked == [org.id, org.id]


@BOTH_LOGINS
async def test_forged_expired_or_used_invites_are_refused(oauth_deps, installer, fake_slack):
    team = await _team(oauth_deps, fake_slack)
    expired = await _invite(oauth_deps, team)
    async with oauth_deps.sessionmaker() as s:
        row = await s.get_one(SlackInvite, invite_of_code(SECRET, expired))
        row.expires_at = row.expires_at.replace(year=row.expires_at.year - 1)
        await s.commit()
    good = await _invite(oauth_deps, team)
    forged = "inv." + good.removeprefix("inv.").split(".")[0] + ".AAAAAAAAAAAAAAAA"
    for bad in (forged, expired, "garbage", "inv.garbage"):
        status, location = await _authorize(installer, f"?invite={bad}")
        assert (status, location) == (400, "")
    assert fake_slack.calls_to("oauth.v2.access") == []
    made_up = f"made-up-{uuid.uuid4().hex}"
    status, _ = await _callback(installer, made_up)
    assert status == 400  # the browser's cookie names another state
    installer.cookie = f"slack-app-oauth-state={made_up}"
    status, _ = await _callback(installer, made_up)
    assert status == 401  # cookie and state agree, but we never issued it


def test_invite_codes_are_bound_to_the_key():
    from core.integrations.slack_secrets import invite_code

    invite = uuid.uuid4()
    code = invite_code(SECRET, invite)
    assert invite_of_code(SECRET, code) == invite
    assert invite_of_code("other", code) is None
    body, mac = code.removeprefix("inv.").split(".")
    tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    assert invite_of_code(SECRET, f"inv.{tampered}.{mac}") is None


def test_token_cipher_round_trips_and_leaves_other_fields_alone():
    cipher = TokenCipher(SECRET)
    sealed = cipher.seal({"bot_token": "xoxb-1", "user_token": "xoxp-2", "team_id": "T1", "bot_refresh_token": None})
    assert sealed["team_id"] == "T1" and sealed["bot_refresh_token"] is None
    assert (
        sealed["bot_token"].startswith(PREFIX)
        and sealed["bot_token"] != cipher.seal({"bot_token": "xoxb-1"})["bot_token"]
    )  # a fresh IV each time
    assert cipher.open(sealed) == {
        "bot_token": "xoxb-1",
        "user_token": "xoxp-2",
        "team_id": "T1",
        "bot_refresh_token": None,
    }
    assert cipher.encrypt(sealed["bot_token"]) == sealed["bot_token"]  # never double-encrypted


@BOTH_LOGINS
async def test_a_team_that_is_not_a_workspace_id_is_left_out_of_the_authorize_link(installer):
    # Found by the OAuth install fuzzer: bolt appended `team` to Slack's authorize URL unencoded, so a crafted
    # install link added parameters to it (here a redirect_uri), and a control character made the redirect
    # unwritable: a dropped connection and a traceback.
    for team in ("x&redirect_uri=https://evil.example/steal", "\x1f", "T1&scope=admin"):
        status, location = await installer.authorize("?" + urlencode({"team": team}))
        assert status == 302, location
        query = parse_qs(urlparse(location).query)
        assert "team" not in query and "redirect_uri" not in query and query["scope"][0] != "admin", location
    status, location = await installer.authorize("?team=T0RECAST")
    assert status == 302 and parse_qs(urlparse(location).query)["team"] == ["T0RECAST"]


@BOTH_LOGINS
async def test_a_callback_that_installs_nothing_gets_a_short_page_saying_what_to_do_next(installer):
    # Found by the OAuth install fuzzer: bolt's failure page echoed `error` whole (3,000 characters came
    # back) and said "refer to the documents"; an expired state said only "no longer valid".
    async with installer.http.get(
        f"{installer.base}/slack/oauth_redirect", params={"error": "x" * 3000, "state": "s"}
    ) as resp:
        page = await resp.text()
    assert resp.status == 200 and len(page) < 1000 and "xxxx" not in page
    assert "nothing was installed" in page and "Start again from the install link" in page
    async with installer.http.get(f"{installer.base}/slack/oauth_redirect", params={"error": "access_denied"}) as resp:
        assert "cancelled on Slack&#x27;s page" in await resp.text()
    status, location = await installer.authorize("")
    state = parse_qs(urlparse(location).query)["state"][0]
    status, page = await installer.callback(state, code="not-a-code")
    assert status == 401 and "didn&#x27;t accept this install code" in page and "Start again" in page
    status, page = await installer.callback(state)  # the state went with the refused code
    assert status == 401 and "expired or was already used" in page and "Start again" in page
    installer.cookie = ""
    status, page = await installer.callback(state)
    assert status == 400 and "another browser" in page and "Start again" in page
