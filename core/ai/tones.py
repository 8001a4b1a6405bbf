"""Tone presets: the phrase banks the offline writer draws from and the guidance given to LLM writers.

The phrase banks themselves are data, in `tones.toml`. Templates use `{topic}`, `{Topic}` (sentence case),
`{quote}`, `{brand}` and `{n}` fields only.
Hinglish keeps the content in English and mixes common Hindi words in Latin script into openers,
transitions and closers.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, get_args

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


def _load_tones() -> dict[TonePreset, Tone]:
    """The presets in `tones.toml`, beside this module: one table per preset, one key per `Tone` field."""
    data = tomllib.loads(resources.files("core.ai").joinpath("tones.toml").read_text(encoding="utf-8"))
    presets: tuple[TonePreset, ...] = get_args(TonePreset)
    if set(data) != set(presets):
        raise ValueError(f"tones.toml must define exactly the presets {presets}, got {sorted(data)}")
    tones: dict[TonePreset, Tone] = {}
    for name in presets:
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data[name].items()}
        tones[name] = Tone(name=name, **fields)
    return tones


TONES: dict[TonePreset, Tone] = _load_tones()


def tone(name: TonePreset) -> Tone:
    return TONES[name]
