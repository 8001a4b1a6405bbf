"""Burned-in captions: an ASS subtitle script from word timings, in a `caption_style` template's look.

Sizes in a template are for a 1080x1920 frame; other frames scale them (font and outline by width,
vertical margin by height). Brand templates are applied on top of the template's config.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from core.ai.transcription import Segment, Word
from core.clips.fonts import usable_family

REFERENCE_WIDTH = 1080
REFERENCE_HEIGHT = 1920
HOLD_SECONDS = 0.3
"""How long a line stays up after its last word when the next line is not right behind it."""
LINE_BREAK_PAUSE = 0.6
"""A pause at least this long starts a new caption line."""
SIDE_MARGIN = 60
_ALIGNMENT = {"top": 8, "center": 5, "middle": 5, "lower_third": 2, "bottom": 2}
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})([0-9a-fA-F]{2})?$")
_STRIP_END = re.compile(r"[.,;:]+$")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


@dataclass(frozen=True, slots=True)
class CaptionStyle:
    """The look of captions; field names are the keys of a `caption_style` template's config."""

    name: str = "Default"
    font: str = "DejaVu Sans"
    font_size: int = 72
    bold: bool = True
    uppercase: bool = False
    primary_colour: str = "#FFFFFF"
    highlight_colour: str = "#FFE14D"
    outline_colour: str = "#000000"
    outline_width: float = 4.0
    shadow: float = 0.0
    position: str = "bottom"
    """top | center | lower_third | bottom."""
    margin_v: int = 260
    words_per_line: int = 4
    highlight_active_word: bool = True
    background_box: bool = False
    box_colour: str = "#000000B0"
    """#RRGGBBAA; AA is opacity (FF opaque)."""

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        *,
        name: str | None = None,
        brand_colors: Mapping[str, Any] | None = None,
        fonts: Mapping[str, Any] | None = None,
        customization: Mapping[str, Any] | None = None,
    ) -> CaptionStyle:
        """A template's config, then a brand template's overrides on top.

        Brand overrides: ``brand_colors.primary`` becomes the highlight colour (the brand's accent on the
        word being spoken) and ``brand_colors.secondary`` the box colour; ``fonts.caption``, else
        ``fonts.heading``, else ``fonts.body`` the font; any caption-style key in ``brand_colors`` or in
        ``customization`` (e.g. ``primary_colour``, ``font_size``) replaces the template's value.
        """
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: v for k, v in config.items() if k in known}
        colours = dict(brand_colors or {})
        if primary := colours.get("primary"):
            values["highlight_colour"] = primary
        if secondary := colours.get("secondary"):
            values["box_colour"] = secondary
        values.update({k: v for k, v in colours.items() if k in known})
        chosen_font = next((fonts[k] for k in ("caption", "heading", "body") if fonts and fonts.get(k)), None)
        if chosen_font:
            values["font"] = str(chosen_font)
        values.update({k: v for k, v in (customization or {}).items() if k in known})
        if name is not None:
            values["name"] = name
        style = cls(**values)
        return replace(
            style,
            font_size=int(style.font_size),
            margin_v=int(style.margin_v),
            words_per_line=max(1, int(style.words_per_line)),
            outline_width=float(style.outline_width),
            shadow=float(style.shadow),
        )

    def to_config(self) -> dict[str, Any]:
        return asdict(self)


def ass_colour(value: str) -> str:
    """``#RRGGBB`` or ``#RRGGBBAA`` (AA = opacity) as ASS ``&HAABBGGRR`` (ASS alpha 00 = opaque)."""
    match = _HEX.match(value.strip())
    if match is None:
        raise ValueError(f"not a colour: {value!r}")
    rgb, opacity = match.group(1), match.group(2)
    alpha = 255 - int(opacity, 16) if opacity else 0
    r, g, b = rgb[0:2], rgb[2:4], rgb[4:6]
    return f"&H{alpha:02X}{b}{g}{r}".upper()


def _override_colour(value: str) -> str:
    """The ``\\c`` override form: ``&HBBGGRR&`` (colour only)."""
    return "&H" + ass_colour(value)[4:] + "&"


@dataclass(frozen=True, slots=True)
class CaptionLine:
    words: list[Word]
    start: float
    end: float


def group_lines(words: Sequence[Word], style: CaptionStyle, *, width: int = REFERENCE_WIDTH) -> list[CaptionLine]:
    """Words into caption lines: at most ``words_per_line`` and what fits the frame's width; a sentence
    end or a pause of LINE_BREAK_PAUSE ends a line. A line shows from its first word until the next line
    starts, or HOLD_SECONDS after its last word when the next line is further away."""
    max_chars = _max_chars(style, width)
    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        if not word.text.strip():
            continue
        if current:
            chars = sum(len(w.text.strip()) + 1 for w in current) + len(word.text.strip())
            full = len(current) >= style.words_per_line or chars > max_chars
            pause = word.start - current[-1].end >= LINE_BREAK_PAUSE
            if full or pause or _ends_sentence(current[-1].text):
                groups.append(current)
                current = []
        current.append(word)
    if current:
        groups.append(current)
    lines: list[CaptionLine] = []
    for index, group in enumerate(groups):
        end = group[-1].end + HOLD_SECONDS
        if index + 1 < len(groups):
            end = min(end, groups[index + 1][0].start)
        end = max(end, group[0].start + 0.05)
        lines.append(CaptionLine(words=group, start=group[0].start, end=end))
    return lines


def build_ass(
    words: Sequence[Word],
    style: CaptionStyle,
    *,
    width: int = REFERENCE_WIDTH,
    height: int = REFERENCE_HEIGHT,
    offset: float = 0.0,
    duration: float | None = None,
) -> str:
    """An ASS script for ``words`` (times in the source) shown in a clip starting at ``offset`` seconds.

    Each line is one Dialogue event; with ``highlight_active_word`` each word gets its own event (from its
    start to the next word's start) in which it is drawn in the highlight colour.
    """
    x_scale, y_scale = width / REFERENCE_WIDTH, height / REFERENCE_HEIGHT
    font_size = max(12, round(style.font_size * x_scale))
    box = style.background_box
    outline = max(style.outline_width, style.font_size * 0.18) if box else style.outline_width
    outline_colour = style.box_colour if box else style.outline_colour
    back_colour = style.box_colour if box else "#00000080"
    alignment = _ALIGNMENT.get(style.position, 2)
    margin_v = 0 if alignment == 5 else round(style.margin_v * y_scale)
    margin_h = round(SIDE_MARGIN * x_scale)
    header = "\n".join(
        [
            "[Script Info]",
            "ScriptType: v4.00+",
            f"PlayResX: {width}",
            f"PlayResY: {height}",
            "WrapStyle: 0",
            "ScaledBorderAndShadow: yes",
            "YCbCr Matrix: TV.709",
            "",
            "[V4+ Styles]",
            "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
            "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
            "Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
            "Style: Caption,{font},{size},{primary},{secondary},{outline_c},{back},{bold},0,0,0,100,100,0,0,"
            "{border},{outline:.1f},{shadow:.1f},{align},{mh},{mh},{mv},1".format(
                font=usable_family(style.font).replace(",", " "),
                size=font_size,
                primary=ass_colour(style.primary_colour),
                secondary=ass_colour(style.highlight_colour),
                outline_c=ass_colour(outline_colour),
                back=ass_colour(back_colour),
                bold=-1 if style.bold else 0,
                border=3 if box else 1,
                outline=outline * x_scale,
                shadow=style.shadow * x_scale,
                align=alignment,
                mh=margin_h,
                mv=margin_v,
            ),
            "",
            "[Events]",
            "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
        ]
    )
    events: list[str] = []
    limit = duration if duration is not None else float("inf")
    for line in group_lines(words, style, width=width):
        texts = [_display(w.text, style) for w in line.words]
        if style.highlight_active_word:
            on = f"{{\\1c{_override_colour(style.highlight_colour)}}}"
            off = f"{{\\1c{_override_colour(style.primary_colour)}}}"
            for k, word in enumerate(line.words):
                start = line.start if k == 0 else word.start
                end = line.words[k + 1].start if k + 1 < len(line.words) else line.end
                marked = [f"{on}{t}{off}" if i == k else t for i, t in enumerate(texts)]
                events.extend(_event(start - offset, end - offset, " ".join(marked), limit))
        else:
            events.extend(_event(line.start - offset, line.end - offset, " ".join(texts), limit))
    return header + "\n" + "\n".join(events) + "\n"


def words_from_segments(segments: Sequence[Segment]) -> list[Word]:
    """Word timings for a transcript: a segment's own words when it has them; otherwise its text split
    into words, each given a share of the segment's time proportional to its syllable count."""
    result: list[Word] = []
    for segment in segments:
        if segment.words:
            result.extend(segment.words)
            continue
        texts = segment.text.split()
        if not texts:
            continue
        weights = [count_syllables(t) for t in texts]
        total = sum(weights)
        span = max(0.0, segment.end - segment.start)
        cursor = segment.start
        for text, weight in zip(texts, weights, strict=True):
            length = span * weight / total
            result.append(Word(text=text, start=round(cursor, 3), end=round(cursor + length, 3), probability=0.0))
            cursor += length
    return result


def count_syllables(word: str) -> int:
    """Vowel groups, less a silent final 'e'; digits count one per digit; at least 1."""
    text = word.lower()
    digits = sum(ch.isdigit() for ch in text)
    letters = re.sub(r"[^a-z]", "", text)
    groups = len(_VOWEL_GROUPS.findall(letters))
    if letters.endswith("e") and not letters.endswith(("le", "ee")) and groups > 1:
        groups -= 1
    return max(1, groups + digits)


def _event(start: float, end: float, text: str, limit: float) -> list[str]:
    start, end = max(0.0, start), min(end, limit)
    if end - start < 0.01:
        return []
    return [f"Dialogue: 0,{_timestamp(start)},{_timestamp(end)},Caption,,0,0,0,,{text}"]


def _timestamp(seconds: float) -> str:
    centis = round(seconds * 100)
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6_000)
    secs, centi = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{secs:02d}.{centi:02d}"


def _display(text: str, style: CaptionStyle) -> str:
    shown = text.strip()
    if not shown.endswith(("?", "!")):
        shown = _STRIP_END.sub("", shown) or shown
    # Braces start override blocks and backslashes escapes in ASS: never let spoken text inject either.
    shown = shown.replace("\\", "/").replace("{", "(").replace("}", ")")
    return shown.upper() if style.uppercase else shown


def _ends_sentence(text: str) -> bool:
    return bool(re.search(r"[.!?…][\"'”’)\]]*$", text.strip()))


def _max_chars(style: CaptionStyle, width: int) -> int:
    usable = width - 2 * SIDE_MARGIN * width / REFERENCE_WIDTH
    glyph = style.font_size * width / REFERENCE_WIDTH * (0.68 if style.uppercase or style.bold else 0.58)
    return max(8, int(usable / glyph))
