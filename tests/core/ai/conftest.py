"""Fixtures for the analysis and writer tests: a real talk transcript and a local chat-completions server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.openai_api import FakeOpenAI

TALK_PATH = Path(__file__).with_name("talk_personal_brand.txt")


@pytest.fixture(scope="session")
def talk() -> str:
    """~600 words: a creator on building a personal brand on LinkedIn in India."""
    return TALK_PATH.read_text(encoding="utf-8")


@pytest.fixture
async def chat_server() -> AsyncIterator[FakeOpenAI]:
    """The local OpenAI-compatible server (tests/fakes/openai_api.py): its fake model, or `answer_with`."""
    async with FakeOpenAI() as server:
        yield server
