"""Issue 15: what a chat model writes passes the offline writer's checks before it reaches a chat. Each
defect class comes from a short model answer served by the local OpenAI-compatible server
(tests/fakes/openai_api.py) over real HTTP, through the official `openai` client the product uses."""

from __future__ import annotations

import json
from typing import Any

import openai

from core.ai import nlp
from core.ai.analysis.offline_analyser import analyse_offline
from core.ai.analysis.openai_analyser import OpenAIAnalyser
from core.ai.writing.openai_writer import OpenAIWriter
from core.ai.writing.ports import OUTPUT_FORMATS, TWEET_MAX_CHARS, BrandVoice, Draft, DraftRequest, OutputFormat
from core.ai.writing.quality import _draft_units
from tests.fakes.openai_api import FakeOpenAI

TALK = (
    "Good morning everyone, thank you for coming. Let's talk about scope creep, because it eats every "
    "freelancer's margin.\n\n"
    "Write a scope document that lists every deliverable and says how many revision rounds are included. "
    "When they know they're only two rounds, clients give better feedback the first time.\n\n"
    "When a client asks for something new, do not say no, say yes and here is the price. "
    "Track every extra hour you spend. That's it from me, thanks so much for listening, see you next time."
)


def _answer(**fields: Any) -> str:
    answer: dict[str, Any] = {
        "title": "Scope creep",
        "content_text": "",
        "caption": "Write a scope document before you start.",
        "hashtags": ["#ScopeCreep"],
        "cta": "Follow for more.",
        "tweets": [],
        "script_beats": [],
    }
    answer.update(fields)
    return json.dumps(answer)


def _client(server: FakeOpenAI) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0)


async def _write(server: FakeOpenAI, output_format: OutputFormat, answer: str, **request: Any) -> Draft:
    server.answer_with(answer)
    fields: dict[str, Any] = {
        "output_format": output_format,
        "transcript": TALK,
        "analysis": analyse_offline(TALK),
        "brand": BrandVoice(name="Meera Iyer"),
        **request,
    }
    return await OpenAIWriter(_client(server), "gpt-test").write(DraftRequest.model_validate(fields))


async def test_a_fragment_from_the_model_is_repaired_or_dropped(chat_server: FakeOpenAI) -> None:
    text = (
        "Scope creep eats your margin.\n\n"
        "• When a client asks for something new, do not say no,.\n"
        "• When they know they're only two rounds,.\n"
        "• Track every extra hour you spend and\n\n"
        "#ScopeCreep"
    )
    draft = await _write(chat_server, "linkedin_post", _answer(content_text=text))

    assert "• When a client asks for something new, do not say no." in draft.content_text  # repaired
    assert "two rounds" not in draft.content_text  # a clause with no main clause: dropped
    assert "• Track every extra hour you spend." in draft.content_text  # the dangling 'and' goes
    assert draft.metadata["quality_checks"]["complete sentences"] == 25
    assert draft.metadata["screened"]["dropped"] == ["When they know they're only two rounds,."]


async def test_the_talks_greeting_and_sign_off_never_reach_the_draft(chat_server: FakeOpenAI) -> None:
    text = (
        "Good morning everyone, thank you for coming.\n\n"
        "Write a scope document before you start.\n\n"
        "Key takeaways:\n• Good morning everyone, thank you for coming.\n• Price every change request.\n\n"
        "That's it from me, see you next time."
    )
    draft = await _write(chat_server, "linkedin_post", _answer(title="Good morning everyone", content_text=text))

    assert "Good morning" not in draft.content_text and "see you next time" not in draft.content_text
    assert draft.title == "Scope Creep"  # the talk's topic instead of a greeting
    assert "• Price every change request." in draft.content_text
    assert draft.metadata["quality_checks"]["no talk frame"] == 15


async def test_an_over_limit_tweet_is_split_at_sentences_and_the_thread_renumbered(chat_server: FakeOpenAI) -> None:
    long = " ".join(
        [
            "Write a scope document that lists every deliverable and says how many revision rounds are included.",
            "Clients who know the limit give better feedback the first time, and they decide faster.",
            "When a client asks for something new, say yes and here is the price.",
            "Track every extra hour you spend, because the number at the end of the month holds the line.",
        ]
    )
    assert len(long) > TWEET_MAX_CHARS
    tweets = ["1/3 Scope creep eats every freelancer's margin.", f"2/3 {long}", "3/3 Follow for more."]
    draft = await _write(chat_server, "twitter_thread", _answer(tweets=tweets))

    thread = draft.metadata["tweets"]
    assert all(len(t) <= TWEET_MAX_CHARS for t in thread)
    assert [t.split(" ", 1)[0] for t in thread] == [f"{i}/{len(thread)}" for i in range(1, len(thread) + 1)]
    assert len(thread) == 4 and draft.metadata["screened"]["split_tweets"] == 1
    assert all(t.rstrip().endswith((".", "?", "!")) for t in thread)  # split at sentences, none cut mid-way
    assert draft.content_text == "\n\n".join(thread)
    assert draft.metadata["quality_checks"]["platform fit"] > 12  # no hard limit broken


async def test_everyday_word_hashtags_go_unless_the_brand_chose_them(chat_server: FakeOpenAI) -> None:
    text = "Write a scope document before you start.\n\nPrice every change request.\n\n#ScopeCreep #work #Thank"
    answer = _answer(content_text=text, hashtags=["#ScopeCreep", "#work", "#Thank", "#Business"])
    draft = await _write(chat_server, "instagram_caption", answer)
    assert draft.hashtags == ["#ScopeCreep"]
    assert "#work" not in draft.content_text and "#Thank" not in draft.content_text
    assert "#ScopeCreep" in draft.content_text

    kept = await _write(chat_server, "instagram_caption", answer, hashtags=["#Business"])
    assert kept.hashtags == ["#ScopeCreep", "#Business"]  # the brand's library tag stays


async def test_a_blog_section_left_with_nothing_but_the_frame_loses_its_heading(chat_server: FakeOpenAI) -> None:
    text = (
        "# Scope creep\n\nScope creep eats your margin.\n\n## Let's talk about scope creep\n\n"
        "Let's talk about scope creep.\n\n## Write it down\n\nWrite a scope document before you start.\n\n"
        "## Conclusion\n\nThat's it from me, thanks so much for listening."
    )
    draft = await _write(chat_server, "blog_article", _answer(content_text=text))
    assert "Let's talk" not in draft.content_text and "Conclusion" not in draft.content_text
    assert "## Write it down\n\nWrite a scope document before you start." in draft.content_text


async def test_the_analysers_hooks_and_takeaways_are_screened(chat_server: FakeOpenAI) -> None:
    analysis = analyse_offline(TALK).model_dump()
    analysis["hook_moments"] = [
        {"timestamp": 0.0, "end": 3.0, "text": "Good morning everyone, thank you for coming.", "score": 95},
        {"timestamp": 3.0, "end": 9.0, "text": "So, um, scope creep eats every freelancer's margin,.", "score": 90},
    ]
    analysis["key_insights"] = [
        "Let's talk about scope creep.",
        "When they know they're only two rounds,.",
        "When a client asks for something new, do not say no,.",
    ]
    analysis["quotable_moments"] = [{"timestamp": 40.0, "text": "Thanks so much for listening.", "score": 80}]
    chat_server.answer_with(json.dumps(analysis))

    result = await OpenAIAnalyser(_client(chat_server), "gpt-test").analyse(TALK)

    assert [h.text for h in result.hook_moments] == ["Scope creep eats every freelancer's margin."]
    assert result.key_insights == ["When a client asks for something new, do not say no."]
    assert result.quotable_moments == []


async def test_the_fake_models_defects_are_caught_before_any_draft_reaches_a_chat(chat_server: FakeOpenAI) -> None:
    """The local server's own model (no set answer) writes the defects a hurried model writes; none survive."""
    client = _client(chat_server)
    analysis = await OpenAIAnalyser(client, "gpt-test").analyse(TALK)
    raw_analysis = json.loads(chat_server.replies[-1])
    assert raw_analysis["hook_moments"][0]["text"].startswith("Good morning everyone")
    assert any(i.endswith(",.") for i in raw_analysis["key_insights"])
    for output_format in OUTPUT_FORMATS:
        request = DraftRequest(
            output_format=output_format, transcript=TALK, analysis=analysis, brand=BrandVoice(name="Meera Iyer")
        )
        draft = await OpenAIWriter(client, "gpt-test").write(request)
        raw = json.loads(chat_server.replies[-1])
        raw_text = raw["content_text"] + "\n".join(raw["tweets"])
        assert "Good morning everyone" in raw_text and ",." in raw_text and "#work" in raw["hashtags"]
        units = _draft_units(draft.content_text)
        assert [u for u in units if nlp.fragment_reason(u)] == [], output_format
        assert [u for u in units if nlp.is_frame(u)] == [], output_format
        assert "#work" not in draft.hashtags and "#work" not in draft.content_text
        if output_format == "twitter_thread":
            assert any(len(t) > TWEET_MAX_CHARS for t in raw["tweets"])
            assert all(len(t) <= TWEET_MAX_CHARS for t in draft.metadata["tweets"])
