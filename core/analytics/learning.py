"""How well Recast's predictions matched what happened: the virality score each draft was written with
against the engagement rate it really got, as a rank correlation over the creator's published drafts.

Spearman's rho on ranks (ties get their mean rank): 1 means the predicted order was the real order, 0 no
relation, -1 the reverse. Shown only with enough drafts for the figure to mean something, with the count.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.repurposing.models import GeneratedContent

MIN_PIECES = 5


@dataclass(frozen=True)
class Agreement:
    pieces: int
    rho: float

    @property
    def words(self) -> str:
        strength = "closely" if self.rho >= 0.6 else "somewhat" if self.rho >= 0.3 else "poorly"
        if self.rho < 0:
            strength = "not at all (the order was reversed more than not)"
        return (
            f"Predicted ranking matched your results {strength}: rank correlation {self.rho:+.2f} "
            f"over {self.pieces} posts."
        )


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mean = (i + j) / 2 + 1
        for k in range(i, j + 1):
            out[order[k]] = mean
        i = j + 1
    return out


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's correlation of the ranks; None when either side has no spread."""
    rx, ry = ranks(xs), ranks(ys)
    n = len(xs)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    if vx == 0 or vy == 0:
        return None
    return float(cov / (vx * vy) ** 0.5)


async def prediction_agreement(session: AsyncSession, user_id: uuid.UUID) -> Agreement | None:
    """Predicted virality vs real engagement rate over the user's published drafts that have both."""
    rows = (
        await session.execute(
            select(GeneratedContent.virality_prediction, GeneratedContent.engagement_rate).where(
                GeneratedContent.user_id == user_id,
                GeneratedContent.is_published.is_(True),
                GeneratedContent.virality_prediction.is_not(None),
                GeneratedContent.engagement_rate.is_not(None),
            )
        )
    ).all()
    if len(rows) < MIN_PIECES:
        return None
    rho = spearman([float(p or 0) for p, _ in rows], [float(r or 0) for _, r in rows])
    return Agreement(len(rows), round(rho, 2)) if rho is not None else None


# ----------------------------------------------------------------------------- learning from own results
#
# Both rules below follow `core.distribution.slots`: Recast's prior decides until the creator has results of
# their own, then fades as they come in (the creator's share is n / (n + PRIOR)). Every input is a row
# (`generated_content.engagement_rate`, written by the collector, of the creator's published drafts), every
# output says which it is, and the same rows always give the same choice.

MIN_FORMAT_PIECES = 3
"""N: a format's own figures count from the creator's 3rd published draft of it with figures."""
FORMAT_PRIOR = 5
"""The analysis' fit weighs as much as this many of the creator's own drafts of a format."""
MIN_CLIPS = 5
"""The creator's clips count once 5 published clips have figures (fewer give no ranking worth following)."""
CLIP_PRIOR = 10
"""Recast's feature weights weigh as much as this many of the creator's own clips."""

FEATURE_WORDS = {
    "hook": "the opening hook",
    "keywords": "the talk's keywords",
    "sentiment": "feeling in the words",
    "pace": "the pace",
    "question": "a question at the start",
}
_PLATFORM_FORMAT = {
    "linkedin": "linkedin_post",
    "twitter": "twitter_thread",
    "x": "twitter_thread",
    "instagram": "instagram_caption",
    "youtube": "youtube_shorts",
    "blog": "blog_article",
}


def draft_format(kept: str | None, content_type: str | None, platform: str | None) -> str | None:
    """A draft's output format: the one it was written as (`metadata.output_format`), else read from its type
    and platform (drafts written before they kept their format)."""
    if kept:
        return kept
    if content_type == "short_video":
        return "short_video"
    if content_type == "blog_article":
        return "blog_article"
    return _PLATFORM_FORMAT.get(platform or "")


@dataclass(frozen=True)
class FormatResult:
    """The creator's published drafts of one format that have figures, against all of theirs."""

    format: str
    pieces: int
    rate: float
    """Mean engagement rate (%) of this format's drafts."""
    overall: float
    """Mean engagement rate (%) of all the creator's drafts with figures."""

    @property
    def counts(self) -> bool:
        return self.pieces >= MIN_FORMAT_PIECES and self.overall > 0

    @property
    def lift(self) -> float:
        return self.rate / self.overall if self.overall > 0 else 1.0

    @property
    def share(self) -> float:
        """How much the creator's results weigh against the analysis: n / (n + FORMAT_PRIOR)."""
        return self.pieces / (self.pieces + FORMAT_PRIOR)

    def adjust(self, fit: float) -> float:
        """fit x (1 + share x (lift - 1)), within 0..100; the analysis' fit while the format doesn't count."""
        if not self.counts:
            return fit
        return round(max(0.0, min(100.0, fit * (1 + self.share * (self.lift - 1)))), 1)


def _plural(label: str) -> str:
    return label if label.endswith("s") else f"{label}s"


def format_reason(label: str, fit: float, result: FormatResult | None) -> str:
    """Why a format got its fit, in plain words."""
    many = _plural(label)
    if result is None or not result.counts:
        have = result.pieces if result else 0
        return (
            f"{label}: fit {fit:.0f} from the talk's analysis; your own results count once "
            f"{MIN_FORMAT_PIECES} of your {many} have figures (you have {have})."
        )
    adjusted = result.adjust(fit)
    return (
        f"{label}: your {many} got {result.lift:.1f}× your average engagement rate "
        f"({result.rate:.2f}% vs {result.overall:.2f}%, {result.pieces} with figures), so its fit went from "
        f"{fit:.0f} to {adjusted:.0f} (your results weigh {result.share:.0%})."
    )


async def format_results(session: AsyncSession, user_id: uuid.UUID) -> dict[str, FormatResult]:
    """Per format, the creator's published drafts with figures (all formats, counting or not). Summed in SQL
    per kept format, type and platform; the few groups are combined here."""
    kept = GeneratedContent.metadata_["output_format"].astext
    rows = (
        await session.execute(
            select(
                kept,
                GeneratedContent.content_type,
                GeneratedContent.target_platform,
                func.count(),
                func.sum(GeneratedContent.engagement_rate),
            )
            .where(
                GeneratedContent.user_id == user_id,
                GeneratedContent.is_published.is_(True),
                GeneratedContent.deleted_at.is_(None),
                GeneratedContent.engagement_rate.is_not(None),
            )
            .group_by(kept, GeneratedContent.content_type, GeneratedContent.target_platform)
        )
    ).all()
    sums: dict[str, tuple[int, float]] = {}
    pieces, total = 0, 0.0
    for fmt_kept, content_type, platform, n, summed in rows:
        pieces, total = pieces + int(n), total + float(summed or 0)
        fmt = draft_format(fmt_kept, content_type, platform)
        if fmt is not None:
            had_n, had_sum = sums.get(fmt, (0, 0.0))
            sums[fmt] = (had_n + int(n), had_sum + float(summed or 0))
    if not pieces:
        return {}
    overall = total / pieces
    return {fmt: FormatResult(fmt, n, summed / n, overall) for fmt, (n, summed) in sorted(sums.items())}


@dataclass(frozen=True)
class ClipLearning:
    """What the creator's published clips with figures say about the moment features.

    Each feature's rank correlation rho with the clips' engagement rates; the learned weights are the
    positive correlations normalised to 1 (features that did not go with engagement get none; with none
    positive, the prior's), blended with Recast's weights: w = (1 - a) x prior + a x learned, a = n / (n + 10).
    """

    clips: int
    prior: dict[str, float]
    correlations: dict[str, float]
    question: tuple[float, int, int] | None = None
    """(how many times the engagement rate of the clips that opened with a question was that of the others,
    how many did, how many did not); None unless each side has 2 clips or more."""

    @property
    def counts(self) -> bool:
        return self.clips >= MIN_CLIPS

    @property
    def share(self) -> float:
        return self.clips / (self.clips + CLIP_PRIOR) if self.counts else 0.0

    @property
    def learned(self) -> dict[str, float]:
        positive = {k: max(0.0, self.correlations.get(k, 0.0)) for k in self.prior}
        total = sum(positive.values())
        return {k: v / total for k, v in positive.items()} if total > 0 else dict(self.prior)

    @property
    def weights(self) -> dict[str, float]:
        a, learned = self.share, self.learned
        return {k: round((1 - a) * w + a * learned[k], 4) for k, w in self.prior.items()}

    def reasons(self, components: dict[str, float], question_seconds: float | None) -> list[str]:
        """The plain-words part of "why this clip?" that comes from the creator's own results."""
        if not self.counts:
            return [
                f"scored with Recast's default weights: your own results count once {MIN_CLIPS} of your "
                f"published clips have figures (you have {self.clips})"
            ]
        out: list[str] = []
        weights = self.weights
        if self.question is not None and question_seconds is not None:
            times, _, _ = self.question
            out.append(
                f"your clips that opened with a question got {times:.1f}× the engagement rate of your others "
                f"({self.clips} clips)"
            )
        for name, prior in self.prior.items():
            now = weights[name]
            if abs(now - prior) < 0.02 or components.get(name, 0.0) <= 0:
                continue
            rho = self.correlations.get(name, 0.0)
            if rho <= 0:
                why = "it did not go with your clips' engagement"
            elif now < prior:
                why = "it went with your clips' engagement less than the others did"
            else:
                why = "it went with your clips' engagement"
            out.append(
                f"{FEATURE_WORDS.get(name, name)} is worth {100 * now:.0f} points instead of {100 * prior:.0f} "
                f"for you: {why} (rank correlation {rho:+.2f} over {self.clips} clips)"
            )
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "clips": self.clips,
            "prior": dict(self.prior),
            "correlations": dict(self.correlations),
            "question": list(self.question) if self.question else None,
        }

    @classmethod
    def from_json(cls, data: object) -> ClipLearning | None:
        if not isinstance(data, dict) or not isinstance(data.get("prior"), dict):
            return None
        q = data.get("question")
        return cls(
            clips=int(data.get("clips") or 0),
            prior={str(k): float(v) for k, v in data["prior"].items()},
            correlations={str(k): float(v) for k, v in (data.get("correlations") or {}).items()},
            question=(float(q[0]), int(q[1]), int(q[2])) if isinstance(q, list) and len(q) == 3 else None,
        )


async def clip_learning(session: AsyncSession, user_id: uuid.UUID, prior: dict[str, float]) -> ClipLearning:
    """The creator's published clips with figures, read against the features they were chosen on."""
    rows = (
        await session.execute(
            select(
                GeneratedContent.metadata_["components"],
                GeneratedContent.metadata_["text"].astext,
                GeneratedContent.engagement_rate,
            )
            .where(
                GeneratedContent.user_id == user_id,
                GeneratedContent.content_type == "short_video",
                GeneratedContent.is_published.is_(True),
                GeneratedContent.deleted_at.is_(None),
                GeneratedContent.engagement_rate.is_not(None),
            )
            .order_by(GeneratedContent.created_at, GeneratedContent.id)
        )
    ).all()
    features: list[dict[str, float]] = []
    rates: list[float] = []
    for components, text, rate in rows:
        if not isinstance(components, dict):
            continue
        values = {k: float(components.get(k, 0.0) or 0.0) for k in prior}
        if "question" in prior and "question" not in components:  # clips stored before it was scored
            ends = [ch for ch in text or "" if ch in ".!?"]
            values["question"] = 1.0 if ends and ends[0] == "?" else 0.0
        features.append(values)
        rates.append(float(rate))
    correlations: dict[str, float] = {}
    if len(rates) >= MIN_CLIPS:
        for name in prior:
            rho = spearman([f[name] for f in features], rates)
            correlations[name] = round(rho, 2) if rho is not None else 0.0
    question = None
    asked = [r for f, r in zip(features, rates, strict=True) if f.get("question", 0.0) >= 1]
    others = [r for f, r in zip(features, rates, strict=True) if f.get("question", 0.0) < 1]
    if len(asked) >= 2 and len(others) >= 2 and sum(others) > 0:
        times = (sum(asked) / len(asked)) / (sum(others) / len(others))
        question = (round(times, 2), len(asked), len(others))
    return ClipLearning(len(rates), dict(prior), correlations, question)
