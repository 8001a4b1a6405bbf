"""Offline English speech synthesis with eSpeak NG, from the espeakng-loader wheel (library + voice data).

Used to make test and demo media with known words; driven through ctypes, so no system package is needed.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1


class _Event(ctypes.Structure):
    _fields_ = [  # noqa: RUF012 - ctypes layout of espeak_EVENT
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_void_p),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True, slots=True)
class SpokenWordMark:
    text: str
    start_s: float


@dataclass(frozen=True, slots=True)
class Speech:
    samples: npt.NDArray[np.int16]
    sample_rate: int
    words: list[SpokenWordMark]

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


class _Engine:
    """One eSpeak NG instance per process: the library keeps global state, so every call holds the lock."""

    def __init__(self) -> None:
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self._lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        data_path = espeakng_loader.get_data_path().encode()
        self.sample_rate = self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
        if self.sample_rate <= 0:
            raise RuntimeError(f"espeak-ng failed to initialise with data at {data_path!r}")
        self._pcm = bytearray()
        self._marks: list[tuple[int, int, int]] = []
        # Kept on the instance: a collected ctypes callback would crash the next synthesis.
        self._callback = _Callback(self._on_audio)
        self._lib.espeak_SetSynthCallback(self._callback)

    def _on_audio(self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]) -> int:
        if wav and count > 0:
            self._pcm.extend(ctypes.string_at(wav, count * 2))
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_WORD:
                self._marks.append((event.text_position, event.length, event.audio_position))
            i += 1
        return 0

    def synthesize(self, text: str, voice: str, rate_wpm: int) -> Speech:
        if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice {voice!r}")
        self._lib.espeak_SetParameter(_PARAM_RATE, rate_wpm, 0)
        self._pcm.clear()
        self._marks.clear()
        encoded = text.encode("utf-8")
        status = self._lib.espeak_Synth(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if status != 0:
            raise RuntimeError(f"espeak-ng synthesis failed with status {status}")
        self._lib.espeak_Synchronize()
        samples = np.frombuffer(bytes(self._pcm), dtype=np.int16).copy()
        # text_position counts characters from 1; for ASCII text that equals the byte offset.
        words = [
            SpokenWordMark(text=text[pos - 1 : pos - 1 + length], start_s=ms / 1000) for pos, length, ms in self._marks
        ]
        return Speech(samples=samples, sample_rate=self.sample_rate, words=words)


_engine: _Engine | None = None
_lock = threading.Lock()


def synthesize(text: str, *, voice: str = "en-us", rate_wpm: int = 150) -> Speech:
    """Speak ``text`` with eSpeak NG; returns 16-bit mono PCM at the engine's rate (22050 Hz)."""
    global _engine  # noqa: PLW0603 - one engine per process, created on first use
    with _lock:
        if _engine is None:
            _engine = _Engine()
        return _engine.synthesize(text, voice, rate_wpm)
