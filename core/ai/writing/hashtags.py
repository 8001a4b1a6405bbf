"""Hashtags: normalising them and ranking the ones a draft carries."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.ai import lexicon, nlp
from core.ai.writing.ports import (
    DraftRequest,
)


def normalize_hashtags(tags: Sequence[str]) -> list[str]:
    """'#growth', 'growth', '##growth' -> '#growth' once (case kept); phrases become CamelCase tags."""
    out: list[str] = []
    for raw in tags:
        body = raw.strip().lstrip("#").strip()
        tag = nlp.hashtag(body) if " " in body else "#" + re.sub(r"[^A-Za-z0-9_]", "", body)
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
            nlp.hashtag(t)
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
