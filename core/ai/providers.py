"""Choose the AI providers: OpenAI (or any OpenAI-compatible endpoint) with a key, local otherwise."""

from __future__ import annotations

from dataclasses import dataclass

from core.ai.analysis.offline_analyser import OfflineAnalyser
from core.ai.analysis.openai_analyser import OpenAIAnalyser
from core.ai.analysis.results import Analyser
from core.ai.embeddings import Embedder, LocalMiniLMEmbedder, OpenAIEmbedder
from core.ai.transcription import LocalWhisperTranscriber, OpenAITranscriber, Transcriber
from core.ai.writing.offline_writer import OfflineWriter
from core.ai.writing.openai_writer import OpenAIWriter
from core.ai.writing.ports import Writer
from core.config import Settings


@dataclass
class AIProviders:
    transcriber: Transcriber
    analyser: Analyser
    writer: Writer
    embedder: Embedder
    online: bool


def build_ai_providers(settings: Settings) -> AIProviders:
    if settings.openai_api_key is None:
        return AIProviders(
            transcriber=LocalWhisperTranscriber(
                settings.whisper_model,
                language=settings.whisper_language,
                languages=[c.strip() for c in settings.whisper_languages.split(",") if c.strip()],
            ),
            analyser=OfflineAnalyser(),
            writer=OfflineWriter(),
            embedder=LocalMiniLMEmbedder(),
            online=False,
        )
    import openai

    client = openai.AsyncOpenAI(api_key=settings.openai_api_key.get_secret_value(), base_url=settings.openai_base_url)
    return AIProviders(
        transcriber=OpenAITranscriber(client, settings.openai_transcribe_model),
        analyser=OpenAIAnalyser(client, settings.openai_chat_model),
        writer=OpenAIWriter(client, settings.openai_chat_model),
        embedder=OpenAIEmbedder(client, settings.openai_embedding_model),
        online=True,
    )
