"""`recast rotate-keys`: every stored token re-encrypted under the current RECAST_SECRET_KEY.

Run it after moving the old key to RECAST_SECRET_KEYS_OLD and setting the new one; once it reports no
token left under an old key, the old key can be dropped. It walks each table in id order, a batch a
transaction (`FOR UPDATE SKIP LOCKED`, so a token refresh running at the same moment is not overwritten
and is simply met on the next run), and rewrites only values that are not already under the current key:
running it twice changes nothing the second time, and a run stopped half-way resumes where it matters.
A value no configured key can read is counted and left as it is (its owner reconnects).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.common.secrets import SecretBox, Undecryptable
from core.config import Settings
from core.db.session import session_scope
from core.distribution.connections import token_box
from core.distribution.models import PlatformConnection
from core.integrations.slack_models import SlackInstallation
from core.integrations.slack_secrets import TOKEN_FIELDS, TokenCipher, TokenUnreadable
from core.system import audit

BATCH = 200


@dataclass
class RotationReport:
    examined: dict[str, int] = field(default_factory=dict)
    reencrypted: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, int] = field(default_factory=dict)

    def count(self, table: str, *, changed: bool = False, unreadable: bool = False) -> None:
        self.examined[table] = self.examined.get(table, 0) + 1
        if changed:
            self.reencrypted[table] = self.reencrypted.get(table, 0) + 1
        if unreadable:
            self.unreadable[table] = self.unreadable.get(table, 0) + 1


def _rotate_connection(box: SecretBox, row: PlatformConnection) -> bool:
    """True when a token changed; `Undecryptable` when one can't be read."""
    access, refresh = box.reencrypt(row.access_token), box.reencrypt(row.refresh_token)
    changed = access != row.access_token or refresh != row.refresh_token
    row.access_token, row.refresh_token = access or "", refresh
    return changed


def _rotate_installation(cipher: TokenCipher, row: SlackInstallation) -> bool:
    data = dict(row.data)
    for name in TOKEN_FIELDS:
        if isinstance(data.get(name), str):
            data[name] = cipher.reencrypt(data[name])
    bot_token = cipher.reencrypt(row.bot_token)
    changed = data != row.data or bot_token != row.bot_token
    row.data, row.bot_token = data, bot_token
    return changed


async def _connections_batch(session: AsyncSession, after: uuid.UUID | None) -> list[PlatformConnection]:
    query = select(PlatformConnection).order_by(PlatformConnection.id).limit(BATCH)
    if after is not None:
        query = query.where(PlatformConnection.id > after)
    return list((await session.scalars(query.with_for_update(skip_locked=True))).all())


async def _installations_batch(session: AsyncSession, after: uuid.UUID | None) -> list[SlackInstallation]:
    query = select(SlackInstallation).order_by(SlackInstallation.id).limit(BATCH)
    if after is not None:
        query = query.where(SlackInstallation.id > after)
    return list((await session.scalars(query.with_for_update(skip_locked=True))).all())


async def rotate_stored_secrets(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> RotationReport:
    report = RotationReport()
    box, cipher = token_box(settings), TokenCipher(settings.secret_keys())
    after: uuid.UUID | None = None
    while True:
        async with session_scope(sessionmaker) as session:
            rows = await _connections_batch(session, after)
            for row in rows:
                try:
                    report.count("platform_connections", changed=_rotate_connection(box, row))
                except Undecryptable:
                    report.count("platform_connections", unreadable=True)
        if len(rows) < BATCH:
            break
        after = rows[-1].id
    after = None
    while True:
        async with session_scope(sessionmaker) as session:
            installs = await _installations_batch(session, after)
            for install in installs:
                try:
                    report.count("slack_installations", changed=_rotate_installation(cipher, install))
                except TokenUnreadable:
                    report.count("slack_installations", unreadable=True)
        if len(installs) < BATCH:
            break
        after = installs[-1].id
    async with session_scope(sessionmaker) as session:
        await audit.record(
            session=session,
            action="secret_key_rotated",
            resource_type="secret_key",
            metadata={"reencrypted": report.reencrypted, "unreadable": report.unreadable},
        )
    return report
