"""Rewrites checked against their feedback: measurably shorter, opening with a question, and an honest report of
what was not met."""

from __future__ import annotations

from core.workflow import revision_check

BEFORE = (
    "Most creators post once and then disappear for a month.\n\n"
    "First, write for one person. When I wrote for founders in Bangalore, engagement doubled in six weeks.\n\n"
    "Second, turn every long video into ten small posts. One podcast episode is a thread and three clips.\n\n"
    "Third, reply to every comment in the first hour. Why do most people quit? They count followers.\n\n"
    "Show up every week. #Consistency #CreatorEconomy"
)


def test_shorter_means_at_least_twenty_percent_fewer_characters():
    barely = BEFORE.replace("Most creators", "Creators")  # the writer's "shorter" that isn't
    text, checks = revision_check.enforce(BEFORE, barely, "Make it shorter")
    assert len(text) <= 0.8 * len(BEFORE)
    assert text.startswith("Creators post once") and text.endswith("#Consistency #CreatorEconomy")
    (shorter, *_) = checks
    assert shorter.what == "shorter" and shorter.met and "characters (-" in shorter.detail
    # Already short enough: left as the writer wrote it.
    short = "Creators vanish.\n\nShow up every week. #Consistency"
    assert revision_check.enforce(BEFORE, short, "shorter")[0] == short


def test_open_with_a_question_moves_an_existing_question_first_or_asks_the_opening():
    text, checks = revision_check.enforce(BEFORE, BEFORE, "Please open with a question")
    assert text.startswith("Why do most people quit?") and revision_check.opens_with_question(text)
    assert [c.what for c in checks if c.asked] == ["open with a question"] and checks[0].met
    no_question = BEFORE.replace("Why do most people quit? ", "")
    text, _ = revision_check.enforce(BEFORE, no_question, "start with a question")
    assert revision_check.opens_with_question(text) and "Most creators post once" in text


def test_what_cannot_be_fixed_is_reported_not_claimed():
    checks = revision_check.check(BEFORE, BEFORE, "Mention the Pune meetup and drop the hashtags")
    lines = [c.line() for c in checks]
    assert "⚠️ not met: mention the Pune meetup — not in the text" in lines
    assert "⚠️ not met: no hashtags — 2 left" in lines
    assert lines[-1] == f"Length: {len(BEFORE):,} → {len(BEFORE):,} characters (+0%)"
    assert revision_check.enforce(BEFORE, BEFORE, None) == (BEFORE, [])
