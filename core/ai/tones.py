"""Tone presets: the phrase banks the offline writer draws from and the guidance given to LLM writers.

Templates use `{topic}`, `{Topic}` (sentence case), `{quote}`, `{brand}` and `{n}` fields only.
Hinglish keeps the content in English and mixes common Hindi words in Latin script into openers,
transitions and closers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TonePreset = Literal["professional", "casual", "viral", "hinglish"]

HINDI_WORDS: tuple[str, ...] = ("dosto", "ekdum", "bilkul", "yaar", "samjho", "suno", "seedhi baat", "accha")


@dataclass(frozen=True)
class Tone:
    name: TonePreset
    guidance: str
    openers: tuple[str, ...]
    list_intros: tuple[str, ...]
    transitions: tuple[str, ...]
    takeaways: tuple[str, ...]
    closers: tuple[str, ...]
    titles: tuple[str, ...]
    cta: str
    mention: str
    thread_marker: str
    bullet: str
    emoji_bullet: str
    emojis: tuple[str, ...]
    default_emojis: bool
    blog_intro: str


TONES: dict[TonePreset, Tone] = {
    "professional": Tone(
        name="professional",
        guidance="Clear, credible and measured. Full sentences, no slang, no hype, at most one emoji.",
        openers=(
            "{Topic}: a few hard-won lessons.",
            "{Topic}: what consistently works, based on experience.",
            "{Topic}, in practice: notes from a recent session.",
        ),
        list_intros=("Key lessons:", "What made the difference:", "The essentials:"),
        transitions=(
            "Consider the following.",
            "This point deserves attention.",
            "The evidence here is practical.",
        ),
        takeaways=("The takeaway: {quote}", "Bottom line: {quote}", "One thing to remember: {quote}"),
        closers=(
            "Which of these matches your experience? I would value your perspective.",
            "How are you approaching this in your own work?",
            "What would you add to this list?",
        ),
        titles=(
            "{topic}: {n} Lessons That Hold Up in Practice",
            "A Practical Guide to {topic}",
            "What Experience Teaches About {topic}",
        ),
        cta="Follow {brand} for practical insights on {topic}.",
        mention="Also worth mentioning: {quote}.",
        thread_marker="A short thread:",
        bullet="•",
        emoji_bullet="✅",
        emojis=("📌", "💡", "📈"),
        default_emojis=False,
        blog_intro="This article distils a recent session on {topic} into practical, tested lessons.",
    ),
    "casual": Tone(
        name="casual",
        guidance="Warm and conversational, friendly: contractions, short sentences, light emoji.",
        openers=(
            "Real talk about {topic}.",
            "A few honest notes on {topic}.",
            "Quick one on {topic}, because it matters.",
        ),
        list_intros=("Here's what actually worked for me:", "What I'd tell a friend:", "The short version:"),
        transitions=("Let's get into it.", "Here's the thing.", "Stay with me on this one."),
        takeaways=(
            "My biggest takeaway? {quote}",
            "The one thing to remember: {quote}",
            "Honestly, it comes down to this: {quote}",
        ),
        closers=(
            "What's been working for you? Tell me in the comments.",
            "Curious what you think about {topic}. Drop a comment!",
            "Would love to hear your take on {topic}.",
        ),
        titles=(
            "{topic}: What Actually Works",
            "What Actually Worked for Me: {topic}",
            "{topic}, Explained Simply",
        ),
        cta="Follow {brand} for more on {topic}.",
        mention="Oh, and don't miss this: {quote}.",
        thread_marker="Let's go:",
        bullet="→",
        emoji_bullet="👉",
        emojis=("👇", "✨", "🙌"),
        default_emojis=True,
        blog_intro="I recently gave a talk on {topic}; this is the written version, cleaned up.",
    ),
    "viral": Tone(
        name="viral",
        guidance="Bold, punchy and scroll-stopping. Strong first line, short lines, curiosity, clear payoff.",
        openers=(
            "Stop scrolling. This changes how you think about {topic}.",
            "Nobody talks about this side of {topic}.",
            "I wish someone had told me this about {topic} sooner.",
        ),
        list_intros=("Here's the playbook:", "Read this twice:", "The rules that actually work:"),
        transitions=(
            "Pay attention to this one.",
            "This is where most people stall.",
            "Now it gets interesting.",
        ),
        takeaways=("Let that sink in: {quote}", "Screenshot this: {quote}", "The real secret? {quote}"),
        closers=(
            "Save this. Share it with someone who needs it today.",
            "Repost this if it helped. Someone in your network needs it.",
            "Bookmark this before you forget it.",
        ),
        titles=(
            "{n} {topic} Lessons I Wish I Knew Sooner",
            "The Truth About {topic}",
            "{topic}: Stop Making It Hard",
        ),
        cta="Follow {brand} for more no-fluff {topic} tips.",
        mention="And one more thing: {quote}.",
        thread_marker="🧵",
        bullet="→",
        emoji_bullet="🔥",
        emojis=("🔥", "🚀", "👇"),
        default_emojis=True,
        blog_intro="The no-fluff breakdown of {topic}: what works, what doesn't, and what to do next.",
    ),
    "hinglish": Tone(
        name="hinglish",
        guidance=(
            "Hinglish: write mainly in English but mix common Hindi words and phrases in Latin script "
            "(e.g. 'dosto', 'yaar', 'bilkul', 'ekdum', 'samjho', 'seedhi baat') into openers, transitions "
            "and closers. Never use Devanagari. Keep facts, numbers and technical terms in English."
        ),
        openers=(
            "Dosto, {topic} ke baare mein ek baat samjho.",
            "Suno yaar, {topic} ekdum simple hai.",
            "Dosto, seedhi baat: {topic} pe focus karo.",
        ),
        list_intros=("Bilkul simple points:", "Samjho step by step:", "Yeh raha formula, ekdum clear:"),
        transitions=(
            "Ab yeh point samjho, dosto.",
            "Yeh part ekdum important hai.",
            "Bilkul basic se shuru karte hain, yaar.",
        ),
        takeaways=(
            "Ek line mein samjho: {quote}",
            "Bottom line, yaar: {quote}",
            "Bilkul yaad rakhna: {quote}",
        ),
        closers=(
            "Bilkul try karo aur comments mein batao, yaar!",
            "Aapka experience kya raha? Comment karo, dosto!",
            "Ekdum honest feedback chahiye, yaar. Comment karo!",
        ),
        titles=(
            "{topic} Ka Asli Formula, Ekdum Simple",
            "{topic}: Seedhi Baat, Dosto",
            "{n} {topic} Lessons, Bilkul Practical",
        ),
        cta="Follow {brand} for more on {topic}, dosto.",
        mention="Aur haan, yeh bhi check karo: {quote}.",
        thread_marker="Thread, dosto:",
        bullet="👉",
        emoji_bullet="👉",
        emojis=("🙌", "💯", "👇"),
        default_emojis=True,
        blog_intro="Dosto, yeh mere talk ka written version hai on {topic}, ekdum organised aur practical.",
    ),
}


def tone(name: TonePreset) -> Tone:
    return TONES[name]
