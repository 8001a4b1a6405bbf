"""Issue 11, item 7: a creator without a plan (here: registered on a database whose plans were never
loaded) still has limits — the trial plan's free allowance — never unlimited use."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from test_bot_flow import TALK, running_bot

from core.accounts.models import ChatIdentity
from core.billing.models import Subscription, UsageTracking
from core.content.models import ContentAsset
from core.db import migrate
from core.db.session import make_engine, make_sessionmaker

CREATOR = 5600001


@pytest.fixture
def unseeded_url(make_database) -> str:
    url = make_database("unseeded_bot")
    migrate.upgrade(url)  # the schema, but no plans, styles or settings
    return url


@pytest.fixture
async def unseeded_deps(live_deps, unseeded_url):
    engine = make_engine(unseeded_url, pool_size=3)
    live_deps.sessionmaker = make_sessionmaker(engine)
    yield live_deps
    await engine.dispose()


async def test_a_creator_without_a_plan_gets_the_free_allowance_not_unlimited_use(unseeded_deps, redis_url, run_id):
    core_deps = unseeded_deps
    async with running_bot(core_deps, redis_url, run_id) as tg:
        tg.user_sends_command(CREATOR, "start")
        await tg.wait_for_message(CREATOR, contains="what's your email", timeout=15)
        tg.user_sends_command(CREATOR, "skip")
        await tg.wait_for_message(CREATOR, contains="No problem", timeout=15)
        tg.user_sends_command(CREATOR, "usage")
        usage = await tg.wait_for_message(CREATOR, contains="Uploads: 0 of 10", timeout=15)
        assert "AI credits: 0 of 200" in usage.content and "no limit" not in usage.content
        async with core_deps.sessionmaker() as s:
            identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(CREATOR)))
            user_id = identity.user_id
            assert await s.scalar(select(Subscription).where(Subscription.user_id == user_id)) is None
            await s.execute(update(UsageTracking).where(UsageTracking.user_id == user_id).values(content_uploads=10))
            await s.commit()
        file_id = tg.add_file(TALK.encode())
        tg.user_sends_document(CREATOR, file_id, file_name="talk.txt", mime_type="text/plain")
        refused = await tg.wait_for_message(CREATOR, contains="You've used all 10 free uploads", timeout=15)
        assert "/upgrade" in refused.content
    async with core_deps.sessionmaker() as s:
        assert (await s.scalars(select(ContentAsset).where(ContentAsset.user_id == user_id))).all() == []
