"""The monthly report and `/stats <source>` from real rows with known figures (tests/analytics_rows.py): the
month's gains against the month before in the owner's timezone, per platform, the top pieces with links, ROI
only from `roi_calculations` rows of the month; the PDF checked as a real PDF (pages, text, an embedded
1080 px chart); and the monthly send: once per owner per month however often it runs, not on other days."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from core.analytics import charts, report, sources
from core.analytics.figures import Scope
from core.analytics.models import ROICalculation
from core.analytics.report import Month
from core.deps import CoreDeps
from core.notify import outbox
from core.notify.ports import RecordingNotifier
from core.work.models import WorkUnit
from tests.report_rows import A_TITLE, A_URL, B_TITLE, B_URL, C_TITLE, D_TITLE, TZ, add_rows, add_user, day

NOV = Month(2026, 11)


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


async def test_month_figures_are_the_months_gains_in_the_owners_timezone(core_deps: CoreDeps) -> None:
    async with core_deps.sessionmaker() as session:
        rows = await add_rows(session, NOV)
        found = await report.build_report(session, Scope.USER, rows.user_id, NOV, timezone=TZ, owner_name="Meera")
    # November (IST): A 700 - 100 impressions, (50 + 10 + 2) - 10 engagements (its 250/15 row at 01:30 IST on
    # the 1st is November's, not October's); B 500 views, 40 + 4. October: A's first row, 100 and 10.
    assert (found.this.total.views, found.this.total.engagement) == (1100, 96)
    assert (found.before.total.views, found.before.total.engagement) == (100, 10)
    assert {p: (f.views, f.engagement) for p, f in found.this.by_platform.items()} == {
        "linkedin": (600, 52),
        "x": (500, 44),
    }
    assert found.published == 2  # B and D went out in November; A in October
    assert [(t.title, t.engagement, t.url) for t in found.top] == [(A_TITLE, 52, A_URL), (B_TITLE, 44, B_URL)]
    assert found.roi == []
    assert report.summary(found) == (
        "Meera: November 2026 report. Views 1,100 (+1000%) · Engagement 96 (+860%) vs October 2026; "
        "2 post(s) published."
    )


async def test_the_pdf_is_a_real_pdf_with_the_figures_the_top_pieces_and_the_chart(core_deps: CoreDeps) -> None:
    async with core_deps.sessionmaker() as session:
        rows = await add_rows(session, NOV)
        found = await report.build_report(session, Scope.USER, rows.user_id, NOV, timezone=TZ, owner_name="Meera")
    reader, text = pdf_text(report.render_pdf(found))
    assert len(reader.pages) == 2  # the tables, then the chart
    assert "Meera — November 2026" in text
    assert "Views 1,100 100 +1000%" in text and "Engagement 96 10 +860%" in text
    assert "LinkedIn 600 0 52 +420%" in text and "X 500 0 44 new" in text
    assert "Posts published in November 2026: 2" in text
    assert f"1. {A_TITLE} — LinkedIn: 52 engagements, 600 views" in text and A_URL in text
    assert f"2. {B_TITLE} — X: 44 engagements, 500 views" in text and B_URL in text
    assert "ROI: not calculated yet." in text
    images = reader.pages[1].images
    assert len(images) == 1
    chart = Image.open(io.BytesIO(images[0].data))
    assert chart.size == (1080, 1080)
    links = [a.get_object()["/A"]["/URI"] for a in reader.pages[0].get("/Annots", [])]
    assert A_URL in links and B_URL in links


async def test_roi_is_shown_only_from_the_months_roi_calculations(core_deps: CoreDeps) -> None:
    async with core_deps.sessionmaker() as session:
        rows = await add_rows(session, NOV)
        for when, multiplier, cost in (
            (day(NOV, 20), Decimal("12.50"), Decimal("0.42")),
            (day(NOV, 5), Decimal("9.99"), Decimal("0.99")),  # older in the month: the newer one counts
            (datetime(2026, 10, 10, tzinfo=UTC), Decimal("3.00"), Decimal("1.75")),  # October's
        ):
            session.add(
                ROICalculation(
                    content_asset_id=rows.asset_id,
                    user_id=rows.user_id,
                    original_content_time_hours=Decimal("6"),
                    original_content_cost=Decimal("40.00"),
                    repurposed_pieces_count=4,
                    total_reach=1234,
                    total_engagement=96,
                    roi_multiplier=multiplier,
                    cost_per_engagement=cost,
                    value_score=Decimal("77.00"),
                    calculated_at=when,
                )
            )
        await session.flush()
        found = await report.build_report(session, Scope.USER, rows.user_id, NOV, timezone=TZ, owner_name="Meera")
        october = await report.build_report(
            session, Scope.USER, rows.user_id, NOV.previous(), timezone=TZ, owner_name="Meera"
        )
    assert [(r.source, r.multiplier, r.cost_per_engagement) for r in found.roi] == [
        ("Sourdough at scale", Decimal("12.50"), Decimal("0.42"))
    ]
    _, text = pdf_text(report.render_pdf(found))
    assert "Sourdough at scale 4 1,234 96 12.50 0.42" in text
    assert "not calculated" not in text and "9.99" not in text and "3.00" not in text
    assert [r.multiplier for r in october.roi] == [Decimal("3.00")]


async def test_a_client_accounts_report_counts_its_own_drafts(core_deps: CoreDeps) -> None:
    async with core_deps.sessionmaker() as session:
        rows = await add_rows(session, NOV, client=True)
        assert rows.client_id is not None
        found = await report.build_report(session, Scope.CLIENT, rows.client_id, NOV, timezone=TZ, owner_name="Crumb")
        other = await add_rows(session, NOV)  # another creator's rows: not the client's
        assert other.client_id is None
        again = await report.build_report(session, Scope.CLIENT, rows.client_id, NOV, timezone=TZ, owner_name="Crumb")
    assert (found.this.total.views, found.this.total.engagement, found.published) == (1100, 96, 2)
    assert (again.this.total.views, again.this.total.engagement, again.published) == (1100, 96, 2)
    assert found.filename == "recast-report-crumb-2026-11.pdf"


def test_months_parse_and_the_last_full_month_is_in_the_owners_timezone() -> None:
    assert report.parse_month("2026-11") == NOV and report.parse_month(" 2026-1 ") == Month(2026, 1)
    assert report.parse_month("2026-13") is None and report.parse_month("November") is None
    # 20:00 UTC on 30 November is already 1 December in India.
    assert report.last_full_month(datetime(2026, 11, 30, 20, tzinfo=UTC), TZ) == NOV
    assert report.last_full_month(datetime(2026, 11, 30, 17, tzinfo=UTC), TZ) == Month(2026, 10)
    assert report.last_full_month(datetime(2026, 1, 5, tzinfo=UTC), TZ) == Month(2025, 12)


async def test_a_sources_pieces_with_their_latest_figures(core_deps: CoreDeps) -> None:
    async with core_deps.sessionmaker() as session:
        rows = await add_rows(session, NOV)
        second = await sources.find_source(session, rows.user_id, "2")
        by_words = await sources.find_source(session, rows.user_id, "SCALE sourdough")
        newest = await sources.find_source(session, rows.user_id, "1")
        assert await sources.find_source(session, rows.user_id, "pizza") is None
        assert await sources.find_source(session, rows.user_id, "3") is None  # /history has two lines
        assert await sources.find_source(session, rows.user_id, "0") is None
        assert second is not None and by_words is not None and newest is not None
        assert second.id == by_words.id == rows.asset_id and newest.title == "Bread basics"
        found = await sources.source_stats(session, second)
    assert found.title == "Sourdough at scale" and found.drafts == 4
    got = [(p.title, p.content_type, p.platform, p.published, p.url, p.views, p.engagement) for p in found.pieces]
    assert got == [
        (A_TITLE, "LinkedIn post", "linkedin", True, A_URL, 700, 62),  # its newest row: 700, 50 + 10 + 2
        (B_TITLE, "X thread", "x", True, B_URL, 900, 64),  # newest row (December's): 900, 60 + 4
        (C_TITLE, "Blog article", None, False, None, None, None),
        (D_TITLE, "social post", "linkedin", True, None, 50, 5),  # no rows: generated_content's figures
    ]
    assert (found.views, found.engagement, len(found.measured), len(found.published)) == (1650, 131, 3, 3)


def test_the_pieces_chart_is_a_1080px_png_with_one_bar_per_piece(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = charts.pieces_chart(["Hydration", "Starters", "Schedule"], [62, 64, 5], tmp_path / "p.png")
    image = Image.open(path)
    assert image.format == "PNG" and image.size == (1080, 1080)
    colours = {c for _, c in image.convert("RGB").getcolors(maxcolors=1_000_000) or []}
    assert (0x25, 0x63, 0xEB) in colours


async def _units(deps: CoreDeps, key: str) -> int:
    async with deps.sessionmaker() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(WorkUnit)
                .where(WorkUnit.kind == outbox.SEND, WorkUnit.dedupe_key == key)
            )
            or 0
        )


async def test_the_monthly_send_goes_once_per_owner_per_month_and_only_on_the_first(core_deps: CoreDeps) -> None:
    chat = "5650901"
    quiet_chat = "5650902"
    async with core_deps.sessionmaker() as session:
        user = await add_user(session, chat_id=chat)
        rows = await add_rows(session, NOV, user=user)
        quiet = await add_user(session, chat_id=quiet_chat, name="Quiet")  # published nothing in November
        await session.commit()
    notifier = core_deps.notifier
    assert isinstance(notifier, RecordingNotifier)

    def mine() -> list:  # type: ignore[type-arg]
        return [m for c, m in notifier.sent if c.chat_id in (chat, quiet_chat)]

    # 2 December 06:00 UTC: the 2nd in India, nothing is sent.
    await report.send_monthly(core_deps, now=datetime(2026, 12, 2, 6, tzinfo=UTC))
    # 30 November 17:00 UTC: still November in India.
    await report.send_monthly(core_deps, now=datetime(2026, 11, 30, 17, tzinfo=UTC))
    assert mine() == []

    first = datetime(2026, 12, 1, 3, tzinfo=UTC)  # 08:30 on 1 December in India
    await report.send_monthly(core_deps, now=first)
    await report.send_monthly(core_deps, now=first.replace(hour=9))  # the hourly run again, same day
    (sent,) = mine()
    assert sent.text.startswith("Meera Baker: November 2026 report. Views 1,100 (+1000%)")
    assert sent.document is not None and sent.filename == "recast-report-meera-baker-2026-11.pdf"
    _, text = pdf_text(sent.document.read_bytes())
    assert A_TITLE in text and "Views 1,100 100 +1000%" in text
    assert await _units(core_deps, report.monthly_key(Scope.USER, rows.user_id, NOV)) == 1
    assert await _units(core_deps, report.monthly_key(Scope.USER, quiet.id, NOV)) == 0


def test_the_monthly_send_is_a_periodic_task_run_at_least_hourly() -> None:
    from core.work.registry import HANDLERS
    from tasks.analytics import send_monthly_reports
    from tasks.scheduler import PERIODIC, check_periodic

    check_periodic()
    (periodic,) = [p for p in PERIODIC if p.task == "analytics.send_monthly_reports"]
    # Hourly, so the 1st is reached in every timezone while it lasts there.
    assert periodic.every_s <= 3600 and HANDLERS["analytics.send_monthly_reports"].run is send_monthly_reports


async def test_the_monthly_send_waits_for_the_first_in_the_owners_own_timezone(core_deps: CoreDeps) -> None:
    chat = "5650903"
    async with core_deps.sessionmaker() as session:
        user = await add_user(session, chat_id=chat, name="West Baker")
        rows = await add_rows(session, NOV, user=user)
        user.timezone = "America/New_York"
        await session.commit()
    notifier = core_deps.notifier
    assert isinstance(notifier, RecordingNotifier)
    await report.send_monthly(core_deps, now=datetime(2026, 12, 1, 3, tzinfo=UTC))  # 22:00 on 30 Nov in New York
    assert [m for c, m in notifier.sent if c.chat_id == chat] == []
    await report.send_monthly(core_deps, now=datetime(2026, 12, 1, 6, tzinfo=UTC))  # 01:00 on 1 Dec there
    (sent,) = [m for c, m in notifier.sent if c.chat_id == chat]
    assert sent.filename == "recast-report-west-baker-2026-11.pdf"
    assert await _units(core_deps, report.monthly_key(Scope.USER, rows.user_id, NOV)) == 1
