"""Fixtures for the analysis and writer tests: a real talk transcript and a local chat-completions server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

TALK_PATH = Path(__file__).with_name("talk_personal_brand.txt")


@pytest.fixture(scope="session")
def talk() -> str:
    """~600 words: a creator on building a personal brand on LinkedIn in India."""
    return TALK_PATH.read_text(encoding="utf-8")


@dataclass
class ChatServer:
    """A local server answering POST /v1/chat/completions with the documented response shape."""

    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    reply: str = "{}"

    def answer_with(self, content: str) -> None:
        self.reply = content


@pytest.fixture
async def chat_server() -> AsyncIterator[ChatServer]:
    server = ChatServer()

    async def completions(request: web.Request) -> web.Response:
        body = await request.json()
        server.requests.append(body)
        return web.json_response(
            {
                "id": f"chatcmpl-{len(server.requests)}",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": body.get("model", "test-model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": server.reply, "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": len(json.dumps(body)) // 4, "completion_tokens": 50, "total_tokens": 0},
            }
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield server
    finally:
        await runner.cleanup()
