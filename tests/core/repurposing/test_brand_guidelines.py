"""The brand's checkable guidelines are kept on what any writer returns: here a chat model (a local server
speaking the chat-completions API) that ignores them — the avoided word in its text and a hashtag, no
sign-off, the CTA and hashtags outside the body — and the offline writer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from aiohttp import web
from sqlalchemy import select

from core.accounts import service as accounts
from core.ai.writing.offline_writer import OfflineWriter
from core.ai.writing.openai_writer import OpenAIWriter
from core.brand import service as brand_service
from core.content import service as content
from core.pipeline import assets
from core.pipeline.render import full_text
from core.repurposing import drafting
from core.repurposing.guidelines import BrandRules, parse_guidelines
from core.repurposing.models import RepurposingJob
from core.seed.service import apply_seed

TALK = (
    "Most creators in India post once and then disappear for a month. That is the biggest mistake. "
    "Consistency beats talent when you are building a personal brand on LinkedIn. Here is what worked for me "
    "after three years and two hundred posts. First, write for one person, not for everyone. When I started "
    "writing for early stage founders in Bangalore, my engagement doubled in six weeks. Second, turn every "
    "long video into ten small posts. One podcast episode gives you a thread, a carousel, three short clips "
    "and a newsletter. Third, reply to every comment in the first hour, because the algorithm rewards "
    "conversations. Why do most people quit? They measure followers instead of conversations."
)
GUIDELINES = "Casual, no emojis. Sign off with -A. Words to avoid: algorithm, hustle"
ANSWERS = {
    "linkedin_post": {
        "title": "Reply fast",
        "caption": "Reply fast.",
        "content_text": "Reply fast. The algorithm rewards conversations.\n\nWrite for one person.\n\nHustle less.",
        "hashtags": ["#AlgorithmTips", "#CreatorGrowth"],
        "cta": "Follow for more",
        "tweets": [],
        "script_beats": [],
    },
    "twitter_thread": {
        "title": "Reply fast",
        "caption": "1/2 Reply fast.",
        "content_text": "",
        "hashtags": ["#CreatorGrowth"],
        "cta": "Follow for more",
        "script_beats": [],
        "tweets": ["1/2 Reply fast, because the algorithm loves it.", "2/2 Write for one person. -A"],
    },
}


@pytest.fixture
async def chat_model() -> AsyncIterator[str]:
    """A chat-completions server answering the draft for the output format named in the system prompt."""

    async def completions(request: web.Request) -> web.Response:
        body = await request.json()
        system = body["messages"][0]["content"]
        assert "Sign off with -A" in system  # the model is told; it just doesn't listen
        answer = ANSWERS["twitter_thread" if "X thread:" in system else "linkedin_post"]
        message = {"role": "assistant", "content": json.dumps(answer), "refusal": None}
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": "gpt-test",
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


async def _jobs(core_deps: Any, session: Any, external_id: str) -> dict[str, RepurposingJob]:
    await apply_seed(session=session)
    reg = await accounts.register_chat_user(
        session=session,
        provider="telegram",
        external_user_id=external_id,
        chat_id=external_id,
        full_name="Asha Rao",
        username=None,
    )
    await brand_service.upsert_brand(
        session=session,
        user_id=reg.user.id,
        organization_id=reg.organization.id,
        name="Asha",
        preferred_platforms=["linkedin", "twitter", "blog"],
        custom_guidelines=GUIDELINES,
    )
    asset = await content.ingest_text(
        session=session, store=core_deps.store, user_id=reg.user.id, organization_id=reg.organization.id, text=TALK
    )
    await session.commit()
    await assets.process_asset(core_deps, asset.id)
    jobs = await session.scalars(select(RepurposingJob).where(RepurposingJob.content_asset_id == asset.id))
    return {str(j.output_format): j for j in jobs}


def _check(text: str) -> None:
    assert text.endswith("\n\n-A") and text.count("-A") == 1, text
    assert "algorithm" not in text.lower() and "hustle" not in text.lower(), text


async def test_a_models_draft_keeps_the_brands_sign_off_and_avoided_words(core_deps, session, chat_model):
    jobs = await _jobs(core_deps, session, "7401")
    writer = OpenAIWriter(openai.AsyncOpenAI(base_url=chat_model, api_key="test", max_retries=0), "gpt-test")
    post = await drafting.generate_for_job(session=session, writer=writer, index=None, job_id=jobs["linkedin_post"].id)
    thread = await drafting.generate_for_job(
        session=session, writer=writer, index=None, job_id=jobs["twitter_thread"].id
    )
    assert post is not None and thread is not None
    _check(full_text(post))
    assert full_text(post) == ("Reply fast.\n\nWrite for one person.\n\nFollow for more\n\n#CreatorGrowth\n\n-A")
    assert post.hashtags == ["#CreatorGrowth"] and post.cta == "Follow for more"
    _check(full_text(thread))
    tweets = (thread.metadata_ or {})["tweets"]
    # The tweet carrying the avoided word goes, the model's misplaced sign-off moves to the end, the CTA and
    # hashtag the model left outside the thread close it, and the tweets are renumbered.
    assert tweets == ["1/2 Write for one person.", "2/2 Follow for more\n\n#CreatorGrowth\n\n-A"]
    assert (post.metadata_ or {})["brand_rules"] == {"sign_off": "-A", "avoided": ["algorithm", "hustle"]}


async def test_the_offline_writers_drafts_keep_them_too(core_deps, session):
    jobs = await _jobs(core_deps, session, "7402")
    for job in jobs.values():
        draft = await drafting.generate_for_job(session=session, writer=OfflineWriter(), index=None, job_id=job.id)
        assert draft is not None
        _check(full_text(draft))
        # The score shown is the one the stored checks add up to, after the brand's rules changed the text.
        checks = (draft.metadata_ or {})["quality_checks"]
        assert abs(sum(checks.values()) - float(draft.quality_score or 0)) <= 1, (checks, draft.quality_score)


@pytest.mark.parametrize(
    ("guidelines", "rules"),
    [
        ("Sign off with -A. Avoid the words algorithm and hustle.", BrandRules("-A", ("algorithm", "hustle"))),
        ("sign-off: 'Cheers, Asha'; words to avoid: guru, ninja", BrandRules("Cheers, Asha", ("guru", "ninja"))),
        ('Never say "crushing it". End every post with — Team Acme', BrandRules("— Team Acme", ("crushing it",))),
        ("Sign off with -A and don't use the word synergy", BrandRules("-A", ("synergy",))),
        ("No jargon. One emoji at most. Avoid long sentences.", BrandRules()),
        ("", BrandRules()),
    ],
)
def test_the_checkable_guidelines_are_read_from_the_brands_words(guidelines: str, rules: BrandRules) -> None:
    assert parse_guidelines(guidelines) == rules


def test_hashtags_carrying_an_avoided_word_go_and_others_stay() -> None:
    from core.ai.analysis.offline_analyser import analyse_offline
    from core.ai.writing.ports import Draft
    from core.repurposing.guidelines import apply_rules

    draft = Draft(
        title="AI tips",
        content_text="Retail runs on AI now. Stores adapt.\n\n#retail #AIBuilders #AlgorithmTips",
        caption="Retail runs on AI now.",
        hashtags=["#retail", "#AIBuilders", "#AlgorithmTips"],
        cta=None,
        word_count=9,
        quality_score=50,
    )
    rules = parse_guidelines("Don't use the words AI or algorithm")
    kept = apply_rules(draft, output_format="linkedin_post", rules=rules, analysis=analyse_offline(TALK, None))
    assert kept.hashtags == ["#retail"]
    assert kept.content_text == "Stores adapt.\n\n#retail"
    assert kept.title == "tips"
    # A caption made only of an offending sentence can't go: the word itself does.
    assert kept.caption.startswith("Retail runs on") and " AI" not in kept.caption
