"""/stats <source> and /report over the fake Telegram, from rows with known figures (tests/analytics_rows.py)
placed in the creator's last full month: /stats picks an upload by its /history position or by title words,
lists every draft with its platform, publication, link and latest figures, totals them and sends a real
per-piece chart; no match says how to pick. /report sends last month's PDF as a document that parses as a
PDF with the month's figures and top pieces; a month not over yet or mistyped is refused with the reason."""

from __future__ import annotations

import io

from chat import reply_to, seed_and_onboard
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select
from test_bot_flow import running_bot

from core.accounts.models import ChatIdentity, User
from core.analytics import report
from core.common.clock import utcnow
from tests.report_rows import A_TITLE, A_URL, B_TITLE, B_URL, C_TITLE, D_TITLE, TZ, add_rows

CREATOR = 5650041


async def test_stats_for_one_source_and_the_monthly_report_as_a_pdf(live_deps, redis_url, run_id) -> None:
    core_deps = live_deps  # handlers and the worker each need their own connection
    month = report.last_full_month(utcnow(), TZ)
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await seed_and_onboard(core_deps, tg, CREATOR)
        nothing = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "report"), "Nothing to")
        assert f"Nothing to report for {month.name}" in nothing.content
        async with core_deps.sessionmaker() as session:
            identity = await session.scalar(select(ChatIdentity).filter_by(provider="telegram", chat_id=str(CREATOR)))
            assert identity is not None and identity.user_id is not None
            user = await session.get_one(User, identity.user_id)
            user.timezone = TZ
            user.full_name = "Meera Baker"
            await add_rows(session, month, user=user)
            await session.commit()

        answer = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "stats", "sourdough"), "“Sour")
        assert answer.media_kind == "photo"
        assert answer.content.splitlines() == [
            "“Sourdough at scale”: 4 draft(s), 3 piece(s) published",
            f"1. {A_TITLE} — LinkedIn post, published: 700 views, 62 engagements {A_URL}",
            f"2. {B_TITLE} — X thread, published: 900 views, 64 engagements {B_URL}",
            f"3. {C_TITLE} — Blog article, not published",
            f"4. {D_TITLE} — social post, LinkedIn, published: 50 views, 5 engagements",
            "Total: 1,650 views, 131 engagements from 3 piece(s) with figures (latest counts; engagement = "
            "likes + comments + shares + saves).",
        ]
        png = tg._files[answer.media[0]["file_id"]].content
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.size == (1080, 1080)

        history = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "history"), "recent uploads")
        assert [line.split(" · ")[1] for line in history.content.splitlines()[1:3]] == [
            "Bread basics",
            "Sourdough at scale",
        ]
        assert history.content.splitlines()[1].startswith("1. ") and history.content.splitlines()[2].startswith("2. ")
        by_place = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "stats", "2"), "“Sour")
        assert by_place.content == answer.content  # /history: 1 is "Bread basics", 2 is the sourdough talk
        empty = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "stats", "1"), "“Bread")
        assert empty.content == "“Bread basics”: 0 draft(s), 0 piece(s) published" and empty.media_kind is None
        missing = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "stats", "pizza"), "found no")
        assert "/history" in missing.content and "/stats sourdough" in missing.content

        sent = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "report"), "report.")
        assert sent.media_kind == "document"
        assert sent.media["file_name"] == f"recast-report-meera-baker-{month.key}.pdf"
        assert sent.content.startswith(f"Meera Baker: {month.name} report. Views 1,100 (+1000%)")
        pdf = PdfReader(io.BytesIO(tg._files[sent.media["file_id"]].content))
        text = "\n".join(page.extract_text() for page in pdf.pages)
        assert len(pdf.pages) == 2 and len(pdf.pages[1].images) == 1
        assert "Views 1,100 100 +1000%" in text and A_TITLE in text and B_TITLE in text
        assert "ROI: not calculated yet." in text

        named = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "report", month.key), "report.")
        assert named.media_kind == "document" and named.content == sent.content
        now_month = report.this_month(utcnow(), TZ)
        early = await reply_to(
            tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "report", now_month.key), "isn't over yet"
        )
        assert month.name in early.content
        wrong = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "report", "2026-13"), "a month")
        assert "/report 2026-11" in wrong.content


def test_a_source_with_many_pieces_is_listed_within_one_message() -> None:
    import uuid

    from bots.telegram.routers.stats import MAX_PIECES_LISTED, render_source
    from core.analytics.sources import SourcePiece, SourceStats

    found = SourceStats(uuid.uuid4(), "A very long workshop", 40)
    found.pieces = [
        SourcePiece(uuid.uuid4(), "x" * 60, "LinkedIn post", "linkedin", True, "https://example.com/" + "p" * 80, 10, 1)
        for _ in range(40)
    ]
    text = render_source(found)
    assert len(text) <= 4096
    assert f"…and {40 - MAX_PIECES_LISTED} more piece(s) not listed here (the total counts them)." in text
    assert "Total: 400 views, 40 engagements from 40 piece(s)" in text
