"""Word error rate of the packaged offline Whisper models on eSpeak NG speech, by language.

    .venv/bin/python bench/languages.py

English is read by the en-us voice and transcribed by tiny.en (the baseline) and base; Hindi and
Hinglish by the hi voice and transcribed by base with WHISPER_LANGUAGE=hi. Hindi/Hinglish are compared
in Latin script (core.ai.transliteration), so 'content' heard as 'कंटेंट' is not an error. Speech is
synthesised at run time (cached in $TMPDIR/recast-bench-speech); nothing is committed or downloaded."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.spoken import speak  # noqa: E402
from core.ai.transcription import LocalWhisperTranscriber  # noqa: E402
from core.ai.transliteration import to_latin  # noqa: E402
from core.media.samples import normalise_words, word_error_rate  # noqa: E402

SAMPLES = {
    "en": "Good morning. Today I will tell you why waking up early matters. An early start makes the day "
    "feel longer. You can focus on your work before the emails arrive. Exercise gets a fixed time. "
    "This one habit will change your life.",
    "hi": "नमस्ते दोस्तों। आज मैं आपको बताऊंगा कि सुबह जल्दी उठना क्यों ज़रूरी है। जल्दी उठने से दिन लंबा "
    "लगता है। आप अपने काम पर ध्यान दे सकते हैं। व्यायाम करने का समय मिलता है। यह आदत आपकी ज़िंदगी बदल देगी।",
    "hinglish": "दोस्तों, आज हम बात करेंगे कि content creation में consistency क्यों important है। हर हफ्ते एक "
    "post करो। अपने audience से सीधे बात करो। एक content calendar बनाओ और उसको follow करो।",
}
RUNS = [
    ("en", "en-us", 150, "packaged:tiny.en", None),
    ("en", "en-us", 150, "packaged:base", None),
    ("en", "en-us", 150, "auto", None),
    ("hi", "hi", 110, "packaged:base", "hi"),
    ("hinglish", "hi", 110, "packaged:base", "hi"),
]


def main() -> None:
    print("| sample | model | language heard | WER | seconds | ratio vs tiny.en English |")
    print("|---|---|---|---|---|---|")
    baseline: float | None = None
    for sample, voice, rate, model, language in RUNS:
        text = SAMPLES[sample]
        wav = speak(text, voice=voice, rate_wpm=rate)
        transcriber = LocalWhisperTranscriber(model, language=language)
        asyncio.run(transcriber.transcribe(wav))  # load the model outside the timing
        started = time.perf_counter()
        transcript = asyncio.run(transcriber.transcribe(wav))
        seconds = time.perf_counter() - started
        wer = word_error_rate(normalise_words(to_latin(text)), normalise_words(to_latin(transcript.text)))
        baseline = baseline or wer or 0.01
        print(
            f"| {sample} | {transcript.model} | {transcript.language} | {wer:.0%} | {seconds:.1f} | "
            f"{wer / baseline:.1f}x |"
        )


if __name__ == "__main__":
    main()
