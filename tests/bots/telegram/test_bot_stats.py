"""/stats over the fake Telegram: before anything is published it says how figures arrive; with figures it
answers with this week against the same days of last week, per platform, the top piece with its link, and
a chart that is a real 1080 px PNG with both weeks' bars; a second /stats within the cache's TTL answers
from the seed's `analytics:{user}:{date}:summary` key."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

from chat import reply_to, seed_and_onboard
from PIL import Image
from sqlalchemy import select
from test_bot_flow import running_bot

from core.accounts.models import ChatIdentity
from core.analytics import snapshots
from core.analytics.models import EngagementMetric
from core.analytics.stats import week_start
from core.common.clock import utcnow
from core.distribution.models import PostStatus, ScheduledPost
from core.repurposing.models import GeneratedContent

CREATOR = 5650031


async def _figures(deps, user_id: uuid.UUID) -> None:  # type: ignore[no-untyped-def]
    """A LinkedIn post with a row in last week's span, one just before this week, and one this week."""
    now = utcnow()
    start = week_start(now, "Asia/Kolkata")
    half = (now - start) / 2
    async with deps.sessionmaker() as session:
        draft = GeneratedContent(user_id=user_id, title="Consistency beats talent", content_type="social_post")
        session.add(draft)
        await session.flush()
        session.add(
            ScheduledPost(
                generated_content_id=draft.id,
                user_id=user_id,
                platform="linkedin",
                scheduled_for=start - timedelta(days=8),
                status=PostStatus.PUBLISHED,
                published_at=start - timedelta(days=8),
                platform_post_url="https://www.linkedin.com/feed/update/urn:li:share:42/",
            )
        )
        for when, impressions, likes, comments in (
            (start - timedelta(days=7) + half, 100, 10, 0),
            (start - timedelta(minutes=1), 150, 12, 0),
            (start + half, 400, 30, 5),
        ):
            session.add(
                EngagementMetric(
                    generated_content_id=draft.id,
                    platform="linkedin",
                    collected_at=when,
                    views=None,
                    impressions=impressions,
                    likes=likes,
                    comments=comments,
                )
            )
        await session.commit()


async def test_stats_answers_with_the_weeks_figures_and_a_chart(live_deps, redis_url, run_id) -> None:
    # A pooled sessionmaker: the bot and the worker run sessions at the same time, which one shared test
    # connection cannot hold apart (each acts for its own organization on its own connection).
    core_deps = live_deps
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await seed_and_onboard(core_deps, tg, CREATOR)
        empty = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "stats"), "No figures yet")
        assert "/connect" in empty.content

        async with core_deps.sessionmaker() as session:
            identity = await session.scalar(select(ChatIdentity).filter_by(provider="telegram", chat_id=str(CREATOR)))
            assert identity is not None
        await _figures(core_deps, identity.user_id)
        answer = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "stats"), "This week so far")
        assert answer.media_kind == "photo"
        text = answer.content
        # This week: 400 - 150 views, (30 + 5) - 12 engagements; last week's span: 100 views, 10.
        assert "Views 250 (+150%) · Engagement 23 (+130%)" in text
        assert "• LinkedIn: 250 views, 23 engagements (+130%)" in text
        assert "1. Consistency beats talent — LinkedIn, 23 engagements https://www.linkedin.com/feed/update/" in text

        png = tg._files[answer.media[0]["file_id"]].content
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.size == (1080, 1080)
        colours = {c for _, c in image.convert("RGB").getcolors(maxcolors=1_000_000) or []}
        assert (0x25, 0x63, 0xEB) in colours and (0xCB, 0xD5, 0xE1) in colours  # this week's and last week's bars

        key = snapshots.summary_key(identity.user_id, utcnow().date())
        assert 0 < await core_deps.redis.ttl(key) <= snapshots.SUMMARY_TTL_S
        again = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "stats"), "This week so far")
        assert "Views 250 (+150%)" in again.content
