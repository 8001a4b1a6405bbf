"""Issue 14, ROI: a `roi_calculations` row per upload from rows only, checked against figures worked out by
hand; nothing published or nothing collected stores NULLs and says so."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from core.accounts import service as accounts
from core.analytics import roi
from core.analytics.models import ROICalculation
from core.billing.models import Payment
from core.config import Settings
from tests.analytics_rows import Piece, upload_with_drafts

SETTINGS = Settings(_env_file=None)  # ROI_DEFAULT_HOURS 3, ROI_HOURLY_RATE_INR 1500 / USD 25, ROI_CPM_INR 150 / USD 6

# Seven drafts: four published, three of those with collected figures.
PIECES = [
    Piece(published=True, views=5000, likes=200, comments=30, shares=20, collected_saves=[5, 8]),  # latest saves 8
    Piece(published=True, views=4400, likes=100, comments=15, shares=5, collected_saves=[2], platform="twitter"),
    Piece(published=True, views=3000, likes=40, comments=5, shares=5, collected_saves=[0]),
    # Published, counters set, but never collected: no engagement_metrics row, so not counted.
    Piece(published=True, views=700, likes=70),
    Piece(),
    Piece(),
    Piece(views=900, collected_saves=[3]),  # not published: not counted even with a row
]


async def _user(session, external: str | None = None):
    external = external or str(uuid.uuid4().int % 10**9)
    reg = await accounts.register_chat_user(
        session=session, provider="telegram", external_user_id=external, chat_id=external, full_name="Asha Rao"
    )
    return reg.user


async def test_roi_of_an_upload_matches_the_hand_computed_figures(session) -> None:
    user = await _user(session)  # country IN, no payment: INR
    asset, drafts = await upload_with_drafts(session, user.id, PIECES)

    row = await roi.calculate_roi(session=session, settings=SETTINGS, asset_id=asset.id)

    # By hand:
    #   H = 3 h (default), C = 3 x 1500 = 4500 INR
    #   R = 5000 + 4400 + 3000 = 12,400 views
    #   E = (200+30+20+8) + (100+15+5+2) + (40+5+5+0) = 258 + 122 + 50 = 430
    #   V = 12,400 / 1000 x 150 = 1860.00
    #   ROI = 1860 / 4500 = 0.4133 -> 0.41;  CPE = 4500 / 430 = 10.465 -> 10.47;  value = 430 / 3 = 143.33
    assert row.currency == "INR"
    assert row.original_content_time_hours == Decimal("3.00")
    assert row.original_content_cost == Decimal("4500.00")
    assert row.repurposed_pieces_count == 7
    assert row.total_reach == 12_400
    assert row.total_engagement == 430
    assert row.roi_multiplier == Decimal("0.41")
    assert row.cost_per_engagement == Decimal("10.47")
    assert row.value_score == Decimal("143.33")
    assert row.basis is not None
    assert row.basis["measured"] == [str(d.id) for d in drafts[:3]]
    assert row.basis["published"] == [str(d.id) for d in drafts[:4]]
    assert (row.basis["likes"], row.basis["comments"], row.basis["shares"], row.basis["saves"]) == (340, 50, 30, 10)
    assert row.basis["value"] == "1860.00"

    shown = roi.describe(row, asset)
    assert "• Time: 3 h (the default; tell me yours: /roi hours 5)" in shown
    assert "• Cost: ₹4,500 = 3 h × ₹1,500/h (default rate" in shown
    assert "• 4 of 7 drafts published; 3 with collected figures (1 not collected yet, not counted)" in shown
    assert "• Reach 12,400 = sum of the views of those 3" in shown
    assert "• Engagement 430 = 340 likes + 50 comments + 30 shares + 10 saves" in shown
    assert "• Value ₹1,860 = 12,400 views × ₹150 per 1,000" in shown
    assert "• ROI 0.41× = value ₹1,860 ÷ cost ₹4,500" in shown
    assert "• Cost per engagement ₹10.47 = ₹4,500 ÷ 430" in shown
    assert "• Value score 143.33 engagements per hour = 430 ÷ 3 h" in shown

    # Asking again updates the upload's one row.
    again = await roi.calculate_roi(session=session, settings=SETTINGS, asset_id=asset.id)
    assert again.id == row.id
    count = await session.scalar(
        select(text("count(*)")).select_from(ROICalculation).where(ROICalculation.content_asset_id == asset.id)
    )
    assert count == 1


async def test_stated_hours_and_cost_in_the_users_currency(session) -> None:
    user = await _user(session)
    session.add(Payment(user_id=user.id, amount=Decimal("19.00"), currency="USD", status="succeeded"))
    asset, _ = await upload_with_drafts(session, user.id, PIECES)
    reply = await roi.answer(session=session, settings=SETTINGS, user_id=user.id, text="hours 4 cost 200")
    assert asset.creator_hours == Decimal("4.00") and asset.creator_cost == Decimal("200.00")
    assert asset.creator_cost_currency == "USD"

    row = await session.scalar(select(ROICalculation).where(ROICalculation.content_asset_id == asset.id))
    assert row is not None
    # By hand: C = 200 USD (stated), H = 4; V = 12,400 / 1000 x 6 = 74.40
    #   ROI = 74.40 / 200 = 0.372 -> 0.37;  CPE = 200 / 430 = 0.465 -> 0.47;  value = 430 / 4 = 107.50
    assert (row.currency, row.original_content_cost, row.original_content_time_hours) == (
        "USD",
        Decimal("200.00"),
        Decimal("4.00"),
    )
    assert row.roi_multiplier == Decimal("0.37")
    assert row.cost_per_engagement == Decimal("0.47")
    assert row.value_score == Decimal("107.50")
    assert reply.startswith("Saved ✅")
    assert "• Time: 4 h (as you told me)" in reply and "• Cost: $200 (as you told me)" in reply
    assert "• Value $74.40 = 12,400 views × $6 per 1,000" in reply


async def test_a_cost_said_in_dollars_is_kept_in_dollars_for_a_creator_in_india(session) -> None:
    user = await _user(session)  # INR by country
    asset, _ = await upload_with_drafts(session, user.id, PIECES[:1])
    reply = await roi.answer(session=session, settings=SETTINGS, user_id=user.id, text="cost $150")
    assert (asset.creator_cost, asset.creator_cost_currency) == (Decimal("150.00"), "USD")
    # C = 150 USD; R = 5000, E = 258; V = 5 x 6 (ROI_CPM_USD) = 30; ROI = 30 / 150 = 0.20; CPE = 150 / 258 = 0.58
    assert "• Cost: $150 (as you told me)" in reply and "• ROI 0.20× = value $30 ÷ cost $150" in reply
    assert "• Cost per engagement $0.58 = $150 ÷ 258" in reply


async def test_default_cost_in_usd_for_a_creator_outside_india(session) -> None:
    user = await _user(session)
    user.country_code = "US"
    asset, _ = await upload_with_drafts(session, user.id, PIECES[:1])
    row = await roi.calculate_roi(session=session, settings=SETTINGS, asset_id=asset.id)
    # C = 3 h x 25 = 75 USD; R = 5000, E = 258; V = 5 x 6 = 30; ROI = 30 / 75 = 0.40; CPE = 75 / 258 = 0.29
    assert (row.currency, row.original_content_cost) == ("USD", Decimal("75.00"))
    assert (row.roi_multiplier, row.cost_per_engagement, row.value_score) == (
        Decimal("0.40"),
        Decimal("0.29"),
        Decimal("86.00"),
    )


async def _null_columns(session, row_id: uuid.UUID) -> list[str]:
    columns = ("total_reach", "total_engagement", "roi_multiplier", "cost_per_engagement", "value_score")
    got = (
        await session.execute(text(f"SELECT {', '.join(columns)} FROM roi_calculations WHERE id = :id"), {"id": row_id})
    ).one()
    return [c for c, v in zip(columns, got, strict=True) if v is None]


async def test_nothing_published_stores_nulls_and_says_so(session) -> None:
    user = await _user(session)
    asset, _ = await upload_with_drafts(session, user.id, [Piece(), Piece(), Piece(views=500, collected_saves=[1])])
    row = await roi.calculate_roi(session=session, settings=SETTINGS, asset_id=asset.id)
    assert row.repurposed_pieces_count == 3 and row.original_content_cost == Decimal("4500.00")
    assert await _null_columns(session, row.id) == [
        "total_reach",
        "total_engagement",
        "roi_multiplier",
        "cost_per_engagement",
        "value_score",
    ]
    shown = roi.describe(row, asset)
    assert "None of its 3 drafts is published yet, so there is no reach or engagement to count." in shown
    assert "Nothing is estimated" in shown
    assert "Reach" not in shown and "ROI 0" not in shown


async def test_published_but_never_collected_stores_nulls_and_says_so(session) -> None:
    user = await _user(session)
    asset, _ = await upload_with_drafts(session, user.id, [Piece(published=True), Piece(published=True), Piece()])
    row = await roi.calculate_roi(session=session, settings=SETTINGS, asset_id=asset.id)
    assert len(await _null_columns(session, row.id)) == 5
    shown = roi.describe(row, asset)
    assert "2 of 3 drafts published, but no figures have been collected from the platforms yet." in shown


async def test_collected_with_no_engagement_has_no_cost_per_engagement(session) -> None:
    user = await _user(session)
    asset, _ = await upload_with_drafts(session, user.id, [Piece(published=True, views=80, collected_saves=[0])])
    row = await roi.calculate_roi(session=session, settings=SETTINGS, asset_id=asset.id)
    # Measured zeros are real zeros: E = 0, value = 0 / 3 = 0; V = 0.08 x 150 = 12; ROI = 12 / 4500 = 0.0027 -> 0.00
    assert (row.total_reach, row.total_engagement, row.value_score) == (80, 0, Decimal("0.00"))
    assert row.roi_multiplier == Decimal("0.00")
    assert await _null_columns(session, row.id) == ["cost_per_engagement"]
    assert "• Cost per engagement: none, since there is no engagement yet" in roi.describe(row, asset)


async def test_picking_an_upload_and_reading_arguments(session) -> None:
    user = await _user(session)
    with pytest.raises(roi.NoSuchAsset) as nothing:
        await roi.pick_asset(session=session, user_id=user.id, selector="")
    assert nothing.value.user_message == roi.NO_UPLOADS
    old, _ = await upload_with_drafts(session, user.id, [], title="Podcast on pricing", created_ago=timedelta(days=3))
    new, _ = await upload_with_drafts(session, user.id, [], title="Webinar on hiring")
    assert (await roi.pick_asset(session=session, user_id=user.id, selector="")).id == new.id
    assert (await roi.pick_asset(session=session, user_id=user.id, selector="2")).id == old.id
    assert (await roi.pick_asset(session=session, user_id=user.id, selector="PRICING")).id == old.id
    for missing in ("3", "0", "gardening"):
        with pytest.raises(roi.NoSuchAsset):
            await roi.pick_asset(session=session, user_id=user.id, selector=missing)

    assert roi.parse_args("how") == roi.RoiArgs(True, "", None, None)
    assert roi.parse_args("2 hours 4.5 cost ₹6,000") == roi.RoiArgs(False, "2", Decimal("4.5"), Decimal("6000"), "INR")
    assert roi.parse_args("cost 6000") == roi.RoiArgs(False, "", None, Decimal("6000"))
    assert roi.parse_args("pricing cost 80 usd") == roi.RoiArgs(False, "pricing", None, Decimal("80"), "USD")
    assert roi.parse_args("cost $80.50 hours 2") == roi.RoiArgs(False, "", Decimal("2"), Decimal("80.50"), "USD")
    assert roi.parse_args("cost Rs. 900") == roi.RoiArgs(False, "", None, Decimal("900"), "INR")
    assert roi.parse_args("podcast on pricing") == roi.RoiArgs(False, "podcast on pricing", None, None)
    with pytest.raises(roi.BadEffort):
        await roi.state_effort(session=session, asset=new, hours=Decimal(0), cost=None)


def test_the_formula_is_explained_with_this_servers_defaults() -> None:
    shown = roi.how(SETTINGS)
    assert "default 3 h" in shown
    assert "₹1,500/h or $25/h" in shown and "(₹150, or $6 in dollars)" in shown
    assert "ROI = V ÷ C · Cost per engagement = C ÷ E · Value score = E ÷ H" in shown
    assert "rather than estimate" in shown
