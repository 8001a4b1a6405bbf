"""What a talk is about: ranked keywords, key phrases (its subjects), a section's heading phrase and keyword
clusters as topics."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.ai import lexicon, nlp


@dataclass
class TermStats:
    count: int = 0
    first_position: int = 0
    surfaces: Counter[str] = field(default_factory=Counter)
    sentences: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Keyword:
    display: str
    stems: tuple[str, ...]
    score: float
    count: int
    sentences: frozenset[int]


def _display(stats: TermStats, fallback: str) -> str:
    if not stats.surfaces:
        return fallback
    best = max(stats.surfaces.items(), key=lambda kv: (kv[1], kv[0].islower()))
    return best[0]


def _count_terms(
    sentences: Sequence[str],
) -> tuple[dict[str, TermStats], dict[tuple[str, str], TermStats], int]:
    """Content-word stems and pairs of adjacent ones within a clause, with counts, first positions, sentences
    and surface forms; and the number of tokens read."""
    unigrams: dict[str, TermStats] = {}
    bigrams: dict[tuple[str, str], TermStats] = {}
    position = 0
    for index, sentence in enumerate(sentences):
        first_in_sentence = True
        for clause in re.split(r"[,;:()\u2014\u2013\"“”]|\s-\s", sentence):
            previous: tuple[str, str] | None = None
            for surface in nlp.surface_tokens(clause):
                token = surface.lower()
                position += 1
                if not nlp.is_content_word(token):
                    previous = None
                    first_in_sentence = False
                    continue
                word_stem = nlp.stem(token)
                stats = unigrams.setdefault(word_stem, TermStats(first_position=position))
                stats.count += 1
                stats.sentences.add(index)
                # Sentence-initial capitals say nothing about a word; inner capitals ('LinkedIn') do.
                shown = token if first_in_sentence and surface[1:].islower() else surface
                stats.surfaces[shown] += 1
                if previous is not None and previous[0] != word_stem:
                    key = (previous[0], word_stem)
                    pair = bigrams.setdefault(key, TermStats(first_position=position - 1))
                    pair.count += 1
                    pair.sentences.add(index)
                    pair.surfaces[f"{previous[1]} {shown}"] += 1
                previous = (word_stem, shown)
                first_in_sentence = False
    return unigrams, bigrams, position


def extract_keywords(sentences: Sequence[str], limit: int = 12) -> list[Keyword]:
    """Rank content words and two-word phrases.

    unigram score = count x position weight x length weight, where the position weight is
    1 + 0.5 x (1 - first position / total tokens) (early terms frame a talk) and the length weight is
    min(1.4, 0.6 + len/10) (longer words carry more meaning). A unigram mostly seen inside a kept phrase
    is damped by max(0.35, 1 - phrase count / its count). Phrases (adjacent content words in one clause,
    seen at least twice) score count x 2.5 x position weight. Surface casing seen mid-sentence is kept
    ('LinkedIn'), otherwise terms are lower case.
    """
    unigrams, bigrams, position = _count_terms(sentences)
    total = max(position, 1)
    min_count = 2 if total >= 80 else 1

    def position_weight(stats: TermStats) -> float:
        return 1 + 0.5 * (1 - stats.first_position / total)

    candidates: list[Keyword] = []
    phrase_share: Counter[str] = Counter()
    for (left, right), stats in bigrams.items():
        if stats.count < max(2, min_count):
            continue
        phrase_share[left] = max(phrase_share[left], stats.count)
        phrase_share[right] = max(phrase_share[right], stats.count)
        display = _display(stats, f"{left} {right}")
        candidates.append(
            Keyword(
                display,
                (left, right),
                stats.count * 2.5 * position_weight(stats),
                stats.count,
                frozenset(stats.sentences),
            )
        )
    for word_stem, stats in unigrams.items():
        if stats.count < min_count:
            continue
        damp = max(0.35, 1 - phrase_share[word_stem] / stats.count)
        length_weight = min(1.4, 0.6 + len(word_stem) / 10)
        score = stats.count * position_weight(stats) * length_weight * damp
        candidates.append(
            Keyword(_display(stats, word_stem), (word_stem,), score, stats.count, frozenset(stats.sentences))
        )
    candidates.sort(key=lambda k: (-k.score, k.display.lower()))
    chosen: list[Keyword] = []
    seen: set[str] = set()
    for keyword in candidates:
        if keyword.display.lower() in seen:
            continue
        seen.add(keyword.display.lower())
        chosen.append(keyword)
        if len(chosen) >= limit:
            break
    return chosen


def _specificity(word: str) -> float:
    """How much a word says about a subject: 7 - its Zipf frequency, within 1..5 ('the' 1, 'sourdough' 4.2)."""
    return max(1.0, min(5.0, 7.0 - nlp.zipf(word)))


def _count_grams(run: Sequence[tuple[str, str]], index: int, stats: dict[tuple[str, ...], TermStats]) -> None:
    """Count the one- to three-word grams of a run of content words (stem, surface) seen in sentence `index`."""
    for size in (1, 2, 3):
        for start in range(0, len(run) - size + 1):
            gram = run[start : start + size]
            key = tuple(stem for stem, _ in gram)
            if len(set(key)) < size:
                continue
            term = stats.setdefault(key, TermStats(first_position=index))
            term.count += 1
            term.sentences.add(index)
            shown = " ".join(w if w[1:] != w[1:].lower() or w.isupper() else w.lower() for _, w in gram)
            term.surfaces[shown] += 1


def _count_phrases(
    sentences: Sequence[str],
) -> tuple[dict[tuple[str, ...], TermStats], set[tuple[str, ...]], str]:
    """Phrase candidates with their counts; the runs the speaker announces; and the first short announced
    subject with a preposition ('consistency on LinkedIn'), '' when there is none."""
    stats: dict[tuple[str, ...], TermStats] = {}
    announced: set[tuple[str, ...]] = set()
    named = ""  # a short announced subject with a preposition: 'consistency on LinkedIn'
    for index, sentence in enumerate(sentences):
        subject = nlp.announced_subject(sentence)
        if subject and not named and _NAMED_SUBJECT.match(subject) and nlp.word_count(subject) <= 4:
            named = " ".join(w if w[1:] != w[1:].lower() or w.isupper() else w.lower() for w in subject.split())
        if subject:
            for subject_run in _content_runs(subject):
                announced.add(tuple(stem for stem, _ in subject_run[:3]))
        if nlp.is_frame(sentence) and not subject:
            continue
        for clause in re.split(r"[,;:()\u2014\u2013\"“”?!]|\s-\s|\band\b|\bbut\b", sentence):
            run: list[tuple[str, str]] = []
            for surface in [*nlp.surface_tokens(clause), ""]:
                token = surface.lower()
                if token and nlp.is_content_word(token) and token not in lexicon.HINGLISH_FUNCTION_WORDS:
                    run.append((nlp.stem(token), surface))
                    continue
                _count_grams(run, index, stats)
                run = []
    return stats, announced, named


def _score_phrases(
    stats: dict[tuple[str, ...], TermStats], announced: set[tuple[str, ...]]
) -> list[tuple[float, int, tuple[str, ...]]]:
    """(score, first position, stems) of each candidate that can name a subject (see `key_phrases`)."""
    scored: list[tuple[float, int, tuple[str, ...]]] = []
    for key, term in stats.items():
        forms = next(iter(term.surfaces)).split()
        # A word is as common as its most common form: 'posts' counts as 'post'.
        words = [max(forms[i].lower(), key[i], key=nlp.zipf) for i in range(len(key))]
        if all(nlp.generic_word(w) for w in words):
            continue
        if len(key) == 1 and (nlp.zipf(words[0]) > 4.7 or nlp.generic_word(words[0])):
            continue  # 'starts', 'learned', 'minutes': too common to name a subject alone
        is_announced = key in announced
        if len(term.sentences) < 2 and not is_announced:
            continue
        specificity = sum(_specificity(w) for w in words) / len(words)
        score = len(term.sentences) * specificity * (2.2 if len(key) > 1 else 1.0) * (4.0 if is_announced else 1.0)
        scored.append((score, term.first_position, key))
    return scored


def key_phrases(sentences: Sequence[str], limit: int = 5) -> list[str]:
    """The talk's subjects as key phrases, best first.

    Candidates are runs of one to three adjacent content words inside one clause (no Hindi function words).
    score = sentences it occurs in x mean specificity of its words (7 - Zipf frequency from wordfreq, 1..5)
    x 2.2 for a phrase of two or more words x 4 when it is the whole run the speaker announces ('Let's talk
    about scope creep', 'Today I will explain how database indexes ...'). A single everyday word (Zipf >= 5:
    'work', 'thank'; nor one above Zipf 4.7, a word counting as its most common form) is never a subject, nor
    a phrase made only of everyday words ('good morning'); a candidate needs two sentences unless announced.
    Frame sentences (greetings, thanks, sign-offs) count only for announcements.
    A candidate sharing a word with a better one is skipped, so the list names distinct subjects. A short
    announced subject with a preposition ('consistency on LinkedIn', 'public speaking for introverts') is
    named first, as said.
    """
    stats, announced, named = _count_phrases(sentences)
    scored = _score_phrases(stats, announced)
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    chosen: list[str] = [named] if named else []
    used: set[str] = {nlp.stem(t) for t in nlp.tokens(named) if nlp.is_content_word(t)}
    # Nothing repeated: the subject of the talk's thesis ('Consistency beats talent'), if it states one.
    if not scored and not chosen and (thesis := _thesis_subject(sentences)):
        chosen.append(thesis)
    for _, _, key in scored:
        if used & set(key):
            continue
        used |= set(key)
        chosen.append(_display(stats[key], " ".join(key)))
        if len(chosen) >= limit:
            break
    return chosen


_THESIS = re.compile(
    r"^(?P<subject>[A-Z][\w'’-]*(?:\s+[a-z][\w'’-]*){0,2})\s+(?:beats?|trumps|outperforms|matters more|wins|"
    r"is (?:the (?:key|secret|answer|real)|everything|what matters))\b"
)


def _thesis_subject(sentences: Sequence[str]) -> str:
    """The subject of the first claim of the form 'X beats Y' / 'X is the key ...' ('Consistency'), or ''."""
    for sentence in sentences:
        if nlp.is_frame(sentence) or not (match := _THESIS.match(sentence.strip())):
            continue
        words = match["subject"].split()
        if all(nlp.is_content_word(w.lower()) for w in words) and not all(nlp.generic_word(w) for w in words):
            return " ".join([words[0], *(w.lower() for w in words[1:])])
    return ""


def section_phrase(
    sentences: Sequence[str], avoid: frozenset[str] = frozenset(), boost: frozenset[str] = frozenset()
) -> str:
    """The phrase a few sentences are most about, for a heading: one or two adjacent content words (not ending
    in an '-ly' adverb)
    scored by sentences holding them x mean specificity x (1 + 0.8 per extra word) x 2 when they hold one of the
    talk's keyword stems (`boost`); phrases of everyday words only, and stems in `avoid`, are skipped.
    '' when nothing qualifies."""
    counts: dict[tuple[str, ...], set[int]] = {}
    shown: dict[tuple[str, ...], str] = {}
    for index, sentence in enumerate(sentences):
        for run in _content_runs(sentence):
            for size in (1, 2):
                for start in range(0, len(run) - size + 1):
                    gram = run[start : start + size]
                    key = tuple(stem for stem, _ in gram)
                    if len(set(key)) < size or set(key) & avoid or gram[-1][1].lower().endswith("ly"):
                        continue
                    if any(w.lower() in lexicon.NUMBER_WORDS or w.isdigit() for _, w in gram):
                        continue  # 'Hundred Posts' names a count, not what the section is about
                    counts.setdefault(key, set()).add(index)
                    shown.setdefault(key, " ".join(w if not w[1:].islower() else w.lower() for _, w in gram))
    best: tuple[float, str] = (0.0, "")
    for key, where in counts.items():
        words = [max(w, stem, key=nlp.zipf) for w, stem in zip(shown[key].lower().split(), key, strict=True)]
        if all(nlp.generic_word(w) for w in words) or (
            len(words) == 1 and (nlp.zipf(words[0]) > 4.7 or nlp.generic_word(words[0]))
        ):
            continue
        specificity = sum(_specificity(w) for w in words) / len(words)
        score = len(where) * specificity * (1.0 + 0.8 * (len(key) - 1)) * (2.0 if set(key) & boost else 1.0)
        if score > best[0]:
            best = (score, shown[key])
    return best[1]


_NAMED_SUBJECT = re.compile(r"^[A-Za-z][\w'-]+(?: [A-Za-z][\w'-]+)? (?:on|for|in|with) [A-Za-z][\w'-]+$")


def _content_runs(text: str) -> list[list[tuple[str, str]]]:
    """Runs of adjacent content words (stem, surface) in a piece of text."""
    runs: list[list[tuple[str, str]]] = [[]]
    for surface in nlp.surface_tokens(text):
        token = surface.lower()
        if nlp.is_content_word(token) and token not in lexicon.HINGLISH_FUNCTION_WORDS:
            runs[-1].append((nlp.stem(token), surface))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def topics_of(keywords: Sequence[Keyword], limit: int = 5) -> list[str]:
    """Greedy clusters of keywords: a keyword joins the highest-ranked seed it shares a stem with or
    co-occurs with in at least half of its sentences; each cluster is named by its best phrase (or seed)."""
    clusters: list[list[Keyword]] = []
    for keyword in keywords[:10]:
        for cluster in clusters:
            seed = cluster[0]
            shared = set(seed.stems) & set(keyword.stems)
            overlap = len(seed.sentences & keyword.sentences) / max(1, min(len(seed.sentences), len(keyword.sentences)))
            if shared or overlap >= 0.5:
                cluster.append(keyword)
                break
        else:
            clusters.append([keyword])
    topics: list[str] = []
    for cluster in clusters:
        phrases = [k for k in cluster if len(k.stems) > 1]
        name = (phrases[0] if phrases else cluster[0]).display
        topics.append(nlp.title_case(name))
    return nlp.unique(topics)[:limit]
