"""Stored gateway bodies → JSON objects that PostgreSQL and the billing code can hold, or why not.

A body can be authentic (validly signed) and still be something no gateway documents: a NUL (raw, or
escaped as \\u0000, which `text` and `jsonb` cannot hold), a lone surrogate escape (not encodable as
UTF-8), a number longer than any amount or timestamp (Python refuses past 4,300 digits anyway), nesting
deeper than any event, NaN/Infinity. Those raise `MalformedPayload` with the reason for the operator;
nothing here raises anything else, so neither the webhook nor the worker can crash on what a body holds.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DIGITS = 100  # longer than any id, amount or timestamp a gateway sends
MAX_DEPTH = 64  # gateway events nest about 5 deep


class MalformedPayload(ValueError):
    """The bytes are not a JSON object we can process; the message says why (for the operator)."""


def _int(text: str) -> int:
    digits = len(text) - text.startswith("-")
    if digits > MAX_DIGITS:
        raise MalformedPayload(f"a number with {digits} digits (at most {MAX_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_DIGITS + 10:
        raise MalformedPayload(f"a number with {len(text)} characters")
    value = float(text)
    if not math.isfinite(value):
        raise MalformedPayload(f"a number out of range ({text[:20]}...)")
    return value


def _constant(name: str) -> Any:
    raise MalformedPayload(f"{name} is not JSON")


def _bad_string(value: str) -> str | None:
    if "\x00" in value:
        return "a string contains a NUL character (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "a string contains a lone surrogate escape"
    return None


def _check(data: Any, *, strings: bool) -> None:
    """Depth always; strings only when the text had \\u escapes (nothing else can make a bad one)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MalformedPayload(f"JSON nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                if strings and (reason := _bad_string(key)):
                    raise MalformedPayload(reason)
                if isinstance(item, dict | list):
                    stack.append((item, depth + 1))
                elif strings and isinstance(item, str) and (reason := _bad_string(item)):
                    raise MalformedPayload(reason)
        else:
            for item in value:
                if isinstance(item, dict | list):
                    stack.append((item, depth + 1))
                elif strings and isinstance(item, str) and (reason := _bad_string(item)):
                    raise MalformedPayload(reason)


def parse_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or `MalformedPayload` saying why it is none we can process."""
    if b"\x00" in raw:
        raise MalformedPayload("body contains a NUL byte")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload(f"body is not UTF-8 (byte {exc.start})") from exc
    try:
        data = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except MalformedPayload:
        raise
    except RecursionError as exc:
        raise MalformedPayload(f"JSON nested deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # json.JSONDecodeError and int() refusals
        raise MalformedPayload(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedPayload("JSON body is not an object")
    _check(data, strings="\\u" in text)
    return data
