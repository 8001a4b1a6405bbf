"""Clip moments chosen with the creator's own results: learned weights change which moment wins, and every
clip keeps "why this clip?" as points per feature (adding up to its score) and reasons in plain words."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from talk_kit import TranscribedTalk

from core.accounts.service import register_chat_user
from core.analytics.learning import ClipLearning
from core.clips.moments import WEIGHTS, choose_moments
from core.clips.reasons import explain
from core.clips.service import generate_clips_for_job, rerender_clip
from core.content.models import ContentAsset
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.seed.service import apply_seed
from core.storage.files import LocalFileStore

# Eight clips of the creator's: the more feeling in the words, the better they did (rho +1), hook the reverse.
FEELING = ClipLearning(
    8, dict(WEIGHTS), {"hook": -1.0, "keywords": 0.0, "sentiment": 1.0, "pace": 0.0, "question": 0.0}
)
# Eight clips where those opening with a question did 2.14x better (rank correlation 0.87).
QUESTIONS = ClipLearning(
    8, dict(WEIGHTS), {"hook": -1.0, "keywords": 0.0, "sentiment": 0.0, "pace": 0.0, "question": 0.87}, (2.14, 4, 4)
)


def test_learned_weights_change_which_moment_is_chosen(talk: TranscribedTalk) -> None:
    (default,) = choose_moments(talk.words, talk.analysis, count=1, min_seconds=6, max_seconds=14)
    assert default.text.startswith("Why do captions matter so much?")
    # Share 8/18: sentiment 0.2 x 10/18 + 8/18 = 0.5556, hook 0.4 x 10/18 = 0.2222 ...
    weights = FEELING.weights
    assert weights["sentiment"] == pytest.approx(0.5556, abs=1e-4)
    (learned,) = choose_moments(talk.words, talk.analysis, count=1, min_seconds=6, max_seconds=14, weights=weights)
    assert learned.text.startswith("Here is the one mistake")
    assert learned.weights == weights
    assert learned.score == pytest.approx(sum(weights[k] * v for k, v in learned.components.items()) * 100, abs=0.01)


def test_why_this_clip_gives_points_per_feature_adding_up_to_the_score_and_plain_reasons(
    talk: TranscribedTalk,
) -> None:
    (moment,) = choose_moments(
        talk.words, talk.analysis, count=1, min_seconds=6, max_seconds=14, weights=QUESTIONS.weights
    )
    assert moment.text.startswith("Why do captions matter so much?")
    checks, reasons = explain(moment, QUESTIONS)
    assert set(checks) == {"opening hook", "talk's keywords", "feeling in the words", "pace", "opens with a question"}
    assert all(isinstance(v, float) for v in checks.values())
    assert sum(checks.values()) == pytest.approx(moment.score, abs=0.05)
    assert checks["opens with a question"] == pytest.approx(44.44, abs=0.01)  # 100 x 0.4444 x 1
    assert reasons[0] == "opens with a question in the first 3 s"
    assert "your clips that opened with a question got 2.1× the engagement rate of your others (8 clips)" in reasons
    assert (
        "a question at the start is worth 44 points instead of 0 for you: it went with your clips' engagement "
        "(rank correlation +0.87 over 8 clips)" in reasons
    )
    assert (
        "the opening hook is worth 22 points instead of 40 for you: it did not go with your clips' engagement "
        "(rank correlation -1.00 over 8 clips)" in reasons
    )
    # Without learning: Recast's weights, no question points, and the reason says when results start to count.
    (plain,) = choose_moments(talk.words, talk.analysis, count=1, min_seconds=6, max_seconds=14)
    checks, reasons = explain(plain, ClipLearning(2, dict(WEIGHTS), {}))
    assert "opens with a question" not in checks and sum(checks.values()) == pytest.approx(plain.score, abs=0.05)
    assert reasons[-1].endswith("your own results count once 5 of your published clips have figures (you have 2)")


async def test_a_clip_job_chooses_with_the_creators_results_and_stores_why(
    session: AsyncSession, talk: TranscribedTalk, tmp_path: Path
) -> None:
    await apply_seed(session=session)
    store = LocalFileStore(tmp_path / "media")
    reg = await register_chat_user(
        session=session, provider="telegram", external_user_id="6410301", chat_id="6410301", full_name="Asha Rao"
    )
    for i in range(8):  # published clips with figures: feeling went with engagement, the hook against it
        session.add(
            GeneratedContent(
                user_id=reg.user.id,
                content_type="short_video",
                target_platform="instagram",
                is_published=True,
                engagement_rate=Decimal(2 + i),
                metadata_={
                    "output_format": "short_video",
                    "text": "An old clip.",
                    "components": {"hook": 0.9 - 0.1 * i, "keywords": 0.5, "sentiment": 0.1 * i, "pace": 0.5},
                },
            )
        )
    asset = ContentAsset(
        user_id=reg.user.id,
        organization_id=reg.organization.id,
        title="talk",
        content_type="video",
        file_url=store.put_path(talk.video.path, f"uploads/{uuid.uuid4().hex}.mp4"),
    )
    session.add(asset)
    await session.flush()
    job = RepurposingJob(
        job_type="video_to_shorts",
        output_format="short_video",
        target_platforms=["instagram"],
        config={"count": 1, "min_seconds": 6, "max_seconds": 14, "reframe": "crop"},
        status="queued",
        user_id=reg.user.id,
        content_asset_id=asset.id,
    )
    session.add(job)
    await session.flush()

    [row] = await generate_clips_for_job(
        session=session,
        store=store,
        job_id=job.id,
        transcript_words=talk.words,
        analysis=talk.analysis,
        media_path=talk.video.path,
    )
    meta = row.metadata_ or {}
    assert (row.content_text or "").startswith("Here is the one mistake")  # not the default's question opener
    assert meta["weights"]["sentiment"] == pytest.approx(0.5556, abs=1e-4)  # rho +1 over 8: 0.2 x 10/18 + 8/18
    assert meta["learning"]["clips"] == 8
    checks, reasons = meta["quality_checks"], meta["quality_reasons"]
    assert isinstance(checks, dict) and all(isinstance(v, float) for v in checks.values())
    assert sum(checks.values()) == pytest.approx(float(row.quality_score or 0), abs=0.05)
    assert isinstance(reasons, list) and all(isinstance(r, str) for r in reasons)
    assert any(
        r.startswith("feeling in the words is worth 56 points instead of 20 for you: it went with your clips' ")
        for r in reasons
    )

    # A re-cut is scored with the weights the clip was chosen with, and explained again.
    recut = await rerender_clip(
        session=session,
        store=store,
        draft_id=row.id,
        feedback="shorter",
        media_path=talk.video.path,
        transcript_words=talk.words,
    )
    again = recut.metadata_ or {}
    assert again["weights"] == meta["weights"]
    assert sum(again["quality_checks"].values()) == pytest.approx(float(recut.quality_score or 0), abs=0.05)
    assert any(
        r.startswith("feeling in the words is worth 56 points instead of 20 for you: it went with your clips' ")
        for r in again["quality_reasons"]
    )
