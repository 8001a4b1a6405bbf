"""Hinglish talks (Devanagari with English words, as Whisper hears them) give Latin-script drafts in the
hinglish tone; Devanagari → Latin transliteration in chat spelling."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.ai.analysis.offline_analyser import analyse_offline
from core.ai.transliteration import has_devanagari, is_hinglish, to_latin
from core.ai.writing.offline_writer import write_offline
from core.ai.writing.ports import OUTPUT_FORMATS, BrandVoice, DraftRequest, OutputFormat
from core.ai.writing.quality import quality_report

DATA = Path(__file__).resolve().parents[3] / "bench" / "data" / "quality"

HINGLISH_TALK = (
    "दोस्तों, आज हम बात करेंगे कि content creation में consistency क्यों important है। "
    "हर हफ्ते एक post करो, चाहे छोटा ही क्यों न हो। "
    "अपने audience से सीधे बात करो और उनके comments का जवाब दो। "
    "Engagement तब आता है जब लोग आपको regularly देखते हैं। "
    "एक content calendar बनाओ और उसको follow करो। "
    "Analytics देखो और जो post अच्छा perform करे उसको repeat करो।"
)
PURE_HINDI = "नमस्ते दोस्तों। आज मैं आपको बताऊंगा कि सुबह जल्दी उठना क्यों ज़रूरी है।"


def test_devanagari_words_are_written_the_way_hinglish_is_typed() -> None:
    assert to_latin("आज हम बात करेंगे कि content में consistency क्यों important है।") == (
        "Aaj hum baat karenge ki content mein consistency kyon important hai."
    )
    assert to_latin("सुबह जल्दी उठना ज़रूरी है") == "Subah jaldi uthana zaroori hai"
    assert to_latin("हर हफ्ते। एक post करो।") == "Har hafte. Ek post karo."


def test_a_devanagari_talk_with_english_words_is_hinglish_and_a_pure_hindi_one_is_not() -> None:
    assert is_hinglish(HINGLISH_TALK)
    assert not is_hinglish(PURE_HINDI)
    assert not is_hinglish("Consistency matters more than talent.")


def test_the_analyser_reads_a_devanagari_hinglish_talk_in_latin_script() -> None:
    analysis = analyse_offline(HINGLISH_TALK)
    assert analysis.language == "hi-Latn"
    assert not has_devanagari(analysis.model_dump_json())
    # the topics are the talk's subject words, not transliterated Hindi function words ('kyon', 'usako')
    subject = {"content", "creation", "consistency", "engagement", "audience", "calendar", "analytics"}
    assert analysis.topics
    assert all(set(t.lower().split()) <= subject for t in analysis.topics)


@pytest.mark.parametrize("output_format", OUTPUT_FORMATS)
def test_hinglish_drafts_come_out_in_latin_script_with_the_hinglish_tone(output_format: OutputFormat) -> None:
    analysis = analyse_offline(HINGLISH_TALK)
    draft = write_offline(
        DraftRequest(
            output_format=output_format,
            transcript=HINGLISH_TALK,
            analysis=analysis,
            brand=BrandVoice(name="Recast Demo"),
        )
    )
    printed = " ".join([draft.title, draft.content_text, draft.caption, *draft.hashtags, draft.cta or ""])
    assert not has_devanagari(printed)
    assert draft.metadata["tone"] == "hinglish"
    assert "consistency" in draft.content_text.lower() or "content" in draft.content_text.lower()
    assert "।" not in draft.content_text


def test_an_analysis_made_on_devanagari_still_gives_latin_drafts() -> None:
    analysis = analyse_offline(to_latin(HINGLISH_TALK)).model_copy(update={"quotable_moments": []})
    analysis = analysis.model_copy(update={"summary": HINGLISH_TALK})
    draft = write_offline(
        DraftRequest(
            output_format="linkedin_post", transcript=HINGLISH_TALK, analysis=analysis, brand=BrandVoice(name="X")
        )
    )
    assert not has_devanagari(draft.content_text + draft.caption + draft.title)


HINDI_TALK = (
    "आज मैं आपको बताऊँगा कि छोटे बिज़नेस के लिए सोशल मीडिया पर ग्राहक कैसे बनते हैं। सबसे पहली बात, हर दिन एक ही"
    " समय पर पोस्ट कीजिए, क्योंकि ग्राहक आदत से आते हैं। दूसरी बात, अपनी दुकान की असली कहानी दिखाइए, महंगे विज्ञापन"
    " की ज़रूरत नहीं है। जब मैंने अपनी बेकरी की सुबह की वीडियो डालनी शुरू की, तो तीन महीने में ऑर्डर दोगुने हो गए।"
    " तीसरी बात, हर कमेंट का जवाब पहले घंटे में दीजिए, क्योंकि बातचीत से भरोसा बनता है। ज़्यादातर लोग फॉलोअर्स गिनते"
    " हैं, लेकिन असली चीज़ भरोसा है। याद रखिए, सोशल मीडिया पर ग्राहक भरोसे से बनते हैं, विज्ञापन से नहीं। धन्यवाद दोस्तों।"
)


@pytest.mark.parametrize("output_format", OUTPUT_FORMATS)
def test_a_pure_hindi_talk_gets_complete_romanised_drafts_without_its_frame(output_format: OutputFormat) -> None:
    from core.ai import lexicon, nlp

    analysis = analyse_offline(HINDI_TALK)
    assert analysis.language == "hi-Latn" and not has_devanagari(" ".join(analysis.topics))
    draft = write_offline(
        DraftRequest(
            output_format=output_format, transcript=HINDI_TALK, analysis=analysis, brand=BrandVoice(name="Meera")
        )
    )
    text = draft.content_text
    assert not has_devanagari(text) and len(nlp.split_sentences(text)) >= 4
    assert "social media" in text.lower() and "soshal" not in text.lower()  # loanwords as they are typed
    lowered = text.lower()
    assert "bataaoonga" not in lowered and "dhanyavaad" not in lowered  # the talk's frame stays out
    assert "doosari baat," not in lowered and "teesari baat," not in lowered  # spoken ordinals dropped
    tags = {t.lstrip("#").lower() for t in draft.hashtags}
    assert not tags & {w.replace(" ", "") for w in lexicon.HINGLISH_FUNCTION_WORDS}, draft.hashtags


def test_run_together_romanised_hindi_is_unreadable_but_typed_hinglish_is_not() -> None:
    from core.ai import nlp

    typed = (DATA / "hinglish.txt").read_text()
    assert [w for s in nlp.split_sentences(typed) for w in nlp.unknown_romanised_words(s)] == []
    assert nlp.unknown_romanised_words(to_latin(HINDI_TALK)) == []
    heard = "Harahafte ekapustakaro, cahajhota hi kyomnaho."  # Whisper base on 'हर हफ्ते एक पोस्ट करो, चाहे छोटा ...'
    assert nlp.unknown_romanised_words(heard) == ["harahafte", "ekapustakaro", "cahajhota"]
    analysis = analyse_offline(heard + " Apane ordiyamsa sasee de baatakaro.", language="hi-Latn")
    report = quality_report("linkedin_post", heard, analysis, heard)
    assert any("unreadable" in r for r in report.reasons), report.reasons
