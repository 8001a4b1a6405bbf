"""What the offline writer's per-platform builders share for one request: the tone, the feedback, the
brand's style, and the hook, insights and quote picked from the talk."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.ai import lexicon, nlp
from core.ai.tones import Tone, tone
from core.ai.writing.feedback import Feedback, merge_feedback, parse_revision_feedback
from core.ai.writing.ports import (
    DraftRequest,
)
from core.ai.writing.style import StyleProfile, style_profile

MIN_CLEAR_POINTS = 3
"""With this many clearly heard points, a point holding an unclear word or phrase is not printed at all."""
_SPLIT_POINTS = re.compile(r",\s+(?=(?:and|but|so|because|which|while)\b)|;\s+|\s+-\s+")


@dataclass
class Kit:
    """Everything the per-platform builders share for one request."""

    request: DraftRequest
    tone: Tone
    feedback: Feedback
    style: StyleProfile
    emojis: bool
    topic: str
    topic_inline: str
    hook: str
    insights: list[str]
    quote: str
    proper_nouns: frozenset[str] = frozenset()
    spare_insights: list[str] = field(default_factory=list)
    """Points left out because they hold an unclear word or phrase: used only to reach a format's minimum."""

    def pick(self, options: Sequence[str], slot: str) -> str:
        return options[nlp.stable_index(f"{self.request.output_format}:{slot}", self.request.variant, len(options))]

    def fill(self, template: str, **extra: str) -> str:
        values = {
            "topic": self.topic_inline,
            "Topic": self.topic_inline[:1].upper() + self.topic_inline[1:],
            "brand": self.request.brand.name.strip() or "me",  # no brand yet: the creator speaks for themself
            "n": str(len(self.insights)),
        }
        values.update(extra)
        return template.format(**values)

    def count(self, base: int, low: int, high: int) -> int:
        return max(low, min(high, round(base * self.feedback.length)))

    def sentence(self, text: str) -> str:
        """Apply the brand's sentence-length habit to one sentence; a runaway sentence is cut at 400 chars."""
        text = nlp.shorten(text, 400)
        return split_long(text) if self.style.short_sentences else text

    def opener(self) -> str:
        line = self.fill(self.pick(self.tone.openers, "opener"))
        if self.style.exclaims and line.endswith("."):
            line = line[:-1] + "!"
        if self.emojis:
            line = f"{line} {self.pick(self.tone.emojis, 'emoji')}"
        return line

    def closer(self) -> str:
        line = self.fill(self.pick(self.tone.closers, "closer"))
        return line[:-1] + "!" if self.style.exclaims and line.endswith(".") else line

    def takeaway(self) -> str:
        return self.with_quote(self.pick(self.tone.takeaways, "takeaway"), self.quote)

    def with_quote(self, template: str, quote: str) -> str:
        """Fill a '...: {quote}' template in written casing: 'If you remember one thing: most founders ...'."""
        head, _, tail = template.partition("{quote}")
        label = self.fill(head).rstrip()
        if label.endswith(":"):
            return nlp.sentence_case_after_colon(label, quote, self.proper_nouns) + self.fill(tail)
        return self.fill(template, quote=quote)

    def cta(self) -> str:
        return self.request.cta.strip() if self.request.cta else self.fill(self.tone.cta)

    def mentions(self) -> list[str]:
        # Mentions are names the user typed: their casing is kept as given.
        return [self.fill(self.tone.mention, quote=m.rstrip(".")) for m in self.feedback.mentions]

    def bullet(self) -> str:
        return self.tone.emoji_bullet if self.emojis else self.tone.bullet

    def title(self, items: int) -> str:
        return nlp.title_case(self.fill(self.pick(self.tone.titles, "title"), topic=self.topic, n=str(items)))


def split_long(sentence: str, max_words: int = 14) -> str:
    """Break a long sentence at a clause boundary (', and', ', but', ';') into two shorter ones, only when
    both halves are complete sentences ('When they know they're only two rounds.' is not)."""
    if nlp.word_count(sentence) <= max_words:
        return sentence
    match = _SPLIT_POINTS.search(sentence)
    if not match or nlp.word_count(sentence[: match.start()]) < 4:
        return sentence
    head = sentence[: match.start()].rstrip(" ,;") + "."
    tail = sentence[match.end() :].strip()
    tail = re.sub(r"^(and|so)\s+", "", tail, flags=re.I)
    tail = f"{tail[:1].upper()}{tail[1:]}"
    if not tail or nlp.fragment_reason(head) or nlp.fragment_reason(tail):
        return sentence
    if re.match(r"(?i)(because|which|while)\b", tail):  # a subordinate clause cannot stand alone
        return sentence
    return f"{head} {tail}"


def _printable(lines: Sequence[str]) -> list[str]:
    """The lines a draft may print: repaired into complete sentences, the talk's frame and unreadable
    transcription debris dropped, near-duplicates removed."""
    out: list[str] = []
    for line in lines:
        fixed = nlp.repair_sentence(line)
        if fixed and not any(nlp.same_point(fixed, o) for o in out):
            out.append(fixed)
    return out


def build_kit(request: DraftRequest) -> Kit:
    feedback = merge_feedback(
        parse_revision_feedback(request.brand.custom_guidelines), parse_revision_feedback(request.feedback)
    )
    preset = feedback.tone or request.brand.tone_preset
    kit_tone = tone(preset)
    style = style_profile(request.brand.style_examples)
    if feedback.emojis is not None:
        emojis = feedback.emojis
    elif style.samples:
        emojis = style.uses_emojis
    else:
        emojis = kit_tone.default_emojis
    analysis = request.analysis
    topic = (
        analysis.topics[0]
        if analysis.topics
        else (
            nlp.title_case(analysis.keywords[0])
            if analysis.keywords
            else nlp.title_case(request.brand.industry or "Growth")
        )
    )
    inline = next((k for k in analysis.keywords if k.lower() == topic.lower()), topic)
    if inline.istitle() and inline.lower() not in lexicon.KNOWN_ORGS | lexicon.KNOWN_LOCATIONS:
        inline = inline.lower()

    unclear = request.unclear_words
    hooks = _printable([h.text for h in sorted(analysis.hook_moments, key=lambda h: (-h.score, h.timestamp))])
    hooks = [h for h in hooks if not nlp.leans_back(h)] or hooks  # a hook must stand on its own
    hooks = clear_first(hooks, unclear)
    spoken = clear_first(_printable(nlp.split_sentences(request.transcript)), unclear)
    if not hooks:
        hooks = spoken[:1] or [f"{topic} matters more than ever."]
    hook = hooks[request.variant % min(3, len(hooks))]

    pool = _printable([*analysis.key_insights, *(q.text for q in analysis.quotable_moments)])
    pool = [p for p in pool if not nlp.same_point(p, hook)]
    if not pool:
        pool = [p for p in spoken if nlp.word_count(p) >= 6 and not nlp.same_point(p, hook)][:5]
    pool = clear_first(pool, unclear)
    quotes = [q for q in _printable([q.text for q in analysis.quotable_moments]) if not nlp.same_point(q, hook)]
    quotes = clear_first(quotes, unclear)
    quote = quotes[request.variant % len(quotes)] if quotes else (pool[-1] if pool else hook)
    insights = [p for p in pool if not nlp.same_point(p, quote)] or pool
    insights = _spread(insights, request.transcript, [hook, quote])
    # Points that stand on their own come first; one that leans on a left-out sentence only fills a gap.
    insights = [p for p in insights if not nlp.leans_back(p)] + [p for p in insights if nlp.leans_back(p)]
    insights = clear_first(insights, unclear)
    clearly_heard = [p for p in insights if not nlp.unclear_in(p, unclear)]
    spare: list[str] = []
    if len(clearly_heard) >= MIN_CLEAR_POINTS:  # enough to carry any format: a likely slip is left out
        insights, spare = clearly_heard, [p for p in insights if p not in clearly_heard]
    if style.short_sentences:  # a brand that writes short sentences gets the tightest points first
        insights = sorted(insights, key=lambda p: (nlp.unclear_in(p, unclear) is not None, nlp.word_count(p)))
    proper = frozenset(
        w for s in nlp.split_sentences(request.transcript) for w in nlp.surface_tokens(s)[1:] if w[:1].isupper()
    )
    return Kit(request, kit_tone, feedback, style, emojis, topic, inline, hook, insights, quote, proper, spare)


def clear_first(lines: Sequence[str], unclear: Sequence[str]) -> list[str]:
    """``lines`` with those holding a word or phrase the transcriber was unsure of moved last, in order: a
    possibly misheard sentence is printed only when no clearly heard one can take its place."""
    unsure = [line for line in lines if nlp.unclear_in(line, unclear)]
    return [line for line in lines if line not in unsure] + unsure


def _spread(points: list[str], transcript: str, taken: Sequence[str]) -> list[str]:
    """Order points so the first few cover different parts of the talk: one per paragraph (in talk order)
    before a second from any; a paragraph none of the points comes from adds its lead sentence, when that
    is a complete sentence of six words or more. Paragraphs the hook or quote already cover come last."""
    paragraphs = [p for p in re.split(r"\n\s*\n", transcript) if p.strip()]
    if len(paragraphs) < 3:
        return points
    sentences = [nlp.split_sentences(p) for p in paragraphs]

    def home(point: str) -> int:
        for i, group in enumerate(sentences):
            if any(nlp.same_point(point, s) for s in group):
                return i
        return len(sentences)

    by_paragraph: dict[int, list[str]] = {}
    for point in points:
        by_paragraph.setdefault(home(point), []).append(point)
    covered = {home(t) for t in taken}
    for i, group in enumerate(sentences):
        lead = next((f for f in (nlp.repair_sentence(s) for s in group) if f), None)
        fresh = i not in by_paragraph and i not in covered and not any(nlp.same_point(lead or "", t) for t in taken)
        if fresh and lead and nlp.word_count(lead) >= 6 and not nlp.leans_back(lead):
            by_paragraph[i] = [lead]
    order = sorted(by_paragraph, key=lambda i: (i in covered, i))
    spread: list[str] = []
    while any(by_paragraph.values()):
        for i in order:
            if by_paragraph[i]:
                spread.append(by_paragraph[i].pop(0))
    return spread
