"""Offline and OpenAI draft writers: platform limits, tone, feedback, variants, style and the wire format."""

from __future__ import annotations

import json
import re
from typing import Any

import openai
import pytest

from core.ai import nlp
from core.ai.analysis.offline_analyser import analyse_offline
from core.ai.analysis.results import ContentAnalysisResult
from core.ai.errors import WriterError
from core.ai.structured import strict_json_schema
from core.ai.writing.feedback import parse_revision_feedback
from core.ai.writing.hashtags import LibraryTag, library_hashtags, normalize_hashtags
from core.ai.writing.offline_writer import OfflineWriter, write_offline
from core.ai.writing.openai_writer import OpenAIWriter
from core.ai.writing.ports import OUTPUT_FORMATS, BrandVoice, Draft, DraftRequest, OutputFormat, Writer
from core.ai.writing.quality import quality_score
from core.ai.writing.style import style_profile

TONES = ("professional", "casual", "viral", "hinglish")
HINDI = re.compile(r"\b(dosto|ekdum|bilkul|yaar|samjho|suno|seedhi baat|karo|hai)\b", re.IGNORECASE)
PLACEHOLDER = re.compile(r"lorem|ipsum|\[|\]|TODO|\{|\}|\binsert\b|xxx|tbd", re.IGNORECASE)
LIBRARY = ["#LinkedInTips", "personalbranding", "#CareerGrowth", "#IndianCreators", "#ContentMarketing"]


@pytest.fixture(scope="session")
def analysis(talk: str) -> ContentAnalysisResult:
    return analyse_offline(talk)


def make_request(
    talk: str,
    analysis: ContentAnalysisResult,
    output_format: OutputFormat,
    tone: str = "professional",
    **changes: Any,
) -> DraftRequest:
    brand = {
        "name": "Ankit Builds",
        "industry": "tech careers",
        "target_audience": "junior developers in India",
        "tone_preset": tone,
        **changes.pop("brand", {}),
    }
    fields: dict[str, Any] = {
        "output_format": output_format,
        "transcript": talk,
        "analysis": analysis,
        "brand": BrandVoice.model_validate(brand),
        "hashtags": LIBRARY,
        **changes,
    }
    return DraftRequest.model_validate(fields)


def everything(draft: Draft) -> str:
    return "\n".join([draft.title, draft.content_text, draft.caption, draft.cta or "", " ".join(draft.hashtags)])


@pytest.mark.parametrize("tone", TONES)
@pytest.mark.parametrize("output_format", OUTPUT_FORMATS)
def test_every_platform_limit_is_respected(
    talk: str, analysis: ContentAnalysisResult, output_format: OutputFormat, tone: str
) -> None:
    for variant in (0, 1, 2):
        draft = write_offline(make_request(talk, analysis, output_format, tone, variant=variant))
        assert draft.word_count == nlp.word_count(draft.content_text) > 0
        assert 0 <= draft.quality_score <= 100
        assert all(t.startswith("#") and not t.startswith("##") for t in draft.hashtags)
        assert len({t.lower() for t in draft.hashtags}) == len(draft.hashtags)
        if output_format == "linkedin_post":
            assert len(draft.content_text) <= 3000
            assert 3 <= len(draft.hashtags) <= 5
            bullets = [ln for ln in draft.content_text.splitlines() if ln[:1] in {"•", "→", "✅", "👉", "🔥"}]
            assert 3 <= len(bullets) <= 5
            assert draft.content_text.splitlines()[-1] == " ".join(draft.hashtags)
        elif output_format == "twitter_thread":
            tweets = draft.metadata["tweets"]
            assert 4 <= len(tweets) <= 10
            for i, tweet in enumerate(tweets, start=1):
                assert len(tweet) <= 280
                assert tweet.startswith(f"{i}/{len(tweets)} ")
            assert analysis.hook_moments[variant].text in tweets[0]
            assert draft.cta is not None and draft.cta in tweets[-1]
        elif output_format == "instagram_caption":
            assert len(draft.content_text) <= 2200
            assert 1 <= len(draft.hashtags) <= 30
            last = draft.content_text.splitlines()[-1]
            assert last == " ".join(draft.hashtags)
            assert "#" not in draft.content_text[: -len(last)]  # hashtags only at the end
            assert len(draft.content_text.splitlines()[0]) <= 125
        elif output_format == "youtube_shorts":
            assert len(draft.title) <= 100
            assert 30 <= draft.metadata["duration_seconds"] <= 60
            labels = [b["label"] for b in draft.metadata["beats"]]
            assert labels[0] == "Hook" and labels[-1] == "CTA" and "Point 1" in labels
            assert "#Shorts" in draft.hashtags and draft.caption == draft.metadata["description"]
        else:
            lines = draft.content_text.splitlines()
            assert lines[0] == f"# {draft.title}"
            assert sum(1 for ln in lines if ln.startswith("# ")) == 1
            assert sum(1 for ln in lines if ln.startswith("## ")) >= 4
            # 600+ words "when the transcript allows", never by saying a sentence twice.
            assert draft.word_count >= min(600, 0.75 * nlp.word_count(talk))
            assert len(draft.caption) <= 160


def test_limits_hold_for_a_very_long_talk_and_a_huge_hashtag_library(talk: str) -> None:
    long_talk = "\n\n".join([talk] * 6)
    analysis = analyse_offline(long_talk)
    library = [f"#Tag{i}" for i in range(60)]
    for output_format in OUTPUT_FORMATS:
        draft = write_offline(
            make_request(long_talk, analysis, output_format, "viral", hashtags=library, feedback="make it longer")
        )
        if output_format == "linkedin_post":
            assert len(draft.content_text) <= 3000
        if output_format == "instagram_caption":
            assert len(draft.content_text) <= 2200 and len(draft.hashtags) <= 30
        if output_format == "twitter_thread":
            assert all(len(t) <= 280 for t in draft.metadata["tweets"])
        if output_format == "youtube_shorts":
            assert len(draft.title) <= 100 and draft.metadata["duration_seconds"] <= 60


@pytest.mark.parametrize("output_format", OUTPUT_FORMATS)
def test_drafts_contain_no_placeholders(
    talk: str, analysis: ContentAnalysisResult, output_format: OutputFormat
) -> None:
    for tone in TONES:
        for feedback in (None, "shorter, add emojis and mention our Pune meetup on 12 July"):
            draft = write_offline(make_request(talk, analysis, output_format, tone, feedback=feedback))
            assert not PLACEHOLDER.search(everything(draft)), everything(draft)


@pytest.mark.parametrize("output_format", OUTPUT_FORMATS)
def test_hinglish_mixes_hindi_words_and_professional_does_not(
    talk: str, analysis: ContentAnalysisResult, output_format: OutputFormat
) -> None:
    hinglish = write_offline(make_request(talk, analysis, output_format, "hinglish"))
    professional = write_offline(make_request(talk, analysis, output_format, "professional"))
    assert len(HINDI.findall(hinglish.content_text)) >= 2
    assert not HINDI.search(everything(professional))
    assert not re.search(r"[\u0900-\u097f]", hinglish.content_text)  # Latin script only


def test_tone_presets_change_the_wording(talk: str, analysis: ContentAnalysisResult) -> None:
    drafts = {t: write_offline(make_request(talk, analysis, "linkedin_post", t)) for t in TONES}
    openers = {t: d.content_text.splitlines()[0] for t, d in drafts.items()}
    assert len(set(openers.values())) == 4
    assert nlp.count_emojis(drafts["professional"].content_text) == 0
    assert nlp.count_emojis(drafts["viral"].content_text) >= 3
    assert drafts["viral"].metadata["tone"] == "viral"


@pytest.mark.parametrize("output_format", OUTPUT_FORMATS)
def test_feedback_shorter_gives_a_shorter_draft(
    talk: str, analysis: ContentAnalysisResult, output_format: OutputFormat
) -> None:
    for tone in TONES:
        base = write_offline(make_request(talk, analysis, output_format, tone))
        shorter = write_offline(make_request(talk, analysis, output_format, tone, feedback="Make it shorter please"))
        assert shorter.word_count < base.word_count
        assert "shorter" in shorter.metadata["feedback_applied"]


def test_feedback_longer_gives_a_longer_post(talk: str, analysis: ContentAnalysisResult) -> None:
    base = write_offline(make_request(talk, analysis, "twitter_thread"))
    longer = write_offline(make_request(talk, analysis, "twitter_thread", feedback="longer, more detail"))
    assert len(longer.metadata["tweets"]) > len(base.metadata["tweets"])


def test_feedback_tone_emojis_hashtags_and_mentions_are_applied(talk: str, analysis: ContentAnalysisResult) -> None:
    casual = write_offline(make_request(talk, analysis, "linkedin_post", "professional", feedback="more casual"))
    assert casual.metadata["tone"] == "casual"
    formal = write_offline(make_request(talk, analysis, "linkedin_post", "viral", feedback="more formal, no emojis"))
    assert formal.metadata["tone"] == "professional" and nlp.count_emojis(formal.content_text) == 0
    emojis = write_offline(make_request(talk, analysis, "linkedin_post", "professional", feedback="add emojis"))
    assert nlp.count_emojis(emojis.content_text) >= 2
    for output_format in OUTPUT_FORMATS:
        draft = write_offline(
            make_request(talk, analysis, output_format, "casual", feedback="No hashtags. Mention Razorpay Rize")
        )
        assert draft.hashtags == []
        assert not re.search(r"#\w", draft.content_text)
        assert "Razorpay Rize" in draft.content_text + draft.caption


def test_parse_revision_feedback_reads_common_instructions() -> None:
    parsed = parse_revision_feedback(
        "Too long. Make it more casual, add emojis and mention our Delhi workshop; no hashtags"
    )
    assert parsed.length < 1 and parsed.tone == "casual" and parsed.emojis is True and parsed.hashtags is False
    assert parsed.mentions == ("our Delhi workshop",)
    assert parse_revision_feedback("Please write it in Hinglish, and longer").tone == "hinglish"
    assert parse_revision_feedback("Please write it in Hinglish, and longer").length > 1
    assert parse_revision_feedback("remove the emojis").emojis is False
    assert parse_revision_feedback(None) == parse_revision_feedback("")


@pytest.mark.parametrize("output_format", OUTPUT_FORMATS)
def test_variant_gives_a_different_but_deterministic_draft(
    talk: str, analysis: ContentAnalysisResult, output_format: OutputFormat
) -> None:
    first = write_offline(make_request(talk, analysis, output_format, "casual", variant=0))
    second = write_offline(make_request(talk, analysis, output_format, "casual", variant=1))
    again = write_offline(make_request(talk, analysis, output_format, "casual", variant=1))
    assert second.content_text != first.content_text
    assert second == again


def test_style_examples_traits_are_mimicked(talk: str, analysis: ContentAnalysisResult) -> None:
    samples = [
        "Shipped it! 🚀\nSmall team. Big win!\nProud of us 🙌",
        "Monday energy! ☕\nThree calls. Two demos.\nOne happy client 🎉",
    ]
    profile = style_profile(samples)
    assert profile.uses_emojis and profile.exclaims and profile.short_sentences
    plain = write_offline(make_request(talk, analysis, "linkedin_post", "professional"))
    styled = write_offline(
        make_request(talk, analysis, "linkedin_post", "professional", brand={"style_examples": samples})
    )

    def avg_sentence(text: str) -> float:
        sentences = [s for ln in text.splitlines() for s in nlp.split_sentences(ln)]
        return sum(nlp.word_count(s) for s in sentences) / len(sentences)

    assert nlp.count_emojis(plain.content_text) == 0 < nlp.count_emojis(styled.content_text)
    assert styled.content_text.count("!") > plain.content_text.count("!")
    assert avg_sentence(styled.content_text) < avg_sentence(plain.content_text)
    dense = ["We closed the quarter strong. The team delivered every milestone. Clients renewed early."]
    dense_draft = write_offline(
        make_request(talk, analysis, "linkedin_post", "professional", brand={"style_examples": dense})
    )
    assert dense_draft.content_text.count("\n\n") < plain.content_text.count("\n\n")


def test_library_hashtags_keep_only_tags_related_to_the_content() -> None:
    library = [
        LibraryTag("MarketingTips", own=False, performance=9.0),
        LibraryTag("Cricket", own=True, performance=5.0),
        LibraryTag("marketing", own=True, performance=1.0),
        LibraryTag("BrandMarketing", own=True, performance=2.0),
    ]
    tags = library_hashtags(library, ["content marketing", "brand", "posts"], limit=4)
    # The content's own key phrases first, then related library tags: own before the starter set; no
    # '#Cricket', and no everyday single word of the content ('#brand', '#posts') as a tag of its own.
    assert tags == ["contentmarketing", "brandmarketing", "marketing", "marketingtips"]


def test_hashtags_are_normalised_and_ranked_by_relevance(talk: str, analysis: ContentAnalysisResult) -> None:
    assert normalize_hashtags(["##growth", "growth", " #Growth ", "personal branding", "#"]) == [
        "#growth",
        "#PersonalBranding",
    ]
    draft = write_offline(
        make_request(
            talk, analysis, "instagram_caption", "casual", hashtags=["#Cricket", "##LinkedInTips", "#IndianCreators"]
        )
    )
    assert draft.hashtags[0] == "#LinkedInTips"
    assert draft.hashtags.index("#PersonalBrand") < draft.hashtags.index("#Cricket")


def test_cta_from_the_library_is_used_verbatim(talk: str, analysis: ContentAnalysisResult) -> None:
    cta = "Book a free 15-minute profile review at ankitbuilds.in"
    for output_format in OUTPUT_FORMATS:
        draft = write_offline(make_request(talk, analysis, output_format, "professional", cta=cta))
        assert draft.cta == cta and cta in draft.content_text


def test_quality_score_rewards_a_complete_draft(talk: str, analysis: ContentAnalysisResult) -> None:
    draft = write_offline(make_request(talk, analysis, "linkedin_post"))
    assert draft.quality_score >= 70
    stub = "Nice talk today."
    assert quality_score("linkedin_post", stub, analysis) < draft.quality_score - 30
    assert quality_score("linkedin_post", draft.content_text, analysis, talk) == draft.quality_score


async def test_offline_writer_implements_the_port(talk: str, analysis: ContentAnalysisResult) -> None:
    writer: Writer = OfflineWriter()
    request = make_request(talk, analysis, "blog_article", "viral")
    assert await writer.write(request) == write_offline(request)


def _model_answer(**changes: Any) -> str:
    answer = {
        "title": "Consistency Beats Talent",
        "content_text": "",
        "caption": "Three posts a week changed my career.",
        "hashtags": ["PersonalBrand", "#LinkedIn", "##LinkedIn"],
        "cta": "Follow Ankit Builds for more.",
        "tweets": [
            "1/3 What if three posts a week on LinkedIn could change your career in twelve months?",
            "2/3 " + "Consistency beats talent when talent does not show up. " * 6,
            "3/3 Follow Ankit Builds for more.",
        ],
        "script_beats": [],
    }
    answer.update(changes)
    return json.dumps(answer)


async def test_openai_writer_sends_schema_and_brand_voice_and_enforces_limits(
    talk: str, analysis: ContentAnalysisResult, chat_server: Any
) -> None:
    chat_server.answer_with(_model_answer())
    client = openai.AsyncOpenAI(base_url=chat_server.base_url, api_key="test", max_retries=0)
    writer: Writer = OpenAIWriter(client, "gpt-test")
    request = make_request(
        talk,
        analysis,
        "twitter_thread",
        "hinglish",
        feedback="make it punchier and shorter",
        brand={"style_examples": ["Consistency > talent. Every single day! 🚀"], "custom_guidelines": "No slang."},
        cta="Join the Ankit Builds community",
        variant=2,
    )

    draft = await writer.write(request)

    [body] = chat_server.requests
    assert body["model"] == "gpt-test"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    schema = body["response_format"]["json_schema"]["schema"]
    assert set(schema["required"]) == {"title", "content_text", "caption", "hashtags", "cta", "tweets", "script_beats"}
    assert schema["additionalProperties"] is False
    system, user = body["messages"]
    assert system["role"] == "system"
    prompt = system["content"]
    assert "Tone preset: viral" in prompt  # "punchier" feedback overrides the brand's hinglish preset
    assert "Consistency > talent. Every single day!" in prompt
    assert "280 characters" in prompt and "No slang." in prompt
    assert "make it punchier and shorter" in prompt and "Join the Ankit Builds community" in prompt
    assert "alternative version 2" in prompt
    assert "Priya Sharma" in user["content"] and "personal brand" in user["content"]

    tweets = draft.metadata["tweets"]
    # The 330-character second tweet says one sentence six times: the repeats go, so it fits (splitting a
    # tweet of different sentences: tests/core/ai/test_openai_screening.py).
    assert [t.split(" ", 1)[0] for t in tweets] == ["1/3", "2/3", "3/3"] and all(len(t) <= 280 for t in tweets)
    assert draft.metadata["screened"]["repeats"] == 5
    assert draft.content_text == "\n\n".join(tweets)
    assert draft.hashtags == ["#PersonalBrand", "#LinkedIn"]
    assert draft.word_count == nlp.word_count(draft.content_text)
    assert draft.quality_score == quality_score("twitter_thread", draft.content_text, analysis, talk)


async def test_openai_writer_prompt_carries_hinglish_guidance(
    talk: str, analysis: ContentAnalysisResult, chat_server: Any
) -> None:
    chat_server.answer_with(_model_answer(title="T" * 150, tweets=[], content_text="Dosto, suno."))
    client = openai.AsyncOpenAI(base_url=chat_server.base_url, api_key="test", max_retries=0)
    draft = await OpenAIWriter(client, "gpt-test").write(make_request(talk, analysis, "youtube_shorts", "hinglish"))
    prompt = chat_server.requests[0]["messages"][0]["content"]
    assert "Tone preset: hinglish" in prompt and "Latin script" in prompt and "dosto" in prompt
    assert len(draft.title) <= 100


@pytest.mark.parametrize("reply", ["{not json", json.dumps({"title": "only a title"})], ids=["not-json", "partial"])
async def test_openai_writer_raises_writer_error_on_a_bad_answer(
    talk: str, analysis: ContentAnalysisResult, chat_server: Any, reply: str
) -> None:
    chat_server.answer_with(reply)
    client = openai.AsyncOpenAI(base_url=chat_server.base_url, api_key="test", max_retries=0)
    with pytest.raises(WriterError):
        await OpenAIWriter(client, "gpt-test").write(make_request(talk, analysis, "linkedin_post"))


def test_draft_wire_schema_is_strict() -> None:
    from core.ai.writing.openai_writer import _ModelDraft

    schema = strict_json_schema(_ModelDraft)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"])


def test_limits_hold_when_every_insight_is_overlong(talk: str, analysis: ContentAnalysisResult) -> None:
    rambling = " ".join(["Consistency on LinkedIn compounds when you share real work problems"] * 14) + "."
    heavy = analysis.model_copy(
        update={
            "key_insights": [f"Lesson {i}: {rambling}" for i in range(5)],
            "hook_moments": [h.model_copy(update={"text": rambling}) for h in analysis.hook_moments],
        }
    )
    assert len(rambling) > 900
    for tone in TONES:
        for output_format in OUTPUT_FORMATS:
            draft = write_offline(make_request(talk, heavy, output_format, tone, feedback="longer"))
            if output_format == "twitter_thread":
                assert all(len(t) <= 280 for t in draft.metadata["tweets"])
            elif output_format == "linkedin_post":
                assert len(draft.content_text) <= 3000
            elif output_format == "instagram_caption":
                assert len(draft.content_text) <= 2200
                assert draft.content_text.splitlines()[-1] == " ".join(draft.hashtags)
            elif output_format == "youtube_shorts":
                assert len(draft.title) <= 100 and draft.metadata["duration_seconds"] <= 60


async def test_openai_writer_is_told_which_words_the_transcriber_may_have_misheard(
    talk: str, analysis: ContentAnalysisResult, chat_server: Any
) -> None:
    client = openai.AsyncOpenAI(base_url=chat_server.base_url, api_key="test", max_retries=0)
    for unclear in ([], ["manure", "in the post"]):
        chat_server.answer_with(_model_answer())
        await OpenAIWriter(client, "gpt-test").write(
            make_request(talk, analysis, "twitter_thread", unclear_words=unclear)
        )
    clear, doubtful = (r["messages"][0]["content"] for r in chat_server.requests)
    assert "misheard" not in clear
    assert "misheard these words and phrases" in doubtful and '"manure"; "in the post"' in doubtful
