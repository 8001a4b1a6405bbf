"""Revision feedback and brand guidelines read as instructions the offline writer can follow
(shorter/longer, another tone, emojis, no hashtags, 'mention X')."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.ai import nlp
from core.ai.tones import TonePreset

_SHORTER = re.compile(r"\b(shorter|more concise|too long|shorten|trim|cut it down|brief(?:er)?|tighter)\b", re.I)
_LONGER = re.compile(r"\b(longer|more detail(?:s|ed)?|expand|too short|elaborate|in more depth)\b", re.I)
_CASUAL = re.compile(r"\b(more casual|less formal|friendlier|more relaxed|more conversational)\b", re.I)
_FORMAL = re.compile(r"\b(more formal|more professional|less casual|more serious)\b", re.I)
_VIRAL = re.compile(r"\b(more viral|punchier|more catchy|catchier|bolder|more hype)\b", re.I)
_HINGLISH = re.compile(r"\b(hinglish|add hindi|more hindi|desi touch)\b", re.I)
_NO_EMOJI = re.compile(r"\b(no|without|remove|drop|fewer|less|zero)\s+(?:the\s+)?emojis?\b", re.I)
_EMOJI = re.compile(r"\b(add|more|use|with|include|some)\s+(?:some\s+|a few\s+)?emojis?\b", re.I)
_NO_HASHTAGS = re.compile(r"\b(no|without|remove|drop|skip)\s+(?:the\s+)?hashtags?\b", re.I)
_MENTION = re.compile(
    r"\b(?:mention|shout ?out to|reference|plug)\s+(.+?)(?=[.;!?\n]|,\s|\s+and\s+(?:make|add|use|keep|remove|"
    r"no|drop|be)\b|$)",
    re.I,
)


@dataclass(frozen=True)
class Feedback:
    """Revision instructions understood by the offline writer."""

    length: float = 1.0
    tone: TonePreset | None = None
    emojis: bool | None = None
    hashtags: bool = True
    mentions: tuple[str, ...] = ()
    applied: tuple[str, ...] = ()


def parse_revision_feedback(text: str | None) -> Feedback:
    """Read common revision requests: shorter/longer, more casual/formal/viral, hinglish, add/no emojis,
    no hashtags, and 'mention X'."""
    if not text or not text.strip():
        return Feedback()
    applied: list[str] = []
    length = 1.0
    if _SHORTER.search(text):
        length = 0.6
        applied.append("shorter")
    elif _LONGER.search(text):
        length = 1.5
        applied.append("longer")
    preset: TonePreset | None = None
    tone_patterns: tuple[tuple[re.Pattern[str], TonePreset], ...] = (
        (_CASUAL, "casual"),
        (_FORMAL, "professional"),
        (_VIRAL, "viral"),
        (_HINGLISH, "hinglish"),
    )
    for pattern, name in tone_patterns:
        if pattern.search(text):
            preset = name
            applied.append(f"tone:{name}")
            break
    emojis: bool | None = None
    if _NO_EMOJI.search(text):
        emojis = False
        applied.append("no emojis")
    elif _EMOJI.search(text):
        emojis = True
        applied.append("add emojis")
    hashtags = not _NO_HASHTAGS.search(text)
    if not hashtags:
        applied.append("no hashtags")
    mentions = tuple(nlp.unique(m.strip(" \"'“”‘’") for m in _MENTION.findall(text) if m.strip(" \"'“”‘’")))
    applied.extend(f"mention:{m}" for m in mentions)
    return Feedback(length, preset, emojis, hashtags, mentions, tuple(applied))


def merge_feedback(guidelines: Feedback, feedback: Feedback) -> Feedback:
    """Revision feedback wins over standing brand guidelines."""
    return Feedback(
        length=feedback.length if feedback.length != 1.0 else guidelines.length,
        tone=feedback.tone or guidelines.tone,
        emojis=feedback.emojis if feedback.emojis is not None else guidelines.emojis,
        hashtags=feedback.hashtags and guidelines.hashtags,
        mentions=tuple(nlp.unique([*guidelines.mentions, *feedback.mentions])),
        applied=(*guidelines.applied, *feedback.applied),
    )
