"""OpenAITranscriber through the official client against a local server speaking the wire format."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest
from aiohttp import BodyPartReader, web

from core.ai.transcription import OpenAITranscriber, Transcriber

VERBOSE_JSON: dict[str, Any] = {
    "task": "transcribe",
    "language": "english",
    "duration": 5.2,
    "text": "Hello world. Second part here.",
    "segments": [
        {
            "id": 0,
            "seek": 0,
            "start": 0.0,
            "end": 2.0,
            "text": " Hello world.",
            "tokens": [1, 2],
            "temperature": 0.0,
            "avg_logprob": -0.1,
            "compression_ratio": 1.1,
            "no_speech_prob": 0.01,
        },
        {
            "id": 1,
            "seek": 0,
            "start": 2.5,
            "end": 5.5,
            "text": " Second part here.",
            "tokens": [3],
            "temperature": 0.0,
            "avg_logprob": -0.4,
            "compression_ratio": 1.0,
            "no_speech_prob": 0.02,
        },
    ],
    "words": [
        {"word": "Hello", "start": 0.1, "end": 0.6},
        {"word": "world", "start": 0.7, "end": 1.4},
        {"word": "Second", "start": 2.6, "end": 3.1},
        {"word": "part", "start": 3.2, "end": 3.6},
        {"word": "here", "start": 3.7, "end": 4.2},
    ],
}


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def transcriptions(request: web.Request) -> web.Response:
        fields: dict[str, Any] = {
            "content_type": request.content_type,
            "auth": request.headers.get("Authorization"),
        }
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            assert isinstance(part, BodyPartReader)
            name = part.name or ""
            if part.filename:
                fields[name] = (part.filename, await part.read())
            else:
                fields.setdefault(name, []).append(await part.text())
        seen.append(fields)
        return web.json_response(VERBOSE_JSON)

    app = web.Application()
    app.router.add_post("/v1/audio/transcriptions", transcriptions)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/v1", seen
    finally:
        await runner.cleanup()


async def test_openai_transcriber_sends_multipart_and_maps_verbose_json(
    server: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    base_url, seen = server
    audio = tmp_path / "clip.wav"
    audio.write_bytes(b"RIFF fake wav bytes")
    client = openai.AsyncOpenAI(base_url=base_url, api_key="test", max_retries=0)
    transcriber = OpenAITranscriber(client)

    transcript = await transcriber.transcribe(audio)
    await client.close()

    assert isinstance(transcriber, Transcriber)
    [request] = seen
    assert request["content_type"] == "multipart/form-data"
    assert request["auth"] == "Bearer test"
    assert request["model"] == ["whisper-1"]
    assert request["response_format"] == ["verbose_json"]
    assert sorted(request["timestamp_granularities[]"]) == ["segment", "word"]
    assert request["file"] == ("clip.wav", b"RIFF fake wav bytes")

    assert transcript.text == "Hello world. Second part here."
    assert transcript.language == "en"
    assert transcript.model == "whisper-1"
    first, second = transcript.segments
    assert (first.text, first.start, first.end) == ("Hello world.", 0.0, 2.0)
    assert [w.text for w in first.words] == ["Hello", "world"]
    assert [w.text for w in second.words] == ["Second", "part", "here"]
    assert (second.words[0].start, second.words[0].end) == (2.6, 3.1)
    assert first.words[0].probability == pytest.approx(math.exp(-0.1), abs=1e-4)
    assert second.words[2].probability == pytest.approx(math.exp(-0.4), abs=1e-4)
    expected = 100 * (math.exp(-0.1) * 2.0 + math.exp(-0.4) * 3.0) / 5.0
    assert transcript.confidence == pytest.approx(expected, abs=0.05)
