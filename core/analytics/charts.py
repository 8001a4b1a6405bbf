"""Charts for chat, rendered server-side (matplotlib's Agg backend: no display, no downloads) as PNGs sized
for a phone: 1080 px wide, large type, one message per chart."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: a server has no display

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from core.analytics.stats import WeekStats  # noqa: E402
from core.distribution.platforms.names import label  # noqa: E402

SIZE_IN, DPI = 7.2, 150  # 1080 x 1080 px
THIS_WEEK, LAST_WEEK = "#2563eb", "#cbd5e1"


def week_chart(stats: WeekStats, path: Path, *, legend: tuple[str, str] = ("This week", "Last week")) -> Path:
    """Views and engagement per platform, this week beside last week (same span of days); `legend` names the
    two periods (the weekly digest's are last week and the week before)."""
    platforms = stats.platforms
    names = [label(p) for p in platforms]
    fig, axes = plt.subplots(2, 1, figsize=(SIZE_IN, SIZE_IN), dpi=DPI)
    try:
        for ax, metric, title in ((axes[0], "views", "Views"), (axes[1], "engagement", "Engagement")):
            now = [getattr(stats.this_week.by_platform.get(p), metric, 0) for p in platforms]
            before = [getattr(stats.last_week.by_platform.get(p), metric, 0) for p in platforms]
            xs = range(len(platforms))
            ax.bar([x - 0.2 for x in xs], before, width=0.4, color=LAST_WEEK, label=legend[1])
            bars = ax.bar([x + 0.2 for x in xs], now, width=0.4, color=THIS_WEEK, label=legend[0])
            ax.bar_label(bars, labels=[f"{v:,}" for v in now], fontsize=12, padding=3)
            ax.set_xticks(list(xs), names, fontsize=14)
            ax.set_title(title, fontsize=18, loc="left")
            ax.tick_params(axis="y", labelsize=11)
            ax.spines[["top", "right"]].set_visible(False)
            ax.margins(y=0.2)
        # Above the plot, beside the title: inside it, the legend covers the tallest bar.
        axes[0].legend(fontsize=12, frameon=False, loc="lower right", bbox_to_anchor=(1, 1), ncols=2)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path


PIECE = "#2563eb"


def pieces_chart(labels: list[str], engagement: list[int], path: Path, *, title: str = "Engagement per piece") -> Path:
    """One horizontal bar per piece, the first at the top, labelled with its engagement. A label may have a
    second line (the platform); the first is shortened to fit."""
    n = max(len(labels), 1)
    fig, ax = plt.subplots(figsize=(SIZE_IN, SIZE_IN), dpi=DPI)
    try:
        ys = list(range(len(labels)))[::-1]  # first piece at the top
        bars = ax.barh(ys, engagement, color=PIECE, height=0.6)
        ax.bar_label(bars, labels=[f"{v:,}" for v in engagement], fontsize=12, padding=4)
        ax.set_yticks(ys, [_short(t) for t in labels], fontsize=12 if n <= 8 else 9)
        ax.set_title(title, fontsize=18, loc="left")
        ax.tick_params(axis="x", labelsize=11)
        ax.spines[["top", "right"]].set_visible(False)
        ax.margins(x=0.2)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path


def _short(text: str, limit: int = 26) -> str:
    first, _, rest = text.partition("\n")
    first = first if len(first) <= limit else first[: limit - 1].rstrip() + "…"
    return f"{first}\n{rest}" if rest else first


def month_chart(
    platforms: list[str],
    this_month: dict[str, tuple[int, int]],
    last_month: dict[str, tuple[int, int]],
    path: Path,
    *,
    labels: tuple[str, str] = ("This month", "Month before"),
) -> Path:
    """Views and engagement per platform, the report's month beside the month before.
    `this_month`/`last_month`: platform → (views, engagement)."""
    names = [label(p) for p in platforms]
    fig, axes = plt.subplots(2, 1, figsize=(SIZE_IN, SIZE_IN), dpi=DPI)
    try:
        for ax, i, title in ((axes[0], 0, "Views"), (axes[1], 1, "Engagement")):
            now = [this_month.get(p, (0, 0))[i] for p in platforms]
            before = [last_month.get(p, (0, 0))[i] for p in platforms]
            xs = range(len(platforms))
            ax.bar([x - 0.2 for x in xs], before, width=0.4, color=LAST_WEEK, label=labels[1])
            bars = ax.bar([x + 0.2 for x in xs], now, width=0.4, color=THIS_WEEK, label=labels[0])
            ax.bar_label(bars, labels=[f"{v:,}" for v in now], fontsize=12, padding=3)
            ax.set_xticks(list(xs), names, fontsize=14)
            ax.set_title(title, fontsize=18, loc="left")
            ax.tick_params(axis="y", labelsize=11)
            ax.spines[["top", "right"]].set_visible(False)
            ax.margins(y=0.2)
        axes[0].legend(fontsize=12, frameon=False, loc="upper right")
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path


COST, VALUE = "#94a3b8", "#16a34a"
MAX_ROI_PIECES = 12  # more bars than this are unreadable on a phone; the text lists the totals


def roi_chart(
    *,
    symbol: str,
    cost: float,
    value: float,
    labels: list[str],
    engagement: list[int],
    path: Path,
    roi: float | None = None,
    title: str = "Cost vs value",
) -> Path:
    """`/roi` as a picture: the original's cost C beside the value V of the reach (same currency; the ROI is
    their ratio), and below it the engagement each counted piece won (together E), in the order given."""
    labels, engagement = labels[:MAX_ROI_PIECES], engagement[:MAX_ROI_PIECES]
    n = max(len(labels), 1)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(SIZE_IN, SIZE_IN), dpi=DPI, gridspec_kw={"height_ratios": [1, max(1.6, min(n, 8) * 0.45)]}
    )
    try:
        bars = top.barh([1, 0], [cost, value], color=[COST, VALUE], height=0.6)
        money = [f"{symbol}{v:,.0f}" if v == int(v) else f"{symbol}{v:,.2f}" for v in (cost, value)]
        top.bar_label(bars, labels=money, fontsize=13, padding=4)
        top.set_yticks([1, 0], ["Cost of the original", "Value of the reach"], fontsize=13)
        top.set_title(f"{title} · ROI {roi:,.2f}×" if roi is not None else title, fontsize=18, loc="left")
        top.tick_params(axis="x", labelsize=11)
        top.spines[["top", "right"]].set_visible(False)
        top.margins(x=0.25)

        ys = list(range(len(labels)))[::-1]  # first piece at the top
        pieces = bottom.barh(ys, engagement, color=PIECE, height=0.6)
        bottom.bar_label(pieces, labels=[f"{v:,}" for v in engagement], fontsize=12, padding=4)
        bottom.set_yticks(ys, [_short(t, 22) for t in labels], fontsize=12 if n <= 6 else 10)
        bottom.set_title("Engagement per piece", fontsize=18, loc="left")
        bottom.tick_params(axis="x", labelsize=11)
        bottom.spines[["top", "right"]].set_visible(False)
        bottom.margins(x=0.2)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path
