"""The connect flow's two ends: the sign-in link a chat command offers, and the callback that stores the
connection, releases posts held for it, and says in chat what was connected."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import service as accounts
from core.accounts.models import ClientAccount
from core.analytics import collection
from core.common.clock import utcnow
from core.common.errors import RecastError
from core.config import Settings
from core.db.tenancy import act_from_here
from core.deps import CoreDeps
from core.distribution import connections, oauth
from core.distribution.clients import client_for, configured_clients
from core.distribution.connections import Owner
from core.distribution.errors import (
    ConnectFailed,
    OutcomeUnknown,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
    UnreadableAnswer,
)
from core.distribution.models import PlatformConnection, PostStatus, ScheduledPost
from core.distribution.platforms.names import Platform, label
from core.distribution.ports import Account, ManagedAccounts
from core.distribution.publishing import add_publish_unit
from core.notify import outbox
from core.notify.ports import ChatRef, OutgoingMessage
from core.system.models import AuditLog
from core.work import submit as work


def connectable(settings: Settings) -> list[Platform]:
    """Platforms whose developer app this server has: only those are offered."""
    return list(configured_clients(settings))


async def sign_in_link(redis: Redis, settings: Settings, platform: Platform, owner: Owner, chat: ChatRef) -> str:
    client = client_for(settings, platform)
    verifier = oauth.new_code_verifier() if client.uses_pkce else None
    pending = oauth.PendingConnect(
        platform=platform,
        user_id=owner.user_id,
        client_account_id=owner.client_account_id,
        organization_id=owner.organization_id,
        chat=chat,
        code_verifier=verifier,
    )
    state = await oauth.issue_state(redis, settings, pending)
    return client.authorize_url(
        state=state,
        redirect_uri=oauth.redirect_uri(settings, platform),
        code_challenge=oauth.pkce_challenge(verifier) if verifier else None,
    )


@dataclass(frozen=True)
class Connected:
    connection_id: uuid.UUID
    platform: Platform
    username: str | None
    released: int
    chat: ChatRef
    messages: list[uuid.UUID]  # outbox units to flush after commit
    wake: list[uuid.UUID]  # publish units (released posts) to push after commit


async def finish_connect(
    session: AsyncSession, redis: Redis, settings: Settings, platform: Platform, *, state: str, code: str
) -> Connected:
    """Redeem the state, exchange the code, store the connection and put held posts back on schedule.
    The caller commits, then flushes `messages` and pushes `wake` (`after_commit`)."""
    pending = await oauth.redeem_state(redis, settings, platform, state)
    # The state names who asked: from here the transaction touches that owner's rows only.
    if pending.organization_id is not None:
        await act_from_here(session, pending.organization_id)
    else:
        await accounts.act_for_user(session=session, user_id=pending.user_id)
    client = client_for(settings, platform)
    try:
        tokens = await client.exchange_code(
            code=code, redirect_uri=oauth.redirect_uri(settings, platform), code_verifier=pending.code_verifier
        )
        account = storable(platform, await client.account(tokens.access_token))
        pages = await client.managed_accounts(tokens.access_token) if isinstance(client, ManagedAccounts) else []
        pages = [storable(platform, page) for page in pages]
        also = [(storable(platform, other.account), other.tokens) for other in tokens.also]
    except RecastError as exc:  # the state is used up and nothing is stored: say so where the connect began
        raise ConnectFailed(failure_reason(platform, exc), chat=pending.chat, cause=exc) from exc
    owner = Owner(pending.user_id, pending.client_account_id, pending.organization_id)
    connection = await connections.save_connection(
        session, settings, platform=platform, owner=owner, account=account, tokens=tokens
    )
    wake = await release_held(session, connection)
    resumed = await _resume_collection(session, connection)
    reached = [(page, tokens) for page in pages]  # accounts the person may post as, on the same tokens
    reached += also  # ... or each with its own
    for page, page_tokens in reached:  # one connection each
        managed = await connections.save_connection(
            session, settings, platform=platform, owner=owner, account=page, tokens=page_tokens
        )
        wake += await release_held(session, managed)
        resumed += await _resume_collection(session, managed)
    released = len(wake)
    session.add(
        AuditLog(
            user_id=owner.user_id,
            organization_id=owner.organization_id,
            action="platform.connected",
            resource_type="platform_connection",
            resource_id=connection.id,
            metadata_={"platform": str(platform), "account": account.username, "scopes": list(tokens.scopes)},
        )
    )
    for_client = await session.get(ClientAccount, owner.client_account_id) if owner.client_account_id else None
    if for_client is not None:  # an agency's client account: said in the client's channel, for its team
        name = f" ({account.username})" if account.username else ""
        text = f"{label(platform)}{name} is connected for {for_client.name}. "
        text += "Its approved drafts can now be published there."
    else:
        name = f" as {account.username}" if account.username else ""
        text = f"Connected {label(platform)}{name}. Approved drafts can now be published there."
    if reached:
        names = ", ".join(p.username or p.platform_user_id for p, _ in reached)
        text += f" The same sign-in also connects {names}: each is its own account in /connections."
    if released:
        text += f" {released} post(s) that were on hold are back on schedule."
    if resumed:
        text += f" Figures are collected again for {resumed} published post(s)."
    unit = await outbox.record(session, pending.chat, OutgoingMessage(text=text), key=f"connected:{state}")
    return Connected(connection.id, platform, account.username, released, pending.chat, [unit], wake)


ACCOUNT_CHARS = 255  # platform_connections.platform_user_id / platform_username


def storable(platform: Platform, account: Account) -> Account:
    """The account as a connection row can hold it: a name without NULs (PostgreSQL's text refuses them), cut
    to the column; an id that doesn't fit, or holds a NUL, is an answer Recast can't use."""
    key = account.platform_user_id
    if not key or len(key) > ACCOUNT_CHARS or "\x00" in key:
        raise UnreadableAnswer(detail=f"{label(platform)} named an account id Recast can't store ({len(key)} chars)")
    name = (account.username or "").replace("\x00", "")[:ACCOUNT_CHARS].strip()
    return replace(account, username=name or None)


async def _resume_collection(session: AsyncSession, connection: PlatformConnection) -> int:
    """A connection whose figures stopped for a missing insights permission was signed in again (with every
    permission Recast asks for, or `exchange_code` refuses): clear the mark and make its parked posts due.
    Returns how many posts resume."""
    if connection.insights_blocked_at is None:
        return 0
    connection.insights_blocked_at = None
    return await collection.resume_parked(session, connection.id)


def failure_reason(platform: Platform, exc: RecastError) -> str:
    """What went wrong finishing a connect, in the words the chat and the page use."""
    name = label(platform)
    if not isinstance(exc, PlatformError):  # the account can't be connected as it is: its own words say why
        return exc.user_message
    if isinstance(exc, UnreadableAnswer):
        return f"{name} answered the sign-in with something Recast couldn't read."
    if isinstance(exc, PlatformUnavailable | OutcomeUnknown | RateLimited):
        return f"{name} didn't answer the sign-in in time, or had a problem on its side."
    return f"{name} didn't accept the sign-in (a sign-in works once, for a few minutes)."


async def failed(deps: CoreDeps, platform: Platform, failure: ConnectFailed, state: str) -> list[uuid.UUID]:
    """Tell the chat the connect began in that it failed and how to start again; the outbox units to flush."""
    again = "`/recast connect`" if failure.chat.provider == "slack" else "/connect"
    reason = failure.reason.replace("/connect", again) if again != "/connect" else failure.reason
    # A reason that already says to connect again ("... then /connect again.") is not told twice.
    tail = "" if "connect again" in reason.lower() else f" {again} starts again."
    text = f"{label(platform)} wasn't connected: {reason}{tail}"
    async with deps.sessionmaker() as session:
        unit = await outbox.record(session, failure.chat, OutgoingMessage(text=text), key=f"failed:{state}")
        await session.commit()
    return [unit]


async def release_held(session: AsyncSession, connection: PlatformConnection) -> list[uuid.UUID]:
    """Posts held for this connection go back on schedule: at their time, or now if it has passed.
    Returns their new work units."""
    held = (
        await session.scalars(
            select(ScheduledPost).where(
                ScheduledPost.platform_connection_id == connection.id, ScheduledPost.status == PostStatus.HELD
            )
        )
    ).all()
    now = utcnow()
    units = []
    for post in held:
        post.status = PostStatus.SCHEDULED
        post.error_message = None
        when = max(post.scheduled_for, now)
        units.append(await add_publish_unit(session, post.id, when, key=f"{post.id}:released:{now.isoformat()}"))
    return units


async def after_commit(deps: CoreDeps, connected: Connected) -> None:
    await outbox.flush(deps, connected.messages)
    await work.push(deps.work_queue, deps.sessionmaker, connected.wake)


async def declined(deps: CoreDeps, platform: Platform, state: str) -> list[uuid.UUID]:
    """The owner declined on the platform's page: the state is used up and the chat is told."""
    pending = await oauth.redeem_state(deps.redis, deps.settings, platform, state)
    again = "`/recast connect`" if pending.chat.provider == "slack" else "/connect"
    text = f"{label(platform)} wasn't connected: you declined on its page. {again} starts again."
    async with deps.sessionmaker() as session:
        unit = await outbox.record(session, pending.chat, OutgoingMessage(text=text), key=f"declined:{state}")
        await session.commit()
    return [unit]


async def flush_messages(deps: CoreDeps, units: list[uuid.UUID]) -> None:
    await outbox.flush(deps, units)
