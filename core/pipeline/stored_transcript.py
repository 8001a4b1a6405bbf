"""The transcript file kept at transcription: timed segments and words (none for text sources)."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from typing import Any

from core.ai.transcription import Transcript, Word
from core.content.models import ContentAsset
from core.deps import CoreDeps


def transcript_key(asset_id: uuid.UUID) -> str:
    return f"assets/{asset_id}/transcript.json"


def store_transcript(deps: CoreDeps, asset_id: uuid.UUID, transcript: Transcript) -> str:
    """Keep the timed segments (and their words) of a fresh transcription; return the file's address."""
    data = {
        "language": transcript.language,
        "model": transcript.model,
        "segments": [asdict(s) for s in transcript.segments],
    }
    deps.store.put_bytes(json.dumps(data).encode(), transcript_key(asset_id))
    return deps.store.url_for(transcript_key(asset_id))


def stored_segments(deps: CoreDeps, asset_id: uuid.UUID) -> list[dict[str, Any]]:
    """The timed segments saved at transcription (empty for text sources). Read from the fixed storage
    key rather than the asset row, so a caller holding a row loaded before transcription still finds them."""
    try:
        data = json.loads(deps.store.local_path(deps.store.url_for(transcript_key(asset_id))).read_text())
    except (OSError, ValueError):
        return []
    segments: list[dict[str, Any]] = data.get("segments", [])
    return segments


def timed_sentences(deps: CoreDeps, asset: ContentAsset) -> list[tuple[str, float, float]] | None:
    sentences = [
        (s["text"].strip(), float(s["start"]), float(s["end"]))
        for s in stored_segments(deps, asset.id)
        if s.get("text", "").strip()
    ]
    return sentences or None


def transcript_words(deps: CoreDeps, asset: ContentAsset) -> list[Word]:
    """The word timings stored at transcription (empty for text sources)."""
    return [Word(**w) for s in stored_segments(deps, asset.id) for w in s.get("words", [])]
