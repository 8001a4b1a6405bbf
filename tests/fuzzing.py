"""What the fuzz tests share: the hypothesis profiles, generated JSON and text, a raw HTTP/1.1 sender,
the "no unhandled exception" log check and the "no stored secret" database scan.

Profiles: `fuzz` (default; derandomized so CI sees the same examples every run, no example database, a
modest count per test) and `fuzz-deep` (RECAST_FUZZ_PROFILE=fuzz-deep: random, ten times the examples,
for a run by hand).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_SUPPRESSED = [
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
]
settings.register_profile(
    "fuzz", max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=_SUPPRESSED
)
settings.register_profile(
    "fuzz-deep", max_examples=400, deadline=None, derandomize=False, database=None, suppress_health_check=_SUPPRESSED
)
PROFILE = os.environ.get("RECAST_FUZZ_PROFILE", "fuzz")
settings.load_profile(PROFILE)
SCALE = 10 if PROFILE == "fuzz-deep" else 1


def examples(n: int) -> settings:
    """This test's example count under the loaded profile."""
    return settings(max_examples=n * SCALE)


# --------------------------------------------------------------------------------- generated values

# Text with the awkward parts of Unicode: controls, NUL, combining marks, RTL, emoji, lone surrogates
# are impossible in JSON-from-Python but escaped surrogates are not (see `json_bodies`).
ODD_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=80),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\u0000b",
            "\u202eevil\u202c",
            "e\u0301\u0301\u0301",
            "👩🏽‍💻" * 5,
            "\ufeff/start",
            "\u2028\u2029",
            "%s%n%x",
            "{{7*7}}",
            "<script>alert(1)</script>",
            "'; DROP TABLE users; --",
            "../../etc/passwd",
            "9" * 400,
            "x" * 5000,
        ]
    ),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    ODD_TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def fuzz_fields(template: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The template with some of its fields (at any depth) replaced by generated JSON, dropped, or kept."""

    def mutate(value: Any) -> st.SearchStrategy[Any]:
        if isinstance(value, dict):
            return st.fixed_dictionaries(
                {k: st.one_of(mutate(v), mutate(v), mutate(v), st.just(_DROP)) for k, v in value.items()},
                optional={"extra": JSON},
            ).map(lambda d: {k: v for k, v in d.items() if v is not _DROP})
        return st.one_of(st.just(value), st.just(value), st.just(value), JSON)

    return mutate(template)  # type: ignore[return-value]


_DROP = object()


# ----------------------------------------------------------------------------------- raw HTTP/1.1


async def raw_request(
    port: int,
    method: str,
    target: bytes,
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: bytes = b"",
    *,
    timeout: float = 30.0,
) -> tuple[int, bytes]:
    """One request written byte for byte (aiohttp's client would re-encode paths and header values);
    returns the status and everything after the status line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (method.encode(), target)
        if body or method == "POST":
            head += b"Content-Length: %d\r\n" % len(body)
        writer.write(head + b"".join(b"%s: %s\r\n" % kv for kv in headers) + b"\r\n" + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    status_line, _, rest = answer.partition(b"\r\n")
    parts = status_line.split()
    assert len(parts) >= 2 and parts[0].startswith(b"HTTP/"), f"no HTTP answer: {answer[:200]!r}"
    return int(parts[1]), rest


# ------------------------------------------------------------------------------------------ checks


def unhandled(records: Iterable[logging.LogRecord]) -> list[str]:
    """Log records that carry an exception at ERROR or above: an exception nobody handled on purpose."""
    return [
        f"{r.name}: {r.getMessage()} ({r.exc_info[1]!r})"
        for r in records
        if r.levelno >= logging.ERROR and r.exc_info and r.exc_info[1] is not None
    ]


async def tables_holding(engine: AsyncEngine, secrets: Iterable[str]) -> dict[str, int]:
    """Rows of every table that contain one of `secrets`, as text or in a bytea column (hex), by table.

    Run with secrets unique to the test, so rows of other tests sharing the database never match."""
    needles = [s for s in secrets if s]
    found: dict[str, int] = {}
    async with engine.connect() as conn:
        tables = (
            await conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
            )
        ).scalars()
        for table in list(tables):
            conditions = " OR ".join(
                f"strpos(x::text, :s{i}) > 0 OR strpos(x::text, :h{i}) > 0" for i in range(len(needles))
            )
            params = {f"s{i}": s for i, s in enumerate(needles)} | {
                f"h{i}": s.encode().hex() for i, s in enumerate(needles)
            }
            count = (
                await conn.execute(text(f'SELECT count(*) FROM "{table}" AS x WHERE {conditions}'), params)
            ).scalar()
            if count:
                found[table] = int(count)
    return found
