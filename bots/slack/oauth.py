"""The OAuth v2 install flow with an organization attached: `/slack/install?org=<install code>`.

The code (from `/recast install-link`, signed with RECAST_SECRET_KEY) names the organization; the OAuth
`state` issued for that visit remembers it in Redis, and the callback stores the installation linked
to it. An install without a code is stored unlinked until an owner or admin runs `/recast link`.
"""

from __future__ import annotations

import contextlib
import html
import uuid

from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.slack.installation_store import ORG_VALUE, RedisOAuthStateStore
from core.db.session import session_scope
from core.workflow import slack_links
from core.workflow.slack_secrets import organization_of_code

ORG_CONTEXT = "recast_organization_id"
BAD_LINK = "This install link is invalid or has expired. Ask an owner or admin for a new one (/recast install-link)."


def _page(status: int, text: str) -> BoltResponse:
    body = f"<!doctype html><html><body><p>{html.escape(text)}</p></body></html>"
    return BoltResponse(status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"})


class RecastOAuthFlow(AsyncOAuthFlow):
    def __init__(
        self,
        *,
        settings: AsyncOAuthSettings,
        state_store: RedisOAuthStateStore,
        secret: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: AsyncWebClient | None = None,
    ) -> None:
        super().__init__(client=client, settings=settings)
        self.state_store = state_store
        self.secret = secret
        self.sessionmaker = sessionmaker

    async def handle_installation(self, request: AsyncBoltRequest) -> BoltResponse:
        code = next(iter(request.query.get("org") or []), None)
        if code:
            organization_id = organization_of_code(self.secret, code)
            if organization_id is None:
                return _page(400, BAD_LINK)
            request.context[ORG_CONTEXT] = str(organization_id)
        return await super().handle_installation(request)

    async def issue_new_state(self, request: AsyncBoltRequest) -> str:
        org = request.context.get(ORG_CONTEXT)
        return await self.state_store.async_issue(organization_id=uuid.UUID(org) if org else None)

    async def handle_callback(self, request: AsyncBoltRequest) -> BoltResponse:
        state = next(iter(request.query.get("state") or []), None)
        if state:  # read before bolt consumes the state
            organization_id = await self.state_store.organization_of(state)
            if organization_id is not None:
                request.context[ORG_CONTEXT] = str(organization_id)
        return await super().handle_callback(request)

    async def store_installation(self, request: AsyncBoltRequest, installation: Installation) -> None:
        org = request.context.get(ORG_CONTEXT)
        if org:
            installation.set_custom_value(ORG_VALUE, org)
        await super().store_installation(request, installation)
        if org and installation.user_id and installation.bot_token:
            await self._link_installer(installation, uuid.UUID(org))

    async def _link_installer(self, installation: Installation, organization_id: uuid.UUID) -> None:
        """The person who installed is usually a team member: link them by email so they can use Recast
        right away. Best effort: the install has succeeded either way."""
        api = AsyncWebClient(token=installation.bot_token, base_url=self.client.base_url)
        with contextlib.suppress(SlackApiError):
            info = await api.users_info(user=installation.user_id)
            email = ((info.get("user") or {}).get("profile") or {}).get("email")
            async with session_scope(self.sessionmaker) as session:
                await slack_links.link_by_email(session=session, slack_user_id=str(installation.user_id),
                                                team_id=installation.team_id, email=email,
                                                organization_id=organization_id)
