""" "Why this clip?": each chosen clip's points per feature and the reasons in plain words, kept with its draft
as `metadata["quality_checks"]` (feature → points earned, adding up to its score) and
`metadata["quality_reasons"]`, the shape every draft's "why N?" answer reads."""

from __future__ import annotations

import math

from core.analytics.learning import ClipLearning
from core.clips.moments import IDEAL_PACE_WPS, WEIGHTS, ClipMoment

CHECK_NAMES = {
    "hook": "opening hook",
    "keywords": "talk's keywords",
    "sentiment": "feeling in the words",
    "pace": "pace",
    "question": "opens with a question",
}


def explain(moment: ClipMoment, learning: ClipLearning | None = None) -> tuple[dict[str, float], list[str]]:
    """(points per check, reasons): only the features that can earn points with the weights it was scored with."""
    weights = moment.weights or WEIGHTS
    points = moment.points
    checks: dict[str, float] = {}
    reasons: list[str] = []
    seconds = moment.question_seconds
    if seconds is not None:
        reasons.append(f"opens with a question in the first {max(1, math.ceil(seconds - 1e-9))} s")
    for name, value in moment.components.items():
        weight = weights.get(name, 0.0)
        if weight <= 0:
            continue
        earned, most = points.get(name, 0.0), round(100 * weight, 2)
        checks[CHECK_NAMES.get(name, name)] = earned
        of = f"{earned:g} of {most:g} points"
        if name == "hook":
            opener = "opens on a hook sentence" if moment.hook_start else "opens on the best sentence that fitted"
            reasons.append(f"{opener} scoring {100 * value:.0f}/100 ({of})")
        elif name == "keywords":
            reasons.append(f"the talk's keywords: {value:.0%} of full marks ({of})")
        elif name == "sentiment":
            reasons.append(f"feeling in the words: {value:.0%} of full marks ({of})")
        elif name == "pace":
            said = moment.words[-1].end - moment.words[0].start if moment.words else 0.0
            wps = len(moment.words) / said if said > 0 else 0.0
            reasons.append(f"{wps:.1f} words a second, {IDEAL_PACE_WPS:.1f} is ideal ({of})")
        elif name == "question":
            reasons.append(f"a question at the start ({of})" if value else f"no question at the start ({of})")
    if learning is not None:
        reasons += learning.reasons(moment.components, seconds)
    return checks, reasons
