"""Experiment: run-together Romanised Hindi split back into words, offline and deterministic. Not wired into
the product (see below); bench/languages.py measures it.

With Urdu script suppressed, Whisper base writes Hindi speech in Latin letters but often runs words together
and keeps every consonant's inherent vowel: 'हर हफ्ते एक पोस्ट करो' comes out as 'Harahafte ekapustakaro'.
A token `core.ai.nlp.unknown_romanised_words` flags (neither English nor, by its consonants, a common Hindi
word) is split by dynamic programming over its letters into pieces that sound like common Hindi words
(wordfreq's 'hi' list, written in chat spelling by `core.ai.transliteration`), and each piece is written the
way the matched word is typed: 'ekapustakaro' → 'ek post karo'. A piece may stay as heard when nothing
matches ('m aapko'); a token no split explains better than as heard is left as it is.

Measured (bench/languages.py, Festival's recorded Hindi voice): the word error rate of the three committed
talks goes 72/95/91% → 70/93/73% (mean 86% → 78%), of two talks it was not tuned on 98/86% → 100/74%;
keeping the heard letters cut at the same places makes it worse (78/106/95%: 'samaya' is not 'samay').
Why it is not in the transcriber: the split pieces are all dictionary words, so the quality score's
unreadable-sentence check (`nlp.unknown_romanised_words`) no longer sees that a sentence is garbled: drafts
of the same talks scored 57-79 before and 80-100 after, while still printing 'kaansy stem see kyon in
petent i' for 'कंसिस्टेंसी क्यों इम्पोर्टेन्ट है'."""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.ai import nlp  # noqa: E402
from core.ai.transcription import Segment, Word  # noqa: E402
from core.ai.transliteration import loanwords, spelled, word_in_latin  # noqa: E402
from core.media.samples import edit_distance  # noqa: E402

PIECE_COST = 3.0
"""Added per piece, so that a split needs its pieces to be likelier than the extra words."""
HEARD_LETTER_COST = 2.5
"""Per letter of a stretch that matches no word and is kept as heard."""
EDIT_COST = 3.0
"""Per letter by which a piece differs from the word it is taken for (after `_sound`)."""
MIN_ZIPF = 3.0
"""Words rarer than this (wordfreq's Zipf scale: about one per million words) are not split out."""
SHORT_MIN_ZIPF = 5.0
"""A piece of one or two sounds ('ka', 'aaj') must be a very common word: short pieces match too easily."""
_LONGEST_PIECE = 14
_TOKEN = re.compile(r"(?<![\w'’])[A-Za-z]{4,}(?![\w'’])")


def _sound(word: str) -> str:
    """A Latin-script Hindi word reduced to how it sounds, so heard and typed spellings meet: long vowels and
    doubled letters single, no final inherent 'a' ('samaya' → 'samay'), 'm' before a consonant or at the end
    as the nasal 'n' Whisper writes it for ('karemge' → 'karenge', 'kyom' → 'kyon')."""
    w = word.lower().replace("w", "v").replace("ee", "i").replace("oo", "u")
    w = w.replace("z", "j").replace("q", "k").replace("c", "k")
    w = re.sub(r"(.)\1+", r"\1", w)
    if len(w) > 2 and re.search(r"[^aeiou]a$", w):
        w = w[:-1]
    return re.sub(r"m(?=[^aeiouy]|$)", "n", w)


@functools.cache
def _lexicon() -> dict[str, dict[tuple[str, str], float]]:
    """Consonant skeleton → {(sound, chat spelling): Zipf frequency} for the 20,000 commonest Hindi words and
    the loanword table. Each word is entered by its chat spelling and by its letter-by-letter spelling, which
    is how Whisper writes a loanword it does not know ('कंटेंट': 'kantent' as well as 'content')."""
    from wordfreq import top_n_list, zipf_frequency

    lexicon: dict[str, dict[tuple[str, str], float]] = {}

    def add(heard: str, written: str, frequency: float) -> None:
        if not re.fullmatch(r"[a-z]+", heard):
            return
        sound = _sound(heard)
        entries = lexicon.setdefault(nlp._skeleton(sound), {})
        entries[(sound, written)] = max(frequency, entries.get((sound, written), 0.0))

    for word in top_n_list("hi", 20000):
        frequency = zipf_frequency(word, "hi")
        if frequency < MIN_ZIPF:
            continue
        written = word_in_latin(word)
        add(written.lower(), written, frequency)
        add(spelled(word), written, frequency)
    for word, written in loanwords().items():
        add(spelled(word), written, max(MIN_ZIPF, zipf_frequency(word, "hi")))
    return lexicon


@functools.lru_cache(maxsize=65536)
def _closest(piece: str) -> tuple[float, str] | None:
    """(cost, chat spelling) of the word `piece` is best taken for, or None: a word with the same consonants
    whose sound differs by at most one letter (two from six sounds on), the cost rising with rarity."""
    sound = _sound(piece)
    skeleton = nlp._skeleton(sound)
    if not skeleton:
        return None
    short = len(sound) < 3
    allowed = 0 if short else 1 if len(sound) < 6 else 2
    best: tuple[float, str] | None = None
    for (candidate, written), frequency in _lexicon().get(skeleton, {}).items():
        if short and frequency < SHORT_MIN_ZIPF:
            continue
        distance = edit_distance(sound, candidate)
        if distance > allowed:
            continue
        cost = (8.0 - frequency) + EDIT_COST * distance
        if best is None or cost < best[0]:
            best = (cost, written)
    return best


def split_run_together(token: str, *, as_heard: bool = False) -> list[str]:
    """`token` as the words it runs together, in chat spelling (['ek', 'post', 'karo'] for 'ekapustakaro'),
    or with ``as_heard`` its own letters cut at the same places (['eka', 'pusta', 'karo']); [token] when it
    is not a flagged word or no split explains it (one piece: a respelling, not made)."""
    letters = token.lower()
    if nlp.unknown_romanised_words(letters) != [letters] or nlp.unknown_words(letters) != [letters]:
        return [token]  # a known word, English behind a prefix ('undercharge') included
    n = len(letters)
    # best[j]: (cost, pieces) for letters[:j]; a piece is (heard letters, written word or None if unmatched)
    best: list[tuple[float, list[tuple[str, str | None]]] | None] = [(0.0, [])] + [None] * n
    for j in range(1, n + 1):
        for i in range(max(0, j - _LONGEST_PIECE), j):
            before = best[i]
            if before is None:
                continue
            heard = letters[i:j]
            match = _closest(heard)
            if match is not None:
                cost = before[0] + match[0] + PIECE_COST
                current = best[j]
                if current is None or cost < current[0]:
                    best[j] = (cost, [*before[1], (heard, match[1])])
            if before[1] and before[1][-1][1] is None:
                continue  # two unmatched stretches in a row are one longer one
            cost = before[0] + HEARD_LETTER_COST * len(heard) + PIECE_COST
            current = best[j]
            if current is None or cost < current[0]:
                best[j] = (cost, [*before[1], (heard, None)])
    final = best[n]
    if final is None or len(final[1]) < 2:
        return [token]
    words = [heard if as_heard else written or heard for heard, written in final[1]]
    if token[:1].isupper():
        words[0] = words[0][:1].upper() + words[0][1:]
    return words


def repair_run_together(text: str, *, as_heard: bool = False) -> str:
    """Every run-together Romanised Hindi word in `text` split into its words (`split_run_together`); the
    rest of the text, typed Hinglish and English included, is left exactly as it is."""
    return _TOKEN.sub(lambda m: " ".join(split_run_together(m.group(), as_heard=as_heard)), text)


def split_run_together_words(segment: Segment, *, as_heard: bool = False) -> Segment:
    """`segment` with its run-together words split, in its text and in its words: a split word's pieces share
    its time by their letters and keep its probability, so captions and the text would say the same."""
    words: list[Word] = []
    for word in segment.words:
        pieces = repair_run_together(word.text, as_heard=as_heard).split()
        if len(pieces) < 2:
            words.append(word)
            continue
        letters = sum(len(p) for p in pieces)
        start = word.start
        for i, piece in enumerate(pieces):
            end = word.end if i == len(pieces) - 1 else start + (word.end - word.start) * len(piece) / letters
            words.append(Word(text=piece, start=round(start, 3), end=round(end, 3), probability=word.probability))
            start = end
    text = repair_run_together(segment.text, as_heard=as_heard)
    return Segment(text=text, start=segment.start, end=segment.end, words=words)
