"""Word and character error rates of the packaged offline Whisper models, by language and voice.

    .venv/bin/python bench/languages.py

English is read by eSpeak NG's en-us voice and transcribed by tiny.en (the baseline) and base; Hindi and
Hinglish by eSpeak NG's hi voice (synthesised at run time, cached in $TMPDIR/recast-bench-speech) and by
Festival's recorded Hindi diphone voice (tests/data/speech, committed), transcribed as `auto` would (base
detects among English and Hindi; `hint` = the creator's /settings language). Hindi/Hinglish are compared in
Latin script (core.ai.transliteration), so 'content' heard as 'कंटेंट' is not an error; the character error
rate (spaces and punctuation removed) shows how much of the sound was heard when the words run together.

Every Hindi transcript is measured as heard and after bench/romanised.py (an experiment, not in the product)
splits its run-together words: written in chat spelling ("after repair") and as the heard letters cut at the
same places. Festival's voice also reads two talks the splitter was not tuned on ("held out"), synthesised
at run time when `text2wave` and the `festvox-hi-nsk` voice are installed (cached like eSpeak's). The draft
quality column is the lowest-highest score of the offline drafts (one per format) of the transcript as heard
and after repair: the split pieces are dictionary words, so the score's unreadable-sentence check stops
seeing a garbled talk."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.romanised import split_run_together_words  # noqa: E402
from bench.spoken import CACHE, speak  # noqa: E402
from core.ai.analysis.offline_analyser import analyse_offline  # noqa: E402
from core.ai.transcription import LocalWhisperTranscriber, Transcript  # noqa: E402
from core.ai.transliteration import to_latin  # noqa: E402
from core.ai.writing.offline_writer import write_offline  # noqa: E402
from core.ai.writing.ports import OUTPUT_FORMATS, BrandVoice, DraftRequest  # noqa: E402
from core.ai.writing.quality import quality_report  # noqa: E402
from core.media.samples import edit_distance, normalise_words, word_error_rate  # noqa: E402

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
HELD_OUT = {
    "hi (savings, held out)": "नमस्ते दोस्तों। आज हम पैसे बचाने की बात करेंगे। हर महीने अपनी कमाई का एक हिस्सा अलग रखिए। "
    "पहले बचत कीजिए, फिर खर्च कीजिए। छोटी छोटी बचत से बड़ा फर्क पड़ता है। अगले हफ्ते मैं आपको निवेश के बारे में बताऊंगा।",
    "hi (exams, held out)": "बच्चों, परीक्षा से पहले घबराना नहीं चाहिए। हर दिन थोड़ा थोड़ा पढ़ो और समय पर सो जाओ। जो समझ में "
    "नहीं आता, वह अपने शिक्षक से पूछो। अच्छी नींद और सही खाना भी बहुत ज़रूरी है। मेहनत करोगे तो ज़रूर सफल होगे।",
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
    return edit_distance(ref, hyp) / max(1, len(ref))


def festival_speak(text: str) -> Path | None:
    """A WAV of Festival's recorded Hindi voice reading ``text`` sentence by sentence, 0.4 s of silence after
    each (as tests/data/speech/README.md made the committed files); None without Festival's Hindi voice."""
    if shutil.which("text2wave") is None:
        return None
    path = CACHE / f"festival-{hashlib.sha256(text.encode()).hexdigest()[:16]}.wav"
    if path.is_file():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    voice = "(begin (voice_hindi_NSK_diphone) (Parameter.set 'Int_Method 'Default))"
    with tempfile.TemporaryDirectory() as work, wave.open(str(path.with_suffix(".tmp")), "wb") as out:
        for i, sentence in enumerate(s.strip() + "।" for s in text.split("।") if s.strip()):
            source, spoken = Path(work) / f"{i}.txt", Path(work) / f"{i}.wav"
            source.write_text(sentence)
            done = subprocess.run(["text2wave", "-eval", voice, str(source), "-o", str(spoken)], check=False)
            if done.returncode != 0 or not spoken.is_file():
                return None
            with wave.open(str(spoken)) as read:
                if i == 0:
                    out.setparams(read.getparams())
                out.writeframes(read.readframes(read.getnframes()))
                out.writeframes(b"\0" * round(0.4 * read.getframerate()) * read.getsampwidth())
    path.with_suffix(".tmp").replace(path)
    return path


def split(heard: Transcript, *, as_heard: bool = False) -> Transcript:
    """`heard` with its run-together Hindi words split (bench/romanised.py)."""
    segments = [split_run_together_words(s, as_heard=as_heard) for s in heard.segments]
    return replace(heard, segments=segments, text=" ".join(s.text for s in segments if s.text))


def error_rates(text: str, heard: Transcript) -> tuple[float, float, float]:
    """(WER as heard, WER split in chat spelling, WER split as heard) of `heard` against the talk's `text`;
    the split ones equal the first for a transcript in another language than Hindi."""
    reference = normalise_words(to_latin(text))
    rates = [word_error_rate(reference, normalise_words(to_latin(heard.text)))]
    for as_heard in (False, True):
        repaired = split(heard, as_heard=as_heard) if heard.language == "hi" else heard
        rates.append(word_error_rate(reference, normalise_words(to_latin(repaired.text))))
    return rates[0], rates[1], rates[2]


def draft_scores(text: str) -> str:
    """The lowest and highest quality score (core.ai.writing.quality) of the offline drafts of a Hindi talk,
    one per format: what the creator is told about drafts made from this transcript."""
    latin = to_latin(text)
    analysis = analyse_offline(latin, language="hi-Latn")
    scores = [
        quality_report(f, write_offline(request).content_text, analysis, transcript=latin).score
        for f in OUTPUT_FORMATS
        if (request := DraftRequest(output_format=f, transcript=latin, analysis=analysis, brand=BrandVoice(name="X")))
    ]
    return f"{min(scores)}-{max(scores)}"


def _row(sample: str, voice: str, model: str, text: str, heard: Transcript, seconds: float, baseline: float) -> str:
    wer, chat, letters = error_rates(text, heard)
    cer = character_error_rate(text, heard.text)
    hindi = heard.language == "hi" and heard.text.strip()
    scores = f"{draft_scores(heard.text)} → {draft_scores(split(heard).text)}" if hindi else "-"
    return (
        f"| {sample} | {voice} | {model} | {heard.language} | {wer:.0%} | {chat:.0%} | {letters:.0%} | {cer:.0%} | "
        f"{scores} | {seconds:.1f} | {wer / baseline:.1f}x |"
    )


def main() -> None:
    print(
        "| sample | voice | model | language heard | WER | WER after repair | WER split as heard | CER "
        "| draft quality, as heard → after repair | seconds | WER vs tiny.en English |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
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
    for sample, text in HELD_OUT.items():
        if (held := festival_speak(text)) is None:
            print(f"| {sample} | Festival hi (synthesised) | - | - | no text2wave / festvox-hi-nsk | | | | | | |")
            continue
        started = time.perf_counter()
        transcript = asyncio.run(LocalWhisperTranscriber("auto").transcribe(held))
        seconds = time.perf_counter() - started
        voice = "Festival hi (synthesised)"
        print(_row(sample, voice, transcript.model, text, transcript, seconds, baseline or 0.01))


if __name__ == "__main__":
    main()
