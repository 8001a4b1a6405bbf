"""/roi through the bot (aiogram polling the fake Telegram over HTTP): with measured pieces the text answer
is followed by a chart photo of cost vs value and engagement per piece; with nothing measured, text only."""

from __future__ import annotations

import io

from chat import reply_to, seed_and_onboard
from PIL import Image
from sqlalchemy import select
from test_bot_flow import running_bot

from core.accounts.models import ChatIdentity
from tests.analytics_rows import Piece, upload_with_drafts

CREATOR = 6410001
COST_BAR, VALUE_BAR, PIECE_BAR = (0x94, 0xA3, 0xB8), (0x16, 0xA3, 0x4A), (0x25, 0x63, 0xEB)


async def test_roi_answers_with_its_text_and_a_phone_sized_chart_of_cost_value_and_pieces(
    live_deps, redis_url, run_id
) -> None:
    deps = live_deps
    async with running_bot(deps, redis_url, run_id) as tg:
        await seed_and_onboard(deps, tg, CREATOR)
        async with deps.sessionmaker() as s:
            identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(CREATOR)))
            assert identity is not None and identity.user_id is not None
            await upload_with_drafts(s, identity.user_id, [Piece(published=True), Piece()], title="Hiring an editor")
            await s.commit()
        before = len(tg.messages_to(CREATOR))
        waiting = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "roi"), "📈 ROI of")
        assert "no figures have been collected" in waiting.content and waiting.media_kind != "photo"

        async with deps.sessionmaker() as s:
            await upload_with_drafts(
                s,
                identity.user_id,
                [
                    Piece(published=True, views=5000, likes=200, comments=30, shares=20, collected_saves=[8]),
                    Piece(published=True, views=4400, likes=100, comments=15, shares=5, collected_saves=[2]),
                ],
                title="Consistency beats talent",
            )
            await s.commit()
        text = await reply_to(tg, CREATOR, lambda: tg.user_sends_command(CREATOR, "roi"), "📈 ROI of")
        assert "• ROI 0.31× = value ₹1,410 ÷ cost ₹4,500" in text.content
        photo = await tg.wait_for_message(
            CREATOR, contains="Cost ₹4,500 vs value ₹1,410", timeout=15, since_message_id=text.message_id
        )
        assert photo.media_kind == "photo"
        assert photo.content == "Cost ₹4,500 vs value ₹1,410; 380 engagements from 2 pieces with collected figures."
        image = Image.open(io.BytesIO(tg._files[photo.media[0]["file_id"]].content))
        assert image.format == "PNG" and image.size == (1080, 1080)
        colours = {c for _, c in image.convert("RGB").getcolors(maxcolors=1_000_000) or []}
        assert {COST_BAR, VALUE_BAR, PIECE_BAR} <= colours  # cost, value and the pieces' bars are drawn
        # The first upload (nothing measured) got one message; this one two: the text and the chart.
        photos = [m for m in tg.messages_to(CREATOR)[before:] if m.media_kind == "photo"]
        assert len(photos) == 1
