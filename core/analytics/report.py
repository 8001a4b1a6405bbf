"""The monthly report: a PDF a creator or an agency can forward, built from rows only.

What it holds, for one owner (a creator, or a client account) and one calendar month in the owner's
timezone: the month's views, reach and engagement against the month before (`core.analytics.figures`
gains, so each traces back to `engagement_metrics` rows), the same per platform, the month's top 5 pieces
with their links, a chart, and the ROI figures of `roi_calculations` rows calculated in the month, if there
are any ("ROI: not calculated yet" otherwise: nothing is estimated here).

It is sent on request (`/report`) and on the 1st of each month by `analytics.send_monthly_reports` (run
hourly: an owner's report goes out once the 1st has begun in the owner's timezone), once per owner per
month through the outbox key.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import matplotlib
from fpdf import FPDF
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import ClientAccount, Organization, User
from core.analytics import charts
from core.analytics.figures import PeriodFigures, Scope, period_figures
from core.analytics.models import ROICalculation
from core.analytics.stats import TopPiece, change, top_pieces
from core.billing.notifications import telegram_chat
from core.common.clock import utcnow
from core.content.models import ContentAsset
from core.distribution.agency import client_timezone
from core.distribution.models import PostStatus, ScheduledPost
from core.distribution.platforms.names import label
from core.integrations.slack_links import client_channel_chat
from core.notify import outbox
from core.notify.ports import ChatRef, OutgoingMessage
from core.repurposing.models import GeneratedContent
from core.work.models import WorkUnit

if TYPE_CHECKING:
    from core.deps import CoreDeps

DEFAULT_TIMEZONE = "Asia/Kolkata"
TOP_N = 5
MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"  # DejaVu: the PDF needs more than Latin-1


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def key(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def name(self) -> str:
        return date(self.year, self.month, 1).strftime("%B %Y")

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """[start, end) of the month in `timezone`, as aware datetimes."""
        zone = ZoneInfo(timezone)
        after = self.next()
        return datetime(self.year, self.month, 1, tzinfo=zone), datetime(after.year, after.month, 1, tzinfo=zone)


def parse_month(text: str) -> Month | None:
    """ "2026-11" → Month(2026, 11); anything else → None."""
    m = MONTH_RE.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return Month(int(m.group(1)), int(m.group(2)))


def this_month(now: datetime, timezone: str) -> Month:
    local = now.astimezone(ZoneInfo(timezone))
    return Month(local.year, local.month)


def last_full_month(now: datetime, timezone: str) -> Month:
    return this_month(now, timezone).previous()


@dataclass(frozen=True)
class RoiLine:
    source: str
    pieces: int | None
    reach: int | None
    engagement: int | None
    multiplier: Decimal | None
    cost_per_engagement: Decimal | None
    value_score: Decimal | None


@dataclass
class MonthReport:
    owner_name: str
    scope: Scope
    owner_id: uuid.UUID
    month: Month
    timezone: str
    this: PeriodFigures
    before: PeriodFigures
    published: int  # posts that went out in the month
    top: list[TopPiece] = field(default_factory=list)
    roi: list[RoiLine] = field(default_factory=list)

    @property
    def platforms(self) -> list[str]:
        return sorted(set(self.this.by_platform) | set(self.before.by_platform))

    @property
    def has_anything(self) -> bool:
        return bool(self.published or self.this.posts_counted)

    @property
    def filename(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.owner_name.lower()).strip("-") or "recast"
        return f"recast-report-{slug}-{self.month.key}.pdf"


def _owned_drafts(scope: Scope, owner_id: uuid.UUID) -> ColumnElement[bool]:
    """A where-clause on `GeneratedContent` (joined to its asset) for an owner's drafts."""
    if scope is Scope.USER:
        return GeneratedContent.user_id == owner_id
    if scope is Scope.CLIENT:
        return ContentAsset.client_account_id == owner_id
    return ContentAsset.organization_id == owner_id


async def published_count(
    session: AsyncSession, scope: Scope, owner_id: uuid.UUID, start: datetime, end: datetime
) -> int:
    stmt = (
        select(func.count(ScheduledPost.id))
        .join(GeneratedContent, GeneratedContent.id == ScheduledPost.generated_content_id)
        .outerjoin(ContentAsset, ContentAsset.id == GeneratedContent.content_asset_id)
        .where(
            _owned_drafts(scope, owner_id),
            ScheduledPost.status == PostStatus.PUBLISHED,
            ScheduledPost.published_at >= start,
            ScheduledPost.published_at < end,
        )
    )
    return int(await session.scalar(stmt) or 0)


async def roi_lines(
    session: AsyncSession, scope: Scope, owner_id: uuid.UUID, start: datetime, end: datetime
) -> list[RoiLine]:
    """The newest `roi_calculations` row calculated in [start, end) of each of the owner's sources."""
    owner = {
        Scope.USER: ContentAsset.user_id == owner_id,
        Scope.CLIENT: ContentAsset.client_account_id == owner_id,
        Scope.ORGANIZATION: ContentAsset.organization_id == owner_id,
    }[scope]
    rows = (
        await session.execute(
            select(ROICalculation, ContentAsset.title)
            .join(ContentAsset, ContentAsset.id == ROICalculation.content_asset_id)
            .where(owner, ROICalculation.calculated_at >= start, ROICalculation.calculated_at < end)
            .order_by(ROICalculation.content_asset_id, ROICalculation.calculated_at.desc())
            .ext(distinct_on(ROICalculation.content_asset_id))
        )
    ).all()
    lines = [
        RoiLine(
            source=title,
            pieces=roi.repurposed_pieces_count,
            reach=roi.total_reach,
            engagement=roi.total_engagement,
            multiplier=roi.roi_multiplier,
            cost_per_engagement=roi.cost_per_engagement,
            value_score=roi.value_score,
        )
        for roi, title in rows
    ]
    lines.sort(key=lambda r: (r.multiplier is not None, r.multiplier or 0), reverse=True)
    return lines


async def build_report(
    session: AsyncSession, scope: Scope, owner_id: uuid.UUID, month: Month, *, timezone: str, owner_name: str
) -> MonthReport:
    start, end = month.bounds(timezone)
    before_start, _ = month.previous().bounds(timezone)
    this = await period_figures(session, scope, owner_id, start, end)
    before = await period_figures(session, scope, owner_id, before_start, start)
    report = MonthReport(
        owner_name=owner_name,
        scope=scope,
        owner_id=owner_id,
        month=month,
        timezone=timezone,
        this=this,
        before=before,
        published=await published_count(session, scope, owner_id, start, end),
    )
    report.top = await top_pieces(session, this, TOP_N)
    report.roi = await roi_lines(session, scope, owner_id, start, end)
    return report


def summary(report: MonthReport) -> str:
    """The message that goes with the PDF."""
    now, before = report.this.total, report.before.total
    return (
        f"{report.owner_name}: {report.month.name} report. "
        f"Views {now.views:,} ({change(now.views, before.views)}) · "
        f"Engagement {now.engagement:,} ({change(now.engagement, before.engagement)}) vs "
        f"{report.month.previous().name}; {report.published} post(s) published."
    )


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


class _Pdf(FPDF):
    def __init__(self) -> None:
        super().__init__()
        self.add_font("DejaVu", "", str(_FONTS / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(_FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=15)

    def heading(self, text: str, size: int = 13) -> None:
        self.ln(3)
        self.set_font("DejaVu", "B", size)
        self.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font("DejaVu", size=10)

    def row(self, cells: list[str], widths: list[int], *, bold: bool = False) -> None:
        self.set_font("DejaVu", "B" if bold else "", 10)
        for i, (value, width) in enumerate(zip(cells, widths, strict=True)):
            last = i == len(cells) - 1
            self.cell(
                width, 7, value, border=1, align="L" if i == 0 else "R", new_x="LMARGIN" if last else "RIGHT",
                new_y="NEXT" if last else "TOP",
            )  # fmt: skip
        self.set_font("DejaVu", size=10)


def render_pdf(report: MonthReport) -> bytes:
    """The report as PDF bytes (A4, one or two pages)."""
    pdf = _Pdf()
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 10, f"{report.owner_name} — {report.month.name}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    pdf.cell(
        0, 6, f"Monthly report from Recast · times in {report.timezone} · compared with {report.month.previous().name}",
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip

    now, before = report.this.total, report.before.total
    pdf.heading("Totals")
    widths = [60, 40, 40, 40]
    pdf.row(["", report.month.name, report.month.previous().name, "Change"], widths, bold=True)
    for name, a, b in (
        ("Views", now.views, before.views),
        ("Reach", now.reach, before.reach),
        ("Engagement", now.engagement, before.engagement),
        ("Posts with figures", report.this.posts_counted, report.before.posts_counted),
    ):
        pdf.row([name, f"{a:,}", f"{b:,}", change(a, b)], widths)
    pdf.cell(0, 6, f"Posts published in {report.month.name}: {report.published}", new_x="LMARGIN", new_y="NEXT")

    pdf.heading("Per platform")
    if report.platforms:
        widths = [50, 35, 35, 35, 25]
        pdf.row(["Platform", "Views", "Reach", "Engagement", "Change"], widths, bold=True)
        for platform in report.platforms:
            fa, fb = report.this.by_platform.get(platform), report.before.by_platform.get(platform)
            acts = fa.engagement if fa else 0
            pdf.row(
                [
                    label(platform),
                    f"{fa.views if fa else 0:,}",
                    f"{fa.reach if fa else 0:,}",
                    f"{acts:,}",
                    change(acts, fb.engagement if fb else 0),
                ],
                widths,
            )
    else:
        pdf.cell(0, 6, "No figures collected in either month.", new_x="LMARGIN", new_y="NEXT")

    pdf.heading(f"Top {TOP_N} pieces")
    if report.top:
        for n, piece in enumerate(report.top, 1):
            pdf.multi_cell(
                0, 6, f"{n}. {piece.title} — {label(piece.platform)}: {piece.engagement:,} engagements, "
                f"{piece.views:,} views", new_x="LMARGIN", new_y="NEXT",
            )  # fmt: skip
            if piece.url:
                pdf.set_text_color(37, 99, 235)
                pdf.cell(0, 5, f"   {piece.url}", link=piece.url, new_x="LMARGIN", new_y="NEXT")
                pdf.set_text_color(0, 0, 0)
    else:
        pdf.cell(0, 6, f"No piece earned views or engagement in {report.month.name}.", new_x="LMARGIN", new_y="NEXT")

    pdf.heading("ROI")
    if report.roi:
        widths = [64, 18, 26, 26, 20, 26]
        pdf.row(["Source", "Pieces", "Reach", "Engagement", "ROI ×", "Cost/eng."], widths, bold=True)
        for line in report.roi:
            source = line.source if len(line.source) <= 34 else line.source[:33] + "…"
            pdf.row(
                [
                    source,
                    _count(line.pieces),
                    _count(line.reach),
                    _count(line.engagement),
                    _money(line.multiplier),
                    _money(line.cost_per_engagement),
                ],
                widths,
            )
        pdf.cell(0, 6, "From the ROI calculations made this month (see the README for the formula).",
                 new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    else:
        pdf.cell(0, 6, "ROI: not calculated yet.", new_x="LMARGIN", new_y="NEXT")

    if report.platforms:
        with tempfile.TemporaryDirectory() as tmp:
            chart = charts.month_chart(
                report.platforms,
                {p: (f.views, f.engagement) for p, f in report.this.by_platform.items()},
                {p: (f.views, f.engagement) for p, f in report.before.by_platform.items()},
                Path(tmp) / "month.png",
                labels=(report.month.name, report.month.previous().name),
            )
            pdf.add_page()
            pdf.heading("Views and engagement per platform")
            pdf.image(str(chart), w=170)

    pdf.ln(4)
    pdf.set_font("DejaVu", size=8)
    pdf.multi_cell(
        0, 4, "Every figure is what the platforms reported through their own counters in the month: engagement = "
        "likes + comments + shares + saves; reach is summed per post (a person reached by two posts counts twice).",
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    return bytes(pdf.output())


# ------------------------------------------------------------------ the monthly send


def monthly_key(scope: Scope, owner_id: uuid.UUID, month: Month) -> str:
    return f"monthly-report:{scope.value}:{owner_id}:{month.key}"


async def _already_sent(session: AsyncSession, key: str) -> bool:
    found = await session.scalar(select(WorkUnit.id).where(WorkUnit.kind == outbox.SEND, WorkUnit.dedupe_key == key))
    return found is not None


def _may_be_the_first_somewhere(now: datetime) -> bool:
    """Whether the 1st of a month has begun or is under way in some timezone (UTC−12 … UTC+14)."""
    return (now + timedelta(hours=14)).day == 1 or (now - timedelta(hours=12)).day == 1 or now.day == 1


async def _candidates(session: AsyncSession, now: datetime) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Creators and client accounts with a post published in the last ~month (checked exactly later)."""
    since = now - timedelta(days=33)
    recent = (ScheduledPost.status == PostStatus.PUBLISHED, ScheduledPost.published_at >= since)
    users = list(await session.scalars(select(ScheduledPost.user_id).where(*recent).distinct()))
    clients = list(
        await session.scalars(
            select(ContentAsset.client_account_id)
            .join(GeneratedContent, GeneratedContent.content_asset_id == ContentAsset.id)
            .join(ScheduledPost, ScheduledPost.generated_content_id == GeneratedContent.id)
            .where(*recent, ContentAsset.client_account_id.is_not(None))
            .distinct()
        )
    )
    return [u for u in users if u is not None], [c for c in clients if c is not None]


async def _send(
    deps: CoreDeps, session: AsyncSession, chat: ChatRef, report: MonthReport, key: str, text: str
) -> uuid.UUID:
    pdf = render_pdf(report)
    url = deps.store.put_bytes(pdf, f"reports/{report.scope.value}-{report.owner_id}/{report.filename}")
    message = OutgoingMessage(text=text, document=deps.store.local_path(url), filename=report.filename)
    return await outbox.record(session, chat, message, key=key)


async def send_monthly(deps: CoreDeps, *, now: datetime | None = None) -> int:
    """On the 1st (in each owner's timezone), last month's report to every creator and client account that
    published in it: a creator's to their Telegram chat, a client account's to its Slack channel (or, with
    none linked, to the agency owner's Telegram chat). Once per owner per month: the outbox key."""
    now = now or utcnow()
    if not _may_be_the_first_somewhere(now):
        return 0
    async with deps.sessionmaker() as session:
        users, clients = await _candidates(session, now)
    sent = 0
    for user_id in users:
        async with deps.sessionmaker() as session:
            unit = await _creator_report(deps, session, user_id, now)
            await session.commit()
        if unit is not None:
            await outbox.flush(deps, [unit])
            sent += 1
    for client_id in clients:
        async with deps.sessionmaker() as session:
            unit = await _client_report(deps, session, client_id, now)
            await session.commit()
        if unit is not None:
            await outbox.flush(deps, [unit])
            sent += 1
    return sent


async def _creator_report(deps: CoreDeps, session: AsyncSession, user_id: uuid.UUID, now: datetime) -> uuid.UUID | None:
    user = await session.get(User, user_id)
    if user is None:
        return None
    timezone = user.timezone or DEFAULT_TIMEZONE
    if now.astimezone(ZoneInfo(timezone)).day != 1:
        return None
    month = last_full_month(now, timezone)
    key = monthly_key(Scope.USER, user_id, month)
    start, end = month.bounds(timezone)
    chat = await telegram_chat(session=session, user_id=user_id)
    if chat is None or await _already_sent(session, key):
        return None
    if not await published_count(session, Scope.USER, user_id, start, end):
        return None
    report = await build_report(
        session, Scope.USER, user_id, month, timezone=timezone, owner_name=user.full_name or "Your posts"
    )
    return await _send(deps, session, chat, report, key, summary(report) + "\nThe PDF is yours to forward.")


async def _client_report(
    deps: CoreDeps, session: AsyncSession, client_id: uuid.UUID, now: datetime
) -> uuid.UUID | None:
    client = await session.get(ClientAccount, client_id)
    if client is None:
        return None
    timezone = await client_timezone(session, client_id)
    if now.astimezone(ZoneInfo(timezone)).day != 1:
        return None
    month = last_full_month(now, timezone)
    key = monthly_key(Scope.CLIENT, client_id, month)
    start, end = month.bounds(timezone)
    if await _already_sent(session, key) or not await published_count(session, Scope.CLIENT, client_id, start, end):
        return None
    report = await build_report(session, Scope.CLIENT, client_id, month, timezone=timezone, owner_name=client.name)
    text = summary(report)
    chat = await client_channel_chat(session=session, client_account_id=client_id)
    if chat is None:
        org = await session.get(Organization, client.organization_id) if client.organization_id else None
        chat = await telegram_chat(session=session, user_id=org.owner_id) if org and org.owner_id else None
        text += f"\n{client.name} has no Slack channel linked, so its report comes here."
    if chat is None:
        return None
    return await _send(deps, session, chat, report, key, text)
