"""`/export`: everything Recast holds about a creator, as a zip of JSON files, transcripts and invoice PDFs.

Secrets are never exported: login sessions, e-mail and password tokens are left out entirely, and
platform connections go out without their (encrypted) tokens (`footprint.SECRET_COLUMNS`).
Media files themselves are not in the zip (the creator sent them to us); their metadata is.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import false, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.footprint import SECRET_COLUMNS, Footprint, footprint
from core.accounts.models import ChatIdentity, ClientAccount, Organization, TeamMember, User
from core.analytics.models import (
    AnalyticsSnapshot,
    AnalyticsSnapshotArchive,
    EngagementMetric,
    ROICalculation,
    SEOMetric,
)
from core.billing.models import Invoice, Payment, Subscription, UsageTracking
from core.brand.models import AudienceProfile, BrandProfile, BrandVoiceEmbedding
from core.common.clock import utcnow
from core.common.errors import RecastError
from core.content.models import ContentAnalysis, ContentAsset
from core.db.base import Base
from core.distribution.models import (
    CalendarEntry,
    ContentCalendar,
    PlatformConnection,
    PublishAttempt,
    ScheduledPost,
)
from core.repurposing.models import (
    BrandTemplate,
    CallToAction,
    GeneratedContent,
    Hashtag,
    RepurposingJob,
    RepurposingStrategy,
    Template,
)
from core.storage.files import FileStore, off_loop
from core.system.models import AuditLog, Notification
from core.workflow.models import ApprovalRequest, QARequest, Revision

# Telegram refuses documents above 50 MB from a bot (Bot API sendDocument).
TELEGRAM_UPLOAD_LIMIT = 50 * 1024 * 1024

README = """Your Recast data export
=======================

Made {made} (UTC) for account {user_id}. Every file is UTF-8 JSON unless it says otherwise;
times are UTC (ISO 8601), amounts are decimal strings, ids are UUIDs that link the files together.
{part_note}
profile.json        your account (name, email, phone, timezone, language, status), your chat logins
                    (Telegram/Slack ids and conversation state), the workspaces you own (with the billing
                    details printed on invoices), your team memberships, client accounts, in-app notifications.
brand.json          brand profiles, brand-voice samples (the vectors themselves live in our vector index and
                    are numbers derived from these texts), audiences, brand templates, your templates, your
                    hashtag and call-to-action libraries.
assets.json         every upload's metadata (title, type, size, source, status), its analysis (topics,
                    scores, moments), strategies, repurposing jobs and ROI figures. The media files are not
                    included: you sent them to us.
transcripts/<asset id>.txt   the transcript of each upload that has one.
drafts.json         every generated draft with its approvals, revisions, QA reviews, scheduled posts and
                    publishing attempts, engagement and SEO metrics, content calendars and their entries,
                    and analytics snapshots.
invoices.json       your invoices; invoices/<number>.pdf are the PDFs we issued, where stored.
subscriptions.json  your plans (trial, paid, cancelled).
payments.json       your payments as the payment gateway reported them.
usage.json          monthly usage counters (uploads, AI credits, storage).
connections.json    connected social accounts (platform, account name, scopes, status) - WITHOUT the access
                    and refresh tokens, which are secrets and never leave our servers.
activity.json       the audit trail of your account (what happened, when).

Not included on purpose: login sessions and e-mail/password-reset tokens (secrets), and your password hash.
"""


class ExportTooLarge(RecastError):
    user_message = (
        "Your export is too large to send in this chat, even split into parts. Nothing was sent. "
        "Please write to support and we'll send it another way."
    )


def _value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return None
    return value


def row(obj: Base, *, exclude: Sequence[str] = ()) -> dict[str, Any]:
    """A row as JSON-ready data, by column name, secrets left out."""
    out: dict[str, Any] = {}
    for attr in inspect(obj).mapper.column_attrs:
        name = attr.columns[0].name
        if name in SECRET_COLUMNS or name in exclude:
            continue
        out[name] = _value(getattr(obj, attr.key))
    return out


def _dump(data: Any) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()


@dataclass
class UserExport:
    """The export's files (name → bytes); `parts` packs them into zips a chat can carry."""

    user_id: uuid.UUID
    files: dict[str, bytes] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def _readme(self, part_note: str) -> bytes:
        made = utcnow().strftime("%Y-%m-%d %H:%M")
        return README.format(made=made, user_id=self.user_id, part_note=part_note).encode()

    def _zip(self, names: Sequence[str], part_note: str = "") -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("README.txt", self._readme(part_note))
            for name in names:
                zf.writestr(name, self.files[name])
        return buf.getvalue()

    def zip_bytes(self) -> bytes:
        return self._zip(list(self.files))

    def parts(self, limit: int = TELEGRAM_UPLOAD_LIMIT) -> list[bytes]:
        """One zip if it fits under `limit`, else several (each with the README), or `ExportTooLarge`."""
        whole = self.zip_bytes()
        if len(whole) <= limit:
            return [whole]
        budget = int(limit * 0.9)  # room for the README and zip headers
        groups: list[list[str]] = [[]]
        used = 0
        for name in self.files:
            size = len(zlib.compress(self.files[name], 6)) + 200
            if size > budget:
                raise ExportTooLarge(detail=f"{name} alone is {size} bytes compressed")
            if used + size > budget and groups[-1]:
                groups.append([])
                used = 0
            groups[-1].append(name)
            used += size
        total = len(groups)
        zips = [
            self._zip(names, f"\nThis is part {n} of {total}; together the parts hold every file below.\n")
            for n, names in enumerate(groups, 1)
        ]
        if any(len(z) > limit for z in zips):
            raise ExportTooLarge(detail="a part came out above the limit")
        return zips


async def _all(session: AsyncSession, model: type[Base], *where: Any) -> list[Any]:
    conditions = [w for w in where if w is not None]
    if not conditions:
        return []
    stmt = select(model).where(or_(*conditions)).execution_options(include_deleted=True)
    return list((await session.scalars(stmt)).all())


def _in(column: Any, ids: Sequence[uuid.UUID]) -> Any:
    return column.in_(ids) if ids else false()


async def _profile(session: AsyncSession, fp: Footprint) -> dict[str, Any]:
    user = await session.get_one(User, fp.user_id, execution_options={"include_deleted": True})
    orgs = fp.organization_ids
    return {
        "user": row(user),
        "chat_identities": [row(r) for r in await _all(session, ChatIdentity, ChatIdentity.user_id == fp.user_id)],
        "organizations_owned": [row(r) for r in await _all(session, Organization, _in(Organization.id, orgs))],
        "team_memberships": [row(r) for r in await _all(session, TeamMember, TeamMember.user_id == fp.user_id)],
        "client_accounts": [
            row(r) for r in await _all(session, ClientAccount, _in(ClientAccount.organization_id, orgs))
        ],
        "notifications": [row(r) for r in await _all(session, Notification, Notification.user_id == fp.user_id)],
    }


async def _brand(session: AsyncSession, fp: Footprint) -> dict[str, Any]:
    brands = fp.brand_ids
    return {
        "brand_profiles": [row(r) for r in await _all(session, BrandProfile, _in(BrandProfile.id, brands))],
        "voice_samples": [
            row(r) for r in await _all(session, BrandVoiceEmbedding, _in(BrandVoiceEmbedding.brand_profile_id, brands))
        ],
        "audiences": [
            row(r) for r in await _all(session, AudienceProfile, _in(AudienceProfile.brand_profile_id, brands))
        ],
        "brand_templates": [
            row(r) for r in await _all(session, BrandTemplate, _in(BrandTemplate.brand_profile_id, brands))
        ],
        "templates": [
            row(r)
            for r in await _all(
                session,
                Template,
                Template.user_id == fp.user_id,
                _in(Template.organization_id, fp.organization_ids),
            )
        ],
        "hashtags": [row(r) for r in await _all(session, Hashtag, Hashtag.user_id == fp.user_id)],
        "calls_to_action": [row(r) for r in await _all(session, CallToAction, CallToAction.user_id == fp.user_id)],
    }


async def _assets(session: AsyncSession, fp: Footprint, files: dict[str, bytes]) -> dict[str, Any]:
    assets = fp.asset_ids
    analyses = await _all(session, ContentAnalysis, _in(ContentAnalysis.content_asset_id, assets))
    for analysis in analyses:
        if analysis.transcript:
            files[f"transcripts/{analysis.content_asset_id}.txt"] = analysis.transcript.encode()
    return {
        "assets": [row(r) for r in await _all(session, ContentAsset, _in(ContentAsset.id, assets))],
        # The transcript text is in transcripts/<asset id>.txt.
        "analyses": [row(r, exclude=("transcript",)) for r in analyses],
        "strategies": [
            row(r) for r in await _all(session, RepurposingStrategy, _in(RepurposingStrategy.content_asset_id, assets))
        ],
        "jobs": [row(r) for r in await _all(session, RepurposingJob, _in(RepurposingJob.id, fp.job_ids))],
        "roi": [
            row(r)
            for r in await _all(
                session,
                ROICalculation,
                ROICalculation.user_id == fp.user_id,
                _in(ROICalculation.content_asset_id, assets),
            )
        ],
    }


async def _drafts(session: AsyncSession, fp: Footprint) -> dict[str, Any]:
    drafts = fp.draft_ids
    orgs = fp.organization_ids
    snapshots: list[Any] = []
    for model in (AnalyticsSnapshot, AnalyticsSnapshotArchive):
        snapshots += await _all(session, model, model.user_id == fp.user_id, _in(model.organization_id, orgs))
    return {
        "drafts": [row(r) for r in await _all(session, GeneratedContent, _in(GeneratedContent.id, drafts))],
        "approvals": [
            row(r) for r in await _all(session, ApprovalRequest, _in(ApprovalRequest.generated_content_id, drafts))
        ],
        "revisions": [row(r) for r in await _all(session, Revision, _in(Revision.generated_content_id, drafts))],
        "qa_reviews": [row(r) for r in await _all(session, QARequest, _in(QARequest.generated_content_id, drafts))],
        "scheduled_posts": [row(r) for r in await _all(session, ScheduledPost, _in(ScheduledPost.id, fp.post_ids))],
        "publish_attempts": [
            row(r) for r in await _all(session, PublishAttempt, _in(PublishAttempt.scheduled_post_id, fp.post_ids))
        ],
        "engagement_metrics": [
            row(r) for r in await _all(session, EngagementMetric, _in(EngagementMetric.generated_content_id, drafts))
        ],
        "seo_metrics": [row(r) for r in await _all(session, SEOMetric, _in(SEOMetric.generated_content_id, drafts))],
        "calendars": [row(r) for r in await _all(session, ContentCalendar, _in(ContentCalendar.id, fp.calendar_ids))],
        "calendar_entries": [
            row(r) for r in await _all(session, CalendarEntry, _in(CalendarEntry.calendar_id, fp.calendar_ids))
        ],
        "analytics_snapshots": [row(r) for r in snapshots],
    }


async def _invoices(session: AsyncSession, store: FileStore, fp: Footprint, files: dict[str, bytes]) -> list[Any]:
    invoices = await _all(session, Invoice, Invoice.user_id == fp.user_id)
    out = []
    for invoice in sorted(invoices, key=lambda i: i.invoice_number):
        data = row(invoice)
        data["pdf"] = None
        if invoice.invoice_url:
            try:
                path = await off_loop(partial(store.local_path, invoice.invoice_url))
                pdf = path.read_bytes()
            except (OSError, ValueError):
                pdf = None
            if pdf is not None:
                name = f"invoices/{invoice.invoice_number.replace('/', '-')}.pdf"
                files[name] = pdf
                data["pdf"] = name
        out.append(data)
    return out


async def build_export(*, session: AsyncSession, store: FileStore, user_id: uuid.UUID) -> UserExport:
    """Collect every file of the creator's export (read-only)."""
    fp = await footprint(session=session, user_id=user_id)
    export = UserExport(user_id=user_id)
    files: dict[str, bytes] = {}
    uid = fp.user_id
    sections: dict[str, Any] = {
        "profile.json": await _profile(session, fp),
        "brand.json": await _brand(session, fp),
        "assets.json": await _assets(session, fp, files),
        "drafts.json": await _drafts(session, fp),
        "invoices.json": await _invoices(session, store, fp, files),
        "subscriptions.json": [row(r) for r in await _all(session, Subscription, Subscription.user_id == uid)],
        "payments.json": [row(r) for r in await _all(session, Payment, Payment.user_id == uid)],
        "usage.json": [row(r) for r in await _all(session, UsageTracking, UsageTracking.user_id == uid)],
        "connections.json": [
            row(r) for r in await _all(session, PlatformConnection, _in(PlatformConnection.id, fp.connection_ids))
        ],
        "activity.json": [row(r) for r in await _all(session, AuditLog, AuditLog.user_id == uid)],
    }
    for name, data in sections.items():
        export.files[name] = _dump(data)
    export.files.update(sorted(files.items()))
    export.counts = {
        "assets": len(fp.asset_ids),
        "transcripts": sum(1 for n in files if n.startswith("transcripts/")),
        "drafts": len(fp.draft_ids),
        "invoices": len(sections["invoices.json"]),
    }
    return export


async def export_user_data(*, session: AsyncSession, store: FileStore, user_id: uuid.UUID) -> bytes:
    """The creator's whole export as one zip."""
    return (await build_export(session=session, store=store, user_id=user_id)).zip_bytes()
