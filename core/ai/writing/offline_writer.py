"""The offline writer: deterministic template-and-extraction drafts, one builder per platform."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from core.ai import nlp, transliteration
from core.ai.analysis.results import ContentAnalysisResult
from core.ai.analysis.terms import section_phrase
from core.ai.writing.hashtags import rank_hashtags
from core.ai.writing.kit import Kit, build_kit, split_long
from core.ai.writing.ports import (
    INSTAGRAM_MAX_CHARS,
    INSTAGRAM_MAX_HASHTAGS,
    LINKEDIN_MAX_CHARS,
    META_DESCRIPTION_MAX_CHARS,
    SHORTS_MAX_SECONDS,
    SHORTS_MIN_SECONDS,
    SHORTS_TITLE_MAX_CHARS,
    TWEET_MAX_CHARS,
    Draft,
    DraftRequest,
)
from core.ai.writing.quality import quality_report


def _fit_blocks(blocks: list[str], limit: int, removable: list[int]) -> str:
    """Join blocks with blank lines, dropping removable blocks (last first) until the text fits the limit."""
    kept = list(blocks)
    order = sorted(removable, reverse=True)
    text = "\n\n".join(b for b in kept if b)
    while len(text) > limit and order:
        kept[order.pop(0)] = ""
        text = "\n\n".join(b for b in kept if b)
    return text if len(text) <= limit else nlp.shorten(text, limit)


def _linkedin(kit: Kit) -> Draft:
    tags = rank_hashtags(kit.request, kit.count(5, 3, 5)) if kit.feedback.hashtags else []
    cta = kit.cta()
    head = [kit.opener(), kit.sentence(kit.hook)]
    if kit.style.dense:
        head = [" ".join(head)]
    intro = kit.pick(kit.tone.list_intros, "intro")
    n = kit.count(4, 3, 5)
    while True:
        bullets = [f"{kit.bullet()} {kit.sentence(i)}" for i in kit.insights[:n]]
        blocks = [
            *head,
            intro + "\n" + "\n".join(bullets) if bullets else "",  # no heading over an empty list
            kit.sentence(kit.takeaway()),
            *kit.mentions(),
            kit.closer(),
            cta,
            " ".join(tags),
        ]
        text = "\n\n".join(b for b in blocks if b)
        if len(text) <= LINKEDIN_MAX_CHARS or n <= 1:
            break
        n -= 1
    text = nlp.shorten(text, LINKEDIN_MAX_CHARS)
    return _draft(kit, title=kit.title(n), text=text, caption=head[0], tags=tags, cta=cta, metadata={"bullets": n})


def _numbered(parts: Sequence[str]) -> list[str]:
    total = len(parts)
    tweets: list[str] = []
    for i, part in enumerate(parts, start=1):
        prefix = f"{i}/{total} "
        tweets.append(prefix + nlp.shorten(part, TWEET_MAX_CHARS - len(prefix)))
    return tweets


def _thread(kit: Kit) -> Draft:
    n = kit.count(4, 2, 6)
    tags = rank_hashtags(kit.request, 2) if kit.feedback.hashtags else []
    cta = kit.cta()
    first = f"{kit.opener()}\n\n{kit.hook}\n\n{kit.tone.thread_marker}"
    if len(first) > TWEET_MAX_CHARS - 8:
        first = f"{kit.hook}\n\n{kit.tone.thread_marker}"
    parts = [first]
    parts += [kit.sentence(i) for i in kit.insights[:n]]
    parts.append(kit.sentence(kit.takeaway()))
    parts += kit.mentions()
    closing = f"{kit.closer()}\n\n{cta}"
    if tags and len(closing) + len(" ".join(tags)) + 10 <= TWEET_MAX_CHARS:
        closing += "\n\n" + " ".join(tags)
    elif tags:
        tags = []
    parts.append(closing)
    tweets = _numbered(parts)
    text = "\n\n".join(tweets)
    return _draft(
        kit,
        title=kit.title(min(n, len(kit.insights))),
        text=text,
        caption=tweets[0],
        tags=tags,
        cta=cta,
        metadata={"tweets": tweets},
    )


def _instagram(kit: Kit) -> Draft:
    n = kit.count(4, 2, 6)
    tags = rank_hashtags(kit.request, kit.count(20, 10, INSTAGRAM_MAX_HASHTAGS)) if kit.feedback.hashtags else []
    hook = kit.hook if len(kit.hook) <= 125 else nlp.shorten(kit.hook, 125)
    cta = kit.cta() if kit.request.cta else "Save this post. " + kit.cta()
    lines = [f"{kit.bullet()} {kit.sentence(i)}" for i in kit.insights[:n]]
    blocks = [
        hook,
        kit.opener(),
        "\n".join(lines),
        kit.sentence(kit.takeaway()),
        *kit.mentions(),
        kit.closer(),
        cta,
    ]
    tag_line = " ".join(tags)
    body_limit = INSTAGRAM_MAX_CHARS - (len(tag_line) + 2 if tag_line else 0)
    body = _fit_blocks(blocks, body_limit, removable=[2])
    text = f"{body}\n\n{tag_line}" if tag_line else body
    return _draft(
        kit,
        title=kit.title(min(n, len(kit.insights))),
        text=text,
        caption=text,
        tags=tags,
        cta=cta,
        metadata={},
    )


def _seconds(text: str) -> float:
    return nlp.word_count(text) / nlp.WORDS_PER_SECOND


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _shorts(kit: Kit) -> Draft:
    """A 30-60 s script: hook, setup, points, payoff, CTA; points are added or dropped to fit the window."""
    max_seconds = SHORTS_MAX_SECONDS if kit.feedback.length >= 1 else 45
    hook = kit.hook
    setup = nlp.strip_emojis(kit.opener())
    payoff = kit.takeaway()
    cta_line = kit.cta()
    closing = " ".join([*kit.mentions(), cta_line])
    points = [split_long(p) for p in kit.insights]
    if kit.feedback.length < 1:
        points.sort(key=nlp.word_count)  # "shorter": the tightest points fill the 30 s minimum
    clear = len(points)
    points += [split_long(p) for p in kit.spare_insights]  # possibly misheard: only to reach 30 s
    count = min(clear, kit.count(3, 2, 4))

    def beats_for(k: int) -> list[tuple[str, str]]:
        return [
            ("Hook", hook),
            ("Setup", setup),
            *((f"Point {i + 1}", p) for i, p in enumerate(points[:k])),
            ("Payoff", payoff),
            ("CTA", closing),
        ]

    while count > 1 and sum(_seconds(t) for _, t in beats_for(count)) > max_seconds:
        count -= 1
    # Fill towards 40 s (30 s when asked for shorter) with further points while they fit the window.
    floor = SHORTS_MIN_SECONDS if kit.feedback.length < 1 else 40
    while count < len(points) and sum(_seconds(t) for _, t in beats_for(count)) < floor:
        current = sum(_seconds(t) for _, t in beats_for(count))
        if current >= SHORTS_MIN_SECONDS and (
            count >= clear or sum(_seconds(t) for _, t in beats_for(count + 1)) > max_seconds
        ):
            break
        count += 1
    pairs = beats_for(count)
    if sum(_seconds(t) for _, t in pairs) > max_seconds:
        budget = max_seconds * nlp.WORDS_PER_SECOND
        words_each = max(8, int(budget / len(pairs)))
        pairs = [(label, nlp.shorten(t, words_each * 6)) for label, t in pairs]
    beats: list[dict[str, Any]] = []
    cursor = 0.0
    for label, text in pairs:
        duration = max(2.0, _seconds(text))
        beats.append({"label": label, "start": round(cursor, 1), "end": round(cursor + duration, 1), "text": text})
        cursor += duration
    script = "\n\n".join(f"{b['label'].upper()} ({_clock(b['start'])}-{_clock(b['end'])})\n{b['text']}" for b in beats)
    title = nlp.shorten(kit.title(count), SHORTS_TITLE_MAX_CHARS)
    tags = ["#Shorts", *rank_hashtags(kit.request, 3)] if kit.feedback.hashtags else []
    tags = nlp.unique(tags)
    description = "\n\n".join([nlp.shorten(kit.hook, 200), payoff, *kit.mentions(), cta_line, " ".join(tags)]).strip()
    metadata = {"beats": beats, "duration_seconds": round(cursor, 1), "description": description}
    return _draft(kit, title=title, text=script, caption=description, tags=tags, cta=cta_line, metadata=metadata)


def _segments(transcript: str) -> list[list[str]]:
    """Paragraphs of the transcript (blank-line separated), or runs of five sentences when there are none."""
    paragraphs = [p for p in re.split(r"\n\s*\n", transcript) if p.strip()]
    if len(paragraphs) < 3:
        sentences = nlp.split_sentences(transcript)
        return [sentences[i : i + 5] for i in range(0, len(sentences), 5)]
    return [nlp.split_sentences(p) for p in paragraphs]


def _heading(label: str, sentences: Sequence[_Scored], analysis: ContentAnalysisResult, used: set[str]) -> str:
    """A topic phrase ('Content Marketing') names its section when the section is about it; otherwise the
    phrase the section's own sentences are most about (`section_phrase`), never a sentence lifted from it."""
    if label in analysis.topics and " " in label:
        return nlp.title_case(label)
    keyword_stems = frozenset(nlp.stem(t) for k in analysis.keywords[:8] for t in nlp.tokens(k))
    phrase = section_phrase([s[2] for s in sentences], frozenset(used), keyword_stems)
    if not phrase:
        return nlp.title_case(label)
    return nlp.title_case(phrase)


_Scored = tuple[float, int, str]
"""A sentence of the talk for the blog: (its keyword density, its index in the talk, the written sentence)."""


def _blog_groups(kit: Kit) -> list[tuple[str, list[_Scored]]]:
    """The talk's paragraphs in order, grouped under the topic or keyword each is most about (each label used
    once; a paragraph on the same subject as the one before joins its section), at most `count(6, 3, 8)`."""
    analysis = kit.request.analysis
    labels = nlp.unique([*analysis.topics, *(nlp.title_case(k) for k in analysis.keywords)])
    label_stems = [{nlp.stem(t) for t in nlp.tokens(label) if nlp.is_content_word(t)} for label in labels]
    keyword_stems = {nlp.stem(t) for k in analysis.keywords for t in nlp.tokens(k)}
    groups: list[tuple[str, list[_Scored]]] = []
    used_labels: set[str] = set()
    index = 0
    for segment in _segments(kit.request.transcript):
        kept: list[_Scored] = []
        counts: dict[int, int] = {}
        for raw in segment:
            index += 1
            sentence = nlp.repair_sentence(raw) or ""  # the talk's frame and unreadable debris are dropped
            toks = nlp.tokens(sentence)
            stems = {nlp.stem(t) for t in toks if nlp.is_content_word(t)}
            if len(toks) < 4 or not stems:
                continue
            for li, ls in enumerate(label_stems):
                if ls and ls <= stems:
                    counts[li] = counts.get(li, 0) + 1
            kept.append((len(stems & keyword_stems) / len(stems), index, kit.sentence(sentence)))
        if not kept:
            continue
        ranked = sorted(counts, key=lambda li: (-counts[li], li))
        fresh = [li for li in ranked if labels[li] not in used_labels]
        if groups and (not fresh or (ranked and labels[ranked[0]] == groups[-1][0])):
            groups[-1][1].extend(kept)  # same subject as the previous paragraph: one section
            continue
        label = labels[fresh[0]] if fresh else f"Lesson {len(groups) + 1}"
        used_labels.add(label)
        groups.append((label, kept))
    return groups[: kit.count(6, 3, 8)]


def _section_paragraphs(kit: Kit, sentences: Sequence[_Scored], reserved: Sequence[str]) -> list[str]:
    """A section's sentences in paragraphs of four, without what is said elsewhere (`reserved`) or what the
    transcriber may have misheard (when the section has two other sentences)."""
    texts: list[str] = []
    dropped = False
    unclear = kit.request.unclear_words
    clear = sum(1 for s in sentences if not nlp.unclear_in(s[2], unclear))
    for s in sentences:
        # A sentence the transcriber was unsure of is left out while two clearly heard ones carry the section.
        misheard = clear >= 2 and nlp.unclear_in(s[2], unclear) is not None
        if misheard or any(nlp.same_point(s[2], r) for r in reserved) or (dropped and nlp.leans_back(s[2])):
            dropped = True  # said elsewhere; a 'That fear ...' after it would lean on nothing
            if texts and nlp.points_forward(texts[-1]):
                texts.pop()  # 'The secret is simple.' announced what is now said elsewhere
            continue
        dropped = False
        texts.append(s[2])
    if not texts:
        texts = [s[2] for s in sentences if not nlp.same_point(s[2], kit.hook)][:1] or [sentences[0][2]]
    return [" ".join(texts[i : i + 4]) for i in range(0, len(texts), 4)]


def _blog_sections(
    kit: Kit, groups: Sequence[tuple[str, list[_Scored]]], reserved: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The body's blocks (an H2 heading, then its paragraphs, every other one opened by a transition) and the
    headings; with 'shorter' feedback each section keeps its densest sentences."""
    analysis = kit.request.analysis
    sections: list[str] = []
    headings: list[str] = []
    heading_stems: set[str] = set()
    for g_index, (heading, group) in enumerate(groups):
        sentences = group
        if kit.feedback.length < 1:
            keep = max(2, math.ceil(len(group) * kit.feedback.length))
            sentences = sorted(sorted(group, key=lambda s: (-s[0], s[1]))[:keep], key=lambda s: s[1])
        name = _heading(heading, sentences, analysis, heading_stems)
        if name.lower() in {h.lower() for h in headings}:
            name = _heading(f"Lesson {g_index + 1}", sentences, analysis, heading_stems)
        headings.append(name)
        heading_stems.update(nlp.stem(t) for t in nlp.tokens(name) if nlp.is_content_word(t))
        transition = kit.tone.transitions[(g_index + kit.request.variant) % len(kit.tone.transitions)]
        paragraphs = _section_paragraphs(kit, sentences, reserved)
        sections.append(f"## {headings[-1]}")
        sections.append(f"{transition} {paragraphs[0]}" if g_index % 2 == 0 else paragraphs[0])
        sections.extend(paragraphs[1:])
    return sections, headings


def _blog(kit: Kit) -> Draft:
    """Markdown article: the talk's own paragraphs in order, grouped under the topic or keyword each is
    most about (each heading used once); greetings and sign-offs of the talk are dropped."""
    groups = _blog_groups(kit)
    n_takeaways = min(len(kit.insights), kit.count(5, 3, 6))
    # The takeaways and the closing quote are said once, in their own place, not again in the body.
    reserved = [*kit.insights[:n_takeaways], kit.quote, kit.hook]
    sections, headings = _blog_sections(kit, groups, reserved)
    body: list[str] = [
        f"# {kit.title(n_takeaways)}",
        f"{kit.hook} {kit.fill(kit.tone.blog_intro)}",
        *sections,
    ]
    takeaways = "\n".join(f"- {i}" for i in kit.insights[:n_takeaways])
    if takeaways:
        body += ["## Key Takeaways", takeaways]
    body += [
        "## Conclusion",
        " ".join([kit.takeaway(), *kit.mentions(), kit.closer()]),
    ]
    cta = kit.cta()
    body.append(cta)
    text = "\n\n".join(body)
    tags = rank_hashtags(kit.request, 5) if kit.feedback.hashtags else []
    meta = nlp.shorten(kit.insights[0] if kit.insights else kit.hook, META_DESCRIPTION_MAX_CHARS)
    metadata = {
        "sections": headings,
        "meta_description": meta,
        "reading_minutes": max(1, math.ceil(nlp.word_count(text) / 200)),
    }
    return _draft(kit, title=kit.title(n_takeaways), text=text, caption=meta, tags=tags, cta=cta, metadata=metadata)


def _strip_emojis(text: str) -> str:
    return "\n".join(nlp.strip_emojis(line) if line.strip() else "" for line in text.splitlines())


def _draft(
    kit: Kit, *, title: str, text: str, caption: str, tags: list[str], cta: str, metadata: dict[str, Any]
) -> Draft:
    if not kit.emojis:
        text, caption, title = _strip_emojis(text), _strip_emojis(caption), nlp.strip_emojis(title)
        if "tweets" in metadata:
            metadata["tweets"] = [_strip_emojis(t) for t in metadata["tweets"]]
    metadata.update(
        {
            "tone": kit.tone.name,
            "variant": kit.request.variant,
            "style": kit.style.traits(),
            "feedback_applied": list(kit.feedback.applied),
            "writer": "offline",
        }
    )
    output_format = kit.request.output_format
    report = quality_report(
        output_format, text, kit.request.analysis, kit.request.transcript, kit.request.unclear_words
    )
    metadata["quality_checks"] = report.checks
    metadata["quality_reasons"] = report.reasons
    return Draft(
        title=title,
        content_text=text,
        caption=caption,
        hashtags=tags,
        cta=cta,
        word_count=nlp.word_count(text),
        quality_score=report.score,
        metadata=metadata,
    )


_BUILDERS = {
    "linkedin_post": _linkedin,
    "twitter_thread": _thread,
    "instagram_caption": _instagram,
    "youtube_shorts": _shorts,
    "blog_article": _blog,
}


def _latin(value: Any) -> Any:
    if isinstance(value, str):
        return transliteration.to_latin(value)
    if isinstance(value, list):
        return [_latin(v) for v in value]
    if isinstance(value, dict):
        return {k: _latin(v) for k, v in value.items()}
    return value


HINDI = ("hi", "hi-Latn")


def _hinglish_in_latin(request: DraftRequest) -> DraftRequest:
    """A Hindi or Hinglish talk is written in Latin script with the hinglish tone, even when Whisper heard it
    in Devanagari."""
    if request.analysis.language not in HINDI and not transliteration.has_devanagari(request.transcript):
        return request
    analysis = type(request.analysis).model_validate(_latin(request.analysis.model_dump()))
    analysis = analysis.model_copy(update={"language": "hi-Latn"})
    brand = request.brand.model_copy(update={"tone_preset": "hinglish"})
    return request.model_copy(
        update={"transcript": transliteration.to_latin(request.transcript), "analysis": analysis, "brand": brand}
    )


def write_offline(request: DraftRequest) -> Draft:
    """Write a draft deterministically from the transcript and its analysis."""
    return _BUILDERS[request.output_format](build_kit(_hinglish_in_latin(request)))


class OfflineWriter:
    """Writer that needs no network: templates by tone plus sentences extracted from the talk."""

    async def write(self, request: DraftRequest) -> Draft:
        return write_offline(request)
