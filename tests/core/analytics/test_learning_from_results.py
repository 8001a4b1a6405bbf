"""Issue 14, learning from results: format fits and clip-feature weights from the creator's own published
drafts with figures, the prior fading as they come in (n / (n + prior)), with the figures worked out by hand."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import User
from core.analytics import learning
from core.analytics.learning import FormatResult, clip_learning, format_results
from core.clips.moments import WEIGHTS
from core.common.clock import utcnow
from core.repurposing.models import GeneratedContent


async def _user(session: AsyncSession) -> User:
    user = User(email=f"learn-{uuid.uuid4().hex[:8]}@example.com", password_hash="!x", full_name="Learner")
    session.add(user)
    await session.flush()
    return user


def _draft(user: User, fmt: str | None, rate: float | None, **extra: object) -> GeneratedContent:
    platform = {"linkedin_post": "linkedin", "twitter_thread": "twitter", "instagram_caption": "instagram"}
    return GeneratedContent(
        user_id=user.id,
        content_type=str(extra.pop("content_type", "social_post")),
        target_platform=extra.pop("platform", platform.get(fmt or "", "linkedin")),
        is_published=bool(extra.pop("published", True)),
        engagement_rate=Decimal(str(rate)) if rate is not None else None,
        metadata_=extra.pop("metadata_", {"output_format": fmt} if fmt else None),
        **extra,
    )


async def test_format_results_are_the_mean_engagement_rate_per_format_against_the_creators_average(
    session: AsyncSession,
) -> None:
    user = await _user(session)
    session.add_all(
        [_draft(user, "linkedin_post", 6.0) for _ in range(4)]
        + [_draft(user, "twitter_thread", 2.0) for _ in range(4)]
        + [_draft(user, "instagram_caption", 4.0) for _ in range(2)]
        # Not counted: unpublished, no figures, deleted.
        + [_draft(user, "linkedin_post", 50.0, published=False), _draft(user, "linkedin_post", None)]
        + [_draft(user, "linkedin_post", 50.0, deleted_at=utcnow())]
        # No kept format: read from its type and platform (an X thread).
        + [_draft(user, None, 2.0, platform="x")]
    )
    await session.flush()
    found = await format_results(session, user.id)
    # Overall: (4 x 6 + 5 x 2 + 2 x 4) / 11 = 42 / 11 = 3.818
    assert set(found) == {"linkedin_post", "twitter_thread", "instagram_caption"}
    li, x, ig = found["linkedin_post"], found["twitter_thread"], found["instagram_caption"]
    assert (li.pieces, li.rate, x.pieces, x.rate, ig.pieces) == (4, 6.0, 5, 2.0, 2)
    assert li.overall == pytest.approx(42 / 11)
    assert li.counts and x.counts and not ig.counts  # N = 3 drafts with figures
    # LinkedIn: lift 6 / 3.818 = 1.571, share 4 / 9; fit 50 x (1 + 4/9 x 0.571) = 62.7
    assert li.adjust(50) == 62.7
    # X: lift 0.524, share 5 / 10; fit 70 x (1 - 0.5 x 0.476) = 53.3
    assert x.adjust(70) == 53.3
    assert ig.adjust(70) == 70  # two drafts: the analysis' fit stands


def test_the_formats_prior_fades_as_its_drafts_come_in() -> None:
    # The same lift (1.5x) counts for more with more drafts: 3 -> 3/8, 15 -> 15/20, 95 -> 95/100.
    fits = [FormatResult("linkedin_post", n, 6.0, 4.0).adjust(50) for n in (2, 3, 15, 95)]
    assert fits == [50, 59.4, 68.8, 73.8]
    assert FormatResult("x", 10, 0.0, 4.0).adjust(80) == pytest.approx(26.7, abs=0.05)  # nothing engaged: down
    assert FormatResult("x", 300, 40.0, 4.0).adjust(80) == 100  # never past 100


def test_a_formats_reason_names_the_figures_or_what_is_missing() -> None:
    counted = FormatResult("linkedin_post", 4, 6.0, 4.0)
    assert learning.format_reason("LinkedIn post", 50, counted) == (
        "LinkedIn post: your LinkedIn posts got 1.5× your average engagement rate (6.00% vs 4.00%, 4 with "
        "figures), so its fit went from 50 to 61 (your results weigh 44%)."
    )
    assert learning.format_reason("YouTube Shorts", 70, FormatResult("youtube_shorts", 1, 2.0, 4.0)) == (
        "YouTube Shorts: fit 70 from the talk's analysis; your own results count once 3 of your YouTube Shorts "
        "have figures (you have 1)."
    )


def _clip(user: User, rate: float, *, published: bool = True, **components: float) -> GeneratedContent:
    values = {"hook": 0.5, "keywords": 0.5, "sentiment": 0.5, "pace": 0.5, "question": 0.0} | components
    return _draft(
        user,
        "short_video",
        rate,
        content_type="short_video",
        platform="instagram",
        published=published,
        metadata_={"output_format": "short_video", "components": values, "text": "A clip."},
    )


async def test_clip_weights_move_toward_the_features_that_ranked_the_creators_engagement(
    session: AsyncSession,
) -> None:
    user = await _user(session)
    # Eight clips: rates 2..9; hook falls as the rate rises (rho -1), the last four opened with a question.
    rates = [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    for i, rate in enumerate(rates):
        session.add(_clip(user, rate, hook=0.9 - 0.1 * i, question=1.0 if i >= 4 else 0.0))
    session.add(_clip(user, 99.0, published=False, question=1.0))  # not published: not counted
    await session.flush()
    found = await clip_learning(session, user.id, WEIGHTS)
    assert found.clips == 8 and found.counts
    # Question: ranks 2.5 (x4) and 6.5 (x4) against 1..8: cov 32, var 32 and 42: rho = 32 / sqrt(1344) = 0.87.
    assert found.correlations == {"hook": -1.0, "keywords": 0.0, "sentiment": 0.0, "pace": 0.0, "question": 0.87}
    # Only the question went with engagement: learned weights {question: 1}; share 8 / 18 = 0.444.
    assert found.weights == {
        "hook": pytest.approx(0.2222, abs=1e-4),
        "keywords": pytest.approx(0.1389, abs=1e-4),
        "sentiment": pytest.approx(0.1111, abs=1e-4),
        "pace": pytest.approx(0.0833, abs=1e-4),
        "question": pytest.approx(0.4444, abs=1e-4),
    }
    assert sum(found.weights.values()) == pytest.approx(1.0, abs=1e-3)
    # (6 + 7 + 8 + 9) / 4 = 7.5 against (2 + 3 + 4 + 5) / 4 = 3.5: 2.14x.
    assert found.question == (2.14, 4, 4)
    assert learning.ClipLearning.from_json(found.to_json()) == found


async def test_fewer_than_five_clips_with_figures_keep_recasts_weights(session: AsyncSession) -> None:
    user = await _user(session)
    for i in range(4):
        session.add(_clip(user, 2.0 + i, hook=0.9 - 0.1 * i))
    await session.flush()
    found = await clip_learning(session, user.id, WEIGHTS)
    assert (found.clips, found.counts, found.weights) == (4, False, WEIGHTS)
    assert found.reasons({"hook": 0.5}, None) == [
        "scored with Recast's default weights: your own results count once 5 of your published clips have "
        "figures (you have 4)"
    ]
