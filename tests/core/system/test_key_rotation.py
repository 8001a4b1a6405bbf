"""`recast rotate-keys`: stored tokens move to the new RECAST_SECRET_KEY, the old key keeps working until
then, and a second run has nothing left to do."""

from __future__ import annotations

import uuid

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts.models import User
from core.common import secrets
from core.config import Settings
from core.db.session import session_scope
from core.distribution import connections
from core.distribution.models import PlatformConnection
from core.distribution.ports import Account, TokenSet
from core.integrations.slack_installations import installation_data, save_installation
from core.integrations.slack_models import SlackInstallation
from core.integrations.slack_secrets import TokenCipher
from core.system.key_rotation import rotate_stored_secrets


def _settings(key: str, old: str | None = None) -> Settings:
    return Settings(
        _env_file=None,
        recast_secret_key=SecretStr(key),
        recast_secret_keys_old=SecretStr(old) if old else None,
    )


async def _rows_under(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> tuple[uuid.UUID, uuid.UUID]:
    async with session_scope(sessionmaker) as session:
        user = User(email=f"rot-{uuid.uuid4().hex[:8]}@example.com", password_hash="!", full_name="Rotating")
        session.add(user)
        await session.flush()
        conn = await connections.save_connection(
            session,
            settings,
            platform="linkedin",
            owner=connections.Owner(user_id=user.id),
            account=Account(platform_user_id=f"li-{uuid.uuid4().hex[:8]}", username="rot"),
            tokens=TokenSet(access_token="li-access-secret", refresh_token="li-refresh-secret"),
        )
        install = await save_installation(
            session=session,
            data={"team_id": f"T{uuid.uuid4().hex[:8]}", "bot_token": "xoxb-rotating", "user_token": "xoxp-rotating"},
            client_id="cid",
            cipher=TokenCipher(settings.secret_keys()),
        )
    return conn.id, install.id


async def test_rotation_moves_every_token_to_the_new_key_and_a_second_run_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    before = _settings("first-key-" + "x" * 30)
    conn_id, install_id = await _rows_under(sessionmaker, before)
    after = _settings("second-key-" + "y" * 30, old=before.recast_secret_key.get_secret_value())

    # Before rotating, the old key in RECAST_SECRET_KEYS_OLD still reads what it made.
    async with session_scope(sessionmaker) as session:
        conn = await session.get_one(PlatformConnection, conn_id)
        assert connections.credentials(after, conn).access_token == "li-access-secret"

    first = await rotate_stored_secrets(sessionmaker, after)
    assert first.reencrypted.get("platform_connections", 0) >= 1
    assert first.reencrypted.get("slack_installations", 0) >= 1

    new_only = _settings(after.recast_secret_key.get_secret_value())  # the old key removed
    new_kid = secrets.key_id(new_only.recast_secret_key.get_secret_value())
    async with session_scope(sessionmaker) as session:
        conn = await session.get_one(PlatformConnection, conn_id)
        install = await session.get_one(SlackInstallation, install_id)
        assert conn.access_token.startswith(f"{secrets.KEYED}{new_kid}:")
        assert connections.credentials(new_only, conn).access_token == "li-access-secret"
        assert connections.refresh_token(new_only, conn) == "li-refresh-secret"
        opened = installation_data(install, TokenCipher(new_only.secret_keys()))
        assert (opened["bot_token"], opened["user_token"]) == ("xoxb-rotating", "xoxp-rotating")
        assert TokenCipher(new_only.secret_keys()).decrypt(install.bot_token) == "xoxb-rotating"
        stored = (conn.access_token, install.bot_token, dict(install.data))

    await rotate_stored_secrets(sessionmaker, after)
    async with session_scope(sessionmaker) as session:
        conn = await session.get_one(PlatformConnection, conn_id)
        install = await session.get_one(SlackInstallation, install_id)
        assert (conn.access_token, install.bot_token, dict(install.data)) == stored  # nothing rewritten twice


async def test_a_token_no_configured_key_can_read_is_counted_and_left_alone(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    lost = _settings("a-key-nobody-kept-" + "z" * 30)
    conn_id, _ = await _rows_under(sessionmaker, lost)
    async with session_scope(sessionmaker) as session:
        stored = await session.scalar(select(PlatformConnection.access_token).where(PlatformConnection.id == conn_id))
    report = await rotate_stored_secrets(sessionmaker, _settings("the-new-key-" + "w" * 30))
    assert report.unreadable.get("platform_connections", 0) >= 1
    async with session_scope(sessionmaker) as session:
        again = await session.scalar(select(PlatformConnection.access_token).where(PlatformConnection.id == conn_id))
    assert again == stored


async def test_media_links_and_oauth_states_signed_before_a_key_change_still_verify() -> None:
    from core.storage.links import ForgedLink, MediaLinks

    old, new = "old-links-key-" + "a" * 30, "new-links-key-" + "b" * 30
    token = MediaLinks(secret=old, base_url="http://x").token("renders/clip.mp4", expires_s=600)
    assert MediaLinks(secret=[new, old], base_url="http://x").key_of(token) == "renders/clip.mp4"
    try:
        MediaLinks(secret=new, base_url="http://x").key_of(token)
    except ForgedLink:
        pass
    else:
        raise AssertionError("a link signed by a dropped key was accepted")
