"""Draft quality: the real analyser and writer on the talks in bench/data/quality/.

    .venv/bin/python bench/quality.py [--case NAME] [--show FORMAT] [--examples] [--clean-only]
    .venv/bin/python bench/quality.py --writer openai [--base-url URL] [--model M] [--case NAME] [--show FORMAT]

`--writer openai` runs the OpenAI analyser and writer (core/ai/analysis/openai_analyser.py,
core/ai/writing/openai_writer.py) through the official `openai` client: against `--base-url` (or OpenAI) with
the key in OPENAI_API_KEY, or, with no key, against the local OpenAI-compatible test server
(tests/fakes/openai_api.py), whose fake model writes what a hurried model writes (the talk's greeting as the
opener, a sentence cut into a ',.' fragment, three points packed into one over-long tweet, '#Business').
It prints two tables for the clean text: the model's answers as they came back, then the drafts as they reach
the chat after the writer's screening. The score is recomputed on the model's own answer for the first table.

Two tables: the talks as clean text, then as transcribed speech (bench/spoken.py: eSpeak NG reads each talk,
the packaged offline Whisper model transcribes it; cached under the temp dir).

For every talk and every text format it measures what a creator would have to fix before posting:
- frag: sentences or bullets that are not complete sentences (',.' endings, a dangling 'and.', a clause
  that only opens ('When they know ...,.'), a lower-case start, a capital after ':' mid-sentence, a stutter
  such as 'the the', or fewer than three words), per draft;
- slips: (transcribed) sentences holding a word Whisper heard that the speaker never said, per draft;
- leak: the talk's frame (greetings, thanks, sign-offs, 'let's talk about') inside the draft, per draft;
- topic: drafts whose title names the talk's topic; tags: drafts whose first hashtag does; generic: hashtags
  that are one everyday word ('#Thank', '#work'), per draft;
- keypts: share of the talk's key points the draft keeps;
- dups: near-duplicate sentences or bullets, per draft; limit: platform limits broken (count);
- score: the mean quality score, then its agreement with human-ranked pairs (bench/data/quality/pairs.json):
  the share of pairs where the better draft scores higher, and the mean gap between better and worse.

These checks are written here, independently of the writer, so the writer cannot grade its own homework.
The short clip format (`short_video`) is planned by core/clips from video and is not a text draft.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import spoken  # noqa: E402 - bench/spoken.py, beside this file

from core.ai import lexicon, nlp  # noqa: E402
from core.ai.analysis.offline_analyser import analyse_offline
from core.ai.transcription import unclear_words
from core.ai.writing.hashtags import normalize_hashtags
from core.ai.writing.offline_writer import write_offline
from core.ai.writing.ports import OUTPUT_FORMATS, BrandVoice, Draft, DraftRequest, OutputFormat
from core.ai.writing.quality import quality_score

Produce = Any  # (name, Talk, output_format) -> Draft: the writer under test

DATA = Path(__file__).resolve().parent / "data" / "quality"
FRAME = re.compile(
    r"\b(good (?:morning|afternoon|evening)|thank(?:s| you)(?: so much| all)? for (?:coming|having|watching|"
    r"listening|being here)|welcome (?:back|to)|let'?s talk about|that'?s it(?: from me)?|see you next time|"
    r"hi everyone|hello everyone|have a great (?:night|day)|enjoy the rest)\b",
    re.IGNORECASE,
)
EVERYDAY = lexicon.words(
    "thank thanks work rounds posts post minutes customers things people time day way good great start today lot "
    "everyone"
)
_OPENERS = re.compile(r"^(when|if|because|although|though|while|since|unless|whether|as)\b", re.I)
_DANGLING_END = re.compile(r"\b(and|but|or|because|the|a|an|which)[.!?]$", re.I)


def _stems(text: str) -> set[str]:
    return {nlp.stem(t) for t in nlp.tokens(text)}


def fragment(sentence: str) -> str | None:  # noqa: PLR0911 - one return per named check, in order
    """Why a sentence or bullet is not a complete, postable sentence, or None."""
    s = sentence.strip().lstrip("•✅→👉🔥-*0123456789/ ").strip()
    if not s or s.startswith("#"):
        return None
    if re.search(r"[,;]\s*[.!?]$|[,;]$|:\s*[.!?]$", s) or (s.endswith(":") and nlp.word_count(s) > 6):
        return "broken end"
    if _DANGLING_END.search(s):
        return "dangling end"
    if re.search(r"\b(\w+) \1\b", s, re.I):
        return "stutter"
    if s[0].islower():
        return "lower-case start"
    colon = re.search(r"^([^:]+): [A-Z][a-z]+ [a-z]", s)
    if colon and nlp.word_count(colon.group(1)) >= 4:
        return "capital after colon"
    if nlp.word_count(s) < 3 and not s.endswith(("?", ":")):
        return "too short"
    if _OPENERS.match(s) and not re.search(r",\s+\w+", s) and nlp.word_count(s) < 14:
        return "opening clause only"
    return None


def units(draft: Draft, output_format: str) -> list[str]:
    """The sentences and bullets a reader sees (headings, hashtags and tweet numbers stripped)."""
    text = draft.content_text
    if output_format == "youtube_shorts":
        text = "\n".join(b["text"] for b in draft.metadata.get("beats", []))
    out: list[str] = []
    for raw in text.splitlines():
        line = re.sub(r"^\d+/\d+\s+", "", raw.strip())
        if not line or line.startswith("#") or all(w.startswith("#") for w in line.split()):
            continue
        out.extend(nlp.split_sentences(line))
    return out


def duplicates(sentences: list[str]) -> int:
    seen: list[set[str]] = []
    dups = 0
    for s in sentences:
        words = {w for w in _stems(s) if nlp.is_content_word(w)}
        if len(words) < 3:
            continue
        if any(len(words & o) / len(words | o) >= 0.7 for o in seen):
            dups += 1
        seen.append(words)
    return dups


def breaches(draft: Draft, output_format: str) -> int:
    n = 0
    if output_format == "linkedin_post":
        n += len(draft.content_text) > 3000
    elif output_format == "twitter_thread":
        n += sum(len(t) > 280 for t in draft.metadata.get("tweets", []))
    elif output_format == "instagram_caption":
        n += (len(draft.content_text) > 2200) + (len(draft.hashtags) > 30)
        n += len(draft.content_text.splitlines()[0]) > 125
    elif output_format == "youtube_shorts":
        n += len(draft.title) > 100
        n += not 30 <= float(draft.metadata.get("duration_seconds", 0)) <= 60
    else:
        n += len(draft.caption) > 160
    return n


def hits(text: str, words: list[str]) -> bool:
    stems = _stems(text.replace("#", " ")) | {nlp.stem(w.lower()) for w in re.findall(r"[A-Z][a-z]+", text)}
    camel = text.lower()
    return any(nlp.stem(w) in stems or w in camel for w in words)


@dataclass
class Row:
    drafts: int = 0
    fragments: int = 0
    slips: int = 0
    leaks: int = 0
    topic: int = 0
    tags: int = 0
    generic: int = 0
    keypoints: float = 0.0
    dups: int = 0
    limits: int = 0
    score: float = 0.0
    by_slips: list[tuple[int, int]] = field(default_factory=list)
    """(transcription slips that reached it, score) for each draft."""
    examples: list[str] = field(default_factory=list)


def request(text: str, output_format: str, analysis: Any, unclear: Sequence[str] = ()) -> DraftRequest:
    return DraftRequest.model_validate(
        {
            "output_format": output_format,
            "transcript": text,
            "analysis": analysis,
            "brand": BrandVoice(name="Recast Demo", tone_preset="professional"),
            "unclear_words": list(unclear),
        }
    )


@dataclass
class Talk:
    """A talk as the pipeline gets it: text, the timed segments and the words the transcriber was unsure of."""

    text: str
    segments: list[tuple[str, float, float]] | None = None
    unclear_words: list[str] = field(default_factory=list)


def talk(name: str, *, transcribed: bool) -> Talk:
    """The clean text, or eSpeak's reading of it as the packaged Whisper model heard it."""
    text = (DATA / f"{name}.txt").read_text()
    if not transcribed:
        return Talk(text)
    heard = spoken.transcribe(text, voice=spoken.voice_for(text))
    return Talk(heard.text, [(s.text, s.start, s.end) for s in heard.segments], unclear_words(heard))


def slips(sentences: list[str], heard: str, reference: str) -> list[str]:
    """Draft sentences with a content word Whisper heard but the speaker never said (a transcription slip that
    reached the draft); '10' for 'ten' is a fair hearing, and the writer's own words are not slips."""
    said = _stems(reference.replace("-", " ")) | set(nlp.tokens(reference.replace("-", " ")))
    said |= {t.replace("-", "") for t in nlp.tokens(reference)} | {t.replace("our", "or") for t in said}
    misheard = {t for t in nlp.tokens(heard.replace("-", " ")) if nlp.is_content_word(t) and not t.isdigit()}
    misheard = {t for t in misheard if t not in said and nlp.stem(t) not in said}
    return [s for s in sentences if misheard & set(nlp.tokens(s.replace("-", " ")))]


def _offline(name: str, heard: Talk, output_format: OutputFormat, analysis: Any) -> Draft:
    return write_offline(request(heard.text, output_format, analysis, heard.unclear_words))


def evaluate(
    only: str | None = None,
    show: str | None = None,
    *,
    transcribed: bool = False,
    produce: Produce = None,
    analyses: dict[str, Any] | None = None,
) -> dict[str, Row]:
    """The table's rows. `produce(name, talk, output_format, analysis)` writes one draft (the offline writer
    by default); `analyses` holds each talk's analysis when another analyser made it."""
    cases = json.loads((DATA / "cases.json").read_text())["cases"]
    rows = {f: Row() for f in OUTPUT_FORMATS}
    for name, case in cases.items():
        if only and name != only:
            continue
        reference = (DATA / f"{name}.txt").read_text()
        heard = talk(name, transcribed=transcribed)
        text = heard.text
        analysis = analyses[name] if analyses is not None else analyse_offline(heard.text, heard.segments)
        rows[OUTPUT_FORMATS[0]].examples.append(f"{name}: topics {analysis.topics[:3]}")
        for output_format in OUTPUT_FORMATS:
            draft = (produce or _offline)(name, heard, output_format, analysis)
            row = rows[output_format]
            row.drafts += 1
            seen = units(draft, output_format)
            bad = [(s, why) for s in seen if (why := fragment(s))]
            row.fragments += len(bad)
            slipped = slips(seen, text, reference)
            row.slips += len(slipped)
            row.examples += [f"{name}: slip: {s[:90]}" for s in slipped[:2]]
            row.examples += [f"{name}: {why}: {s[:90]}" for s, why in bad[:2]]
            everything = "\n".join([draft.title, draft.content_text, draft.caption]).lower()
            leaks = [p for p in case["never"] if p in everything] + FRAME.findall(everything)
            row.leaks += len(set(leaks))
            row.examples += [f"{name}: frame: {p}" for p in sorted(set(leaks))[:1]]
            row.topic += hits(draft.title, case["topic"])
            row.tags += bool(draft.hashtags) and hits(
                draft.hashtags[1] if draft.hashtags[0] == "#Shorts" and len(draft.hashtags) > 1 else draft.hashtags[0],
                case["topic"],
            )
            row.generic += sum(1 for t in draft.hashtags if t[1:].lower() in EVERYDAY)
            stems, lowered = _stems(draft.content_text), draft.content_text.lower()
            kept = sum(all(nlp.stem(w) in stems or w in lowered for w in kp) for kp in case["key_points"])
            row.keypoints += kept / len(case["key_points"])
            row.dups += duplicates(seen)
            row.limits += breaches(draft, output_format)
            row.score += draft.quality_score
            row.by_slips.append((len(slipped), draft.quality_score))
            if show == output_format:
                print(f"===== {name} / {output_format} (score {draft.quality_score}) — {draft.title}")
                print(draft.content_text)
                print("hashtags:", draft.hashtags, "reasons:", draft.metadata.get("quality_reasons"))
    return rows


def _score(output_format: Any, text: str, analysis: Any, transcript: str) -> int:
    try:
        return quality_score(output_format, text, analysis, transcript)  # type: ignore[call-arg,unused-ignore]
    except TypeError:  # the score before issue 15 took no transcript: keeps the "before" table reproducible
        return quality_score(output_format, text, analysis)  # type: ignore[call-arg,unused-ignore]


def rank_agreement(verbose: bool = False) -> tuple[int, int, float]:
    pairs = json.loads((DATA / "pairs.json").read_text())["pairs"]
    agree, gap = 0, 0.0
    for pair in pairs:
        text = (DATA / f"{pair['case']}.txt").read_text()
        analysis = analyse_offline(text)
        better, worse = (_score(pair["format"], pair[k], analysis, text) for k in ("better", "worse"))
        agree += better > worse
        if verbose:
            print(f"  pair {pair['case']}/{pair['format']} ({pair['why']}): better {better}, worse {worse}")
        gap += better - worse
    return agree, len(pairs), gap / max(1, len(pairs))


def table(rows: dict[str, Row], *, pairs: bool = True) -> str:
    head = (
        "| format | drafts | frag/draft | slips/draft | leak/draft | topic | tags | generic tags/draft | key points "
        "| dups/draft | limit breaches | mean score |"
    )
    lines = [head, "|" + "---|" * 12]
    total = Row()
    for output_format, r in rows.items():
        d = max(1, r.drafts)
        lines.append(
            f"| {output_format} | {r.drafts} | {r.fragments / d:.2f} | {r.slips / d:.2f} | {r.leaks / d:.2f} "
            f"| {100 * r.topic / d:.0f}% "
            f"| {100 * r.tags / d:.0f}% | {r.generic / d:.2f} | {100 * r.keypoints / d:.0f}% | {r.dups / d:.2f} "
            f"| {r.limits} | {r.score / d:.0f} |"
        )
        for name in ("drafts", "fragments", "slips", "leaks", "topic", "tags", "generic", "dups", "limits"):
            setattr(total, name, getattr(total, name) + getattr(r, name))
        total.keypoints += r.keypoints
        total.score += r.score
    d = max(1, total.drafts)
    lines.append(
        f"| **all** | {total.drafts} | {total.fragments / d:.2f} | {total.slips / d:.2f} | {total.leaks / d:.2f} "
        f"| {100 * total.topic / d:.0f}% "
        f"| {100 * total.tags / d:.0f}% | {total.generic / d:.2f} | {100 * total.keypoints / d:.0f}% "
        f"| {total.dups / d:.2f} | {total.limits} | {total.score / d:.0f} |"
    )
    if not pairs:
        drafts = [x for r in rows.values() for x in r.by_slips]
        buckets = {"0-1 slips": (0, 1), "2-3 slips": (2, 3), "4+ slips": (4, 10**6)}
        means = []
        for label, (low, high) in buckets.items():
            got = [score for n, score in drafts if low <= n <= high]
            if got:
                means.append(f"{label}: {sum(got) / len(got):.0f} ({len(got)} drafts)")
        lines.append("")
        lines.append("Mean score by transcription slips in the draft: " + "; ".join(means) + ".")
        return "\n".join(lines)
    agree, n, gap = rank_agreement()
    lines.append("")
    lines.append(f"Score vs human-ranked pairs: {agree}/{n} ranked the better draft higher; mean gap {gap:+.1f}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", help="only this talk")
    parser.add_argument("--show", choices=OUTPUT_FORMATS, help="print every draft of this format")
    parser.add_argument("--examples", action="store_true", help="print the failing sentences")
    parser.add_argument("--clean-only", action="store_true", help="skip the transcribed talks (no speech, no Whisper)")
    parser.add_argument("--writer", choices=("offline", "openai"), default="offline")
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint (with OPENAI_API_KEY)")
    parser.add_argument("--model", default=None, help="the chat model (default gpt-4o-mini, or the local fake)")
    args = parser.parse_args()
    if args.writer == "openai":
        asyncio.run(openai_tables(args))
        return
    runs = [("clean text", False)] if args.clean_only else [("clean text", False), ("transcribed", True)]
    for label, transcribed in runs:
        rows = evaluate(args.case, args.show, transcribed=transcribed)
        print(f"\n{label}:\n")
        print(table(rows, pairs=not transcribed))
        if args.examples:
            if not transcribed:
                rank_agreement(verbose=True)
            for output_format, r in rows.items():
                for example in r.examples[:30]:
                    print(f"  {output_format}: {example}")


def raw_draft(content: str, output_format: OutputFormat, analysis: Any, transcript: str) -> Draft:
    """The model's answer as it came back, before the writer's screening (hashtags only normalised), scored
    by the same `quality_score`."""
    answer = json.loads(content)
    tweets = [str(t) for t in answer.get("tweets") or []]
    text = "\n\n".join(tweets) if output_format == "twitter_thread" and tweets else str(answer["content_text"])
    beats = [str(b) for b in answer.get("script_beats") or []]
    if output_format == "youtube_shorts" and beats and not text.strip():
        text = "\n\n".join(beats)
    words = sum(nlp.word_count(b) for b in beats)
    metadata: dict[str, Any] = {"tweets": tweets, "beats": [{"text": b} for b in beats]}
    metadata["duration_seconds"] = round(words / nlp.WORDS_PER_SECOND, 1)
    return Draft(
        title=str(answer["title"]),
        content_text=text,
        caption=str(answer["caption"]),
        hashtags=normalize_hashtags(answer["hashtags"]),
        cta=answer.get("cta"),
        word_count=nlp.word_count(text),
        quality_score=quality_score(output_format, text, analysis, transcript),
        metadata=metadata,
    )


async def openai_tables(args: argparse.Namespace) -> None:
    """The OpenAI analyser and writer on the clean talks: the model's answers, then what reaches the chat."""
    import httpx
    import openai

    from core.ai.analysis.openai_analyser import OpenAIAnalyser
    from core.ai.writing.openai_writer import OpenAIWriter
    from tests.fakes.openai_api import FakeOpenAI

    key = os.environ.get("OPENAI_API_KEY")
    fake = None if key else await FakeOpenAI().start()
    replies: list[str] = []

    async def keep_reply(response: httpx.Response) -> None:
        await response.aread()
        if response.status_code == 200:
            replies.append(response.json()["choices"][0]["message"]["content"])

    http = httpx.AsyncClient(event_hooks={"response": [keep_reply]}, timeout=120)
    base_url = fake.base_url if fake else args.base_url
    model = args.model or ("fake-gpt" if fake else "gpt-4o-mini")
    client = openai.AsyncOpenAI(base_url=base_url, api_key=key or "local-test", http_client=http, max_retries=2)
    cases = json.loads((DATA / "cases.json").read_text())["cases"]
    analyses: dict[str, Any] = {}
    raw: dict[tuple[str, str], Draft] = {}
    screened: dict[tuple[str, str], Draft] = {}
    try:
        for name in cases:
            if args.case and name != args.case:
                continue
            text = (DATA / f"{name}.txt").read_text()
            analyses[name] = await OpenAIAnalyser(client, model).analyse(text)
            for output_format in OUTPUT_FORMATS:
                draft = await OpenAIWriter(client, model).write(request(text, output_format, analyses[name]))
                screened[(name, output_format)] = draft
                raw[(name, output_format)] = raw_draft(replies[-1], output_format, analyses[name], text)
    finally:
        await http.aclose()
        if fake is not None:
            await fake.stop()
    where = "the local OpenAI-compatible test server (tests/fakes/openai_api.py)" if fake else base_url or "OpenAI"
    print(f"\nOpenAI analyser and writer, model {model} at {where}, clean text:")
    for label, drafts in (("the model's answers, before screening", raw), ("what reaches the chat", screened)):
        rows = evaluate(
            args.case,
            args.show,
            produce=lambda name, _talk, fmt, _analysis, d=drafts: d[(name, fmt)],
            analyses=analyses,
        )
        print(f"\n{label}:\n")
        print(table(rows, pairs=False).split("\n\nMean score by")[0])
        if args.examples:
            for output_format, r in rows.items():
                for example in r.examples[:30]:
                    print(f"  {output_format}: {example}")


if __name__ == "__main__":
    main()
