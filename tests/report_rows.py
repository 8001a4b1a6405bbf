"""Rows for the monthly report and /stats <source> tests, with hand-computed figures.

One creator (Asia/Kolkata) and, optionally, an agency organization with a client account. The source
"Sourdough at scale" has four drafts, placed relative to a month `M` (its first instant in IST is `m0`):

- A, a LinkedIn post published 12 days before `m0`: impressions 100 / likes 10 twelve days before `m0`;
  250 / 15 one hour and a half into `m0` (still the month before in UTC, already `M` in IST); 700 / 50 likes
  / 10 comments / 2 shares on day 25 of `M`.
- B, an X thread published on day 11 of `M`: views 300 / likes 20 on day 12; 500 / 40 likes / 4 saves on
  day 28; 900 / 60 likes / 4 saves on the 1st of the month after (outside `M`).
- C, a blog article never published.
- D, a LinkedIn post published on day 3 of `M` with no `engagement_metrics` rows, only the figures
  `generated_content` holds (views 50, likes 5).

A second, newer source "Bread basics" has no drafts (it is /history's first line).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.accounts.models import ChatIdentity, ClientAccount, Organization, User
from core.analytics.report import Month
from core.content.models import ContentAsset
from core.distribution.models import PostStatus, ScheduledPost
from core.repurposing.models import GeneratedContent

TZ = "Asia/Kolkata"
A_TITLE, B_TITLE, C_TITLE, D_TITLE = (
    "Hydration is the whole trick",
    "Five mistakes with starters",
    "The long read: sourdough at scale",
    "Bake schedule for busy weeks",
)
A_URL = "https://www.linkedin.com/feed/update/urn:li:share:7001/"
B_URL = "https://x.com/baker/status/1900000000000000001"


@dataclass
class Rows:
    user_id: uuid.UUID
    asset_id: uuid.UUID
    client_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    drafts: dict[str, uuid.UUID]


def day(month: Month, n: int, hour: int = 12) -> datetime:
    """Day `n` of `month` at `hour`:00 UTC."""
    return datetime(month.year, month.month, 1, hour, tzinfo=UTC) + timedelta(days=n - 1)


async def add_user(session, *, chat_id: str | None = None, name: str = "Meera Baker") -> User:  # type: ignore[no-untyped-def]
    user = User(email=f"baker-{uuid.uuid4().hex[:8]}@example.com", password_hash="!x", full_name=name, timezone=TZ)
    session.add(user)
    await session.flush()
    if chat_id is not None:
        session.add(ChatIdentity(provider="telegram", external_user_id=chat_id, chat_id=chat_id, user_id=user.id))
        await session.flush()
    return user


async def add_rows(
    session,  # type: ignore[no-untyped-def]
    month: Month,
    *,
    user: User | None = None,
    client: bool = False,
    client_name: str = "Crumb & Co",
) -> Rows:
    if user is None:
        user = await add_user(session)
    org_id = client_id = None
    if client:
        org = Organization(name="Oven Agency", slug=f"oven-{uuid.uuid4().hex[:8]}", owner_id=user.id)
        session.add(org)
        await session.flush()
        account = ClientAccount(organization_id=org.id, name=client_name, slug=f"crumb-{uuid.uuid4().hex[:6]}")
        session.add(account)
        await session.flush()
        org_id, client_id = org.id, account.id
    m0 = month.bounds(TZ)[0]
    asset = ContentAsset(
        user_id=user.id,
        organization_id=org_id,
        client_account_id=client_id,
        title="Sourdough at scale",
        content_type="video",
        file_url="local:assets/sourdough.mp4",
        created_at=m0 - timedelta(days=20),
    )
    newer = ContentAsset(
        user_id=user.id,
        title="Bread basics",
        content_type="text",
        file_url="local:assets/bread.txt",
        created_at=m0 - timedelta(days=19),
    )
    session.add_all([asset, newer])
    await session.flush()
    drafts: dict[str, GeneratedContent] = {}
    for key, title, kind, platform, created, fmt in (
        ("A", A_TITLE, "social_post", "linkedin", 1, "linkedin_post"),
        ("B", B_TITLE, "social_post", "x", 2, "twitter_thread"),
        ("C", C_TITLE, "blog_article", None, 3, "blog_article"),
        ("D", D_TITLE, "social_post", "linkedin", 4, None),  # written before drafts kept their format
    ):
        drafts[key] = GeneratedContent(
            user_id=user.id,
            content_asset_id=asset.id,
            title=title,
            content_type=kind,
            target_platform=platform,
            created_at=m0 - timedelta(days=20) + timedelta(minutes=created),
            metadata_={"output_format": fmt} if fmt else None,
        )
    drafts["D"].views, drafts["D"].likes = 50, 5
    session.add_all(drafts.values())
    await session.flush()
    for key, platform, published, url in (
        ("A", "linkedin", m0 - timedelta(days=12), A_URL),
        ("B", "x", day(month, 11), B_URL),
        ("D", "linkedin", day(month, 3), None),
    ):
        session.add(
            ScheduledPost(
                generated_content_id=drafts[key].id,
                user_id=user.id,
                platform=platform,
                scheduled_for=published,
                status=PostStatus.PUBLISHED,
                published_at=published,
                platform_post_url=url,
            )
        )
    from core.analytics.models import EngagementMetric

    after = month.next()
    for key, platform, when, figures in (
        ("A", "linkedin", m0 - timedelta(days=12), {"impressions": 100, "likes": 10}),
        ("A", "linkedin", m0 + timedelta(minutes=90), {"impressions": 250, "likes": 15}),
        ("A", "linkedin", day(month, 25), {"impressions": 700, "likes": 50, "comments": 10, "shares": 2}),
        ("B", "x", day(month, 12), {"views": 300, "likes": 20}),
        ("B", "x", day(month, 28), {"views": 500, "likes": 40, "saves": 4}),
        ("B", "x", day(after, 1), {"views": 900, "likes": 60, "saves": 4}),
    ):
        session.add(
            EngagementMetric(
                generated_content_id=drafts[key].id,
                platform=platform,
                collected_at=when,
                **({"views": None} if "views" not in figures else {}),
                **figures,
            )
        )
    await session.flush()
    return Rows(user.id, asset.id, client_id, org_id, {k: d.id for k, d in drafts.items()})
