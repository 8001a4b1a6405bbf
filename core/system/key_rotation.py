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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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


async def _rotate_table(
    sessionmaker: async_sessionmaker[AsyncSession],
    model: type[PlatformConnection] | type[SlackInstallation],
    rotate: Callable[[Any], bool],
    unreadable: type[Exception],
    report: RotationReport,
) -> None:
    """Every row of `model` in id order, a batch a transaction; locked rows are met on the next run."""
    table = model.__tablename__
    after: uuid.UUID | None = None
    while True:
        async with session_scope(sessionmaker) as session:
            query = select(model).order_by(model.id).limit(BATCH).with_for_update(skip_locked=True)
            rows = list((await session.scalars(query if after is None else query.where(model.id > after))).all())
            for row in rows:
                try:
                    report.count(table, changed=rotate(row))
                except unreadable:
                    report.count(table, unreadable=True)
        if len(rows) < BATCH:
            return
        after = rows[-1].id  # type: ignore[attr-defined]


async def rotate_stored_secrets(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> RotationReport:
    report = RotationReport()
    box, cipher = token_box(settings), TokenCipher(settings.secret_keys())
    await _rotate_table(sessionmaker, PlatformConnection, lambda r: _rotate_connection(box, r), Undecryptable, report)
    await _rotate_table(
        sessionmaker, SlackInstallation, lambda r: _rotate_installation(cipher, r), TokenUnreadable, report
    )
    async with session_scope(sessionmaker) as session:
        await audit.record(
            session=session,
            action="secret_key_rotated",
            resource_type="secret_key",
            metadata={"reencrypted": report.reencrypted, "unreadable": report.unreadable},
        )
    return report
