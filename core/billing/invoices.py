"""Invoices: sequential numbers per Indian financial year, GST split, PDF rendering.

Numbers: `RC/<FY>/<6 digits>`, FY April–March in India time (e.g. `RC/2026-27/000042`). The counter
row of the year is incremented with an upsert; the row lock it takes is held until the issuing
transaction commits, so concurrent invoices get distinct, gap-free numbers (a rolled-back invoice
rolls its number back too).

Amounts: plan prices are GST-inclusive (what the creator pays is the invoice total); the taxable
value is total / 1.18. Place of supply: the customer's state (from their GSTIN when given, else
their billing details); unknown means the seller's state, as for an unregistered local buyer.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import Organization, User
from core.billing.models import Invoice, InvoiceCounter, Payment
from core.common.clock import local_time, utcnow
from core.config import Settings
from core.storage.files import FileStore

GST_RATE = Decimal("0.18")
CENT = Decimal("0.01")
GSTIN_RE = re.compile(r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$")
SELLER_NAME = "Recast"


def financial_year(day: date) -> str:
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


async def next_invoice_number(*, session: AsyncSession, issued_at: datetime) -> str:
    """Take the next number of the financial year `issued_at` falls in (India time)."""
    fy = financial_year(local_time(issued_at, "Asia/Kolkata").date())
    stmt = (
        insert(InvoiceCounter)
        .values(financial_year=fy, last_number=1)
        .on_conflict_do_update(index_elements=["financial_year"], set_={"last_number": InvoiceCounter.last_number + 1})
        .returning(InvoiceCounter.last_number)
    )
    number = (await session.execute(stmt)).scalar_one()
    return f"RC/{fy}/{number:06d}"


@dataclass(frozen=True)
class TaxLine:
    label: str  # CGST | SGST | IGST
    rate: Decimal  # percent
    amount: Decimal


@dataclass(frozen=True)
class TaxBreakdown:
    taxable: Decimal
    lines: tuple[TaxLine, ...]
    total: Decimal

    @property
    def tax(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


def valid_gstin(gstin: str) -> bool:
    return bool(GSTIN_RE.match(gstin.strip().upper()))


def gst_breakdown(total: Decimal, currency: str, *, customer_state: str | None, seller_state: str) -> TaxBreakdown:
    """Split a GST-inclusive INR total into taxable value and CGST+SGST (same state) or IGST."""
    total = total.quantize(CENT)
    if currency.upper() != "INR":
        return TaxBreakdown(total, (), total)
    taxable = (total / (1 + GST_RATE)).quantize(CENT, ROUND_HALF_UP)
    tax = total - taxable
    lines: tuple[TaxLine, ...]
    if (customer_state or seller_state) == seller_state:
        cgst = (tax / 2).quantize(CENT, ROUND_HALF_UP)
        lines = (TaxLine("CGST", Decimal(9), cgst), TaxLine("SGST", Decimal(9), tax - cgst))
    else:
        lines = (TaxLine("IGST", Decimal(18), tax),)
    return TaxBreakdown(taxable, lines, total)


async def _own_organization(session: AsyncSession, user_id: uuid.UUID) -> Organization | None:
    return await session.scalar(
        select(Organization).where(Organization.owner_id == user_id).order_by(Organization.created_at).limit(1)
    )


async def billing_details(*, session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """The creator's billing details (`organizations.settings["billing"]` of their own organization)."""
    org = await _own_organization(session, user_id)
    details = (org.settings or {}).get("billing") if org is not None else None
    return dict(details) if isinstance(details, dict) else {}


async def set_billing_details(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    legal_name: str | None = None,
    gstin: str | None = None,
    state_code: str | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    """Save the name, GSTIN and state printed on future invoices. A GSTIN fixes the state code."""
    org = await _own_organization(session, user_id)
    if org is None:
        raise LookupError("user has no organization")
    details: dict[str, Any] = {"legal_name": legal_name, "address": address, "state_code": state_code}
    if gstin:
        gstin = gstin.strip().upper()
        if not valid_gstin(gstin):
            raise ValueError("That GSTIN doesn't look right: it has 15 characters, e.g. 29ABCDE1234F1Z5.")
        details["gstin"], details["state_code"] = gstin, gstin[:2]
    org.settings = {**(org.settings or {}), "billing": {k: v for k, v in details.items() if v}}
    await session.flush()
    return dict(org.settings["billing"])


def render_pdf(
    *,
    number: str,
    issued_at: datetime,
    settings: Settings,
    customer: dict[str, Any],
    description: str,
    currency: str,
    tax: TaxBreakdown,
) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Tax Invoice" if tax.lines else "Invoice", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    rows = [
        f"Invoice number: {number}",
        f"Date: {local_time(issued_at, 'Asia/Kolkata').date().isoformat()}",
        f"Seller: {SELLER_NAME}" + (f" (GSTIN {settings.seller_gstin})" if settings.seller_gstin else ""),
        f"Billed to: {customer.get('legal_name') or customer.get('name') or 'Customer'}",
    ]
    if customer.get("address"):
        rows.append(f"Address: {customer['address']}")
    if customer.get("gstin"):
        rows.append(f"Customer GSTIN: {customer['gstin']}")
    if tax.lines:
        state = customer.get("state_code") or settings.seller_state_code
        rows.append(f"Place of supply (state code): {state}")
    for row in rows:
        pdf.cell(0, 6, row, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(120, 7, "Description", border=1)
    pdf.cell(0, 7, f"Amount ({currency})", border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(120, 7, description[:70] + (" (SAC 998314)" if tax.lines else ""), border=1)
    pdf.cell(0, 7, f"{tax.taxable:.2f}", border=1, new_x="LMARGIN", new_y="NEXT")
    for line in tax.lines:
        pdf.cell(120, 7, f"{line.label} @ {line.rate:.0f}%", border=1)
        pdf.cell(0, 7, f"{line.amount:.2f}", border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(120, 7, "Total", border=1)
    pdf.cell(0, 7, f"{tax.total:.2f}", border=1, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


async def issue_for_payment(
    *, session: AsyncSession, settings: Settings, store: FileStore, payment: Payment, description: str
) -> Invoice:
    """Issue (once) the paid invoice of a succeeded payment, render its PDF and store it."""
    existing = await session.scalar(select(Invoice).where(Invoice.payment_id == payment.id))
    if existing is not None:
        return existing
    assert payment.user_id is not None
    issued_at = payment.paid_at or utcnow()
    number = await next_invoice_number(session=session, issued_at=issued_at)
    customer = await billing_details(session=session, user_id=payment.user_id)
    user = await session.get(User, payment.user_id)
    customer.setdefault("name", user.full_name if user else None)
    tax = gst_breakdown(
        payment.amount,
        payment.currency,
        customer_state=customer.get("state_code"),
        seller_state=settings.seller_state_code,
    )
    pdf = render_pdf(
        number=number,
        issued_at=issued_at,
        settings=settings,
        customer=customer,
        description=description,
        currency=payment.currency,
        tax=tax,
    )
    # Under the payment's random id: invoice numbers run in sequence, so a key made of the number alone
    # would let anyone who can list or guess storage keys walk every customer's invoice.
    url = store.put_bytes(pdf, f"invoices/{payment.id}/{number.replace('/', '-')}.pdf")
    invoice = Invoice(
        user_id=payment.user_id,
        payment_id=payment.id,
        invoice_number=number,
        amount=tax.taxable,
        tax_amount=tax.tax,
        total_amount=tax.total,
        currency=payment.currency,
        billing_address={
            **customer,
            "tax_lines": [{"label": t.label, "rate": str(t.rate), "amount": str(t.amount)} for t in tax.lines],
        },
        gst_number=customer.get("gstin"),
        invoice_url=url,
        status="paid",
        issued_at=issued_at,
        due_at=issued_at,
        paid_at=issued_at,
    )
    session.add(invoice)
    payment.invoice_url = url
    await session.flush()
    return invoice
