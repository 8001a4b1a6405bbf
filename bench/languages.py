"""Word and character error rates of the packaged offline Whisper models, by language and voice.

    .venv/bin/python bench/languages.py

English is read by eSpeak NG's en-us voice and transcribed by tiny.en (the baseline) and base; Hindi and
Hinglish by eSpeak NG's hi voice (synthesised at run time, cached in $TMPDIR/recast-bench-speech) and by
Festival's recorded Hindi diphone voice (tests/data/speech, committed), transcribed as `auto` would (base
detects among English and Hindi; `hint` = the creator's /settings language). Hindi/Hinglish are compared in
Latin script (core.ai.transliteration), so 'content' heard as 'कंटेंट' is not an error; the character error
rate (spaces and punctuation removed) shows how much of the sound was heard when the words run together."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.spoken import speak  # noqa: E402
from core.ai.transcription import LocalWhisperTranscriber, Transcript  # noqa: E402
from core.ai.transliteration import to_latin  # noqa: E402
from core.media.samples import normalise_words, word_error_rate  # noqa: E402

SPEECH = Path(__file__).resolve().parent.parent / "tests" / "data" / "speech"
FESTIVAL = {
    "hi (morning)": (SPEECH / "festival-hi-morning.ogg", "hi"),
    "hi (bakery)": (SPEECH / "festival-hi-bakery.ogg", "bakery"),
    "hinglish": (SPEECH / "festival-hi-hinglish.ogg", "hinglish_festival"),
}

SAMPLES = {
    "en": "Good morning. Today I will tell you why waking up early matters. An early start makes the day "
    "feel longer. You can focus on your work before the emails arrive. Exercise gets a fixed time. "
    "This one habit will change your life.",
    "hi": "नमस्ते दोस्तों। आज मैं आपको बताऊंगा कि सुबह जल्दी उठना क्यों ज़रूरी है। जल्दी उठने से दिन लंबा "
    "लगता है। आप अपने काम पर ध्यान दे सकते हैं। व्यायाम करने का समय मिलता है। यह आदत आपकी ज़िंदगी बदल देगी।",
    "hinglish": "दोस्तों, आज हम बात करेंगे कि content creation में consistency क्यों important है। हर हफ्ते एक "
    "post करो। अपने audience से सीधे बात करो। एक content calendar बनाओ और उसको follow करो।",
    "bakery": "आज मैं आपको बताऊँगा कि छोटे बिज़नेस के लिए सोशल मीडिया पर ग्राहक कैसे बनते हैं। सबसे पहली बात, हर दिन एक ही "
    "समय पर पोस्ट कीजिए, क्योंकि ग्राहक आदत से आते हैं। दूसरी बात, अपनी दुकान की असली कहानी दिखाइए, महंगे विज्ञापन की "
    "ज़रूरत नहीं है। जब मैंने अपनी बेकरी की सुबह की वीडियो डालनी शुरू की, तो तीन महीने में ऑर्डर दोगुने हो गए। तीसरी बात, "
    "हर कमेंट का जवाब पहले घंटे में दीजिए, क्योंकि बातचीत से भरोसा बनता है। याद रखिए, सोशल मीडिया पर ग्राहक भरोसे से "
    "बनते हैं, विज्ञापन से नहीं। धन्यवाद दोस्तों।",
    "hinglish_festival": "दोस्तों, आज हम बात करेंगे कि कंटेंट क्रिएशन में कंसिस्टेंसी क्यों इम्पोर्टेन्ट है। हर हफ्ते एक पोस्ट करो, "
    "चाहे छोटा ही क्यों न हो। अपने ऑडियंस से सीधे बात करो और उनके कमेंट्स का जवाब दो। एक कंटेंट कैलेंडर बनाओ और उसको फॉलो करो।",
}
RUNS = [
    ("en", "en-us", 150, "packaged:tiny.en", None),
    ("en", "en-us", 150, "packaged:base", None),
    ("en", "en-us", 150, "auto", None),
    ("hi", "hi", 110, "packaged:base", "hi"),
    ("hinglish", "hi", 110, "packaged:base", "hi"),
]


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Edit distance between the two texts' letters and digits (Latin script, lower case), per reference letter."""
    ref = "".join(normalise_words(to_latin(reference)))
    hyp = "".join(normalise_words(to_latin(hypothesis)))
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / max(1, len(ref))


def _row(sample: str, voice: str, model: str, text: str, heard: Transcript, seconds: float, baseline: float) -> str:
    wer = word_error_rate(normalise_words(to_latin(text)), normalise_words(to_latin(heard.text)))
    cer = character_error_rate(text, heard.text)
    return (
        f"| {sample} | {voice} | {model} | {heard.language} | {wer:.0%} | {cer:.0%} | {seconds:.1f} | "
        f"{wer / baseline:.1f}x |"
    )


def main() -> None:
    print("| sample | voice | model | language heard | WER | CER | seconds | WER vs tiny.en English |")
    print("|---|---|---|---|---|---|---|---|")
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
        shown = f"{model}, WHISPER_LANGUAGE={language}" if language else transcript.model
        print(_row(sample, f"eSpeak NG {voice}", shown, text, transcript, seconds, baseline))
    for sample, (path, key) in FESTIVAL.items():
        for hint in (None, "hi"):
            transcriber = LocalWhisperTranscriber("auto")
            started = time.perf_counter()
            transcript = asyncio.run(transcriber.transcribe(path, language_hint=hint))
            seconds = time.perf_counter() - started
            shown = f"{transcript.model}" + (f", hint {hint}" if hint else "")
            print(_row(sample, "Festival hi (recorded)", shown, SAMPLES[key], transcript, seconds, baseline or 0.01))


if __name__ == "__main__":
    main()
