"""The creator's publishing calendar as an iCalendar feed (RFC 5545) their calendar app subscribes to.

The feed URL carries a token naming the creator with a MAC under RECAST_SECRET_KEY: it can't be guessed
or altered, and it shows only the creator's own scheduled posts. Changing RECAST_SECRET_KEY retires
every feed link (creators get a new one from /calendar).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.common.clock import utcnow
from core.common.secrets import b64, sign, unb64, verify_b64
from core.config import Settings
from core.distribution import calendar
from core.distribution.models import PostStatus, ScheduledPost
from core.distribution.platforms.names import label

FEED_LABEL = b"recast calendar feed v1"


def feed_token(settings: Settings, user_id: uuid.UUID) -> str:
    mac = sign(settings.recast_secret_key.get_secret_value(), FEED_LABEL, user_id.bytes, length=16)
    return f"{b64(user_id.bytes)}.{b64(mac)}"


def user_of(settings: Settings, token: str) -> uuid.UUID | None:
    """The creator a feed token names, or None for anything we didn't issue."""
    head, _, mac = token.partition(".")
    try:
        raw = unb64(head)
        user_id = uuid.UUID(bytes=raw)
    except (ValueError, TypeError):
        return None
    return user_id if verify_b64(settings.secret_keys(), FEED_LABEL, raw, mac, length=16) else None


def feed_url(settings: Settings, user_id: uuid.UUID) -> str:
    return f"{settings.public_base_url.rstrip('/')}/calendar/{feed_token(settings, user_id)}.ics"


def _text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Lines of at most 75 octets, continued with CRLF + space (never splitting a UTF-8 character)."""
    out: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


async def ics(session: AsyncSession, user_id: uuid.UUID) -> str:
    """The creator's scheduled and held posts as VEVENTs (held ones marked tentative, with why), and the
    calendar slots they kept for drafts not approved yet (tentative)."""
    posts = (
        await session.scalars(
            select(ScheduledPost)
            .where(ScheduledPost.user_id == user_id, ScheduledPost.status.in_([PostStatus.SCHEDULED, PostStatus.HELD]))
            .order_by(ScheduledPost.scheduled_for)
        )
    ).all()
    now = _stamp(utcnow())
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Recast//Publishing calendar//EN",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:Recast posts",
    ]
    for post in posts:
        caption = post.post_caption or ""
        summary = f"{label(post.platform)}: {caption.splitlines()[0][:60] if caption else 'post'}"
        description = caption if post.status == PostStatus.SCHEDULED else f"On hold: {post.error_message}\n\n{caption}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{post.id}@recast",
            f"DTSTAMP:{now}",
            f"DTSTART:{_stamp(post.scheduled_for)}",
            "DURATION:PT15M",
            f"SUMMARY:{_text(summary)}",
            f"DESCRIPTION:{_text(description)}",
            f"STATUS:{'CONFIRMED' if post.status == PostStatus.SCHEDULED else 'TENTATIVE'}",
            "END:VEVENT",
        ]
    for entry, at in await calendar.kept(session, user_id):  # slots kept for drafts not scheduled yet
        summary = f"{label(entry.platform or '')}: {calendar.what(entry)} (slot kept)"
        lines += [
            "BEGIN:VEVENT",
            f"UID:entry-{entry.id}@recast",
            f"DTSTAMP:{now}",
            f"DTSTART:{_stamp(at)}",
            "DURATION:PT15M",
            f"SUMMARY:{_text(summary)}",
            "DESCRIPTION:Kept in Recast for this draft: not scheduled yet (see /calendar).",
            "STATUS:TENTATIVE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
