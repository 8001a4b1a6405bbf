"""slack_sdk's installation store and OAuth state store on our PostgreSQL and Redis (many workspaces)."""

from __future__ import annotations

import logging
import secrets
import uuid
from typing import Any

from redis.asyncio import Redis
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db.session import maintenance_scope
from core.integrations import slack_installations
from core.integrations.slack_secrets import TokenCipher

STATE_TTL_SECONDS = 600


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.timestamp() if hasattr(v, "timestamp") else v) for k, v in data.items()}


ORG_VALUE = "recast_organization_id"  # the custom value the organization an install joined travels in


def _organization_of(installation: Installation | Bot) -> uuid.UUID | None:
    value = installation.custom_values.get(ORG_VALUE) if isinstance(installation, Installation) else None
    return uuid.UUID(str(value)) if value else None


class PostgresInstallationStore(AsyncInstallationStore):
    """Installations in `slack_installations`, every token encrypted with a key from RECAST_SECRET_KEY."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], client_id: str | None, cipher: TokenCipher
    ) -> None:
        self.sessionmaker = sessionmaker
        self.client_id = client_id
        self.cipher = cipher
        self._logger = logging.getLogger(__name__)

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    async def async_save(self, installation: Installation) -> None:
        async with maintenance_scope(self.sessionmaker) as session:
            data = _jsonable(installation.to_dict())
            data.pop(ORG_VALUE, None)
            await slack_installations.save_installation(
                session=session,
                data=data,
                client_id=self.client_id,
                cipher=self.cipher,
                organization_id=_organization_of(installation),
            )

    async def async_save_bot(self, bot: Bot) -> None:
        async with maintenance_scope(self.sessionmaker) as session:
            data = _jsonable(bot.to_dict())
            data.setdefault("user_id", None)
            await slack_installations.save_installation(
                session=session, data=data, client_id=self.client_id, cipher=self.cipher
            )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        async with maintenance_scope(self.sessionmaker) as session:
            row = await slack_installations.find_installation(
                session=session,
                client_id=self.client_id,
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                is_enterprise_install=is_enterprise_install,
            )
            if row is None:
                return None
            data = slack_installations.installation_data(row, self.cipher)
        data.pop("bot_token_expires_in", None)
        data.pop("user_token_expires_in", None)
        custom = {k: data.pop(k) for k in list(data) if k not in _INSTALLATION_FIELDS}
        return Installation(**data, custom_values=custom)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        installation = await self.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        return installation.to_bot() if installation and installation.bot_token else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        async with maintenance_scope(self.sessionmaker) as session:
            await slack_installations.delete_installations(
                session=session, client_id=self.client_id, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )


_INSTALLATION_FIELDS = frozenset(
    {
        "app_id",
        "enterprise_id",
        "enterprise_name",
        "enterprise_url",
        "team_id",
        "team_name",
        "bot_token",
        "bot_id",
        "bot_user_id",
        "bot_scopes",
        "bot_refresh_token",
        "bot_token_expires_at",
        "user_id",
        "user_token",
        "user_scopes",
        "user_refresh_token",
        "user_token_expires_at",
        "incoming_webhook_url",
        "incoming_webhook_channel",
        "incoming_webhook_channel_id",
        "incoming_webhook_configuration_url",
        "is_enterprise_install",
        "token_type",
        "installed_at",
    }
)


class RedisOAuthStateStore(AsyncOAuthStateStore):
    """One-time OAuth `state` values in Redis with a TTL (GETDEL makes each usable once). A state issued
    from an invite's install link remembers the invite code."""

    def __init__(self, redis: Redis, *, prefix: str = "slack:oauth_state:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._logger = logging.getLogger(__name__)

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    async def async_issue(self, *args: Any, invite: str | None = None, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        await self.redis.set(self.prefix + state, invite or "1", ex=STATE_TTL_SECONDS)
        return state

    async def invite_of(self, state: str) -> str | None:
        """The invite code a (not yet consumed) state was issued for."""
        value = await self.redis.get(self.prefix + state)
        text = value.decode() if isinstance(value, bytes) else value
        return text if text and text != "1" else None

    async def async_consume(self, state: str) -> bool:
        return await self.redis.getdel(self.prefix + state) is not None
