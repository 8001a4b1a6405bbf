"""Small, deterministic text utilities shared by the offline analyser and writer (word lists: `lexicon`).

Everything here is pure Python and data: no downloads, no randomness, no model weights.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Iterable, Sequence

from core.ai.lexicon import (
    BACK_REFERENCES,
    HINGLISH_FUNCTION_WORDS,
    KNOWN_LOCATIONS,
    KNOWN_ORGS,
    STOP_WORDS,
    TALK_WORDS,
)

WORDS_PER_SECOND = 2.5  # ~150 spoken words per minute, a typical talk pace

_ABBREVIATIONS = ("mr.", "mrs.", "ms.", "dr.", "prof.", "e.g.", "i.e.", "etc.", "vs.", "st.", "no.", "u.s.")
_SENTENCE_BOUNDARY = re.compile(r"(?<=[.!?])[\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*[-•*])")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]|\d+(?:[.,]\d+)*%?")
_EMOJI = re.compile("[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\U00002b50\U00002705\U0000203c]")
_FILLER_PREFIX = re.compile(
    r"^(?:(?:so|um+|uh+|okay|ok|well|now|and|like|basically|honestly|look|right|see)\s*,?\s+)+",
    re.IGNORECASE,
)
# 'you know' and 'I mean' are fillers only between commas ("it was, you know, hard"); um/uh always.
_FILLER_INLINE = re.compile(r",\s*(?:you know|i mean),|\s*\b(?:um+|uh+)\b,?", re.IGNORECASE)


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences on terminal punctuation, blank lines and bullets; keeps abbreviations."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        return []
    pieces = _SENTENCE_BOUNDARY.split(text)
    sentences: list[str] = []
    for raw in pieces:
        piece = " ".join(raw.split())
        if not piece:
            continue
        if sentences and sentences[-1].lower().rsplit(" ", 1)[-1].lstrip("(\"'“‘") in _ABBREVIATIONS:
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def tokens(text: str) -> list[str]:
    """Lower-cased word and number tokens; curly apostrophes normalised."""
    return [t.lower().replace("’", "'") for t in _TOKEN.findall(text)]


def surface_tokens(text: str) -> list[str]:
    """Word and number tokens with their original casing."""
    return [t.replace("’", "'") for t in _TOKEN.findall(text)]


def word_count(text: str) -> int:
    return len(_TOKEN.findall(text))


def stem(word: str) -> str:
    """A tiny plural stemmer so that 'posts' and 'post' count as one keyword."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "'s")):
        return word[:-1]
    return word


def is_content_word(token: str) -> bool:
    return len(token) > 2 and token not in STOP_WORDS and not token.isdigit() and not token.endswith("%")


def count_emojis(text: str) -> int:
    return len(_EMOJI.findall(text))


def strip_emojis(text: str) -> str:
    return " ".join(_EMOJI.sub("", text).split())


def clean_spoken(sentence: str) -> str:
    """Lightly rewrite a spoken sentence for print: drop fillers, fix capitalisation and end punctuation."""
    text = _FILLER_INLINE.sub("", sentence)
    text = _FILLER_PREFIX.sub("", text.strip())
    text = re.sub(r"\s+([,.!?;:])", r"\1", " ".join(text.split()))
    text = re.sub(r"^[,;:\-\s]+", "", text)
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    if text[-1] not in ".!?":
        text += "."
    return text


def stable_index(key: str, variant: int, size: int) -> int:
    """Deterministic choice among `size` options: a CRC of the key shifted by the variant counter."""
    if size <= 0:
        return 0
    return (zlib.crc32(key.encode("utf-8")) + variant) % size


def shorten(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters at a word boundary, ending with an ellipsis when cut."""
    text = " ".join(text.split()) if "\n" not in text else text.strip()
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:-") + "…"


def title_case(phrase: str) -> str:
    """Capitalise lower-case words only, so 'LinkedIn' and 'AI' keep their casing."""
    small = {"a", "an", "and", "of", "on", "in", "to", "for", "the", "or", "vs", "with"}
    words = phrase.split()
    out: list[str] = []
    for i, word in enumerate(words):
        if word.islower() and (i == 0 or word not in small):
            out.append(word[0].upper() + word[1:])
        else:
            out.append(word)
    return " ".join(out)


def unique(items: Iterable[str]) -> list[str]:
    """Keep first occurrences, comparing case-insensitively."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        key = item.lower()
        if item and key not in seen:
            seen.add(key)
            out.append(item)
    return out


# --------------------------------------------------------------------------------------------------
# Written-text repair: the talk's frame, transcription debris and sentence fragments
# --------------------------------------------------------------------------------------------------

# The talk's frame: greetings, thanks, housekeeping and sign-offs. A sentence holding one of these is about
# the occasion, not the subject, and never becomes a hook, bullet, takeaway or blog paragraph.
_FRAME = re.compile(
    r"\b(?:good (?:morning|afternoon|evening|night)|(?:hi|hello|hey) (?:everyone|everybody|all|guys|friends|there)"
    r"|welcome (?:back|to|everyone|everybody|all)|namaste|thank(?:s| you)(?: so much| all| again| everyone)?"
    r"(?: for (?:coming|having|watching|listening|being here|joining|inviting|tuning))?(?:[,.!]|$)"
    r"|thank(?:s| you)(?: so much| all)? for (?:coming|having|watching|listening|being here|joining)"
    r"|(?:it's|it is) an? (?:honou?r|pleasure|privilege)|for having me|for being here|great to be here"
    r"|see you (?:next time|soon|all|in the next)|have a (?:great|good|lovely|wonderful) (?:night|day|evening|week)"
    r"|enjoy the rest of|that'?s (?:it|all)(?: from me| for today| for now)?[,.!]|you'?ve been a (?:great|wonderful)"
    r"|happy (?:baking|coding|cooking|writing|learning)[,.! ]|(?:like|subscribe|share) (?:karo|kijiye|kar do)"
    r"|milte hain|bas itna hi|don'?t forget to (?:like|subscribe)|hit (?:the )?(?:like|subscribe)"
    r"|dhanya?vaa?d|shukriya|thank you dosto"
    r"|that'?s kind of it|i guess that'?s)",
    re.IGNORECASE,
)
# Talk about the talk: true of the occasion, no use as content ("Let's talk about pricing.").
_META = re.compile(
    r"^(?:(?:so|um|uh|okay|ok|yeah|well|and)[,\s]+)*(?:(?:today|tonight|now|this talk),?\s+)?"
    r"(?:let'?s talk about|let me (?:start|talk|tell)|i (?:guess (?:i )?)?(?:want|wanted|would like|am going|"
    r"'m going) to (?:talk|share|speak|explain|tell)|"
    r"(?:i|we) (?:will |'ll |are going to )?(?:explain|talk about|look at|explore)|aaj hum|"
    r"aaj (?:main|mai|hum|ham) (?:aapko |aapako |aap sabko )?(?:bataa?o?o?n?ga|bataunga|bataenge|bataayenge|"
    r"baat kar(?:enge|unga|oonga)|samjhaa?unga)|"
    r"namaste|the question was|okay,? let me|(?:the |my )?(?:first|second|third|fourth|fifth|next|last|final|"
    r"other) (?:lesson|tip|point|thing|step|rule)s? (?:is|are|was) about\b)",
    re.IGNORECASE,
)
_STUTTER = re.compile(r"\b([A-Za-z']+)(?:[\s,]+\1\b)+", re.IGNORECASE)
_FILLER_ANYWHERE = re.compile(
    r"(?:^|(?<=[\s,]))(?:um+|uh+|erm|you know|i mean|like|basically|honestly|i guess|kind of|sort of|oh yeah|"
    r"yeah|okay|ok|so|well|right|oh)(?=\s*,)\s*,\s*",
    re.IGNORECASE,
)
_OPEN_CLAUSE = re.compile(r"^(?:when|if|because|although|though|while|since|unless|whether|once|as soon as)\b", re.I)
_DANGLING_TAIL = re.compile(r"[\s,;:]+(?:and|but|or|because|which|the|a|an|aur|lekin)$", re.I)
_LEAD_CONJUNCTION = re.compile(r"^(?:and|but|so|or|then|also|plus|aur)\s*,?\s+", re.IGNORECASE)
# A spoken list's ordinal ('First, write for one person'): in print the bullet or the paragraph already says
# it, and picked out of order ('Third, ...' above 'First, ...') it reads wrong. Only with its comma, so
# 'First impressions matter' keeps its word.
_LEAD_ORDINAL = re.compile(
    r"^(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|fourth|fifth|next|finally|lastly|last of all|"
    r"number (?:one|two|three|four|five)|step (?:one|two|three|four|five)|"
    r"(?:sab(?:a)?se )?(?:pehli|pahali|pehla|pahala|doosari|doosri|dusri|teesari|teesri|tisri|aakhiri) baat)\s*,\s+",
    re.IGNORECASE,
)


def is_announcement(sentence: str) -> bool:
    """The speaker naming the subject ('Let's talk about scope creep', 'Today I will explain indexes')."""
    return bool(_META.search(sentence.strip()))


def announced_subject(sentence: str) -> str:
    """What an announcement names: the first clause with words in it after 'let's talk about', 'I want to
    share', ... ('' when the sentence announces nothing)."""
    match = _META.search(sentence.strip())
    if not match:
        return ""
    rest = _FILLER_ANYWHERE.sub("", sentence.strip()[match.end() :] + ",")
    for clause in re.split(r"[,;.!?]|\band\b|\bbecause\b|\bwhich\b|\bwhen\b", rest):
        if any(is_content_word(t) and t not in HINGLISH_FUNCTION_WORDS for t in tokens(clause)):
            lead = clause.split()
            while lead and (lead[0].lower() in STOP_WORDS or lead[0].lower() in HINGLISH_FUNCTION_WORDS):
                lead.pop(0)  # 'about public speaking' -> 'public speaking'
            return " ".join(lead)
    return ""


def is_frame(sentence: str) -> bool:
    """A greeting, thanks, sign-off or talk-about-the-talk line ('Let's talk about pricing.')."""
    text = sentence.strip()
    return bool(_FRAME.search(text) or _META.search(text))


def fragment_reason(sentence: str) -> str | None:  # noqa: PLR0911 - one return per named check, in order
    """Why a printed sentence is not a complete, self-contained sentence, or None when it reads as written.

    Flags ',.'-style endings, a dangling conjunction or article at the end, a stutter ('the the'), a lower-case
    start, a clause that only opens ('When they know ...' with no main clause), lines under three words and
    keyword lists with almost no function words.
    """
    s = sentence.strip()
    if not s:
        return "empty"
    if re.search(r"[,;:]\s*[.!?]$|[,;:]$", s):
        return "broken punctuation"
    if _DANGLING_TAIL.search(s.rstrip(".!?")):
        return "dangling end"
    if _STUTTER.search(s):
        return "repeated word"
    if s[0].islower():
        return "lower-case start"
    toks = tokens(s)
    if len(toks) < 3:
        return "too short"
    if _OPEN_CLAUSE.match(s) and not re.search(r",\s+\w+\s+\w+", s):
        return "clause without a main clause"
    if len(toks) >= 7 and sum(1 for t in toks if t in STOP_WORDS or t in HINGLISH_FUNCTION_WORDS) / len(toks) < 0.08:
        return "a list of words, not a sentence"  # written English runs at 40-50% function words
    return None


def leans_back(sentence: str) -> bool:
    """A sentence that needs the one before it: it opens on a pronoun ('It doubles ...', 'They left ...') or
    its verb's object or subject is one ('Feed it ...', 'When they know ...')."""
    toks = tokens(sentence)
    return bool(toks) and (toks[0] in BACK_REFERENCES or (len(toks) > 1 and toks[1] in {"it", "they", "them"}))


_POINTS_FORWARD = re.compile(
    r"^(?:the|my|our|one|here'?s? (?:the|my))?\s*(?:secret|trick|key|answer|lesson|rule|point|truth|reason|thing)"
    r"\s+(?:is|was)\s+(?:simple|easy|this|obvious|clear)[.:]?$|^here'?s (?:the thing|how|what|why)[.:]?$",
    re.IGNORECASE,
)


def points_forward(sentence: str) -> bool:
    """A teaser that only announces the next sentence ('The secret is simple.', "Here's the thing."): left
    alone when that sentence is said elsewhere, it promises something the paragraph never gives."""
    return bool(_POINTS_FORWARD.match(" ".join(sentence.split())))


def repair_sentence(sentence: str) -> str | None:
    """A spoken sentence made fit for print, or None when it cannot be.

    Drops fillers ('um', 'you know,', 'basically,'), stutters ('the the'), a leading 'And'/'So' or list
    ordinal ('Second, '), trailing ',.' and dangling conjunctions; then capitalises and ends it. Returns None
    for the talk's frame and for what is still a fragment after repair.
    """
    text = " ".join(sentence.split())
    if not text or is_frame(text):
        return None
    text = _STUTTER.sub(r"\1", text)
    text = _FILLER_INLINE.sub("", text)
    previous = None
    while previous != text:
        previous = text
        text = _FILLER_ANYWHERE.sub("", text)
        text = _FILLER_PREFIX.sub("", text.strip())
        text = _LEAD_CONJUNCTION.sub("", text.strip())
        text = _LEAD_ORDINAL.sub("", text.strip())
    text = re.sub(r"\s+([,.!?;:])", r"\1", " ".join(text.split()))
    text = re.sub(r"^[,;:\-\s]+", "", text)
    text = re.sub(r"[\s,;:\-]+([.!?]*)$", r"\1", text)
    end = "?" if text.endswith("?") else "!" if text.endswith("!") else "."
    body = text.rstrip(".!?… ")
    while True:
        trimmed = _DANGLING_TAIL.sub("", body)
        if trimmed == body:
            break
        body = trimmed.rstrip(" ,;:")
    if not body:
        return None
    body = body[0].upper() + body[1:]
    result = body + end
    return None if fragment_reason(result) else result


def generic_word(word: str) -> bool:
    """An everyday English word ('work', 'thank', 'minutes'): Zipf frequency >= 5, i.e. more than ten
    occurrences per million words in wordfreq's English list (shipped in its wheel, no download); or a word
    about the talk itself ('lesson', 'tip')."""
    return word.lower() in TALK_WORDS or zipf(word.lower()) >= 5.0


@functools.lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    from wordfreq import zipf_frequency  # imported lazily: the word list loads on first use

    return float(zipf_frequency(word, "en"))


_PREFIXES = ("under", "over", "re", "un", "pre", "co", "non", "multi", "sub", "anti", "out", "mis", "self")


def unknown_words(sentence: str) -> list[str]:
    """Lower-case English-looking words of four letters or more that wordfreq has never seen, nor as a known
    word behind a common prefix ('undercharge'): in a transcript, usually a slip ('a timely hudge')."""
    out: list[str] = []
    for word in re.findall(r"(?<![\w'’])[a-z]{4,}(?![\w'’])", sentence.replace("-", " ")):
        if zipf(word) > 0:
            continue
        if any(word.startswith(p) and zipf(word[len(p) :]) > 0 for p in _PREFIXES):
            continue
        out.append(word)
    return out


def _skeleton(word: str) -> str:
    """A Romanised Hindi word's consonants without repeats or 'h' ('baat', 'bat', 'baata' → 'bt'): chat
    spellings of one word differ in their vowels and aspiration marks, rarely in their consonants."""
    return re.sub(r"[aeiouyh]", "", re.sub(r"(.)\1+", r"\1", word.lower()))


@functools.cache
def _romanised_hindi() -> frozenset[str]:
    from wordfreq import top_n_list

    from core.ai.transliteration import to_latin

    return frozenset(_skeleton(to_latin(w)) for w in top_n_list("hi", 20000))


def unknown_romanised_words(sentence: str) -> list[str]:
    """`unknown_words` for Hinglish in Latin script: words of four letters or more that are neither English
    (wordfreq) nor, by their consonants, one of the 20,000 commonest Hindi words written in Latin script.
    Whisper base writes Hindi it cannot segment as run-together syllables ('maapakobata' for 'main aapko
    bataunga'); typed Hinglish (the quality set's, the tests') has none."""
    return [
        word
        for word in re.findall(r"(?<![\w'’])[a-z]{4,}(?![\w'’])", sentence.lower().replace("-", " "))
        if zipf(word) <= 0 and _skeleton(word) not in _romanised_hindi()
    ]


def sentence_case_after_colon(label: str, sentence: str, proper: Iterable[str] = ()) -> str:
    """'If you remember one thing:' + 'Most founders ...' -> '... thing: most founders ...' (written
    text does not capitalise mid-sentence); 'I', acronyms and names in `proper` keep their capitals."""
    first = sentence.split(" ", 1)[0].strip(",.;:!?\"'")
    keep = first == "I" or first.startswith("I'") or first.isupper() or first.lower() in {p.lower() for p in proper}
    keep = keep or any(c.isupper() for c in first[1:]) or first.lower() in KNOWN_ORGS | KNOWN_LOCATIONS
    body = sentence if keep or not sentence else sentence[0].lower() + sentence[1:]
    return f"{label} {body}"


def content_overlap(a: str, b: str) -> float:
    """Jaccard overlap of the content-word stems of two lines, 0..1 (0 when either has none)."""
    sa = {stem(t) for t in tokens(a) if is_content_word(t)}
    sb = {stem(t) for t in tokens(b) if is_content_word(t)}
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def unclear_in(sentence: str, unclear: Sequence[str]) -> str | None:
    """The first of the transcriber's unclear words or phrases (`core.ai.transcription.unclear_words`) that
    ``sentence`` holds: a word as one of its tokens, a phrase as its tokens in a row; else None."""
    toks = tokens(sentence)
    if not toks or not unclear:
        return None
    present = set(toks)
    joined = f" {' '.join(toks)} "
    for entry in (e.lower() for e in unclear):
        if (" " in entry and f" {entry} " in joined) or entry in present:
            return entry
    return None


def same_point(a: str, b: str) -> bool:
    """Two lines saying the same thing: content-word Jaccard overlap of at least 0.6."""
    return content_overlap(a, b) >= 0.6
