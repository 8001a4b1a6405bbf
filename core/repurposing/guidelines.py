"""The brand guidelines that can be checked, kept on every writer's draft (offline or a model's).

A model may ignore "sign off with -A" and the offline writer doesn't read it at all, so after writing,
every text draft is post-processed: words the brand avoids are taken out (the sentence that carries one,
hashtags containing one) and the required sign-off ends the draft, as the creator will paste it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.ai import nlp
from core.ai.analysis.results import ContentAnalysisResult
from core.ai.writing.ports import INSTAGRAM_MAX_CHARS, LINKEDIN_MAX_CHARS, TWEET_MAX_CHARS, Draft, OutputFormat
from core.ai.writing.quality import quality_report

_QUOTES = "\"'“”‘’«»"
_END = r"(?=\s*(?:[.;!\n]\s|[.;!]?$|\n|\s+(?:and|but)\s+(?:avoid|never|don'?t|do not|no|use|keep|always)\b))"
_SIGN_OFF = re.compile(
    r"\b(?:sign[- ]?off|sign(?:s|ing)?\s+off|end\s+(?:every|each|all)?\s*(?:posts?|drafts?)?\s*with|"
    r"always\s+end\s+with|close\s+(?:every|each)?\s*(?:posts?)?\s*with)"
    r"(?:\s+(?:with|as|using|by))?\s*[:=]?\s*"
    rf"(?:[{_QUOTES}](?P<quoted>[^{_QUOTES}\n]+)[{_QUOTES}]|(?P<plain>.+?){_END})",
    re.IGNORECASE,
)
_LIST = r"(?P<list>[^.;\n]+)"
_AVOID = [
    re.compile(rf"\b(?:words?|terms?|phrases?)\s+to\s+avoid\b\s*[:\-–—]?\s*{_LIST}", re.IGNORECASE),
    re.compile(
        r"\b(?:avoid(?:\s+using)?|never\s+use|don'?t\s+use|do\s+not\s+use|never\s+say|don'?t\s+say|do\s+not\s+say|"
        r"no|banned?)\s+(?:the\s+|any\s+)?(?:words?|terms?|phrases?)\b(?:\s+like)?\s*[:\-–—]?\s*" + _LIST,
        re.IGNORECASE,
    ),
    re.compile(rf"\b(?:never\s+say|don'?t\s+say|do\s+not\s+say|avoid\s+saying)\s+{_LIST}", re.IGNORECASE),
    re.compile(rf"\bavoid\s+(?P<list>[{_QUOTES}][^.;\n]*)", re.IGNORECASE),
]
_SPLIT = re.compile(r"\s*(?:,|/|&|\band\b|\bor\b)\s*", re.IGNORECASE)
_TWEET_NUMBER = re.compile(r"^\d+/\d+\s+")
_LINE_PREFIX = re.compile(r"^(\s*(?:\d+/\d+\s+|[•*\-–—]\s+|#{1,6}\s+|\d+[.)]\s+)?)")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
_LIMITS: dict[str, int] = {
    "linkedin_post": LINKEDIN_MAX_CHARS,
    "instagram_caption": INSTAGRAM_MAX_CHARS,
}


@dataclass(frozen=True)
class BrandRules:
    """What of a brand's free-text guidelines can be checked on a draft."""

    sign_off: str | None = None
    avoid: tuple[str, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.sign_off or self.avoid)


def parse_guidelines(text: str | None) -> BrandRules:
    """The required sign-off ("sign off with -A", "sign-off: 'Cheers, Asha'") and the words to avoid
    ("avoid the words hustle and synergy", "words to avoid: guru, ninja", "never say 'crushing it'")."""
    if not text or not text.strip():
        return BrandRules()
    sign_off = None
    if found := _SIGN_OFF.search(text):
        sign_off = (found.group("quoted") or found.group("plain") or "").strip().rstrip(".").strip() or None
    avoid: list[str] = []
    for pattern in _AVOID:
        for match in pattern.finditer(text):
            for item in _SPLIT.split(match.group("list")):
                term = item.strip().strip(_QUOTES).strip()
                if term and len(term.split()) <= 4 and term.lower() not in avoid:
                    avoid.append(term.lower())
    return BrandRules(sign_off=sign_off, avoid=tuple(avoid))


def apply_rules(
    draft: Draft,
    *,
    output_format: OutputFormat,
    rules: BrandRules,
    analysis: ContentAnalysisResult,
    transcript: str | None = None,
    unclear_words: Sequence[str] = (),
) -> Draft:
    """The draft with the brand's checkable rules kept; unchanged when the brand has none. The score and its
    reasons are recomputed on the kept text, so "why 62?" explains the number shown."""
    if not rules:
        return draft
    tweets = [str(t) for t in draft.metadata.get("tweets", [])]
    is_thread = output_format == "twitter_thread" and bool(tweets) and draft.content_text == "\n\n".join(tweets)
    same_caption = draft.caption == draft.content_text
    text, caption, title, cta = draft.content_text, draft.caption, draft.title, draft.cta
    hashtags = list(draft.hashtags)
    metadata = dict(draft.metadata)
    if rules.avoid:
        hashtags = [t for t in hashtags if not _mentions(t, rules.avoid)]
        title = _drop_words(title, rules.avoid)
        cta = _drop_words(cta, rules.avoid) or None if cta else cta
        if is_thread:
            tweets = [_drop_sentences(_TWEET_NUMBER.sub("", t), rules.avoid) for t in tweets]
        else:
            text = _drop_sentences(text, rules.avoid) or _drop_words(text, rules.avoid)
        if not same_caption:
            caption = _drop_sentences(caption, rules.avoid) or _drop_words(caption, rules.avoid)
        if isinstance(metadata.get("beats"), list):
            metadata["beats"] = [
                {**b, "text": _drop_words(str(b.get("text", "")), rules.avoid)} if isinstance(b, dict) else b
                for b in metadata["beats"]
            ]
    if is_thread:
        tweets, hashtags = _sign_thread(tweets, hashtags, cta, rules.sign_off)
        metadata["tweets"] = tweets
        text = "\n\n".join(tweets)
    elif rules.sign_off:
        text = _signed(text, hashtags, cta, rules.sign_off, _LIMITS.get(output_format))
        if output_format == "youtube_shorts":
            caption = _signed(caption, [], None, rules.sign_off, None)
    if same_caption:
        caption = text
    metadata["brand_rules"] = {"sign_off": rules.sign_off, "avoided": list(rules.avoid)}
    report = quality_report(output_format, text, analysis, transcript, unclear_words)
    metadata["quality_checks"], metadata["quality_reasons"] = report.checks, report.reasons
    return draft.model_copy(
        update={
            "title": title,
            "content_text": text,
            "caption": caption,
            "hashtags": hashtags,
            "cta": cta,
            "word_count": nlp.word_count(text),
            "quality_score": report.score,
            "metadata": metadata,
        }
    )


# ----------------------------------------------------------------------------------------- internals


def _term_pattern(term: str) -> str:
    # A word and its inflections ("algorithm", "algorithms", "algorithmic"); a phrase word by word.
    return r"\b" + r"\s+".join(re.escape(w) for w in term.split()) + r"[\w'’]*"


def _mentions(tag: str, terms: tuple[str, ...]) -> bool:
    """Whether a hashtag carries an avoided term ("#AlgorithmTips" for "algorithm"); a short term (under
    four letters) only at the tag's start, so "ai" doesn't take "#retail" with it."""
    flat = tag.lstrip("#").lower()
    for term in terms:
        joined = term.replace(" ", "")
        if flat.startswith(joined) or (len(joined) >= 4 and joined in flat):
            return True
    return False


def _drop_words(text: str, terms: tuple[str, ...]) -> str:
    """The text without the terms (and hashtags containing them), spacing tidied."""
    text = re.sub(r"#\w+", lambda tag: "" if _mentions(tag.group(0), terms) else tag.group(0), text)
    for term in terms:
        text = re.sub(_term_pattern(term), "", text, flags=re.IGNORECASE)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"[ \t]+([,.!?;:])", r"\1", text)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip()


def _drop_sentences(text: str, terms: tuple[str, ...]) -> str:
    """The text without the sentences (and hashtags) that carry an avoided term; a line left empty goes,
    and so does a heading ("PAYOFF (0:20-0:27)", "Key lessons:") left with nothing under it."""
    carries = re.compile(_any(terms), re.IGNORECASE)
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = []
        for line in paragraph.split("\n"):
            prefix = _LINE_PREFIX.match(line)
            head = prefix.group(1) if prefix else ""
            rest = line[len(head) :]
            if not rest.strip():
                lines.append(line)  # a bare bullet or number: nothing to check
                continue
            rest = " ".join(w for w in rest.split(" ") if not (w.startswith("#") and _mentions(w, terms)))
            kept = [s for s in _SENTENCE.split(rest) if s.strip() and not carries.search(s)]
            if kept:
                lines.append(head + " ".join(kept))
        original = [line for line in paragraph.split("\n") if line.strip()]
        if len(original) > 1 and lines == original[:1]:
            continue  # only the heading is left
        if any(line.strip() for line in lines):
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs).strip()


def _any(terms: tuple[str, ...]) -> str:
    return "|".join(_term_pattern(t) for t in terms)


def _tag_line(hashtags: list[str]) -> str:
    return " ".join(f"#{t.lstrip('#')}" for t in hashtags)


def _without_sign_off(text: str, sign_off: str | None) -> str:
    """The text without the sign-off wherever a writer put it (its own line, or the end of a line)."""
    if not sign_off:
        return text.strip()
    lines = []
    for line in text.strip().split("\n"):
        stripped = line.rstrip()
        if stripped.strip() == sign_off:
            continue
        if stripped.endswith(" " + sign_off):
            stripped = stripped[: -len(sign_off)].rstrip()
        lines.append(stripped)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _signed(text: str, hashtags: list[str], cta: str | None, sign_off: str, limit: int | None) -> str:
    """Body, the CTA and hashtags if the body lacks them (as they are pasted), then the sign-off, last."""
    body = _without_sign_off(text, sign_off)
    tags = _tag_line(hashtags)
    tail = []
    if tags and body.endswith(tags):
        body, tail = body[: -len(tags)].rstrip(), [tags]  # the CTA goes before the hashtags, as written
    if cta and cta not in body:
        tail.insert(0, cta)
    if tags and tags not in body and tags not in tail:
        tail.append(tags)
    tail.append(sign_off)
    ending = "\n\n".join(tail)
    if limit is not None and len(body) + 2 + len(ending) > limit:
        body = nlp.shorten(body, max(1, limit - 2 - len(ending)))
    return f"{body}\n\n{ending}" if body else ending


def _sign_thread(
    tweets: list[str], hashtags: list[str], cta: str | None, sign_off: str | None
) -> tuple[list[str], list[str]]:
    """Tweets (numbers removed) renumbered, with the CTA and hashtags kept inside the thread and the
    sign-off closing the last tweet. Hashtags that don't fit the last tweet are dropped."""
    parts = [_without_sign_off(_TWEET_NUMBER.sub("", t), sign_off) for t in tweets]
    parts = [p for p in parts if p]
    joined = "\n\n".join(parts)
    if cta and cta not in joined:
        parts.append(cta)
    tags = _tag_line(hashtags)
    room = TWEET_MAX_CHARS - 8  # the "nn/nn " number
    if tags and tags not in joined:
        if parts and len(parts[-1]) + 2 + len(tags) <= room:
            parts[-1] = f"{parts[-1]}\n\n{tags}"
        else:
            hashtags = []
    if sign_off:
        suffix = f"\n\n{sign_off}"
        last = parts[-1] if parts else ""
        if len(last) + len(suffix) > room and tags and last.endswith(tags):
            last, hashtags = last[: -len(tags)].rstrip(), []
        if len(last) + len(suffix) > room:
            last = nlp.shorten(last, max(1, room - len(suffix)))
        if parts:
            parts[-1] = f"{last}{suffix}"
        else:
            parts = [sign_off]
    total = len(parts)
    numbered = [f"{i}/{total} " for i in range(1, total + 1)]
    # A thread one tweet longer may need a longer number: every tweet still fits.
    return [n + nlp.shorten(p, TWEET_MAX_CHARS - len(n)) for n, p in zip(numbered, parts, strict=True)], hashtags
