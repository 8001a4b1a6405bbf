"""Invoice numbers per Indian financial year (sequential, concurrency-safe), GST split and the PDF."""

from __future__ import annotations

import asyncio
import io
import random
from datetime import UTC, datetime
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from core.billing import invoices
from core.billing.models import InvoiceCounter
from core.config import Settings
from core.db.session import make_sessionmaker


def test_financial_year_boundaries():
    assert invoices.financial_year(datetime(2026, 3, 31, tzinfo=UTC).date()) == "2025-26"
    assert invoices.financial_year(datetime(2026, 4, 1, tzinfo=UTC).date()) == "2026-27"
    assert invoices.financial_year(datetime(2099, 12, 1, tzinfo=UTC).date()) == "2099-00"


async def test_numbers_are_sequential_per_financial_year(session):
    year = random.randint(2200, 2900)  # a year no other test uses
    march = datetime(year, 3, 31, 12, tzinfo=UTC)
    april = datetime(year, 3, 31, 19, tzinfo=UTC)  # 00:30 on 1 April in India: the next FY
    fy_old, fy_new = f"{year - 1}-{year % 100:02d}", f"{year}-{(year + 1) % 100:02d}"
    numbers = [await invoices.next_invoice_number(session=session, issued_at=march) for _ in range(3)]
    assert numbers == [f"RC/{fy_old}/000001", f"RC/{fy_old}/000002", f"RC/{fy_old}/000003"]
    assert await invoices.next_invoice_number(session=session, issued_at=april) == f"RC/{fy_new}/000001"
    assert await invoices.next_invoice_number(session=session, issued_at=march) == f"RC/{fy_old}/000004"


async def test_concurrent_transactions_never_share_a_number(engine: AsyncEngine):
    year = random.randint(3000, 3900)
    issued = datetime(year, 6, 1, tzinfo=UTC)
    maker = make_sessionmaker(engine)

    async def issue(rollback: bool) -> str:
        async with maker() as s:
            number = await invoices.next_invoice_number(session=s, issued_at=issued)
            await asyncio.sleep(0)
            await (s.rollback() if rollback else s.commit())
            return number

    try:
        results = await asyncio.gather(*(issue(rollback=i % 5 == 4) for i in range(20)))
        committed = sorted(n for i, n in enumerate(results) if i % 5 != 4)
        # Committed numbers are distinct; a rolled-back number is reused, so the sequence has no gaps.
        assert len(set(committed)) == 16
        async with maker() as s:
            nxt = await invoices.next_invoice_number(session=s, issued_at=issued)
            await s.rollback()
        assert int(nxt.rsplit("/", 1)[1]) == 17
        assert [int(n.rsplit("/", 1)[1]) for n in committed] == list(range(1, 17))
    finally:
        async with maker() as s:
            await s.execute(delete(InvoiceCounter).where(InvoiceCounter.financial_year.like(f"{year}-%")))
            await s.commit()


def test_gst_split_intra_inter_state_and_usd():
    intra = invoices.gst_breakdown(Decimal("1180"), "INR", customer_state="29", seller_state="29")
    assert intra.taxable == Decimal("1000.00")
    assert [(t.label, t.amount) for t in intra.lines] == [("CGST", Decimal("90.00")), ("SGST", Decimal("90.00"))]
    inter = invoices.gst_breakdown(Decimal("1180"), "INR", customer_state="27", seller_state="29")
    assert [(t.label, t.rate, t.amount) for t in inter.lines] == [("IGST", Decimal(18), Decimal("180.00"))]
    odd = invoices.gst_breakdown(Decimal("799"), "INR", customer_state=None, seller_state="29")
    assert odd.taxable + odd.tax == Decimal("799.00") and [t.label for t in odd.lines] == ["CGST", "SGST"]
    usd = invoices.gst_breakdown(Decimal("29"), "USD", customer_state="27", seller_state="29")
    assert usd.lines == () and usd.taxable == usd.total == Decimal("29.00")


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_shows_number_gstin_and_gst_lines(tmp_path):
    settings = Settings(_env_file=None, recast_data_dir=tmp_path, seller_gstin="29ABCDE1234F1Z5")  # type: ignore[call-arg]
    tax = invoices.gst_breakdown(Decimal("1180"), "INR", customer_state="27", seller_state="29")
    text = _pdf_text(
        invoices.render_pdf(
            number="RC/2026-27/000042",
            issued_at=datetime(2026, 11, 25, tzinfo=UTC),
            settings=settings,
            customer={"legal_name": "Asha Media LLP", "gstin": "27AAPFU0939F1ZV", "state_code": "27"},
            description="Recast Pro plan (monthly)",
            currency="INR",
            tax=tax,
        )
    )
    assert "RC/2026-27/000042" in text and "Tax Invoice" in text
    assert "IGST @ 18%" in text and "180.00" in text and "27AAPFU0939F1ZV" in text
    intra = invoices.gst_breakdown(Decimal("1180"), "INR", customer_state="29", seller_state="29")
    text = _pdf_text(
        invoices.render_pdf(
            number="RC/2026-27/000043",
            issued_at=datetime(2026, 11, 25, tzinfo=UTC),
            settings=settings,
            customer={"name": "Asha"},
            description="Recast Pro plan (monthly)",
            currency="INR",
            tax=intra,
        )
    )
    assert "CGST @ 9%" in text and "SGST @ 9%" in text and "IGST" not in text
    usd = invoices.gst_breakdown(Decimal("29"), "USD", customer_state=None, seller_state="29")
    text = _pdf_text(
        invoices.render_pdf(
            number="RC/2026-27/000044",
            issued_at=datetime(2026, 11, 25, tzinfo=UTC),
            settings=settings,
            customer={"name": "Sam"},
            description="Recast Pro plan (monthly)",
            currency="USD",
            tax=usd,
        )
    )
    assert "RC/2026-27/000044" in text and "GST" not in text.replace("GSTIN", "") and "29.00" in text


def test_gstin_validation():
    assert invoices.valid_gstin("27AAPFU0939F1ZV")
    assert not invoices.valid_gstin("27AAPFU0939F1Z")
