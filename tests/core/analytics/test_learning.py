"""Predicted virality against real engagement: Spearman's rank correlation (ties by mean rank), shown only
with at least five published drafts that have both, and worded with its count."""

from __future__ import annotations

import uuid
from decimal import Decimal

from core.accounts.models import User
from core.analytics.learning import prediction_agreement, ranks, spearman
from core.deps import CoreDeps
from core.repurposing.models import GeneratedContent


def test_ranks_share_ties_and_spearman_is_one_for_the_same_order() -> None:
    assert ranks([10, 20, 20, 5]) == [2.0, 3.5, 3.5, 1.0]
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    assert spearman([1, 1, 1], [1, 2, 3]) is None  # no spread: no figure


async def test_agreement_over_the_creators_published_drafts(live_deps: CoreDeps) -> None:
    async with live_deps.sessionmaker() as session:
        user = User(email=f"l-{uuid.uuid4().hex[:8]}@example.com", password_hash="!x", full_name="L")
        session.add(user)
        await session.flush()
        # Predicted 10..50, real rates in the order 1, 3, 2, 4, 5: d^2 = 0+1+1+0+0 = 2, rho = 1 - 6*2/(5*24) = 0.9
        for predicted, real in ((10, 1), (20, 3), (30, 2), (40, 4), (50, 5)):
            session.add(
                GeneratedContent(
                    user_id=user.id,
                    is_published=True,
                    virality_prediction=Decimal(predicted),
                    engagement_rate=Decimal(real),
                )
            )
        session.add(GeneratedContent(user_id=user.id, is_published=False, virality_prediction=Decimal(99)))
        await session.commit()
        agreed = await prediction_agreement(session, user.id)
    assert agreed is not None and (agreed.pieces, agreed.rho) == (5, 0.9)
    assert agreed.words == "Predicted ranking matched your results closely: rank correlation +0.90 over 5 posts."


async def test_fewer_than_five_published_drafts_give_no_figure(live_deps: CoreDeps) -> None:
    async with live_deps.sessionmaker() as session:
        user = User(email=f"l-{uuid.uuid4().hex[:8]}@example.com", password_hash="!x", full_name="L")
        session.add(user)
        await session.flush()
        for n in range(4):
            session.add(
                GeneratedContent(
                    user_id=user.id, is_published=True, virality_prediction=Decimal(n), engagement_rate=Decimal(n)
                )
            )
        await session.commit()
        assert await prediction_agreement(session, user.id) is None
