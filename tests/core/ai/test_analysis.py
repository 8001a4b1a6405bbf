"""Offline lexicon analysis and the OpenAI structured-output analyser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest

from core.ai import nlp
from core.ai.analysis.offline_analyser import OFFLINE_MODEL, OfflineAnalyser, analyse_offline
from core.ai.analysis.openai_analyser import OpenAIAnalyser
from core.ai.analysis.results import EMOTIONS, Analyser, ContentAnalysisResult, TimedSentence
from core.ai.analysis.signals import score_hook, sentence_sentiment
from core.ai.errors import AnalysisError
from core.ai.structured import strict_json_schema

REPO = Path(__file__).resolve().parents[3]


def _timed(talk: str) -> list[tuple[str, float, float]]:
    """Segments as a transcriber gives them: one per paragraph, 2.5 words a second, starting at 10 s."""
    segments: list[tuple[str, float, float]] = []
    cursor = 10.0
    for paragraph in (p for p in talk.split("\n\n") if p.strip()):
        duration = nlp.word_count(paragraph) / 2.5
        segments.append((paragraph.strip(), cursor, cursor + duration))
        cursor += duration
    return segments


def test_keywords_of_the_talk_include_its_main_terms(talk: str) -> None:
    result = analyse_offline(talk)
    keywords = [k.lower() for k in result.keywords]
    assert keywords[0] == "personal brand"
    for term in ("personal brand", "linkedin", "content marketing", "posts", "comments"):
        assert term in keywords
    assert "LinkedIn" in result.keywords  # mid-sentence casing is kept
    assert not {"the", "and", "you", "so", "um", "really"} & set(keywords)
    assert result.topics[0] == "Personal Brand"
    assert "Content Marketing" in result.topics


def test_keyword_phrases_come_from_adjacent_words_in_one_clause() -> None:
    text = (
        "Content marketing is how small brands grow. Good content marketing teaches before it sells. "
        "Marketing budgets are small, content matters. Content marketing rewards patience."
    )
    keywords = analyse_offline(text).keywords
    assert keywords[0] == "content marketing"
    assert "marketing content" not in keywords


def test_sentiment_sign_follows_the_text() -> None:
    positive = analyse_offline(
        "I love this community. The results were amazing and the team was incredibly helpful. "
        "We celebrated a huge success and everyone felt proud and grateful."
    )
    negative = analyse_offline(
        "The launch was a terrible failure. Customers were angry and frustrated. "
        "We wasted months, lost money and the whole team felt exhausted and disappointed."
    )
    assert positive.sentiment_score > 30
    assert negative.sentiment_score < -30


def test_negation_flips_and_intensifiers_strengthen_sentiment() -> None:
    assert sentence_sentiment(nlp.tokens("This is good")) > 0
    assert sentence_sentiment(nlp.tokens("This is not good")) < 0
    assert sentence_sentiment(nlp.tokens("This is very good")) > sentence_sentiment(nlp.tokens("This is good"))


def test_emotions_follow_the_lexicon() -> None:
    scared = analyse_offline("I was scared and worried. Honestly I was afraid people would judge me. Pure fear.")
    assert set(scared.emotions) == set(EMOTIONS)
    assert scared.emotions["fear"] > 0.3
    assert scared.emotions["fear"] > scared.emotions["joy"]
    assert all(0 <= level <= 1 for level in scared.emotions.values())


def test_hooks_rank_a_question_with_a_number_above_filler(talk: str) -> None:
    question = "What if I told you that three posts a week could change your career?"
    filler = "So, um, okay, let me start."
    assert score_hook(question) > score_hook(filler) + 40
    result = analyse_offline(talk, _timed(talk))
    top = result.hook_moments[0]
    assert top.text.startswith("What if I told you that three posts a week on LinkedIn")
    assert all(filler.lower() not in h.text.lower() for h in result.hook_moments)
    scores = [h.score for h in result.hook_moments]
    assert scores == sorted(scores, reverse=True)


def test_hook_and_quote_timestamps_come_from_the_timed_segments(talk: str) -> None:
    segments = _timed(talk)
    result = analyse_offline(talk, segments)
    first_start, first_end = segments[1][1], segments[1][2]  # the question opens the second paragraph
    top = result.hook_moments[0]
    assert first_start <= top.timestamp < top.end <= first_end + 0.01
    for moment in result.quotable_moments:
        assert segments[0][1] <= moment.timestamp <= segments[-1][2]
    as_models = analyse_offline(talk, [TimedSentence(text=t, start=s, end=e) for t, s, e in segments])
    assert as_models == result


def test_entities_are_classified(talk: str) -> None:
    entities = analyse_offline(talk).entities
    assert entities.persons == ["Priya Sharma"]
    assert {"LinkedIn", "Infosys", "Instagram"} <= set(entities.organizations)
    assert {"Pune", "Bengaluru", "Mumbai", "India"} <= set(entities.locations)
    everything = entities.persons + entities.organizations + entities.locations
    assert not [name for name in everything if name.split()[0] in {"Today", "When", "I", "So", "Monday"}]


def test_insights_and_quotes_are_self_contained(talk: str) -> None:
    result = analyse_offline(talk)
    assert 3 <= len(result.key_insights) <= 5
    assert "A personal brand is simply what people remember about you when you are not in the room." in (
        result.key_insights
    )
    for line in [*result.key_insights, *(q.text for q in result.quotable_moments)]:
        assert line[0].isupper() and line[-1] in ".!?"
        assert nlp.tokens(line)[0] not in {"this", "that", "it", "they", "she", "he", "so", "um"}
    assert all(nlp.word_count(q.text) <= 25 for q in result.quotable_moments)


def test_scores_are_in_range_and_reflect_content(talk: str) -> None:
    result = analyse_offline(talk)
    scores = [result.virality_score, result.repurposing_value, result.seo_score, result.engagement_potential]
    scores += list(result.platform_scores.model_dump().values())
    assert all(0 <= s <= 100 for s in scores)
    tiny = analyse_offline("Hello there. Nice weather.")
    assert result.repurposing_value > tiny.repurposing_value
    assert result.platform_scores.blog > tiny.platform_scores.blog
    assert result.language == "en"
    assert result.model == OFFLINE_MODEL == "recast-offline-lexicon-v2"


def test_language_of_hinglish_and_devanagari_talks_is_romanised_hindi() -> None:
    hinglish = "Dosto, yeh bahut simple hai. Aur consistency matlab har hafte post karo, bilkul yaar."
    assert analyse_offline(hinglish).language == "hi-Latn"
    # A Devanagari talk is analysed as its drafts print it: Romanised Hindi.
    assert analyse_offline("नमस्ते दोस्तों, आज हम बात करेंगे।").language == "hi-Latn"


def test_empty_transcript_gives_an_empty_but_valid_result() -> None:
    result = analyse_offline("")
    assert result.keywords == [] and result.hook_moments == [] and result.sentiment_score == 0


_DETERMINISM_SCRIPT = """
import json, sys
from pathlib import Path
from core.ai.analysis.offline_analyser import analyse_offline
from core.ai.writing.ports import OUTPUT_FORMATS, BrandVoice, DraftRequest
from core.ai.writing.offline_writer import write_offline
talk = Path(sys.argv[1]).read_text()
analysis = analyse_offline(talk)
brand = BrandVoice(name="Ankit Builds", tone_preset="hinglish", style_examples=["Short lines! Big wins! 🚀"])
drafts = [write_offline(DraftRequest(output_format=f, transcript=talk, analysis=analysis, brand=brand,
          hashtags=["growth", "#LinkedInTips"], variant=1)).model_dump(mode="json") for f in OUTPUT_FORMATS]
print(json.dumps({"analysis": analysis.model_dump(mode="json"), "drafts": drafts}, sort_keys=True))
"""


def test_analysis_and_drafts_are_deterministic_across_processes(talk: str) -> None:
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _DETERMINISM_SCRIPT, str(Path(__file__).with_name("talk_personal_brand.txt"))],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["analysis"] == analyse_offline(talk).model_dump(mode="json")


def _objects(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found += _objects(value)
    elif isinstance(node, list):
        for item in node:
            found += _objects(item)
    return found


def test_wire_schema_is_strict() -> None:
    schema = strict_json_schema(ContentAnalysisResult)
    objects = _objects(schema)
    assert len(objects) >= 6
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])
    emotions = schema["properties"]["emotions"]
    assert emotions["required"] == list(EMOTIONS)
    assert "default" not in json.dumps(schema)


async def test_offline_analyser_implements_the_port(talk: str) -> None:
    analyser: Analyser = OfflineAnalyser()
    assert await analyser.analyse(talk) == analyse_offline(talk)


async def test_openai_analyser_sends_a_strict_json_schema_and_validates_the_answer(talk: str, chat_server: Any) -> None:
    expected = analyse_offline(talk).model_copy(update={"model": "gpt-test", "language": "en"})
    chat_server.answer_with(expected.model_dump_json())
    client = openai.AsyncOpenAI(base_url=chat_server.base_url, api_key="test", max_retries=0)
    analyser: Analyser = OpenAIAnalyser(client, "gpt-test")

    result = await analyser.analyse(talk, _timed(talk))

    assert result == expected
    [body] = chat_server.requests
    assert body["model"] == "gpt-test"
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["name"] == "content_analysis"
    assert response_format["json_schema"]["schema"] == strict_json_schema(ContentAnalysisResult)
    system, user = body["messages"]
    assert system["role"] == "system" and "hook_moments" in system["content"]
    assert user["role"] == "user" and "[10.0-" in user["content"] and "Priya Sharma" in user["content"]


@pytest.mark.parametrize(
    "reply",
    [
        "this is not json {",
        json.dumps({"topics": ["a"]}),
        "",
    ],
    ids=["not-json", "missing-fields", "empty"],
)
async def test_openai_analyser_raises_analysis_error_on_a_bad_answer(talk: str, chat_server: Any, reply: str) -> None:
    chat_server.answer_with(reply)
    client = openai.AsyncOpenAI(base_url=chat_server.base_url, api_key="test", max_retries=0)
    with pytest.raises(AnalysisError):
        await OpenAIAnalyser(client, "gpt-test").analyse(talk)


async def test_openai_analyser_rejects_out_of_range_scores(talk: str, chat_server: Any) -> None:
    answer = analyse_offline(talk).model_dump(mode="json")
    answer["sentiment_score"] = 500
    chat_server.answer_with(json.dumps(answer))
    client = openai.AsyncOpenAI(base_url=chat_server.base_url, api_key="test", max_retries=0)
    with pytest.raises(AnalysisError, match="sentiment_score"):
        await OpenAIAnalyser(client, "gpt-test").analyse(talk)
