"""What a platform's webhook means for Recast, once the inbox has stored and verified it.

Revocations matter now: Meta's deauthorize callback and TikTok's `authorization.removed` mean the owner
removed Recast from their account, so its connections are marked revoked, their posts held and the owner
told once (the same path as a 401 at publish time). TikTok's publish events and YouTube's feed finish or
annotate our own posts (`publish_events`). Meta's engagement webhooks (Instagram `comments`, Facebook Page
`feed` comments and reactions) move the matching post's latest figures (`collection.record_interactions`).
Other deliveries are kept in the inbox.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.collection import Interaction, record_interactions
from core.common.clock import utcnow
from core.config import Settings
from core.distribution import connections, publish_events
from core.distribution.models import ConnectionStatus, PlatformConnection
from core.distribution.notices import owner_chats
from core.distribution.platforms.meta_signed import SignatureInvalid, signed_request_of
from core.distribution.platforms.names import Platform, label
from core.distribution.platforms.youtube_feed import parse_feed
from core.inbox.models import EventStatus
from core.inbox.payload import MalformedPayload, parse_object
from core.notify import outbox
from core.notify.ports import Button, ConnectAction, OutgoingMessage

REVOKED_BY_OWNER = "the account's owner removed Recast's access on the platform"


def payload_of(settings: Settings, sender: str, event_type: str | None, raw_body: bytes) -> dict[str, Any]:
    """The stored delivery's payload (verified at the door; read again here from the raw bytes)."""
    if sender == "meta" and event_type == "deauthorize":
        secret = settings.meta_app_secret.get_secret_value() if settings.meta_app_secret else ""
        return signed_request_of(raw_body, [s.strip() for s in secret.split(",") if s.strip()])
    if sender == "youtube":  # an Atom feed, not JSON
        payload, malformed = parse_feed(raw_body)
        if malformed:
            raise MalformedPayload(malformed)
        return payload
    return parse_object(raw_body)


async def process(
    session: AsyncSession, settings: Settings, *, sender: str, event_type: str | None, raw_body: bytes
) -> tuple[EventStatus, str | None, list[uuid.UUID]]:
    """(status, note, outbox units) for one stored platform event."""
    try:
        payload = payload_of(settings, sender, event_type, raw_body)
    except (MalformedPayload, SignatureInvalid) as exc:
        return EventStatus.MALFORMED, str(exc), []
    if sender == "tiktok" and event_type in publish_events.TIKTOK_EVENTS:
        return await publish_events.tiktok_post_event(session, event_type, payload)
    if sender == "youtube":
        return await publish_events.youtube_feed_event(session, payload)
    if sender == "meta" and (interactions := meta_interactions(event_type, payload)):
        return await _engagement(session, interactions)
    accounts = revoked_accounts(sender, event_type, payload)
    if not accounts:
        return EventStatus.IGNORED, "kept for analytics; nothing to change", []
    units = await revoke_accounts(session, accounts)
    return EventStatus.PROCESSED, f"revoked {len(accounts)} account(s)", units


async def _engagement(
    session: AsyncSession, interactions: list[Interaction]
) -> tuple[EventStatus, str | None, list[uuid.UUID]]:
    repeats: list[Interaction] = []
    posts = await record_interactions(session, interactions, repeats=repeats)
    again = f"; {len(repeats)} already counted from an earlier delivery" if repeats else ""
    if posts:
        return EventStatus.PROCESSED, f"{len(interactions) - len(repeats)} interaction(s) on {posts} post(s){again}", []
    if repeats:
        return (
            EventStatus.PROCESSED,
            f"nothing new: {len(repeats)} change(s) already counted from an earlier delivery",
            [],
        )
    return EventStatus.IGNORED, "no post of ours named", []


def meta_interactions(event_type: str | None, payload: dict[str, Any]) -> list[Interaction]:
    """The counters a Meta delivery moves: `entry[].changes[]` with Instagram's `comments` field (a new
    comment on the media in `value.media.id`) or a Page's `feed` field (`value.item` comment or reaction,
    `value.verb` add or remove, on `value.post_id`; edits and other items move nothing)."""
    found: list[Interaction] = []
    for entry in payload.get("entry") or []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            field = change.get("field")
            if event_type == "instagram" and field == "comments":
                media = value.get("media")
                if isinstance(media, dict) and media.get("id"):
                    key = ("comment:" + str(value["id"]), "add") if value.get("id") else None
                    found.append(Interaction(Platform.INSTAGRAM, str(media["id"]), "comments", 1, key))
            elif event_type == "page" and field == "feed" and value.get("post_id"):
                counter = {"comment": "comments", "reaction": "likes"}.get(str(value.get("item")))
                delta = {"add": 1, "remove": -1}.get(str(value.get("verb")), 0)
                if counter and delta:
                    post_id = str(value["post_id"])
                    found.append(Interaction(Platform.FACEBOOK, post_id, counter, delta, _feed_change(post_id, value)))
    return found


def _feed_change(post_id: str, value: dict[str, Any]) -> tuple[str, str] | None:
    """A Page `feed` change's identity, so a redelivery in another delivery counts once. A comment is added
    once and removed once (`comment_id`, verb). A reaction has no id of its own: it is the reacting person's
    on the post, and the same person may react, take it back and react again, so its key also carries the
    reaction and Meta's `created_time` (the same in a redelivery of the same change)."""
    verb = str(value.get("verb"))
    if value.get("item") == "comment":
        return ("comment:" + str(value["comment_id"]), verb) if value.get("comment_id") else None
    who = value.get("from")
    person = str(who.get("id") or "") if isinstance(who, dict) else ""
    when = value.get("created_time")
    if not person and when is None:
        return None  # nothing to tell one reaction from another by: counted per delivery
    return f"reaction:{post_id}:{person}", f"{verb}:{value.get('reaction_type') or ''}:{when or ''}"


def revoked_accounts(sender: str, event_type: str | None, payload: dict[str, Any]) -> list[tuple[Platform, str]]:
    """(platform, platform user id) pairs this delivery says were deauthorised."""
    if sender == "tiktok" and event_type == "authorization.removed" and payload.get("user_openid"):
        return [(Platform.TIKTOK, str(payload["user_openid"]))]
    if sender == "meta" and event_type == "deauthorize" and payload.get("user_id"):
        user = str(payload["user_id"])
        return [(Platform.INSTAGRAM, user), (Platform.FACEBOOK, user)]
    return []


async def revoke_accounts(session: AsyncSession, accounts: list[tuple[Platform, str]]) -> list[uuid.UUID]:
    """Mark every matching active connection revoked, hold its posts, tell each owner once."""
    units: list[uuid.UUID] = []
    for platform, platform_user_id in accounts:
        rows = await session.scalars(
            select(PlatformConnection).where(
                PlatformConnection.platform == platform,
                # Meta's connections are `<account>@<person>` (`platforms.meta_graph.account_id`): the
                # deauthorize callback names the person.
                or_(
                    PlatformConnection.platform_user_id == platform_user_id,
                    PlatformConnection.platform_user_id.endswith(f"@{platform_user_id}", autoescape=True),
                ),
                PlatformConnection.status == ConnectionStatus.ACTIVE,
            )
        )
        for connection in rows.all():
            held = await connections.mark_broken(session, connection, ConnectionStatus.REVOKED, REVOKED_BY_OWNER)
            connection.owner_told_at = utcnow()
            name = label(platform)
            text = f"Recast's access to your {name} account was removed on {name}, so nothing more is posted there."
            if held:
                text += f" {len(held)} scheduled post(s) are on hold: reconnect to send them, or leave them."
            message = OutgoingMessage(text=text, buttons=[[Button(f"Reconnect {name}", ConnectAction(platform))]])
            for chat in await owner_chats(session, connection):
                key = f"revoked:{connection.id}:{connection.owner_told_at.isoformat()}:{chat.chat_id}"
                units.append(await outbox.record(session, chat, message, key=key))
    return units
