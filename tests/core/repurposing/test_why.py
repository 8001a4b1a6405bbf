"""Issue 15, "why N?": a draft's score is shown only with the stored checks that explain it, its "❓ Why N?"
button and /why answer list each check's points of its maximum, the reasons and what to do, and a draft
without checks (an old row, a clip scored by its moment) gets a truthful answer and no button. Real rows in
PostgreSQL, drafts from the real offline analyser and writer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from core.accounts import service as accounts
from core.ai.analysis.offline_analyser import analyse_offline
from core.ai.writing.offline_writer import write_offline
from core.ai.writing.ports import BrandVoice, DraftRequest
from core.ai.writing.quality import QUALITY_WEIGHTS, explain_quality, quality_report
from core.notify.ports import DraftActionKind
from core.pipeline.render import draft_message
from core.repurposing import why
from core.repurposing.models import GeneratedContent

TALK = (
    "Good morning everyone, thank you for coming. Scope creep quietly kills freelance profits. "
    "Write a scope document before you start, and list what is not included. "
    "Price every change request separately, even the small ones. "
    "Agree on two rounds of revisions, because clients who know the limit decide faster."
)
DEFECTIVE = (
    "Good morning everyone, thank you for coming.\n\n"
    "When a client asks for something new, do not say no,.\n\n"
    "Write a scope document before you start.\n\n#work #ScopeCreep"
)


async def _user(session: Any, external_id: str) -> uuid.UUID:
    reg = await accounts.register_chat_user(
        session=session,
        provider="telegram",
        external_user_id=external_id,
        chat_id=external_id,
        full_name="Meera Iyer",
    )
    return reg.user.id


def _row(user_id: uuid.UUID, minutes_ago: int, **fields: Any) -> GeneratedContent:
    return GeneratedContent(
        id=uuid.uuid4(),
        user_id=user_id,
        created_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        **fields,
    )


def _why_buttons(draft: GeneratedContent) -> list[str]:
    message = draft_message(draft)
    return [b.label for row in message.buttons for b in row if b.action.kind is DraftActionKind.WHY]


def test_the_explanation_lists_each_check_of_its_maximum_with_its_reasons_and_what_to_do() -> None:
    analysis = analyse_offline(TALK)
    report = quality_report("linkedin_post", DEFECTIVE, analysis, TALK)

    text = explain_quality(report.score, report.checks, report.reasons)

    assert text.startswith(f"Why {report.score}/100?")
    for name, top in QUALITY_WEIGHTS.items():
        assert f"{name[0].upper()}{name[1:]}: " in text and f"/{top}" in text
    assert "Complete sentences: 19/25" in text  # one fragment: -6
    assert "No talk frame: 7/15" in text  # one greeting: -8
    lines = text.splitlines()
    fragment = lines.index("• Complete sentences: 19/25")
    assert "do not say no,." in lines[fragment + 1]  # the reason sits under its check
    assert "Good morning everyone" in lines[lines.index("• No talk frame: 7/15") + 1]
    advice = text.split("What to do:")[1]
    assert "Cut the greeting" in advice and "incomplete sentences" in advice and "“no hashtags”" in advice


def test_a_draft_with_nothing_to_fix_says_so() -> None:
    text = explain_quality(100, dict(QUALITY_WEIGHTS), [])
    assert "Nothing cost points" in text and "What to do" not in text


async def test_a_written_draft_shows_its_score_and_a_why_button_and_old_rows_and_clips_show_neither(session) -> None:
    user_id = await _user(session, "6210001")
    analysis = analyse_offline(TALK)
    written = write_offline(
        DraftRequest(
            output_format="linkedin_post",
            transcript=TALK,
            analysis=analysis,
            brand=BrandVoice(name="Meera Iyer"),
        )
    )
    fresh = _row(
        user_id,
        1,
        title=written.title,
        content_text=written.content_text,
        content_type="linkedin_post",
        quality_score=Decimal(str(written.quality_score)),
        metadata_={**written.metadata, "output_format": "linkedin_post"},
    )
    old = _row(
        user_id,
        2,
        title="Old draft",
        content_text="Scope creep kills profits.",
        content_type="linkedin_post",
        quality_score=Decimal("86"),
        metadata_={"output_format": "linkedin_post"},
    )
    moment_clip = _row(
        user_id, 3, content_type="short_video", caption="Price every change.", quality_score=Decimal("71.4")
    )
    checked_clip = _row(
        user_id,
        4,
        content_type="short_video",
        caption="Two rounds of revisions.",
        quality_score=Decimal("64"),
        metadata_={
            "quality_checks": {"hook in the first seconds": 20.0, "whole sentences": 30.0, "captions readable": 14},
            "quality_reasons": ["the clip opens mid-sentence: “because clients who know”"],
        },
    )
    session.add_all([fresh, old, moment_clip, checked_clip])
    await session.flush()

    score = round(written.quality_score)
    message = draft_message(fresh)
    assert f"quality {score}/100" in message.text
    assert _why_buttons(fresh) == [f"❓ Why {score}?"]
    assert why.explain_draft(fresh).startswith(f"Why {score}/100?")

    # No checks stored: no score in the header, no button, and a truthful answer to /why.
    assert "quality" not in draft_message(old).text and _why_buttons(old) == []
    assert "no quality breakdown" in why.explain_draft(old)
    assert "quality" not in draft_message(moment_clip).text and _why_buttons(moment_clip) == []
    assert "ranked the moment" in why.explain_draft(moment_clip)

    # A clip whose metadata holds checks in the drafts' shape is explained generically.
    assert _why_buttons(checked_clip) == ["❓ Why 64?"]
    clip_text = why.explain_draft(checked_clip)
    assert "• Hook in the first seconds: 20" in clip_text and "Captions readable: 14" in clip_text
    assert "opens mid-sentence" in clip_text

    # /why counts back from the newest draft.
    assert (await why.recent_draft(session=session, user_id=user_id)) is fresh
    assert (await why.recent_draft(session=session, user_id=user_id, place=2)) is old
    assert (await why.recent_draft(session=session, user_id=user_id, place=5)) is None
