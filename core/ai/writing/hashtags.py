"""Hashtags, one owner for making, normalising and ranking them: the brand's library tags related to the
content (`library_hashtags`, for the draft request) and the tags a draft carries (`rank_hashtags`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.ai import lexicon, nlp
from core.ai.writing.ports import DraftRequest


def hashtag(phrase: str) -> str:
    """'personal brand' -> '#PersonalBrand'; strips '#' and punctuation; '' when nothing is left."""
    words = re.findall(r"[A-Za-z0-9]+", phrase.replace("'", ""))
    if not words:
        return ""
    body = "".join(w if not w.islower() else w[0].upper() + w[1:] for w in words)
    return "#" + body


@dataclass(frozen=True)
class LibraryTag:
    """A hashtag from the library: the user's own (`own`) or the starter set's, with its performance score."""

    name: str
    own: bool
    performance: float = 0.0


def library_hashtags(library: Sequence[LibraryTag], keywords: Sequence[str], limit: int = 12) -> list[str]:
    """Tags made from the content's own first six keywords, then the library tags ranked by overlap with the
    keywords (the user's own before the starter set, then by performance); library tags unrelated to the
    content are left out, since generic reach tags would read as spam. Lower case, without '#'."""
    terms = {re.sub(r"[^a-z0-9]", "", k.lower()) for k in keywords}
    words = {w for k in keywords for w in re.findall(r"[a-z0-9]+", k.lower()) if len(w) > 2}

    def score(tag: LibraryTag) -> tuple[int, int, float, str]:
        name = tag.name.lower()
        overlap = sum(1 for w in words if w in name) + (3 if name in terms else 0)
        return (-overlap, 0 if tag.own else 1, -tag.performance, name)

    ranked = [tag for tag in sorted(library, key=score) if score(tag)[0] < 0]
    # The content's own keywords make tags only as `rank_hashtags` lets them: a phrase or a name, or a single
    # word rare in English in all its forms ('#posts' and '#conversations' say nothing a reader can follow).
    own = [
        re.sub(r"[^a-z0-9]", "", k.lower())
        for k in keywords[:6]
        if " " in k.strip() or not k.islower() or max(nlp.zipf(k), nlp.zipf(nlp.stem(k))) <= 4.0
    ]
    tags: list[str] = []
    for tag in [t for t in own if 3 <= len(t) <= 30] + [r.name.lower() for r in ranked]:
        if tag not in tags:
            tags.append(tag)
    return tags[:limit]


def normalize_hashtags(tags: Sequence[str]) -> list[str]:
    """'#growth', 'growth', '##growth' -> '#growth' once (case kept); phrases become CamelCase tags."""
    out: list[str] = []
    for raw in tags:
        body = raw.strip().lstrip("#").strip()
        tag = hashtag(body) if " " in body else "#" + re.sub(r"[^A-Za-z0-9_]", "", body)
        if len(tag) > 1:
            out.append(tag)
    return nlp.unique(out)


def rank_hashtags(request: DraftRequest, limit: int) -> list[str]:
    """Library hashtags that match the content's keywords first, then tags made from topics and keywords,
    then the remaining library hashtags, in the library's order."""
    if limit <= 0:
        return []
    library = normalize_hashtags(request.hashtags)
    # Key phrases and names make hashtags; a single everyday word ('#Thank', '#work') or a Hindi function word
    # never does. Less common single keywords ('hydration') fill up to the limit after the phrases.
    keywords = request.analysis.keywords[:10]
    specific = [k for k in keywords if " " in k or not k.islower()]
    # A single word is a hashtag only when it is rare in English in all its forms ('hydration', not 'rounds').
    rare = [k for k in keywords if " " not in k and k.islower() and max(nlp.zipf(k), nlp.zipf(nlp.stem(k))) <= 4.0]
    candidates = [*request.analysis.topics, *specific, *rare]
    derived = normalize_hashtags(
        [
            hashtag(t)
            for t in candidates
            if not (" " not in t.strip() and nlp.generic_word(t))
            and not any(w in lexicon.HINGLISH_FUNCTION_WORDS for w in nlp.tokens(t))
        ]
    )
    terms = {w for k in [*request.analysis.keywords, *request.analysis.topics] for w in nlp.tokens(k)}
    derived_keys = {d.lower() for d in derived}

    def relevant(tag: str) -> bool:
        body = tag[1:].lower()
        return body in derived_keys or any(t in body for t in terms if len(t) > 3) or f"#{body}" in derived_keys

    ranked = [t for t in library if relevant(t)] + derived + [t for t in library if not relevant(t)]
    chosen: list[str] = []
    for tag in nlp.unique(ranked):
        # '#Scope' says nothing '#ScopeCreep' did not: a one-word tag inside a chosen tag is skipped.
        if not re.search(r"[a-z][A-Z]", tag[1:]) and any(tag[1:].lower() in c[1:].lower() for c in chosen):
            continue
        chosen.append(tag)
    return chosen[:limit]
