"""Collecting published posts' figures on a decaying schedule: 1 h, 6 h, 24 h, 3 d, 7 d and 30 d after
publishing.

Each published post carries its next collection time (`scheduled_posts.metrics_due_at`, indexed where set)
and how many collections are done (`metrics_stage`). A run claims due posts with `FOR UPDATE SKIP LOCKED`
and moves their due time forward by a lease (a run that dies gives them back when the lease runs out),
asks each account's platform for its posts' figures in as few calls as the platform allows (X: up to 100
posts a call; Instagram and Facebook: 50 in a Graph multiple-id read), after reserving what that costs in
the quota ledger out of the part publishing does not keep (`quotas.reserve_collection`), and writes every
row in one statement together with the stage's advance. The advance is a compare-and-set on the stage, so
a stage is written once however many runs overlap: exactly once in effect.
`generated_content`'s view/like/comment/share/engagement-rate columns then hold the sum of the latest
figure on each platform. Platform webhooks (Meta's comments and reactions) move the same figures between
readings through `record_interactions`, each change once (`platform_change_receipts`).

A connection whose token lacks the insights permission (its granted scopes don't list it, or the platform
answers `PermissionMissing`) is marked once (`insights_blocked_at`), its owner told once through the outbox,
and its posts parked (stage kept, no due time) until a reconnect clears the mark and `resume_parked` makes
them due again.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts.models import ClientAccount
from core.analytics.models import EngagementMetric
from core.common.clock import utcnow
from core.config import Settings
from core.distribution import connections, quotas
from core.distribution.clients import configured_clients
from core.distribution.errors import PermissionMissing, PlatformError, RateLimited, TokenRevoked
from core.distribution.models import (
    ConnectionStatus,
    PlatformChangeReceipt,
    PlatformConnection,
    PostStatus,
    ScheduledPost,
)
from core.distribution.notices import owner_chats
from core.distribution.platforms.names import Platform, label
from core.distribution.ports import InsightsClient, PostInsights
from core.notify import outbox
from core.notify.ports import Button, ChatRef, ConnectAction, OutgoingMessage

log = logging.getLogger(__name__)

STAGES: tuple[timedelta, ...] = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
    timedelta(days=3),
    timedelta(days=7),
    timedelta(days=30),
)
LEASE = timedelta(minutes=10)
BATCH = 500
BROKEN_CONNECTION_WAIT = timedelta(hours=6)
PLATFORM_TROUBLE_WAIT = timedelta(minutes=30)


def due_after(published_at: datetime, stage: int) -> datetime | None:
    """When collection number `stage` (0-based) is due; None after the last."""
    return published_at + STAGES[stage] if stage < len(STAGES) else None


def engagement_rate(figures: PostInsights) -> Decimal | None:
    """Interactions per impression (or per view where the platform reports no impressions), in percent."""
    seen = figures.impressions or figures.views
    if not seen:
        return None
    acts = sum(v or 0 for v in (figures.likes, figures.comments, figures.shares, figures.saves))
    return min(Decimal("999.99"), (Decimal(acts) * 100 / Decimal(seen)).quantize(Decimal("0.01")))


@dataclass
class CollectReport:
    claimed: int = 0
    written: int = 0
    deferred: int = 0
    finished: int = 0  # posts with nothing more to collect (last stage, or the platform lost them)
    parked: int = 0  # posts of connections lacking the insights permission: not asked until reconnected
    notes: list[str] = field(default_factory=list)
    messages: list[uuid.UUID] = field(default_factory=list)  # outbox units to flush after the run


@dataclass(frozen=True)
class _Claimed:
    post_id: uuid.UUID
    draft_id: uuid.UUID | None
    connection_id: uuid.UUID | None
    platform: str
    platform_post_id: str
    published_at: datetime
    stage: int


async def collect_due(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, *, limit: int = BATCH
) -> CollectReport:
    """One collection run over the posts due now (at most `limit`)."""
    report = CollectReport()
    claimed = await _claim(sessionmaker, limit)
    report.claimed = len(claimed)
    by_connection: dict[uuid.UUID | None, list[_Claimed]] = defaultdict(list)
    for item in claimed:
        by_connection[item.connection_id].append(item)
    results: dict[uuid.UUID, PostInsights | None] = {}  # None: the platform no longer has the post
    deferrals: dict[uuid.UUID, datetime] = {}
    blocked: dict[uuid.UUID, tuple[str, ...]] = {}  # connection -> the insights permissions it lacks
    clients = configured_clients(settings)
    async with sessionmaker() as session:
        accounts = {
            c.id: c
            for c in await session.scalars(
                select(PlatformConnection).where(PlatformConnection.id.in_([k for k in by_connection if k]))
            )
        }
    for connection_id, items in by_connection.items():
        connection = accounts.get(connection_id) if connection_id else None
        client = clients.get(Platform(connection.platform)) if connection else None
        if connection is None or not isinstance(client, InsightsClient):
            # No account any more, or no app / insights for this platform on this server: nothing to collect.
            results.update(dict.fromkeys((i.post_id for i in items), None))
            continue
        if connection.status != ConnectionStatus.ACTIVE:
            deferrals.update(dict.fromkeys((i.post_id for i in items), utcnow() + BROKEN_CONNECTION_WAIT))
            continue
        needed: tuple[str, ...] = tuple(getattr(client, "insights_scopes", ()))
        missing = tuple(s for s in needed if connection.scopes and s not in connection.scopes)
        if missing or connection.insights_blocked_at is not None:
            # Granted before the permission was asked for (or refused by the platform already): no call
            # can succeed until the owner reconnects.
            blocked[connection.id] = missing or needed
            continue
        if not await _quota_allows(sessionmaker, settings, connection, len(items)):
            # Publishing's share of the quota is all that is left: wait for the reset, publish first.
            bucket = quotas.COLLECTION_BUCKETS[connection.platform]
            deferrals.update(dict.fromkeys((i.post_id for i in items), quotas.reset_of(bucket, utcnow())))
            report.notes.append(f"{connection.platform} {connection.id}: quota kept for publishing")
            continue
        try:
            figures = await client.insights(
                connections.credentials(settings, connection), [i.platform_post_id for i in items]
            )
        except PermissionMissing:
            blocked[connection.id] = needed
            report.notes.append(f"{connection.platform} {connection.id}: insights permission missing")
            continue
        except (RateLimited, TokenRevoked, PlatformError) as exc:
            wait = timedelta(seconds=exc.retry_after) if exc.retry_after else PLATFORM_TROUBLE_WAIT
            if isinstance(exc, TokenRevoked):
                wait = BROKEN_CONNECTION_WAIT
            deferrals.update(dict.fromkeys((i.post_id for i in items), utcnow() + wait))
            report.notes.append(f"{connection.platform} {connection.id}: {type(exc).__name__}")
            continue
        for item in items:
            results[item.post_id] = figures.get(item.platform_post_id)
    parked = {i.post_id for i in claimed if i.connection_id in blocked}
    written, finished, report.messages = await _write(
        sessionmaker, claimed, results, deferrals, parked, {k: (accounts[k], v) for k, v in blocked.items()}
    )
    report.written, report.finished, report.deferred = written, finished, len(deferrals)
    report.parked = len(parked)
    return report


async def resume_parked(session: AsyncSession, connection_id: uuid.UUID) -> int:
    """The account was connected again (with the permissions asked now): its published posts whose
    collection was parked for a missing insights permission are due at once. Returns how many."""
    resumed = await session.scalars(
        update(ScheduledPost)
        .where(
            ScheduledPost.platform_connection_id == connection_id,
            ScheduledPost.status == PostStatus.PUBLISHED,
            ScheduledPost.platform_post_id.is_not(None),
            ScheduledPost.published_at.is_not(None),
            ScheduledPost.metrics_due_at.is_(None),
            ScheduledPost.metrics_stage < len(STAGES),
        )
        .values(metrics_due_at=utcnow())
        .returning(ScheduledPost.id)
    )
    return len(resumed.all())


async def _tell_permission_missing(
    session: AsyncSession, connection: PlatformConnection, permissions: tuple[str, ...]
) -> list[uuid.UUID]:
    """Mark the connection blocked and tell its owner, once: the compare-and-set on `insights_blocked_at`
    makes overlapping runs tell them once, and a reconnect clears it (`connect.finish_connect`)."""
    now = utcnow()
    marked = await session.scalar(
        update(PlatformConnection)
        .where(PlatformConnection.id == connection.id, PlatformConnection.insights_blocked_at.is_(None))
        .values(insights_blocked_at=now)
        .returning(PlatformConnection.id)
    )
    if marked is None:
        return []  # already told; its posts stay parked until it is reconnected
    units = []
    client = await session.get(ClientAccount, connection.client_account_id) if connection.client_account_id else None
    for chat in await owner_chats(session, connection):
        message = permission_message(connection, permissions, chat, client.name if client else None)
        key = f"insights-permission:{connection.id}:{now.isoformat()}:{chat.chat_id}"
        units.append(await outbox.record(session, chat, message, key=key))
    return units


def permission_message(
    connection: PlatformConnection, permissions: tuple[str, ...], chat: ChatRef, client_name: str | None
) -> OutgoingMessage:
    """What the owner is told: which account, which permission, and the command that fixes it where they
    read it (a client account is reconnected from its Slack channel, never with a Telegram /connect, which
    would connect the person's own account)."""
    name = label(connection.platform)
    account = connection.platform_username or connection.platform_user_id or "your account"
    code = "`" if chat.provider == "slack" else ""  # Slack shows code; Telegram messages are plain text
    wanted = " and ".join(f"{code}{p}{code}" for p in permissions) or "the insights permission"
    one_more = "one more permission" if len(permissions) <= 1 else "more permissions"
    text = f"{name} figures for {account} need {one_more} ({wanted}): "
    buttons: list[list[Button]] = []
    if chat.provider == "slack":
        text += f"send `/recast connect {connection.platform}` here to reconnect"
    elif connection.client_account_id is not None:
        where = f"{client_name}'s" if client_name else "the client's"
        text += f"send /recast connect {connection.platform} in {where} Slack channel to reconnect"
    else:
        text += f"send /connect {connection.platform} to reconnect"
        buttons = [[Button(f"Reconnect {name}", ConnectAction(Platform(connection.platform)))]]
    text += (
        f", and leave it ticked. Until then Recast stops asking {name} for this account's figures; "
        "the ones collected so far stay, and publishing is not affected."
    )
    return OutgoingMessage(text=text, buttons=buttons)


async def _quota_allows(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, connection: PlatformConnection, posts: int
) -> bool:
    """Reserve the metered units one account's figures cost (YouTube: a unit per 50 videos; Instagram:
    three calls per 50 media; X: a read per post), committed before the calls are made: a call that was
    sent is counted even if its answer is lost."""
    cost = quotas.collection_cost(connection.platform, posts)
    if not cost:
        return True
    async with sessionmaker() as session:
        allowed = await quotas.reserve_collection(
            session, settings, connection.platform, cost, account=connection.platform_user_id
        )
        await session.commit()
    return allowed


async def _claim(sessionmaker: async_sessionmaker[AsyncSession], limit: int) -> list[_Claimed]:
    now = utcnow()
    async with sessionmaker() as session:
        posts = (
            await session.scalars(
                select(ScheduledPost)
                .where(ScheduledPost.metrics_due_at <= now)
                .order_by(ScheduledPost.metrics_due_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        claimed = []
        for post in posts:
            post.metrics_due_at = now + LEASE
            if post.platform_post_id and post.published_at and post.status == PostStatus.PUBLISHED:
                claimed.append(
                    _Claimed(
                        post.id,
                        post.generated_content_id,
                        post.platform_connection_id,
                        post.platform,
                        post.platform_post_id,
                        post.published_at,
                        post.metrics_stage,
                    )
                )
            else:
                post.metrics_due_at = None  # not a live post: nothing to collect
        await session.commit()
    return claimed


async def _write(
    sessionmaker: async_sessionmaker[AsyncSession],
    claimed: Sequence[_Claimed],
    results: dict[uuid.UUID, PostInsights | None],
    deferrals: dict[uuid.UUID, datetime],
    parked: set[uuid.UUID],
    blocked: dict[uuid.UUID, tuple[PlatformConnection, tuple[str, ...]]],
) -> tuple[int, int, list[uuid.UUID]]:
    now = utcnow()
    rows: dict[tuple[uuid.UUID, str], dict[str, object]] = {}
    finished = 0
    units: list[uuid.UUID] = []
    async with sessionmaker() as session:
        for connection, permissions in blocked.values():
            units += await _tell_permission_missing(session, connection, permissions)
        for item in claimed:
            if item.post_id in parked:
                # Not due again until the account is reconnected (`resume_parked`): the stage is kept.
                await session.execute(
                    update(ScheduledPost)
                    .where(ScheduledPost.id == item.post_id, ScheduledPost.metrics_stage == item.stage)
                    .values(metrics_due_at=None)
                )
                continue
            if item.post_id in deferrals:
                await session.execute(
                    update(ScheduledPost)
                    .where(ScheduledPost.id == item.post_id, ScheduledPost.metrics_stage == item.stage)
                    .values(metrics_due_at=deferrals[item.post_id])
                )
                continue
            if item.post_id not in results:
                continue
            figures = results[item.post_id]
            next_stage = item.stage + 1 if figures is not None else len(STAGES)
            advanced = await session.scalar(
                update(ScheduledPost)
                .where(ScheduledPost.id == item.post_id, ScheduledPost.metrics_stage == item.stage)
                .values(metrics_stage=next_stage, metrics_due_at=due_after(item.published_at, next_stage))
                .returning(ScheduledPost.id)
            )
            if advanced is None:
                continue  # another run wrote this stage
            if next_stage >= len(STAGES):
                finished += 1
            if figures is None or item.draft_id is None:
                continue
            row = _row(item.draft_id, item.platform, figures, now)
            key = (item.draft_id, item.platform)
            rows[key] = _summed(rows[key], row) if key in rows else row
        if rows:
            await session.execute(
                pg_insert(EngagementMetric)
                .values(list(rows.values()))
                .on_conflict_do_nothing(index_elements=["generated_content_id", "platform", "collected_at"])
            )
            await _refresh_latest(session, sorted({draft for draft, _ in rows}))
        await session.commit()
    return len(rows), finished, units


_COUNTS = ("views", "impressions", "reach", "likes", "comments", "shares", "saves", "clicks")


@dataclass(frozen=True)
class Interaction:
    """What a platform webhook says happened on one of its posts: a counter moved by `delta` (a comment
    added +1, a reaction removed -1)."""

    platform: str
    platform_post_id: str
    counter: str  # comments | likes
    delta: int
    # The change's identity on the platform, (object id, change key): the same change sent again in another
    # delivery is counted once (`platform_change_receipts`). None: the platform named nothing to tell it by.
    change: tuple[str, str] | None = None


async def record_interactions(
    session: AsyncSession, interactions: Sequence[Interaction], *, repeats: list[Interaction] | None = None
) -> int:
    """Move the counters webhooks report on the latest figures of the posts they name, in the caller's
    transaction: per draft and platform one new `engagement_metrics` row, the newest one with the counters
    moved (the next collection's reading, cumulative from the platform, supersedes it), then the draft's
    latest figures. The post's row is locked first, so concurrent deliveries and a collection's stage
    write on the same post queue instead of losing an increment; then a change that names itself
    (`Interaction.change`) is counted only if its receipt is new, so a change Meta sends again in another
    delivery moves nothing (and is added to `repeats`, when given). The posts moved; unknown ones are
    skipped (not ours, or not published through Recast)."""
    moved: dict[tuple[uuid.UUID, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in interactions:
        if item.counter not in ("comments", "likes"):
            continue
        post = await session.scalar(
            select(ScheduledPost)
            .where(
                ScheduledPost.platform == item.platform,
                ScheduledPost.platform_post_id == item.platform_post_id,
                ScheduledPost.status == PostStatus.PUBLISHED,
                ScheduledPost.generated_content_id.is_not(None),
            )
            .order_by(ScheduledPost.published_at.desc())
            .limit(1)
            .with_for_update()
        )
        if post is None or post.generated_content_id is None:
            continue
        if item.change is not None and not await _first_receipt(session, item.platform, *item.change):
            if repeats is not None:
                repeats.append(item)
            continue  # this change was counted from an earlier delivery
        moved[(post.generated_content_id, item.platform)][item.counter] += item.delta
    now = utcnow()
    for (draft_id, platform), deltas in moved.items():
        latest = await session.scalar(
            select(EngagementMetric)
            .where(EngagementMetric.generated_content_id == draft_id, EngagementMetric.platform == platform)
            .order_by(EngagementMetric.collected_at.desc())
            .limit(1)
        )
        row: dict[str, object] = {"generated_content_id": draft_id, "platform": platform, "collected_at": now}
        for name in (*_COUNTS, "watch_time", "completion_rate"):
            row[name] = getattr(latest, name) if latest is not None else None
        for counter, delta in deltas.items():
            row[counter] = max(0, int(row[counter] or 0) + delta)  # type: ignore[call-overload]
        figures = PostInsights(**{n: row[n] for n in _COUNTS})  # type: ignore[arg-type]
        row["engagement_rate"] = engagement_rate(figures)
        await session.execute(pg_insert(EngagementMetric).values(row).on_conflict_do_nothing())
    if moved:
        await _refresh_latest(session, sorted({draft for draft, _ in moved}))
    return len(moved)


async def _first_receipt(session: AsyncSession, platform: str, object_id: str, change_key: str) -> bool:
    """Record that this change is counted, in the caller's transaction (the one that moves the counters);
    False when it already was. A concurrent delivery of the same change waits on the unique key until this
    transaction ends, then finds it."""
    stored = await session.scalar(
        pg_insert(PlatformChangeReceipt)
        .values(platform=platform, object_id=object_id[:255], change_key=change_key[:100])
        .on_conflict_do_nothing()
        .returning(PlatformChangeReceipt.object_id)
    )
    return stored is not None


def _row(draft_id: uuid.UUID, platform: str, figures: PostInsights, at: datetime) -> dict[str, object]:
    return {
        "generated_content_id": draft_id,
        "platform": platform,
        **{name: getattr(figures, name) for name in _COUNTS},
        "watch_time": figures.watch_time_s,
        "completion_rate": Decimal(str(round(figures.completion_rate, 2)))
        if figures.completion_rate is not None
        else None,
        "engagement_rate": engagement_rate(figures),
        "collected_at": at,
    }


def _summed(a: dict[str, object], b: dict[str, object]) -> dict[str, object]:
    """Two accounts' posts of one draft on one platform, collected in the same run: one row, their sum."""
    total = dict(a)
    for name in (*_COUNTS, "watch_time"):
        x, y = a.get(name), b.get(name)
        total[name] = None if x is None and y is None else int(x or 0) + int(y or 0)  # type: ignore[call-overload]
    figures = PostInsights(**{n: total[n] for n in _COUNTS})  # type: ignore[arg-type]
    total["engagement_rate"] = engagement_rate(figures)
    total["completion_rate"] = None
    return total


async def _refresh_latest(session: AsyncSession, draft_ids: list[uuid.UUID]) -> None:
    """Each draft's latest figures: the newest row per platform, summed over its platforms."""
    await session.execute(
        text(
            """
            WITH latest AS (
                SELECT DISTINCT ON (generated_content_id, platform)
                       generated_content_id, views, impressions, likes, comments, shares, saves
                FROM engagement_metrics
                WHERE generated_content_id = ANY(:ids)
                ORDER BY generated_content_id, platform, collected_at DESC
            ), summed AS (
                SELECT generated_content_id AS id,
                       sum(coalesce(nullif(views, 0), impressions, 0)) AS views,
                       sum(coalesce(nullif(impressions, 0), views, 0)) AS seen,
                       sum(coalesce(likes, 0)) AS likes,
                       sum(coalesce(comments, 0)) AS comments,
                       sum(coalesce(shares, 0)) AS shares,
                       sum(coalesce(saves, 0)) AS saves
                FROM latest GROUP BY generated_content_id
            )
            UPDATE generated_content g
            SET views = s.views, likes = s.likes, comments = s.comments, shares = s.shares,
                engagement_rate = CASE WHEN s.seen > 0
                    THEN least(999.99, round((s.likes + s.comments + s.shares + s.saves) * 100.0 / s.seen, 2))
                END
            FROM summed s WHERE g.id = s.id
            """
        ),
        {"ids": draft_ids},
    )
