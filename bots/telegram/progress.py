"""How an upload's progress reads in a Telegram status message: `⏳ title` over a text progress bar."""

from __future__ import annotations

from core.notify.progress import Progress, ProgressState
from core.pipeline.progress import AssetStatus

BAR_WIDTH = 12


def progress_bar(progress: Progress) -> str:
    """`▓▓▓▓▓░░░░░░░ 42% · Transcribing` (then the detail on its own line, if any)."""
    filled = round(BAR_WIDTH * max(0, min(100, progress.percent)) / 100)
    label = progress.current or progress.state.value.title()
    bar = "▓" * filled + "░" * (BAR_WIDTH - filled)
    line = f"{bar} {progress.percent}% · {label}"
    return f"{line}\n{progress.detail}" if progress.detail else line


def progress_text(progress: Progress) -> str:
    """The whole status message."""
    if progress.state is ProgressState.REFUSED:
        return f"⚠️ {progress.detail}"
    if progress.state is ProgressState.CANCELLED:
        return f"✖️ {progress.title}\nCancelled."
    return f"⏳ {progress.title}\n{progress_bar(progress)}"


def status_line(status: AssetStatus) -> str:
    """One /status line: the title, then its live progress bar while it runs, else how it ended."""
    if status.live is not None:
        state = progress_bar(status.live).split("\n")[0]
    else:
        state = {
            "completed": "✅ done",
            "failed": f"⚠️ failed: {status.error or ''}",
            "cancelled": "✖️ cancelled",
            "pending": "⏳ queued",
        }.get(status.upload_status, "⏳")
    return f"• {status.title[:60]} — {state}"
