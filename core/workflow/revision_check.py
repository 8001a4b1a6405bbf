"""Check a rewrite against the feedback it answers, before anyone is shown it.

A reviewer who asks for "shorter" gets a version that is measurably shorter (at least 20% fewer characters);
"open with a question" gets one whose first sentence is a question; "mention X" one that names X. The writer
(online or offline) is asked first; what it missed is fixed here where that can be done without inventing
content (cutting paragraphs or sentences, moving an existing question to the front, asking the opening as a
question), and what still isn't met is reported, never claimed. The checks also say what changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.ai import nlp
from core.ai.writing.feedback import parse_revision_feedback

SHORTER_BY = 0.2  # "shorter" means at least 20% fewer characters
LONGER_BY = 0.2
QUESTION_OPENING = re.compile(
    r"\b(?:open|start|begin|lead|kick\s*off)(?:s|ing)?\s+(?:it\s+|the\s+post\s+)?with\s+(?:a\s+)?question\b", re.I
)


@dataclass(frozen=True)
class CheckResult:
    what: str  # what the feedback asked, in a reviewer's words
    met: bool
    detail: str
    asked: bool = True  # False: only what changed, nothing was asked about it

    def line(self) -> str:
        if not self.asked:
            return f"{self.what.capitalize()}: {self.detail}"
        return f"{'✅' if self.met else '⚠️ not met:'} {self.what} — {self.detail}"

    def as_json(self) -> dict[str, object]:
        return {"what": self.what, "met": self.met, "detail": self.detail, "asked": self.asked}


def _first_sentence(text: str) -> str:
    for raw in text.strip().splitlines():
        line = raw.strip().lstrip("#>*-• ").strip()
        if line:
            sentences = nlp.split_sentences(line)
            return (sentences[0] if sentences else line).strip()
    return ""


def opens_with_question(text: str) -> bool:
    return nlp.strip_emojis(_first_sentence(text)).rstrip().endswith("?")


def _shorten(text: str, target: int) -> str:
    """Drop paragraphs from the end of the body (keeping the opening and the closing one: CTA, hashtags), then
    sentences, until the text is at most `target` characters."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    while len("\n\n".join(paragraphs)) > target and len(paragraphs) > 2:
        del paragraphs[-2]
    out = "\n\n".join(paragraphs)
    if len(out) <= target:
        return out
    sentences = nlp.split_sentences(out.replace("\n\n", " \n\n "))
    kept: list[str] = []
    for sentence in sentences:
        if len(" ".join([*kept, sentence])) > target:
            break
        kept.append(sentence)
    return " ".join(kept).strip() or out[:target].rstrip()


def _question_first(text: str) -> str:
    """Move the first question in the text to the front, else ask the opening sentence as a question."""
    opening = _first_sentence(text)
    question = next((s.strip() for s in nlp.split_sentences(text.replace("\n", " ")) if s.strip().endswith("?")), None)
    if question and question != opening and question in text:
        rest = text.replace(question, "", 1).strip()
        return f"{question}\n\n{rest}"
    if opening and opening in text:
        return text.replace(opening, f"Ever noticed this? {opening}", 1)
    return f"Ever noticed this?\n\n{text}"


def enforce(before: str, after: str, feedback: str | None) -> tuple[str, list[CheckResult]]:
    """The rewrite `after` (of `before`) made to meet what it can of `feedback`, and the checks, in order."""
    if not feedback:
        return after, []
    asked = parse_revision_feedback(feedback)
    text = after
    if QUESTION_OPENING.search(feedback) and not opens_with_question(text):
        text = _question_first(text)
    if "shorter" in asked.applied and len(text) > len(before) * (1 - SHORTER_BY):
        text = _shorten(text, int(len(before) * (1 - SHORTER_BY)))  # keeps the opening paragraph
    return text, check(before, text, feedback)


def check(before: str, after: str, feedback: str) -> list[CheckResult]:
    asked = parse_revision_feedback(feedback)
    results: list[CheckResult] = []
    change = (len(after) - len(before)) / len(before) if before else 0.0
    size = f"{len(before):,} → {len(after):,} characters ({change:+.0%})"
    if "shorter" in asked.applied:
        results.append(CheckResult("shorter", change <= -SHORTER_BY, size))
    elif "longer" in asked.applied:
        results.append(CheckResult("longer", change >= LONGER_BY, size))
    if QUESTION_OPENING.search(feedback):
        first = _first_sentence(after)
        results.append(CheckResult("open with a question", opens_with_question(after), f"opens “{first[:120]}”"))
    for name in asked.mentions:
        found = name.lower() in after.lower()
        results.append(CheckResult(f"mention {name}", found, "mentioned" if found else "not in the text"))
    if not asked.hashtags:
        tags = re.findall(r"(?<!\w)#\w+", after)
        results.append(CheckResult("no hashtags", not tags, "none left" if not tags else f"{len(tags)} left"))
    if not any(r.what in ("shorter", "longer") for r in results):
        results.append(CheckResult("length", True, size, asked=False))
    return results
