"""Return on investment of one source asset, from rows only: a `roi_calculations` row per asset.

Inputs (what making the original cost):
- hours H: the creator's stated hours for the asset (`content_assets.creator_hours`, `/roi hours 5`),
  else the default `ROI_DEFAULT_HOURS` (3);
- cost C: the creator's stated cost (`content_assets.creator_cost`, `/roi cost 6000`, in its currency),
  else H x the hourly rate `ROI_HOURLY_RATE_INR` (1500) or `ROI_HOURLY_RATE_USD` (25).
  The currency is the stated cost's, else the user's: that of their latest paid payment, else INR in
  India and USD elsewhere (`core.billing.checkout.currency_for`).

Figures (what the pieces won), over the asset's drafts that are published AND have collected figures
(at least one `engagement_metrics` row; `generated_content`'s counters default to 0, so a 0 there is not
evidence of a measurement):
- pieces P = the asset's drafts (`generated_content` rows, not deleted);
- reach R = sum of `generated_content.views` of those drafts;
- engagement E = sum of their `likes + comments + shares`, plus the `saves` of each draft's latest
  `engagement_metrics` row per platform (`generated_content` has no saves column).

Result:
- value V = R / 1000 x CPM (`ROI_CPM_INR` 150 / `ROI_CPM_USD` 6: what the same views would cost as ads);
- roi_multiplier = V / C;
- cost_per_engagement = C / E (NULL when E = 0: no engagement, no price per engagement);
- value_score = E / H, engagements won per hour the creator put into the original.

With no published draft, or none with collected figures, R, E and the three results are stored NULL (never
zeros as if measured) and the answer says why. Every input's source is kept in `basis`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import User
from core.analytics.models import EngagementMetric, ROICalculation
from core.billing.checkout import currency_for
from core.billing.lifecycle import SUCCEEDED
from core.billing.models import Payment
from core.common.clock import utcnow
from core.common.errors import RecastError
from core.config import Settings
from core.content.models import ContentAsset
from core.distribution.platforms.names import label
from core.repurposing.models import GeneratedContent

CENT = Decimal("0.01")
MAX_HOURS = Decimal("999.99")  # roi_calculations.original_content_time_hours is NUMERIC(5,2)
MAX_COST = Decimal("99999999.99")
SYMBOLS = {"INR": "₹", "USD": "$"}

HOW = (
    "How /roi works — every figure comes from rows, nothing is guessed:\n"
    "• Hours H: what you told me the original took (/roi hours 5), else the default {default_hours} h.\n"
    "• Cost C: the cost you told me (/roi cost 6000, or /roi cost $80), else H × your hourly rate ({rates}).\n"
    "• Reach R: the sum of the views of the drafts that are published and have collected figures.\n"
    "• Engagement E: their likes + comments + shares + saves.\n"
    "• Value V = R ÷ 1,000 × the price of 1,000 views as ads ({cpms}): a valuation, not money received.\n"
    "• ROI = V ÷ C · Cost per engagement = C ÷ E · Value score = E ÷ H (engagements per hour you spent).\n"
    "Until a draft is published and its figures are collected, there is no ROI to show: I leave it empty "
    "rather than estimate.\n"
    "Pick an upload: /roi (latest), /roi 2 (second in /history), /roi <words of its title>."
)


NO_UPLOADS = "You have no uploads yet, so there's nothing to measure. Send me a video, voice note, link or text."


class NoSuchAsset(RecastError):
    user_message = "I couldn't find that upload. /history lists yours; /roi 2 picks the second one."


class BadEffort(RecastError):
    user_message = "Hours must be between 0.1 and 999, and a cost above 0, e.g. /roi hours 4 cost 6000."


@dataclass(frozen=True)
class RoiArgs:
    """What `/roi ...` asked: the formula, an upload (empty = latest), hours and/or cost to state."""

    how: bool
    selector: str
    hours: Decimal | None
    cost: Decimal | None
    cost_currency: str | None = None  # said with the cost (₹, $, INR, USD, Rs); None = the user's currency


_HOURS = re.compile(r"\bhours?\s+(\d+(?:[.,]\d+)?)\b", re.I)
_COST = re.compile(
    r"\bcost\s+(?P<before>[₹$]|rs\.?|inr|usd)?\s*(?P<n>\d[\d,]*(?:\.\d+)?)(?:\s*(?P<after>inr|usd|rs\b|rupees|dollars))?",
    re.I,
)
_CURRENCY_WORDS = {"₹": "INR", "rs": "INR", "rs.": "INR", "inr": "INR", "rupees": "INR", "$": "USD", "usd": "USD"}
_CURRENCY_WORDS["dollars"] = "USD"


def parse_args(text: str) -> RoiArgs:
    """`how`, `2`, `my podcast`, `hours 4`, `2 hours 4 cost 6000` ..."""
    rest = text.strip()
    if rest.lower() in ("how", "formula", "explain", "why"):
        return RoiArgs(True, "", None, None)
    hours = cost = None
    if m := _HOURS.search(rest):
        hours = Decimal(m.group(1).replace(",", "."))
        rest = rest[: m.start()] + rest[m.end() :]
    currency = None
    if m := _COST.search(rest):
        cost = Decimal(m.group("n").replace(",", ""))
        said = (m.group("before") or m.group("after") or "").lower()
        currency = _CURRENCY_WORDS.get(said)
        rest = rest[: m.start()] + rest[m.end() :]
    return RoiArgs(False, " ".join(rest.split()), hours, cost, currency)


async def pick_asset(*, session: AsyncSession, user_id: uuid.UUID, selector: str) -> ContentAsset:
    """The latest upload (empty), the n-th of /history's order (`2`), or the latest whose title has the words."""
    query = (
        select(ContentAsset)
        .where(ContentAsset.user_id == user_id, ContentAsset.deleted_at.is_(None))
        .order_by(ContentAsset.created_at.desc())
    )
    selector = selector.strip()
    if selector.isdigit():
        n = int(selector)
        asset = await session.scalar(query.offset(n - 1).limit(1)) if n >= 1 else None
    elif selector:
        asset = await session.scalar(query.where(ContentAsset.title.ilike(f"%{_like(selector)}%")).limit(1))
    else:
        asset = await session.scalar(query.limit(1))
    if asset is None:
        if not selector:
            raise NoSuchAsset(NO_UPLOADS)
        raise NoSuchAsset()
    return asset


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def user_currency(*, session: AsyncSession, user: User) -> str:
    """The currency of the user's latest paid payment, else INR in India and USD elsewhere."""
    paid = await session.scalar(
        select(Payment.currency)
        .where(Payment.user_id == user.id, Payment.status.in_(SUCCEEDED))
        .order_by(Payment.created_at.desc())
        .limit(1)
    )
    return paid.upper() if paid and paid.upper() in SYMBOLS else currency_for(user.country_code)


async def state_effort(
    *,
    session: AsyncSession,
    asset: ContentAsset,
    hours: Decimal | None,
    cost: Decimal | None,
    currency: str | None = None,
) -> None:
    """Keep what the creator says the original took (hours and/or cost, the cost in the currency they named,
    else in theirs)."""
    if hours is not None:
        if not Decimal("0.1") <= hours <= MAX_HOURS:
            raise BadEffort()
        asset.creator_hours = hours.quantize(CENT)
    if cost is not None:
        if not Decimal(0) < cost <= MAX_COST:
            raise BadEffort()
        user = await session.get(User, asset.user_id) if asset.user_id else None
        asset.creator_cost = cost.quantize(CENT)
        if currency is None:
            currency = await user_currency(session=session, user=user) if user else "INR"
        asset.creator_cost_currency = currency
    await session.flush()


async def _collected_saves(session: AsyncSession, draft_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Drafts with collected figures (an `engagement_metrics` row), each with the saves of its latest row
    per platform."""
    if not draft_ids:
        return {}
    latest = (
        select(EngagementMetric.generated_content_id, EngagementMetric.saves)
        .where(EngagementMetric.generated_content_id.in_(draft_ids))
        .ext(distinct_on(EngagementMetric.generated_content_id, EngagementMetric.platform))
        .order_by(
            EngagementMetric.generated_content_id, EngagementMetric.platform, EngagementMetric.collected_at.desc()
        )
    )
    saves: dict[uuid.UUID, int] = {}
    for draft_id, n in (await session.execute(latest)).all():
        if draft_id is not None:
            saves[draft_id] = saves.get(draft_id, 0) + (n or 0)
    return saves


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class _Effort:
    hours: Decimal
    hours_stated: bool
    cost: Decimal
    cost_stated: bool
    currency: str
    rate: Decimal
    cpm: Decimal


async def _effort(session: AsyncSession, settings: Settings, asset: ContentAsset) -> _Effort:
    """H and C, stated or default, in the stated cost's currency or the user's, with that currency's rates."""
    user = await session.get(User, asset.user_id) if asset.user_id else None
    hours = Decimal(asset.creator_hours) if asset.creator_hours is not None else Decimal(settings.roi_default_hours)
    if asset.creator_cost is not None:
        currency = (asset.creator_cost_currency or "INR").upper()
    else:
        currency = await user_currency(session=session, user=user) if user else "INR"
    rate = settings.roi_hourly_rate_usd if currency == "USD" else settings.roi_hourly_rate_inr
    cpm = settings.roi_cpm_usd if currency == "USD" else settings.roi_cpm_inr
    cost = Decimal(asset.creator_cost) if asset.creator_cost is not None else _q(hours * rate)
    return _Effort(hours, asset.creator_hours is not None, cost, asset.creator_cost is not None, currency, rate, cpm)


async def calculate_roi(*, session: AsyncSession, settings: Settings, asset_id: uuid.UUID) -> ROICalculation:
    """Compute and store the asset's `roi_calculations` row (one per asset, updated) from its rows."""
    # Two /roi at once update one row instead of inserting two; an advisory lock rather than the asset's row
    # lock, so a /roi never waits on the pipeline's steps (which lock the asset row).
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"roi:{asset_id}"})
    asset = await session.get(ContentAsset, asset_id)
    if asset is None:
        raise NoSuchAsset()
    drafts = list(
        await session.scalars(
            select(GeneratedContent)
            .where(GeneratedContent.content_asset_id == asset.id, GeneratedContent.deleted_at.is_(None))
            .order_by(GeneratedContent.created_at)
        )
    )
    published = [d for d in drafts if d.is_published]
    saves_by_draft = await _collected_saves(session, [d.id for d in published])
    measured = [d for d in published if d.id in saves_by_draft]
    effort = await _effort(session, settings, asset)
    hours, cost, currency, rate, cpm = effort.hours, effort.cost, effort.currency, effort.rate, effort.cpm
    hours_stated, cost_stated = effort.hours_stated, effort.cost_stated

    basis: dict[str, Any] = {
        "drafts": [str(d.id) for d in drafts],
        "published": [str(d.id) for d in published],
        "measured": [str(d.id) for d in measured],
        "hours_source": "stated" if hours_stated else "default",
        "cost_source": "stated" if cost_stated else "hours_x_rate",
        "hourly_rate": None if cost_stated else str(rate),
        "cpm": str(cpm),
        "reach_column": "generated_content.views",
    }
    reach = engagement = None
    roi_multiplier = cost_per_engagement = value_score = None
    if measured:
        likes = sum(d.likes or 0 for d in measured)
        comments = sum(d.comments or 0 for d in measured)
        shares = sum(d.shares or 0 for d in measured)
        saves = sum(saves_by_draft.get(d.id, 0) for d in measured)
        reach = sum(d.views or 0 for d in measured)
        engagement = likes + comments + shares + saves
        value = _q(Decimal(reach) / 1000 * cpm)
        roi_multiplier = _q(value / cost)
        cost_per_engagement = _q(cost / engagement) if engagement else None
        value_score = _q(Decimal(engagement) / hours)
        basis.update({"likes": likes, "comments": comments, "shares": shares, "saves": saves, "value": str(value)})
        # Each counted piece's share, so the chart (and anyone asking) can trace E piece by piece.
        basis["pieces"] = [
            {
                "id": str(d.id),
                "title": (d.title or d.content_type or "Draft")[:80],
                "platform": d.target_platform,
                "views": d.views or 0,
                "engagement": (d.likes or 0) + (d.comments or 0) + (d.shares or 0) + saves_by_draft.get(d.id, 0),
            }
            for d in measured
        ]

    row = await session.scalar(
        select(ROICalculation)
        .where(ROICalculation.content_asset_id == asset.id)
        .order_by(ROICalculation.calculated_at.desc())
        .limit(1)
    )
    if row is None:
        row = ROICalculation(content_asset_id=asset.id, user_id=asset.user_id)
        session.add(row)
    row.original_content_time_hours = _q(hours)
    row.original_content_cost = _q(cost)
    row.currency = currency
    row.repurposed_pieces_count = len(drafts)
    row.total_reach = reach
    row.total_engagement = engagement
    row.roi_multiplier = roi_multiplier
    row.cost_per_engagement = cost_per_engagement
    row.value_score = value_score
    row.basis = basis
    row.calculated_at = utcnow()
    await session.flush()
    return row


# --- what the creator reads -------------------------------------------------------------------------


def money(amount: Decimal, currency: str) -> str:
    symbol = SYMBOLS.get(currency, f"{currency} ")
    whole = amount == amount.to_integral_value()
    return f"{symbol}{amount:,.0f}" if whole else f"{symbol}{amount:,.2f}"


def number(value: Decimal | int) -> str:
    d = Decimal(value)
    return f"{d:,.0f}" if d == d.to_integral_value() else f"{d:,.2f}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def how(settings: Settings) -> str:
    """`/roi how`: the formula, with this server's defaults."""
    return HOW.format(
        default_hours=number(settings.roi_default_hours),
        rates=(
            f"default {money(settings.roi_hourly_rate_inr, 'INR')}/h or {money(settings.roi_hourly_rate_usd, 'USD')}/h"
        ),
        cpms=f"{money(settings.roi_cpm_inr, 'INR')}, or {money(settings.roi_cpm_usd, 'USD')} in dollars",
    )


def describe(row: ROICalculation, asset: ContentAsset) -> str:
    """The `/roi` answer: inputs, figures and result, each with where it came from."""
    basis = row.basis or {}
    currency = row.currency or "INR"
    hours = Decimal(row.original_content_time_hours or 0)
    cost = Decimal(row.original_content_cost or 0)
    n_drafts = row.repurposed_pieces_count or 0
    n_published = len(basis.get("published", []))
    n_measured = len(basis.get("measured", []))
    lines = [f"📈 ROI of “{asset.title[:80]}”", "", "Inputs"]
    if basis.get("hours_source") == "stated":
        lines.append(f"• Time: {number(hours)} h (as you told me)")
    else:
        lines.append(f"• Time: {number(hours)} h (the default; tell me yours: /roi hours 5)")
    if basis.get("cost_source") == "stated":
        lines.append(f"• Cost: {money(cost, currency)} (as you told me)")
    else:
        rate = Decimal(str(basis.get("hourly_rate") or 0))
        lines.append(
            f"• Cost: {money(cost, currency)} = {number(hours)} h × {money(rate, currency)}/h "
            "(default rate; or tell me: /roi cost 6000)"
        )
    lines += ["", "Figures"]
    if not n_drafts:
        lines.append("• This upload has no drafts yet, so nothing has been published or measured.")
    elif not n_published:
        lines.append(
            f"• None of its {_plural(n_drafts, 'draft')} is published yet, so there is no reach or engagement "
            "to count. Nothing is estimated: the ROI stays empty until published drafts have collected figures."
        )
    elif not n_measured:
        lines.append(
            f"• {n_published} of {_plural(n_drafts, 'draft')} published, but no figures have been collected from "
            "the platforms yet. Nothing is estimated: the ROI stays empty until they are."
        )
    else:
        waiting = n_published - n_measured
        lines.append(
            f"• {n_published} of {_plural(n_drafts, 'draft')} published; {n_measured} with collected figures"
            + (f" ({waiting} not collected yet, not counted)" if waiting else "")
        )
        lines.append(f"• Reach {number(row.total_reach or 0)} = sum of the views of those {n_measured}")
        lines.append(
            f"• Engagement {number(row.total_engagement or 0)} = {number(basis.get('likes', 0))} likes + "
            f"{number(basis.get('comments', 0))} comments + {number(basis.get('shares', 0))} shares + "
            f"{number(basis.get('saves', 0))} saves"
        )
        value = Decimal(str(basis.get("value", "0")))
        cpm = Decimal(str(basis.get("cpm", "0")))
        lines += ["", "Result"]
        lines.append(
            f"• Value {money(value, currency)} = {number(row.total_reach or 0)} views × {money(cpm, currency)} "
            "per 1,000 (what that reach would cost as ads)"
        )
        lines.append(
            f"• ROI {number(row.roi_multiplier or 0)}× = value {money(value, currency)} ÷ cost {money(cost, currency)}"
        )
        if row.cost_per_engagement is not None:
            lines.append(
                f"• Cost per engagement {money(Decimal(row.cost_per_engagement), currency)} = "
                f"{money(cost, currency)} ÷ {number(row.total_engagement or 0)}"
            )
        else:
            lines.append("• Cost per engagement: none, since there is no engagement yet")
        lines.append(
            f"• Value score {number(row.value_score or 0)} engagements per hour = "
            f"{number(row.total_engagement or 0)} ÷ {number(hours)} h"
        )
    lines += ["", "/roi how explains the formula · /roi 2 picks your second upload in /history"]
    return "\n".join(lines)


@dataclass(frozen=True)
class RoiChartData:
    """What the `/roi` chart draws, all read from the `roi_calculations` row: cost C beside value V (in the
    row's currency), and each counted piece's engagement (its part of E)."""

    currency: str
    cost: Decimal
    value: Decimal
    roi: Decimal | None
    labels: list[str]
    engagement: list[int]


@dataclass(frozen=True)
class RoiReply:
    text: str
    chart: RoiChartData | None  # None: the formula, or nothing measured yet (no figure to draw)


def _where(platform: str) -> str:
    return label("x" if platform == "twitter" else platform)  # drafts say "twitter", the platforms "x"


def chart_data(row: ROICalculation) -> RoiChartData | None:
    """The chart's figures, or None when the row has no measured pieces (nothing is drawn as if measured)."""
    basis = row.basis or {}
    pieces = basis.get("pieces") or []
    if row.total_engagement is None or not pieces:
        return None
    pieces = sorted(pieces, key=lambda p: -int(p["engagement"]))  # the best piece at the top
    return RoiChartData(
        currency=row.currency or "INR",
        cost=Decimal(row.original_content_cost or 0),
        value=Decimal(str(basis.get("value", "0"))),
        roi=Decimal(row.roi_multiplier) if row.roi_multiplier is not None else None,
        labels=[f"{p['title']}\n{_where(p['platform'])}" if p.get("platform") else str(p["title"]) for p in pieces],
        engagement=[int(p["engagement"]) for p in pieces],
    )


def chart_caption(data: RoiChartData) -> str:
    total = sum(data.engagement)
    return (
        f"Cost {money(data.cost, data.currency)} vs value {money(data.value, data.currency)}; "
        f"{total:,} engagements from {_plural(len(data.engagement), 'piece')} with collected figures."
    )


async def answer(*, session: AsyncSession, settings: Settings, user_id: uuid.UUID, text: str) -> str:
    """`/roi [how | n | words] [hours H] [cost C]`: the formula, or the chosen upload's ROI, recalculated."""
    return (await reply(session=session, settings=settings, user_id=user_id, text=text)).text


async def reply(*, session: AsyncSession, settings: Settings, user_id: uuid.UUID, text: str) -> RoiReply:
    """`answer`'s text with the figures of its chart (None when there is nothing measured to draw)."""
    args = parse_args(text)
    if args.how:
        return RoiReply(how(settings), None)
    asset = await pick_asset(session=session, user_id=user_id, selector=args.selector)
    stated = ""
    if args.hours is not None or args.cost is not None:
        await state_effort(session=session, asset=asset, hours=args.hours, cost=args.cost, currency=args.cost_currency)
        stated = "Saved ✅ what you told me the original took.\n\n"
    row = await calculate_roi(session=session, settings=settings, asset_id=asset.id)
    return RoiReply(stated + describe(row, asset), chart_data(row))
