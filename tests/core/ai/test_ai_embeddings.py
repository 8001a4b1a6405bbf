"""LocalMiniLMEmbedder (numpy, packaged weights) and OpenAIEmbedder over the wire format."""

from __future__ import annotations

import base64
import random
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import openai
import pytest
from aiohttp import web

from core.ai.embeddings import Embedder, LocalMiniLMEmbedder, OpenAIEmbedder


@pytest.fixture(scope="module")
def embedder() -> LocalMiniLMEmbedder:
    return LocalMiniLMEmbedder()


async def test_matches_published_sentence_transformers_similarities(embedder: LocalMiniLMEmbedder) -> None:
    # The sentence-transformers quickstart prints these cosine similarities for all-MiniLM-L6-v2:
    # [[1.0000, 0.6660, 0.1046], [0.6660, 1.0000, 0.1411], [0.1046, 0.1411, 1.0000]].
    vectors = np.array(
        await embedder.embed(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
    )

    similarities = vectors @ vectors.T

    assert similarities[0, 1] == pytest.approx(0.6660, abs=5e-4)
    assert similarities[0, 2] == pytest.approx(0.1046, abs=5e-4)
    assert similarities[1, 2] == pytest.approx(0.1411, abs=5e-4)


async def test_similar_sentences_are_closer_than_unrelated_ones(embedder: LocalMiniLMEmbedder) -> None:
    texts = [
        "How to grow your audience on LinkedIn",
        "Tips for getting more followers on LinkedIn",
        "A recipe for slow-cooked tomato soup",
        "Our quarterly revenue grew by twenty percent",
        "Sales this quarter were up a fifth",
    ]
    v = np.array(await embedder.embed(texts))

    assert v.shape == (5, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3
    assert v[3] @ v[4] > v[3] @ v[2] + 0.3
    assert v[0] @ v[1] > v[0] @ v[3]


async def test_deterministic_and_independent_of_batching(embedder: LocalMiniLMEmbedder) -> None:
    rng = random.Random(3)
    words = ["video", "post", "brand", "voice", "audience", "clip", "caption", "hook", "story", "growth"]
    # Mixed lengths across more than one batch: padding and reordering must not change any vector.
    texts = [" ".join(rng.choices(words, k=rng.randint(1, 40))) for _ in range(70)]

    together = np.array(await embedder.embed(texts))
    again = np.array(await embedder.embed(texts))
    alone = np.array([(await embedder.embed([t]))[0] for t in texts[:5]])

    assert np.array_equal(together, again)
    assert np.allclose(together[:5], alone, atol=1e-5)
    assert await embedder.embed([]) == []
    assert isinstance(embedder, Embedder)
    assert (embedder.dimension, embedder.model_name) == (384, "all-MiniLM-L6-v2")


@pytest.fixture
async def embeddings_server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def embeddings(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(body)
        dims = body.get("dimensions", 8)
        rows = []
        for index, text in enumerate(body["input"]):
            vector = np.full(dims, float(len(text)), dtype=np.float32)
            vector[0] = index
            encoded: Any = (
                base64.b64encode(vector.tobytes()).decode()
                if body.get("encoding_format") == "base64"
                else vector.tolist()
            )
            rows.append({"object": "embedding", "index": index, "embedding": encoded})
        rows.reverse()  # the API does not promise order; the index field does
        usage = {"prompt_tokens": 3, "total_tokens": 3}
        return web.json_response({"object": "list", "data": rows, "model": body["model"], "usage": usage})

    app = web.Application()
    app.router.add_post("/v1/embeddings", embeddings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/v1", seen
    finally:
        await runner.cleanup()


async def test_openai_embedder_over_the_wire(embeddings_server: tuple[str, list[dict[str, Any]]]) -> None:
    base_url, seen = embeddings_server
    client = openai.AsyncOpenAI(base_url=base_url, api_key="test", max_retries=0)
    embedder = OpenAIEmbedder(client, "text-embedding-3-small", dimensions=8)

    vectors = await embedder.embed(["a", "bbb", "cc"])
    await client.close()

    assert [body["input"] for body in seen] == [["a", "bbb", "cc"]]
    assert seen[0]["model"] == "text-embedding-3-small" and seen[0]["dimensions"] == 8
    assert [v[0] for v in vectors] == [0.0, 1.0, 2.0]
    assert [v[1] for v in vectors] == [1.0, 3.0, 2.0]
    assert embedder.dimension == 8 and isinstance(embedder, Embedder)
    assert OpenAIEmbedder(client, "text-embedding-3-large").dimension == 3072
    with pytest.raises(ValueError, match="dimension"):
        OpenAIEmbedder(client, "some-other-model")
