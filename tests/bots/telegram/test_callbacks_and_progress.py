"""Telegram's own wording of core's facts: button callback data and the status message's progress text."""

from __future__ import annotations

import uuid

from bots.telegram.callbacks import CALLBACK_LIMIT, encode, parse_draft_action
from bots.telegram.progress import progress_text, status_line
from core.cache.job_status import JobStatus
from core.notify.ports import DraftAction, DraftActionKind
from core.notify.progress import Progress, ProgressState
from core.pipeline.progress import AssetStatus, progress_of, queued, refused


def test_callback_data_round_trips_fits_telegram_and_rejects_garbage() -> None:
    draft_id = uuid.uuid4()
    for kind in DraftActionKind:
        data = encode(DraftAction(kind, draft_id))
        assert len(data.encode()) <= CALLBACK_LIMIT
        assert parse_draft_action(data) == DraftAction(kind, draft_id)
    assert encode(DraftAction(DraftActionKind.REGENERATE, draft_id)) == f"d:g:{draft_id.hex}"  # as in old chats
    assert parse_draft_action("d:x:" + draft_id.hex) is None
    assert parse_draft_action("d:a:not-hex") is None
    assert parse_draft_action("nonsense") is None


def test_progress_reads_as_before() -> None:
    running = progress_of("My talk", JobStatus(status="processing", stage="transcribing", progress=25))
    assert running.current == "Transcribing"
    assert progress_text(running) == "⏳ My talk\n▓▓▓░░░░░░░░░ 25% · Transcribing"
    writing = JobStatus(status="processing", stage="generating", progress=80, detail="2 of 5 drafts ready")
    assert progress_text(progress_of("T", writing)) == "⏳ T\n▓▓▓▓▓▓▓▓▓▓░░ 80% · Writing drafts\n2 of 5 drafts ready"
    done = progress_of("T", JobStatus(status="completed", stage="completed", progress=100, detail="5 drafts received"))
    assert progress_text(done) == "⏳ T\n▓▓▓▓▓▓▓▓▓▓▓▓ 100% · Done\n5 drafts received"
    failed = progress_of("T", JobStatus(status="failed", stage="failed", progress=0, detail="No speech."))
    assert progress_text(failed) == "⏳ T\n░░░░░░░░░░░░ 0% · Failed\nNo speech."
    assert progress_text(queued("T")) == "⏳ T\n░░░░░░░░░░░░ 0% · Queued"
    assert progress_text(refused("That link has expired.")) == "⚠️ That link has expired."
    assert progress_text(Progress("T", ProgressState.CANCELLED)) == "✖️ T\nCancelled."


def test_status_lines() -> None:
    live = progress_of("Talk", JobStatus(status="processing", stage="analysing", progress=55, detail="x"))
    assert status_line(AssetStatus("Talk", "processing", None, live)) == "• Talk — ▓▓▓▓▓▓▓░░░░░ 55% · Analysing"
    assert status_line(AssetStatus("Talk", "failed", "No speech.", None)) == "• Talk — ⚠️ failed: No speech."
    assert status_line(AssetStatus("Talk", "completed", None, None)) == "• Talk — ✅ done"
    assert status_line(AssetStatus("Talk", "processing", None, None)) == "• Talk — ⏳"
