"""Reading a creator's revise feedback on a clip ("shorter", "start 3 seconds later", "square")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.clips.errors import ClipFeedbackNotUnderstood

SHORTER = 0.67
MUCH_SHORTER = 0.5
LONGER = 1.5
_NUMBER_WORDS = {
    "a": 1,
    "one": 1,
    "a couple of": 2,
    "couple of": 2,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "half a": 0.5,
}
_AMOUNT = r"(\d+(?:\.\d+)?|" + "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True)) + r")"
_SECONDS = r"\s*(?:s|secs?|seconds?)\b"
_START = r"(?:start|begin|open|starts|begins)"
_END = r"(?:end|finish|stop|cut|ends|finishes|stops)"
_LATER = r"(?:later|after|afterwards)"
_EARLIER = r"(?:earlier|sooner|before)"


@dataclass(frozen=True, slots=True)
class ClipEdit:
    start_shift: float = 0.0
    end_shift: float = 0.0
    scale: float | None = None
    aspect_ratio: str | None = None
    reframe: str | None = None

    @property
    def recuts(self) -> bool:
        return bool(self.start_shift or self.end_shift or self.scale)

    @property
    def empty(self) -> bool:
        return not self.recuts and self.aspect_ratio is None and self.reframe is None


def parse_clip_edit(text: str) -> ClipEdit:
    """What to change about a clip; raises ClipFeedbackNotUnderstood when nothing is recognised."""
    said = " ".join(text.lower().replace("’", "'").split())
    start_shift = _shift(said, _START)
    end_shift = _shift(said, _END)
    trim_start = re.search(
        rf"(?:trim|cut|drop|remove|skip)\s+(?:the\s+)?(?:first\s+)?{_AMOUNT}{_SECONDS}"
        r"(?:\s+(?:from|off|of|at)\s+the\s+(?:start|beginning))?",
        said,
    )
    trim_end = re.search(
        rf"(?:trim|cut|drop|remove)\s+(?:the\s+)?(?:last\s+)?{_AMOUNT}{_SECONDS}"
        r"\s+(?:from|off|of|at)\s+the\s+end",
        said,
    )
    if trim_end:
        end_shift = end_shift or -_amount(trim_end.group(1))
    elif trim_start and not start_shift:
        start_shift = _amount(trim_start.group(1))
    scale: float | None = None
    if not (start_shift or end_shift):
        if re.search(r"\bmuch shorter\b|\bway too long\b|\bhalf the length\b", said):
            scale = MUCH_SHORTER
        elif re.search(r"\bshorter\b|\btoo long\b|\btighter\b|\btrim it\b|\bcut it down\b", said):
            scale = SHORTER
        elif re.search(r"\blonger\b|\btoo short\b|\bextend\b|\bmore context\b", said):
            scale = LONGER
    aspect: str | None = None
    if re.search(r"\bsquare\b|\b1\s*:\s*1\b", said):
        aspect = "1:1"
    elif re.search(r"\b4\s*:\s*5\b|\bportrait post\b|\bfeed post\b", said):
        aspect = "4:5"
    elif re.search(r"\b9\s*:\s*16\b|\bvertical\b|\bfull ?screen\b|\breels?\b", said):
        aspect = "9:16"
    reframe: str | None = None
    if re.search(r"\bblur|\bshow the whole\b|\bwhole (?:frame|picture|slide|screen)\b|\bdon'?t crop\b|\bno crop", said):
        reframe = "blur"
    elif re.search(r"\bcrop\b|\bzoom in\b|\bfill the (?:frame|screen)\b|\bno blur\b", said):
        reframe = "crop"
    edit = ClipEdit(start_shift=start_shift, end_shift=end_shift, scale=scale, aspect_ratio=aspect, reframe=reframe)
    if edit.empty:
        raise ClipFeedbackNotUnderstood(detail=f"feedback={text!r}")
    return edit


def _shift(said: str, verb: str) -> float:
    """'start 3 seconds later' → +3, 'begin two seconds earlier' → -2, 'start later' → +2 (a default)."""
    match = re.search(rf"\b{verb}\b(?:\s+\w+){{0,3}}?\s+{_AMOUNT}{_SECONDS}\s+({_LATER}|{_EARLIER})", said)
    if match:
        sign = 1 if re.fullmatch(_LATER, match.group(2)) else -1
        return sign * _amount(match.group(1))
    match = re.search(rf"\b{verb}\b(?:\s+(?:it|the clip|a bit|a little))?\s+({_LATER}|{_EARLIER})\b", said)
    if match:
        return 2.0 if re.fullmatch(_LATER, match.group(1)) else -2.0
    return 0.0


def _amount(text: str) -> float:
    return float(_NUMBER_WORDS[text]) if text in _NUMBER_WORDS else float(text)
