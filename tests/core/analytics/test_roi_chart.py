"""Issue 14, the `/roi` chart: its figures come from the `roi_calculations` row (cost C, value V, each counted
piece's engagement adding up to E), and it is a real 1080 px PNG whose bars have the lengths of those figures;
with nothing measured there is no chart."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from PIL import Image

from core.accounts import service as accounts
from core.analytics import charts, roi
from core.config import Settings
from tests.analytics_rows import Piece, upload_with_drafts

SETTINGS = Settings(_env_file=None)
COST_BAR, VALUE_BAR, PIECE_BAR = (0x94, 0xA3, 0xB8), (0x16, 0xA3, 0x4A), (0x25, 0x63, 0xEB)


async def _user(session, external: str):  # type: ignore[no-untyped-def]
    reg = await accounts.register_chat_user(
        session=session, provider="telegram", external_user_id=external, chat_id=external, full_name="Asha Rao"
    )
    return reg.user


def _bar_widths(image: Image.Image, colour: tuple[int, int, int]) -> list[int]:
    """The widths of the horizontal bars of one colour, top to bottom (one entry per bar)."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    px = rgb.load()
    assert px is not None
    widths: list[int] = []
    inside = False
    for y in range(height):
        run = sum(1 for x in range(width) if px[x, y] == colour)
        if run > 3 and not inside:
            widths.append(run)
        elif run > 3:
            widths[-1] = max(widths[-1], run)
        inside = run > 3
    return widths


async def test_the_roi_chart_data_is_the_rows_cost_value_and_each_pieces_engagement(session) -> None:
    user = await _user(session, "6419001")
    asset, _ = await upload_with_drafts(
        session,
        user.id,
        [
            Piece(published=True, views=5000, likes=200, comments=30, shares=20, collected_saves=[8]),
            Piece(
                published=True, views=4400, likes=100, comments=15, shares=5, collected_saves=[2], platform="twitter"
            ),
            Piece(published=True, views=700, likes=70),  # never collected: not a piece of E
        ],
    )
    row = await roi.calculate_roi(session=session, settings=SETTINGS, asset_id=asset.id)
    data = roi.chart_data(row)
    assert data is not None
    # By hand: C = 3 h x 1500 = 4500; V = 9.4 x 150 = 1410; E = 258 + 122 = 380, best piece first.
    assert (data.currency, data.cost, data.value, data.roi) == (
        "INR",
        Decimal("4500.00"),
        Decimal("1410.00"),
        Decimal("0.31"),
    )
    assert data.engagement == [258, 122] and sum(data.engagement) == row.total_engagement
    assert data.labels == ["Consistency beats talent · piece 1\nLinkedIn", "Consistency beats talent · piece 2\nX"]
    assert (
        roi.chart_caption(data) == "Cost ₹4,500 vs value ₹1,410; 380 engagements from 2 pieces with collected figures."
    )


async def test_an_upload_with_nothing_measured_has_no_roi_chart(session) -> None:
    user = await _user(session, "6419002")
    asset, _ = await upload_with_drafts(session, user.id, [Piece(published=True, views=700, likes=70), Piece()])
    row = await roi.calculate_roi(session=session, settings=SETTINGS, asset_id=asset.id)
    assert roi.chart_data(row) is None
    found = await roi.reply(session=session, settings=SETTINGS, user_id=user.id, text="")
    assert found.chart is None and "no figures have been collected" in found.text
    assert (await roi.reply(session=session, settings=SETTINGS, user_id=user.id, text="how")).chart is None


def test_the_roi_chart_is_a_1080px_png_whose_bars_have_the_figures_lengths(tmp_path: Path) -> None:
    path = charts.roi_chart(
        symbol="₹",
        cost=4500,
        value=1410,
        roi=0.31,
        labels=["Hydration\nLinkedIn", "Starters\nX", "Schedule\nLinkedIn"],
        engagement=[300, 150, 75],
        path=tmp_path / "roi.png",
    )
    image = Image.open(path)
    assert image.format == "PNG" and image.size == (1080, 1080)
    (cost,) = _bar_widths(image, COST_BAR)
    (value,) = _bar_widths(image, VALUE_BAR)
    assert abs(value / cost - 1410 / 4500) < 0.01  # one axis: the bars' lengths are in the figures' ratio
    pieces = _bar_widths(image, PIECE_BAR)
    assert len(pieces) == 3  # one bar per piece, top to bottom in the order given
    assert abs(pieces[1] / pieces[0] - 0.5) < 0.01 and abs(pieces[2] / pieces[0] - 0.25) < 0.01
