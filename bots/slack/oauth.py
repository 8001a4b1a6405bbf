"""The OAuth v2 install flow, which is also how an agency starts: `/slack/install[?invite=<code>]`.

Without an invite, installing in a workspace that no organization has yet starts a new agency named after
the workspace, owned by the installer. With an invite (from `/recast invite` or `recast org invite`), the
workspace joins the invite's organization and the installer becomes a member; the invite is then used up.
The OAuth `state` issued for the visit remembers the invite in Redis until the callback.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Sequence

from slack_bolt.error import BoltError
from slack_bolt.oauth.async_callback_options import AsyncFailureArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.slack.installation_store import ORG_VALUE, RedisOAuthStateStore
from core.common.errors import RecastError
from core.db.session import maintenance_scope
from core.integrations import slack_links, slack_onboarding
from core.integrations.slack_onboarding import SlackPerson

INVITE_CONTEXT = "recast_invite"
ERROR_CONTEXT = "recast_install_error"
DONE_CONTEXT = "recast_install_done"


def _page(status: int, text: str) -> BoltResponse:
    body = f"<!doctype html><html><body><p>{html.escape(text)}</p></body></html>"
    return BoltResponse(status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"})


TEAM_ID = re.compile(r"[TE][A-Z0-9]{2,20}")  # a Slack workspace (or Enterprise Grid) id, as `team` may name one

# What the install's callback answers when it cannot install, by bolt's reason: what happened and what to do
# next, never the query's own words (bolt's page echoed `error`, however long, and said "refer to the documents").
START_AGAIN = "Start again from the install link you were given (or /slack/install on this server)."
FAILURES = {
    "access_denied": "Recast wasn't installed: the install was cancelled on Slack's page.",
    "invalid_browser": "This install link was opened in another browser, reloaded, or already used.",
    "invalid_state": "This install link has expired or was already used.",
    "missing_code": "Slack didn't send an install code with this link.",
    "invalid_code": "Slack didn't accept this install code: it may have expired or been used already.",
    "storage_error": "Recast couldn't save the installation. Try again in a minute; if it keeps failing, tell "
    "the person who runs this Recast server.",
}


def _plain(text: str) -> str:
    return text.replace("*", "").replace("`", "")


class RecastOAuthFlow(AsyncOAuthFlow):
    def __init__(
        self,
        *,
        settings: AsyncOAuthSettings,
        state_store: RedisOAuthStateStore,
        secret: str | Sequence[str],
        sessionmaker: async_sessionmaker[AsyncSession],
        client: AsyncWebClient | None = None,
    ) -> None:
        super().__init__(client=client, settings=settings)
        self.failure_handler = self._failure
        self.state_store = state_store
        self.secret = secret
        self.sessionmaker = sessionmaker

    async def _failure(self, args: AsyncFailureArgs) -> BoltResponse:
        """Our page for a callback that installs nothing (bolt's default echoes the reason Slack, or anyone,
        put in the query)."""
        if ERROR_CONTEXT in args.request.context:  # our own refusal, said in our words
            response = _page(400, _plain(str(args.request.context[ERROR_CONTEXT])))
        else:
            said = FAILURES.get(args.reason, "Slack didn't finish the install, so nothing was installed.")
            if args.reason != "storage_error":
                said = f"{said} {START_AGAIN}"
            response = _page(args.suggested_status_code, said)
        response.headers["set-cookie"] = [self.settings.state_utils.build_set_cookie_for_deletion()]
        return response

    async def handle_installation(self, request: AsyncBoltRequest) -> BoltResponse:
        teams = request.query.get("team")
        if teams is not None and not (len(teams) == 1 and TEAM_ID.fullmatch(teams[0])):
            # Bolt appends `team` to Slack's authorize URL as it is, unencoded: `team=x%26redirect_uri%3D...`
            # added parameters of anyone's choosing to the link, and a control character in it made the
            # Location header unwritable (a dropped connection and a traceback). Only a workspace id is kept;
            # without it the installer picks the workspace on Slack's page.
            request.query.pop("team")
        code = next(iter(request.query.get("invite") or []), None)
        if code:
            try:
                async with maintenance_scope(self.sessionmaker) as session:
                    await slack_onboarding.open_invite(session=session, secret=self.secret, code=code)
            except RecastError as exc:
                return _page(400, _plain(exc.user_message))
            request.context[INVITE_CONTEXT] = code
        return await super().handle_installation(request)

    async def issue_new_state(self, request: AsyncBoltRequest) -> str:
        return await self.state_store.async_issue(invite=request.context.get(INVITE_CONTEXT))

    async def handle_callback(self, request: AsyncBoltRequest) -> BoltResponse:
        state = next(iter(request.query.get("state") or []), None)
        if state:  # read before bolt consumes the state
            invite = await self.state_store.invite_of(state)
            if invite is not None:
                request.context[INVITE_CONTEXT] = invite
        response = await super().handle_callback(request)
        if ERROR_CONTEXT in request.context:
            return _page(400, _plain(str(request.context[ERROR_CONTEXT])))
        if response.status == 200 and DONE_CONTEXT in request.context:
            return _page(200, _plain(str(request.context[DONE_CONTEXT])))
        return response

    async def store_installation(self, request: AsyncBoltRequest, installation: Installation) -> None:
        """Decide the installation's organization (an invite's, the workspace's, or a new agency), then store it
        linked to that organization."""
        try:
            org_id, text = await self._onboard(installation, request.context.get(INVITE_CONTEXT))
        except RecastError as exc:
            request.context[ERROR_CONTEXT] = exc.user_message
            raise BoltError(exc.user_message) from exc
        installation.set_custom_value(ORG_VALUE, str(org_id))
        await super().store_installation(request, installation)
        request.context[DONE_CONTEXT] = text

    async def _installer(self, installation: Installation) -> SlackPerson:
        api = AsyncWebClient(token=installation.bot_token, base_url=self.client.base_url)
        email = name = None
        try:
            info = await api.users_info(user=str(installation.user_id))
            user = info.get("user") or {}
            profile = user.get("profile") or {}
            email, name = profile.get("email"), profile.get("real_name") or user.get("real_name")
        except SlackApiError:
            pass  # no profile: matched by Slack user id, else created with a placeholder e-mail
        return SlackPerson(str(installation.user_id), str(installation.team_id), email, name)

    async def _onboard(self, installation: Installation, invite: str | None) -> tuple[uuid.UUID, str]:
        if not installation.team_id or not installation.user_id:
            raise RecastError("Recast is installed per workspace; install it in a workspace, not an org grid.")
        person = await self._installer(installation)
        team = installation.team_name or "your workspace"
        next_step = "Open Slack and run /recast setup in the channel where you'll review a client's drafts."
        async with maintenance_scope(self.sessionmaker) as session:
            if invite:
                org, _ = await slack_onboarding.redeem_invite(
                    session=session, secret=self.secret, code=invite, person=person, installing=True
                )
                return org.id, f"Recast is installed in {team} and linked to {org.name}. {next_step}"
            ws = await slack_links.workspace(session=session, team_id=person.team_id)
            if ws is not None:  # a reinstall: the workspace keeps its organization
                if await slack_links.recast_user(session=session, slack_user_id=person.slack_user_id) is None:
                    await slack_links.link_by_email(
                        session=session,
                        slack_user_id=person.slack_user_id,
                        team_id=person.team_id,
                        email=person.email,
                        organization_id=ws.organization_id,
                    )
                return ws.organization_id, f"Recast is reinstalled in {team}. {next_step}"
            org, _ = await slack_onboarding.start_agency(
                session=session, team_id=person.team_id, team_name=team, person=person
            )
            return org.id, (f"Recast is installed. Your agency {org.name} is ready and you are its owner. {next_step}")
