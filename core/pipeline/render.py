"""How a draft reads in chat: platform-neutral text plus action buttons (rendered by each adapter)."""

from __future__ import annotations

import uuid

from core.notify.ports import Button, DraftAction, DraftActionKind, OutgoingMessage
from core.repurposing.formats import FORMATS
from core.repurposing.models import GeneratedContent
from core.repurposing.why import CLIP, explained_score
from core.storage.files import FileStore

__all__ = ["CLIP", "draft_buttons", "draft_message", "full_text", "why_label"]


def why_label(score: int) -> str:
    return f"❓ Why {score}?"


def draft_buttons(
    draft_id: uuid.UUID, content_type: str | None = None, why_score: int | None = None
) -> list[list[Button]]:
    """Only buttons that work for this kind of draft: a clip is re-cut from feedback (Revise), never
    regenerated, and what it offers to copy is its caption. "❓ Why N?" only when the draft's score has stored
    checks to explain it (`why_score`)."""
    why = [Button(why_label(why_score), DraftAction(DraftActionKind.WHY, draft_id))] if why_score is not None else []
    if content_type == CLIP:
        return [
            [
                Button("✅ Approve", DraftAction(DraftActionKind.APPROVE, draft_id)),
                Button("✏️ Revise", DraftAction(DraftActionKind.REVISE, draft_id)),
            ],
            [Button("📋 Copy caption", DraftAction(DraftActionKind.COPY, draft_id)), *why],
        ]
    rows = [
        [
            Button("✅ Approve", DraftAction(DraftActionKind.APPROVE, draft_id)),
            Button("✏️ Revise", DraftAction(DraftActionKind.REVISE, draft_id)),
        ],
        [
            Button("🔄 Regenerate", DraftAction(DraftActionKind.REGENERATE, draft_id)),
            Button("📋 Copy text", DraftAction(DraftActionKind.COPY, draft_id)),
        ],
    ]
    if why:
        rows.append(why)
    return rows


def full_text(draft: GeneratedContent) -> str:
    """The text a creator would paste into the platform: body, CTA (if not already in it), hashtags."""
    body = (draft.content_text or draft.caption or "").strip()
    parts = [body]
    if draft.cta and draft.cta not in body:
        parts.append(draft.cta)
    tags = " ".join(f"#{t.lstrip('#')}" for t in (draft.hashtags or []))
    if tags and tags not in body:
        parts.append(tags)
    return "\n\n".join(p for p in parts if p)


def draft_message(draft: GeneratedContent, store: FileStore | None = None) -> OutgoingMessage:
    meta = draft.metadata_ or {}
    fmt = FORMATS.get(str(meta.get("output_format", "")))
    label = fmt.label if fmt else (draft.content_type or "Draft").replace("_", " ").title()
    # Versions replaced so far (the count, not the variant number; only the last ten are kept in full).
    version = max(len(meta.get("versions", [])), len(meta.get("seen_sketches", [])) - 1)
    header = f"📝 {label}" + (f" · version {version + 1}" if version else "")
    if meta.get("transcript_revision"):
        header += " · from the corrected transcript"
    score = explained_score(draft)  # a score is shown only with the checks that explain it
    if score is not None:
        header += f" · quality {score}/100"
    if draft.title and meta.get("output_format") in ("youtube_shorts", "blog_article"):
        header += f"\n{draft.title}"
    text = full_text(draft)
    message = OutgoingMessage(text="", buttons=draft_buttons(draft.id, draft.content_type, score))
    if draft.file_url and store is not None and draft.content_type == "short_video":
        message.video = store.local_path(draft.file_url)
        message.thumbnail = store.local_path(draft.thumbnail_url) if draft.thumbnail_url else None
        message.text = f"{header}\n\n{draft.caption or draft.title or ''}".strip()
        return message
    # The whole text, however long: each adapter fits it to its platform (several messages, a file).
    message.text = f"{header}\n\n{text}"
    message.filename = f"{meta.get('output_format') or 'draft'}.md"
    return message
