"""Transcript corrections: "wrong → right" pieces, replaced as case-insensitive whole words or phrases."""

from __future__ import annotations

from core.pipeline.transcript import Correction, apply_corrections, parse_corrections, still_unclear


def test_several_corrections_in_one_message_with_any_arrow_and_separator() -> None:
    parsed = parse_corrections("milk → value\nBangalor -> Bangalore, linked in => LinkedIn; nonsense")
    assert parsed.corrections == [
        Correction("milk", "value"),
        Correction("Bangalor", "Bangalore"),
        Correction("linked in", "LinkedIn"),
    ]
    assert parsed.unreadable == ["nonsense"]
    assert parse_corrections("same → same").corrections == []


def test_whole_words_case_insensitive_keeping_the_look_of_the_word() -> None:
    text = "Milk matters. Add milk, not milky milkshakes. MILK wins. Linked  in is where."
    fixed, counts = apply_corrections(
        text, [Correction("milk", "value"), Correction("linked in", "LinkedIn"), Correction("zebra", "horse")]
    )
    assert fixed == "Value matters. Add value, not milky milkshakes. VALUE wins. LinkedIn is where."
    assert counts == [3, 1, 0]


def test_corrections_apply_at_once_so_one_never_rewrites_another() -> None:
    fixed, counts = apply_corrections("left and right", [Correction("left", "right"), Correction("right", "left")])
    assert (fixed, counts) == ("right and left", [1, 1])


def test_a_correction_confirms_the_words_typed_and_clears_the_phrases_it_rewrote() -> None:
    unclear = ["manure", "net", "in the post", "post once and", "meets talent"]
    text, _ = apply_corrections(
        "Most creators in the post once and end this appear. Consistency meets talent. Customer net manure.",
        parse_corrections(
            "in the post once and end this appear -> in India post once and then disappear, manure -> door"
        ).corrections,
    )
    assert still_unclear(unclear, ["in India post once and then disappear", "door"], text) == ["net", "meets talent"]
