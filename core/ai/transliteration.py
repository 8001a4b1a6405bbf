"""Devanagari → Latin script as Hinglish is typed ("है" → "hai", "करो" → "karo"), table-driven, no data files.

Why not `indic-transliteration`: its schemes (IAST, ITRANS, HK) write scholarly romanisation ("hai" as
"hai", but "करेंगे" as "kareṃge"/"kareMge") that no creator types; a 60-entry table gives the chat spelling."""

from __future__ import annotations

import re

_VOWELS = {
    "अ": "a", "आ": "aa", "इ": "i", "ई": "ee", "उ": "u", "ऊ": "oo", "ऋ": "ri", "ए": "e", "ऐ": "ai",
    "ओ": "o", "औ": "au", "ऑ": "o",
}  # fmt: skip
_SIGNS = {
    "ा": "aa", "ि": "i", "ी": "ee", "ु": "u", "ू": "oo", "ृ": "ri", "े": "e", "ै": "ai", "ो": "o",
    "ौ": "au", "ॉ": "o",
}  # fmt: skip
_CONSONANTS = {
    "क": "k", "ख": "kh", "ग": "g", "घ": "gh", "ङ": "n", "च": "ch", "छ": "chh", "ज": "j", "झ": "jh",
    "ञ": "n", "ट": "t", "ठ": "th", "ड": "d", "ढ": "dh", "ण": "n", "त": "t", "थ": "th", "द": "d",
    "ध": "dh", "न": "n", "प": "p", "फ": "f", "ब": "b", "भ": "bh", "म": "m", "य": "y", "र": "r",
    "ल": "l", "व": "v", "श": "sh", "ष": "sh", "स": "s", "ह": "h", "ळ": "l",
}  # fmt: skip
_NUKTA_FORMS = {"क़": "q", "ख़": "kh", "ग़": "gh", "ज़": "z", "ड़": "d", "ढ़": "dh", "फ़": "f"}
_VIRAMA, _NUKTA, _ANUSVARA, _CHANDRABINDU, _VISARGA = "्", "़", "ं", "ँ", "ः"
_DIGITS = {chr(0x0966 + n): str(n) for n in range(10)}
DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_WORD = re.compile(r"[\u0900-\u097F]+")
_COMMON = {  # fmt: skip
    "है": "hai",
    "हैं": "hain",
    "में": "mein",
    "मैं": "main",
    "नहीं": "nahi",
    "यह": "yeh",
    "वह": "woh",
    "की": "ki",
    "के": "ke",
    "का": "ka",
    "को": "ko",
    "से": "se",
    "पर": "par",
    "और": "aur",
    "भी": "bhi",
    "ही": "hi",
    "तो": "toh",
    "क्योंकि": "kyunki",
    "लिए": "liye",
    "सबसे": "sabse",
    "पहले": "pehle",
    "पहली": "pehli",
    "दूसरी": "doosri",
    "तीसरी": "teesri",
    "कीजिए": "kijiye",
    "दीजिए": "dijiye",
    "अपनी": "apni",
    "अपने": "apne",
    "अपना": "apna",
    "आपको": "aapko",
    "हम": "hum",
}
# English words Hindi speakers use, as they are written in Latin script ('सोशल मीडिया' is 'social media',
# not 'soshal meediya').
_LOANWORDS = {
    "सोशल": "social",
    "मीडिया": "media",
    "बिज़नेस": "business",
    "बिजनेस": "business",
    "वीडियो": "video",
    "पोस्ट": "post",
    "पोस्ट्स": "posts",
    "कमेंट": "comment",
    "कमेंट्स": "comments",
    "फॉलोअर्स": "followers",
    "फॉलोवर्स": "followers",
    "ऑर्डर": "order",
    "ऑर्डर्स": "orders",
    "बेकरी": "bakery",
    "कंटेंट": "content",
    "ब्रांड": "brand",
    "मार्केटिंग": "marketing",
    "ऑनलाइन": "online",
    "इंस्टाग्राम": "Instagram",
    "लिंक्डइन": "LinkedIn",
    "यूट्यूब": "YouTube",
    "चैनल": "channel",
    "क्लाइंट": "client",
    "क्लाइंट्स": "clients",
    "प्राइस": "price",
    "टिप्स": "tips",
    "रील": "reel",
    "रील्स": "reels",
    "ऐप": "app",
    "वेबसाइट": "website",
    "ईमेल": "email",
    "डिजिटल": "digital",
    "स्टार्टअप": "startup",
    "फाउंडर": "founder",
    "प्रोडक्ट": "product",
    "कस्टमर": "customer",
    "कस्टमर्स": "customers",
    "सेल्स": "sales",
    "टीम": "team",
    "प्लान": "plan",
}


def _word(word: str) -> str:
    if word in _COMMON:
        return _COMMON[word]
    if word in _LOANWORDS:
        return _LOANWORDS[word]
    return spelled(word)


def loanwords() -> dict[str, str]:
    """The English words Hindi speakers use: Devanagari spelling → how it is typed ('कंटेंट' → 'content')."""
    return dict(_LOANWORDS)


def word_in_latin(word: str) -> str:
    """One Devanagari word in chat spelling, as `to_latin` writes it inside a sentence (no capital)."""
    return _word(word)


def spelled(word: str) -> str:  # noqa: PLR0912 - one branch per kind of Devanagari sign
    """One Devanagari word letter by letter, without the chat-spelling tables ('कंटेंट' → 'kantent', 'है' →
    'hai'): how a listener who does not know the word would write what they heard."""
    out: list[str] = []
    pending_a = False  # a consonant waiting for its inherent 'a'
    i = 0
    while i < len(word):
        ch = word[i]
        nxt = word[i + 1] if i + 1 < len(word) else ""
        if ch in _CONSONANTS or ch in _NUKTA_FORMS:
            if pending_a:
                out.append("a")
            if nxt == _NUKTA:
                out.append(_NUKTA_FORMS.get(ch + _NUKTA, _CONSONANTS.get(ch, "")))
                i += 1
            else:
                out.append(_NUKTA_FORMS.get(ch) or _CONSONANTS[ch])
            pending_a = True
        elif ch in _SIGNS:
            out.append(_SIGNS[ch])
            pending_a = False
        elif ch == _VIRAMA:
            pending_a = False
        elif ch in (_ANUSVARA, _CHANDRABINDU):
            if pending_a:
                out.append("a")
            pending_a = False
            out.append("n")
        elif ch in _VOWELS:
            if pending_a:
                out.append("a")
            pending_a = False
            out.append(_VOWELS[ch])
        elif ch == _VISARGA:
            pending_a = False
            out.append("h")
        elif ch in _DIGITS:
            out.append(_DIGITS[ch])
        i += 1
    # Hindi drops the final inherent vowel ("काम" → "kaam"), and one-consonant words keep it ("न" → "na").
    if pending_a and len(out) == 1:
        out.append("a")
    latin = "".join(out)
    # Chat spelling shortens a final long vowel: "बताऊंगा" → "bataaoonga", "ज़रूरी" → "zaroori".
    return re.sub(r"aa$", "a", re.sub(r"ee$", "i", latin)) if len(latin) > 3 else latin


def to_latin(text: str) -> str:
    """Every Devanagari word in `text` in Latin letters; '।' becomes '.', Latin text is left as it is."""
    if not has_devanagari(text):
        return text
    text = _WORD.sub(lambda m: _word(m.group()), text.replace("॥", ".").replace("।", "."))
    # Devanagari has no capitals: a sentence that started on a Hindi word starts lower-case in Latin.
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def has_devanagari(text: str) -> bool:
    return DEVANAGARI.search(text) is not None


_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def is_hinglish(text: str) -> bool:
    """Devanagari speech with English words mixed in (at least 15% of the words in Latin letters)."""
    devanagari = len(_WORD.findall(text))
    latin = len(_LATIN_WORD.findall(text))
    return devanagari > 0 and latin / (devanagari + latin) >= 0.15
