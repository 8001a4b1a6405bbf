"""The transcript a creator can read and correct, and the drafts rewritten from the corrected text.

Local speech recognition gets a few words in a hundred wrong ("value" heard as "milk") and every draft
repeats them. A creator sends corrections ("milk → value", several per message); each is a
case-insensitive whole-word (or whole-phrase) replacement in the stored transcript and in the timed
words kept for clip captions. Then a `pipeline.rewrite_from_transcript` unit re-runs the analysis on
the corrected text and rewrites every text draft the creator received (same angle, corrected words)
through one `pipeline.rewrite_corrected` unit per draft. Corrections are free: no upload and no AI
credits are counted, since they fix our mistake rather than ask for new work.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ai import nlp
from core.common.errors import RecastError
from core.content.models import ContentAnalysis, ContentAsset
from core.db.session import session_scope
from core.deps import CoreDeps
from core.media.errors import MediaError
from core.notify import outbox
from core.notify.ports import OutgoingMessage
from core.pipeline.chat import chat_of
from core.pipeline.delivery import deliver_draft, tell_about_draft
from core.pipeline.stored_transcript import timed_sentences, transcript_key
from core.repurposing import analysis_rows, drafting, rewriting
from core.repurposing.models import GeneratedContent
from core.work import submit

REWRITE_ALL = "pipeline.rewrite_from_transcript"
REWRITE_ONE = "pipeline.rewrite_corrected"
_ARROW = re.compile(r"\s*(?:→|->|=>|⇒|⟶|—>|–>)\s*")
_SEPARATORS = re.compile(r"[\n;,]+")
MEDIA_TYPES = ("audio", "video")


class StillWorking(RecastError):
    def __init__(self) -> None:
        super().__init__(
            "I'm still writing drafts from this upload. Send your corrections once they have arrived.",
            detail="transcript correction while processing",
        )


@dataclass(frozen=True)
class Correction:
    wrong: str
    right: str


@dataclass
class Parsed:
    corrections: list[Correction] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # pieces that are not "wrong → right"


def parse_corrections(text: str) -> Parsed:
    """`milk → value, Bangalor -> Bangalore` (also `=>`; one per line, or separated by commas or `;`)."""
    parsed = Parsed()
    for raw in _SEPARATORS.split(text):
        piece = raw.strip().strip("“”\"'")
        if not piece:
            continue
        parts = _ARROW.split(piece)
        wrong, right = (parts[0].strip(" “”\"'"), parts[1].strip(" “”\"'")) if len(parts) == 2 else ("", "")
        if not wrong or not right or wrong == right:
            parsed.unreadable.append(piece)
            continue
        parsed.corrections.append(Correction(wrong, right))
    return parsed


def _pattern(corrections: list[Correction]) -> re.Pattern[str]:
    alternatives = []
    for i, c in enumerate(corrections):
        phrase = r"\s+".join(re.escape(w) for w in c.wrong.split())
        alternatives.append(f"(?P<c{i}>{phrase})")
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _cased(found: str, right: str) -> str:
    """Keep the look of the word replaced: "Milk" at a sentence start becomes "Value", "MILK" "VALUE"."""
    if len(found) > 1 and found.isupper() and right.islower():
        return right.upper()
    if found[:1].isupper() and right == right.lower():
        return right[:1].upper() + right[1:]
    return right


def apply_corrections(text: str, corrections: list[Correction]) -> tuple[str, list[int]]:
    """Replace every correction at once (so one never rewrites another's result); the count of each."""
    counts = [0] * len(corrections)
    if not corrections:
        return text, counts

    def swap(match: re.Match[str]) -> str:
        index = int(next(name for name, value in match.groupdict().items() if value is not None)[1:])
        counts[index] += 1
        return _cased(match.group(0), corrections[index].right)

    return _pattern(corrections).sub(swap, text), counts


# ------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class TranscriptView:
    asset_id: uuid.UUID
    title: str
    text: str
    spoken: bool  # transcribed from audio/video (else: the text the creator sent)
    in_progress: bool
    corrected: int  # how many replacements were made so far


def still_unclear(unclear: Sequence[str], typed: Sequence[str], corrected: str) -> list[str]:
    """The unclear words and phrases left after a correction: one stays unclear only while the corrected
    transcript still says it and the creator typed none of it (a typed word or phrase is confirmed)."""
    confirmed = {t for right in typed for t in nlp.tokens(right)}
    retyped = [f" {' '.join(nlp.tokens(right))} " for right in typed]
    said = f" {' '.join(nlp.tokens(corrected))} "
    return [w for w in unclear if w not in confirmed and f" {w} " in said and not any(f" {w} " in r for r in retyped)]


async def latest_transcript(*, session: AsyncSession, user_id: uuid.UUID) -> TranscriptView | None:
    """The transcript of the creator's most recent upload that has one."""
    row = (
        await session.execute(
            select(ContentAsset, ContentAnalysis)
            .join(ContentAnalysis, ContentAnalysis.content_asset_id == ContentAsset.id)
            .where(ContentAsset.user_id == user_id, ContentAnalysis.transcript.is_not(None))
            .order_by(ContentAsset.created_at.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    asset, analysis = row
    meta = asset.metadata_ or {}
    return TranscriptView(
        asset_id=asset.id,
        title=asset.title,
        text=analysis.transcript or "",
        spoken=asset.content_type in MEDIA_TYPES,
        in_progress=asset.upload_status in ("pending", "processing"),
        corrected=sum(int(c.get("count", 0)) for c in meta.get("transcript_corrections", [])),
    )


# ------------------------------------------------------------------------------------- correcting


@dataclass
class CorrectionResult:
    title: str
    found: list[tuple[Correction, int]]  # corrections that matched, with their counts
    missing: list[Correction]  # not in the transcript
    drafts: int  # text drafts to be rewritten
    clips: int  # clips (their burned-in captions are not re-rendered)
    revision: int
    unit_id: uuid.UUID | None  # the rewrite unit to wake after the commit

    @property
    def replacements(self) -> int:
        return sum(n for _, n in self.found)


async def _rewritable(session: AsyncSession, asset_id: uuid.UUID) -> list[GeneratedContent]:
    drafts = await drafting.drafts_for_asset(session=session, asset_id=asset_id)
    return [d for d in drafts if d.content_type != "short_video" and (d.metadata_ or {}).get("delivered_message_id")]


async def correct_transcript(
    *, session: AsyncSession, user_id: uuid.UUID, asset_id: uuid.UUID, corrections: list[Correction]
) -> CorrectionResult:
    """Apply the corrections to the stored transcript in the caller's transaction and record the unit that
    rewrites the drafts from it (woken after the commit). Nothing found: nothing changes."""
    asset = await session.scalar(
        select(ContentAsset).where(ContentAsset.id == asset_id, ContentAsset.user_id == user_id).with_for_update()
    )
    if asset is None:
        raise RecastError("I can't find that upload any more. Send /transcript again.", detail=str(asset_id))
    if asset.upload_status in ("pending", "processing"):
        raise StillWorking()
    analysis = await session.scalar(
        select(ContentAnalysis).where(ContentAnalysis.content_asset_id == asset.id).limit(1).with_for_update()
    )
    if analysis is None or not analysis.transcript:
        raise RecastError("This upload has no transcript to correct.", detail=str(asset_id))
    text, counts = apply_corrections(analysis.transcript, corrections)
    found = [(c, n) for c, n in zip(corrections, counts, strict=True) if n]
    missing = [c for c, n in zip(corrections, counts, strict=True) if not n]
    meta = dict(asset.metadata_ or {})
    revision = int(meta.get("transcript_revision", 0))
    if not found:
        return CorrectionResult(asset.title, [], missing, 0, 0, revision, None)
    revision += 1
    applied = [{"wrong": c.wrong, "right": c.right, "count": n, "revision": revision} for c, n in found]
    meta.setdefault("transcript_original", analysis.transcript)
    analysis.transcript = text
    meta.update(
        transcript_revision=revision,
        transcript_corrections=[*meta.get("transcript_corrections", []), *applied],
        unclear_words=still_unclear(meta.get("unclear_words", []), [c.right for c, _ in found], text),
    )
    asset.metadata_ = meta
    drafts = await _rewritable(session, asset.id)
    clips = [
        d
        for d in await drafting.drafts_for_asset(session=session, asset_id=asset.id)
        if d.content_type == "short_video"
    ]
    unit_id, _ = await submit.add(
        session, REWRITE_ALL, {"asset_id": str(asset.id), "revision": revision, "requested_by": str(user_id)}
    )
    await session.flush()
    return CorrectionResult(asset.title, found, missing, len(drafts), len(clips), revision, unit_id)


def _correct_segments(deps: CoreDeps, asset_id: uuid.UUID, revision: int, applied: list[dict[str, Any]]) -> None:
    """The timed words clip captions are made from, corrected once per revision (a re-run is a no-op):
    every revision after the one the file has, in order (a superseded revision's unit did nothing)."""
    key = transcript_key(asset_id)
    try:
        data: dict[str, Any] = json.loads(deps.store.local_path(deps.store.url_for(key)).read_text())
    except (OSError, ValueError):
        return  # a text upload: no timed words
    done = int(data.get("revision", 0))
    if done >= revision:
        return
    for rev in range(done + 1, revision + 1):
        corrections = [Correction(c["wrong"], c["right"]) for c in applied if int(c["revision"]) == rev]
        for segment in data.get("segments", []):
            segment["text"] = apply_corrections(str(segment.get("text", "")), corrections)[0]
            for word in segment.get("words", []):
                raw = str(word.get("text", ""))  # a `Word` as stored: text, start, end, probability
                core = raw.strip()
                fixed = apply_corrections(core, corrections)[0]
                if fixed != core:
                    word["text"] = raw.replace(core, fixed)
    data["revision"] = revision
    deps.store.put_bytes(json.dumps(data).encode(), key)


async def rewrite_from_transcript(deps: CoreDeps, asset_id: uuid.UUID, revision: int, requested_by: uuid.UUID) -> int:
    """The `pipeline.rewrite_from_transcript` unit: corrected timed words, a fresh analysis of the corrected
    text, then one rewrite unit per text draft the creator received (keyed by draft and revision)."""
    async with deps.sessionmaker() as session:
        asset = await session.get_one(ContentAsset, asset_id)
        meta = asset.metadata_ or {}
        analysis = await session.scalar(select(ContentAnalysis).where(ContentAnalysis.content_asset_id == asset_id))
    if int(meta.get("transcript_revision", 0)) != revision or analysis is None:
        return 0  # a later correction superseded this one; its own unit rewrites the drafts
    _correct_segments(deps, asset_id, revision, list(meta.get("transcript_corrections", [])))
    result = await deps.require_ai().analyser.analyse(
        analysis.transcript or "", timed_sentences(deps, asset), heard_language=analysis.transcript_language
    )
    async with session_scope(deps.sessionmaker) as session:
        row = await session.get_one(ContentAnalysis, analysis.id)
        analysis_rows.store_analysis(row, result)
        ids = []
        for draft in await _rewritable(session, asset_id):
            payload = {"draft_id": str(draft.id), "revision": revision, "requested_by": str(requested_by)}
            unit_id, created = await submit.add(session, REWRITE_ONE, payload)
            if created:
                ids.append(unit_id)
    await submit.push(deps.work_queue, deps.sessionmaker, ids)
    return len(ids)


async def rewrite_corrected(deps: CoreDeps, draft_id: uuid.UUID, revision: int, requested_by: uuid.UUID) -> None:
    """The `pipeline.rewrite_corrected` unit: the draft rewritten from the corrected transcript (its angle
    kept, no credits counted) and sent as a new message."""
    ai = deps.require_ai()
    try:
        async with session_scope(deps.sessionmaker) as session:
            row = await session.get(GeneratedContent, draft_id)
            if row is None:
                return
            if int((row.metadata_ or {}).get("transcript_revision", 0)) >= revision:
                await deliver_draft(deps, draft_id, force=True)  # rewritten by an earlier run: sent once
                return
            await rewriting.rewrite_draft(
                session=session,
                writer=ai.writer,
                index=deps.brand_index,
                draft_id=draft_id,
                requested_by=requested_by,
                feedback=None,
                keep_angle=True,
                charge=False,
                extra_metadata={"transcript_revision": revision},
            )
    except (RecastError, MediaError) as exc:
        await tell_about_draft(deps, draft_id, exc.user_message)
        return
    await deliver_draft(deps, draft_id, force=True)


async def tell_rewrite_failed(deps: CoreDeps, asset_id: uuid.UUID) -> None:
    """Give-up hook of the rewrite: the correction is kept, the drafts could not be rewritten from it."""
    async with session_scope(deps.sessionmaker) as session:
        asset = await session.get(ContentAsset, asset_id)
        target = chat_of(asset) if asset is not None else None
        note = OutgoingMessage(
            text="⚠️ Your corrected transcript is saved, but I couldn't rewrite the drafts from it. "
            "Tap Regenerate on a draft to get a version written from the corrected text."
        )
        key = f"transcript-rewrite-failed:{asset_id}"
        told = [await outbox.record(session, target[0], note, key=key)] if target else []
    await outbox.flush(deps, told)
