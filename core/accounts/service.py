"""Accounts: people arriving from chat, their personal organization and their settings."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.errors import (
    EmailTaken,
    InvalidEmail,
    InvalidTimezone,
    NotRegistered,
    UnsupportedLanguage,
)

__all__ = ["NotRegistered", "register_chat_user", "set_email", "update_preferences"]
from core.accounts.models import ChatIdentity, Organization, TeamMember, User
from core.billing import usage as billing_usage
from core.db.session import act_from_here, act_from_here_if_bound
from core.system import audit

# Users created from chat never log in with a password; "!" can never match a password hash.
UNUSABLE_PASSWORD_PREFIX = "!"
PLACEHOLDER_EMAIL_DOMAIN = "users.recast.invalid"  # RFC 2606: .invalid never resolves
SUPPORTED_LANGUAGES = ("en", "hi")


def unusable_password_hash() -> str:
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(24)


def has_real_email(user: User) -> bool:
    return not user.email.endswith("@" + PLACEHOLDER_EMAIL_DOMAIN)


def _slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40] or "creator"


@dataclass
class ChatRegistration:
    user: User
    identity: ChatIdentity
    organization: Organization
    created: bool


async def register_chat_user(
    *,
    session: AsyncSession,
    provider: str,
    external_user_id: str,
    chat_id: str,
    full_name: str,
    username: str | None = None,
    language: str | None = None,
) -> ChatRegistration:
    """Find or create the user behind a chat account, with a personal organization and a trial."""
    identity = await session.scalar(
        select(ChatIdentity).where(ChatIdentity.provider == provider, ChatIdentity.external_user_id == external_user_id)
    )
    if identity is not None:
        user = await session.get_one(User, identity.user_id)
        org = await personal_organization(session=session, user_id=user.id)
        identity.chat_id, identity.username = chat_id, username
        return ChatRegistration(user, identity, org, created=False)

    lang = language if language in SUPPORTED_LANGUAGES else "en"
    user = User(
        email=f"{provider}-{external_user_id}@{PLACEHOLDER_EMAIL_DOMAIN}",
        password_hash=unusable_password_hash(),
        full_name=(full_name or username or "Creator")[:255],
        timezone="Asia/Kolkata",
        language=lang,
    )
    session.add(user)
    await session.flush()
    org = Organization(
        name=f"{user.full_name}'s workspace"[:255],
        slug=f"{_slugify(username or user.full_name)}-{uuid.uuid4().hex[:8]}",
        owner_id=user.id,
        type="individual",
    )
    session.add(org)
    await session.flush()
    identity = ChatIdentity(
        provider=provider,
        external_user_id=external_user_id,
        chat_id=chat_id,
        username=username,
        user_id=user.id,
    )
    session.add(identity)
    try:
        await session.flush()
    except IntegrityError:
        # Two /start updates raced; the other one created the account.
        await session.rollback()
        return await register_chat_user(
            session=session,
            provider=provider,
            external_user_id=external_user_id,
            chat_id=chat_id,
            full_name=full_name,
            username=username,
            language=language,
        )
    # The new person's own rows from here: on an RLS-bound login the door's session acted for no one.
    await act_from_here_if_bound(session, org.id)
    session.add(TeamMember(organization_id=org.id, user_id=user.id, role="owner", status="active"))
    await billing_usage.start_trial(session=session, user_id=user.id, organization_id=org.id)
    await audit.record(
        session=session,
        action="user_created",
        user_id=user.id,
        organization_id=org.id,
        resource_type="user",
        resource_id=user.id,
        metadata={"via": provider},
    )
    return ChatRegistration(user, identity, org, created=True)


async def identity_for(*, session: AsyncSession, provider: str, external_user_id: str) -> ChatIdentity:
    identity = await session.scalar(
        select(ChatIdentity).where(ChatIdentity.provider == provider, ChatIdentity.external_user_id == external_user_id)
    )
    if identity is None:
        raise NotRegistered()
    return identity


async def chat_user_and_organization(
    *, session: AsyncSession, provider: str, external_user_id: str
) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The chat account's user and the organization it acts for (its personal one), in one query; None
    before they register."""
    row = (
        await session.execute(
            select(ChatIdentity.user_id, Organization.id)
            .join(Organization, ChatIdentity.user_id == Organization.owner_id)
            .where(
                ChatIdentity.provider == provider,
                ChatIdentity.external_user_id == external_user_id,
                Organization.type == "individual",
            )
            .order_by(Organization.created_at)
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def personal_organization_id(*, session: AsyncSession, user_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(
        select(Organization.id)
        .where(Organization.owner_id == user_id, Organization.type == "individual")
        .order_by(Organization.created_at)
        .limit(1)
    )


async def act_for_user(*, session: AsyncSession, user_id: uuid.UUID) -> None:
    """Row-level security once a signed link, an OAuth state or a payment names the person: the rest of
    the transaction acts for their personal organization."""
    if (organization_id := await personal_organization_id(session=session, user_id=user_id)) is not None:
        await act_from_here(session, organization_id)


async def personal_organization(*, session: AsyncSession, user_id: uuid.UUID) -> Organization:
    org = await session.scalar(
        select(Organization).where(Organization.owner_id == user_id).order_by(Organization.created_at).limit(1)
    )
    if org is None:
        raise NotRegistered()
    return org


async def set_email(*, session: AsyncSession, user_id: uuid.UUID, email: str) -> User:
    """Validate and store the user's email (needed on invoices)."""
    try:
        normalized = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail(detail=str(exc)) from exc
    if normalized.endswith("@" + PLACEHOLDER_EMAIL_DOMAIN):
        raise InvalidEmail()
    taken = await session.scalar(select(User.id).where(User.email == normalized, User.id != user_id))
    if taken is not None:
        raise EmailTaken()
    user = await session.get_one(User, user_id)
    user.email = normalized
    user.email_verified = False
    await session.flush()
    return user


async def update_preferences(
    *, session: AsyncSession, user_id: uuid.UUID, timezone: str | None = None, language: str | None = None
) -> User:
    user = await session.get_one(User, user_id)
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidTimezone() from exc
        user.timezone = timezone
    if language is not None:
        if language not in SUPPORTED_LANGUAGES:
            raise UnsupportedLanguage()
        user.language = language
    await session.flush()
    return user
