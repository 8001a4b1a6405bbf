"""Rewriting a draft on request: Regenerate (a visibly fresh variant) or Revise with feedback (a numbered
`revisions` row); every version the creator saw is kept."""

from __future__ import annotations

import re
import uuid
import zlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ai.writing.ports import Draft, Writer
from core.analytics import seo
from core.billing import usage as billing_usage
from core.common.clock import utcnow
from core.repurposing.drafting import DraftContext, apply_draft, draft_context, write_draft
from core.repurposing.errors import DraftNotFound, NoNewAngle, NothingToRevise
from core.repurposing.formats import FORMATS
from core.repurposing.models import (
    GeneratedContent,
)
from core.vectors.brand_voice import BrandVoiceIndex
from core.workflow.models import Revision


async def open_revision(
    *,
    session: AsyncSession,
    draft: GeneratedContent,
    feedback: str,
    requested_by: uuid.UUID | None,
    approval_request_id: uuid.UUID | None = None,
) -> Revision:
    """The draft's next numbered `revisions` row, in progress and assigned to its creator."""
    number = await session.scalar(
        select(func.count()).select_from(Revision).where(Revision.generated_content_id == draft.id)
    )
    revision = Revision(
        generated_content_id=draft.id,
        approval_request_id=approval_request_id,
        revision_number=(number or 0) + 1,
        requested_by=requested_by,
        assigned_to=draft.user_id,
        feedback=feedback.strip(),
        status="in_progress",
    )
    session.add(revision)
    await session.flush()
    return revision


TITLE_CHANGE = re.compile(r"\b(?:title|headline|heading)s?\b", re.I)


FRESH_TRIES = 6
"""Variants Regenerate writes per press looking for one unlike every version the creator has seen."""
FRESH_BELOW = 0.55
"""A version is fresh when it shares less than this fraction of its word triples with each earlier one.
Measured on real drafts: another hook and angle shares 35-50%; the same angle with a new opener, closer
or call to action shares 60-80%, which reads as the same post."""
SKETCH_SIZE = 128


def text_sketch(text: str) -> list[int]:
    """A compact fingerprint of a draft's wording: the smallest hashes of its word triples (bottom-k),
    small enough to keep for every version ever shown, not only the last ten kept in full."""
    words = re.findall(r"\w+", text.lower())
    grams = {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))} if words else set()
    return sorted({zlib.crc32(g.encode()) for g in grams})[:SKETCH_SIZE]


def sketch_similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of two texts' word triples from their sketches."""
    if not a or not b:
        return 1.0 if a == b else 0.0
    union = sorted(set(a) | set(b))[:SKETCH_SIZE]
    both = set(a) & set(b)
    return sum(1 for h in union if h in both) / len(union)


def _draft_text(title: str | None, body: str | None) -> str:
    return f"{title or ''}\n{body or ''}"


def _seen_sketches(row: GeneratedContent, meta: dict[str, Any]) -> list[list[int]]:
    seen = [list(s) for s in meta.get("seen_sketches", [])]
    if not seen:  # drafts written before sketches were kept: their stored versions
        seen = [text_sketch(_draft_text(v.get("title"), v.get("content_text"))) for v in meta.get("versions", [])]
    current = text_sketch(_draft_text(row.title, row.content_text))
    return seen if seen and seen[-1] == current else [*seen, current]


async def _fresh_draft(
    *,
    session: AsyncSession,
    writer: Writer,
    index: BrandVoiceIndex | None,
    ctx: DraftContext,
    row: GeneratedContent,
    meta: dict[str, Any],
    output_format: str,
) -> tuple[Draft, int]:
    """Regenerate: the next variant whose text is visibly different from every version seen so far.
    Continues after the variants earlier presses tried; raises `NoNewAngle` (nothing charged) if none is."""
    seen = _seen_sketches(row, meta)
    start = max(int(meta.get("variant", 0)), int(meta.get("variants_tried", 0))) + 1
    for variant in range(start, start + FRESH_TRIES):
        draft = await write_draft(
            session=session,
            writer=writer,
            index=index,
            ctx=ctx,
            output_format=output_format,
            variant=variant,
            feedback=None,
        )
        sketch = text_sketch(_draft_text(draft.title, draft.content_text))
        if all(sketch_similarity(sketch, s) < FRESH_BELOW for s in seen):
            return draft, variant
    raise NoNewAngle(FORMATS[output_format].label, start + FRESH_TRIES - 1)


async def rewrite_draft(
    *,
    session: AsyncSession,
    writer: Writer,
    index: BrandVoiceIndex | None,
    draft_id: uuid.UUID,
    requested_by: uuid.UUID | None,
    feedback: str | None = None,
    approval_request_id: uuid.UUID | None = None,
    keep_angle: bool = False,
    charge: bool = True,
    extra_metadata: dict[str, Any] | None = None,
) -> GeneratedContent:
    """Regenerate a draft (next variant) or revise it with feedback (a `revisions` row).
    The previous version is kept in `metadata.versions` so nothing a creator saw is lost.
    `keep_angle` rewrites the same variant (e.g. from a corrected transcript); `charge=False` counts no
    credits (for rewrites that fix our mistake)."""
    row = await session.scalar(select(GeneratedContent).where(GeneratedContent.id == draft_id).with_for_update())
    if row is None:
        raise DraftNotFound()
    if feedback is not None and not feedback.strip():
        raise NothingToRevise()
    meta = dict(row.metadata_ or {})
    output_format = str(meta.get("output_format") or "")
    if output_format not in FORMATS:
        raise DraftNotFound("This draft can't be rewritten here.")
    ctx = await draft_context(session, row.content_asset_id)
    variant = int(meta.get("variant", 0)) + (0 if keep_angle else 1)
    revision: Revision | None = None
    if feedback is not None:
        revision = await open_revision(
            session=session,
            draft=row,
            feedback=feedback,
            requested_by=requested_by,
            approval_request_id=approval_request_id,
        )
    if feedback is None and not keep_angle:
        draft, variant = await _fresh_draft(
            session=session, writer=writer, index=index, ctx=ctx, row=row, meta=meta, output_format=output_format
        )
    else:
        draft = await write_draft(
            session=session,
            writer=writer,
            index=index,
            ctx=ctx,
            output_format=output_format,
            variant=variant,
            feedback=feedback.strip() if feedback else None,
        )
    if row.user_id and charge:
        await billing_usage.consume(session=session, user_id=row.user_id, credits=FORMATS[output_format].credits)
    versions = list(meta.get("versions", []))
    versions.append(
        {
            "variant": meta.get("variant", 0),
            "title": row.title,
            "content_text": row.content_text,
            "hashtags": row.hashtags,
            "cta": row.cta,
            "replaced_at": utcnow().isoformat(),
        }
    )
    previous_title = row.title
    seen = [*_seen_sketches(row, meta), text_sketch(_draft_text(draft.title, draft.content_text))]
    apply_draft(row, draft, ctx.analysis)
    if feedback is not None and previous_title and not TITLE_CHANGE.search(feedback):
        row.title = previous_title  # a revision keeps its own draft's title unless the feedback is about it
    row.metadata_ = {
        **meta,
        **draft.metadata,
        "output_format": output_format,
        "variant": variant,
        "versions": versions[-10:],
        "last_feedback": feedback,
        "variants_tried": max(variant, int(meta.get("variants_tried", 0))),
        "seen_sketches": seen[-200:],
        **(extra_metadata or {}),
    }
    if revision is not None:
        revision.status, revision.completed_at = "completed", utcnow()
    await session.flush()
    await seo.check_blog_draft(session=session, draft=row)  # the checks follow the text the creator sees
    return row
