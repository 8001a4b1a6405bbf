"""Wording and Block Kit for a client account's figures: `/recast stats` and the App Home lines."""

from __future__ import annotations

from bots.slack.blocks import Block, fit_text
from core.analytics.digest import ClientStats
from core.analytics.stats import WeekStats, change
from core.distribution.platforms.names import label

HOW_FIGURES_ARRIVE = (
    "Posts published through Recast (approve a draft in this channel, then Publish now or Schedule; "
    "`/recast connect` an account first) report their views and engagement an hour after they go out, "
    "then for 30 days."
)
NO_CLIENT_CHANNEL = (
    "This channel isn't linked to a client account. Run `/recast stats <client>` (its name or slug), or "
    "`/recast stats` in the client's channel."
)
ENGAGEMENT = "engagement = likes + comments + shares + saves"


def no_figures(client_name: str) -> str:
    return f"No figures for *{client_name}* yet. {HOW_FIGURES_ARRIVE}"


def totals_line(stats: WeekStats) -> str:
    now, before = stats.this_week.total, stats.last_week.total
    return (
        f"Views {now.views:,} ({change(now.views, before.views)}) · "
        f"Engagement {now.engagement:,} ({change(now.engagement, before.engagement)})"
    )


def platform_lines(stats: WeekStats) -> list[str]:
    lines = []
    for platform in stats.platforms:
        a, b = stats.this_week.by_platform.get(platform), stats.last_week.by_platform.get(platform)
        views, acts = (a.views, a.engagement) if a else (0, 0)
        lines.append(
            f"• {label(platform)}: {views:,} views, {acts:,} engagements ({change(acts, b.engagement if b else 0)})"
        )
    return lines


def stats_blocks(found: ClientStats, *, asked_by: str | None = None) -> tuple[list[Block], str]:
    """The week so far against the same days last week: totals, per platform, top pieces, what counts (and who
    asked, when it is posted for a channel)."""
    stats = found.stats
    heading = f"*{found.client.name}* · this week so far vs the same days last week ({stats.timezone})"
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": fit_text(f"{heading}\n{totals_line(stats)}")}},
        {"type": "section", "text": {"type": "mrkdwn", "text": fit_text("\n".join(platform_lines(stats)))}},
    ]
    if stats.top:
        top = [
            f"{n}. " + (f"<{t.url}|{t.title}>" if t.url else t.title) + f" — {label(t.platform)}, "
            f"{t.engagement:,} engagements"
            for n, t in enumerate(stats.top, 1)
        ]
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": fit_text("*Top this week*\n" + "\n".join(top))}}
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"From {stats.this_week.posts_counted} post(s) with figures this week; {ENGAGEMENT}."
                    + (f" Asked for by <@{asked_by}>." if asked_by else ""),
                }
            ],
        }
    )
    return blocks, fit_text(f"{found.client.name}: {totals_line(stats)} this week so far", 300)


def home_line(found: ClientStats) -> str:
    """One App Home line per client account: this week's views and engagement and their change."""
    stats = found.stats
    if not stats.has_figures:
        return f"*{found.client.name}*: no figures yet"
    now, before = stats.this_week.total, stats.last_week.total
    return (
        f"*{found.client.name}*: {now.views:,} views ({change(now.views, before.views)}) · "
        f"{now.engagement:,} engagements ({change(now.engagement, before.engagement)})"
    )


def home_figures_blocks(figures: list[ClientStats]) -> list[Block]:
    """App Home's figures: a header and one line per client account the person can see."""
    if not figures:
        return []
    lines = "\n".join(home_line(f) for f in figures)
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "This week so far"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": fit_text(lines)}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Against the same days last week, in each client's timezone; {ENGAGEMENT}. "
                    "`/recast stats` in a client's channel shows the chart.",
                }
            ],
        },
    ]
