"""The flood figures of every door in one table (issue 16): runs the flood tests with pytest (`-s`, so
their `FLOOD door=... sent=... refused=... ...` lines reach stdout; see tests/floods.py), parses those
lines and prints them as a Markdown table. The tests assert the behaviour; this only tabulates it.

Uses the same servers as the test suite (DATABASE_URL / REDIS_URL, else 127.0.0.1, else embedded).

    python bench/floods.py [--markdown-only]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = [
    "tests/bots/telegram/test_bot_flood.py",
    "tests/bots/slack/test_slack_flood.py",
    "tests/webhooks/test_floods.py",
]
LINE = re.compile(r"FLOOD door=(?P<door>.+?) sent=(?P<sent>\d+) (?P<rest>(?:\w+=\d+ ?)+)$")
COLUMNS = ("sent", "refused", "admitted", "work_units", "uploads_charged", "credits_charged")


def parse(output: str) -> list[dict[str, str]]:
    rows = []
    for raw in output.splitlines():
        start = raw.find("FLOOD door=")
        if start < 0:
            continue
        found = LINE.match(raw[start:].strip())
        if found is None:
            continue
        row = {"door": found["door"], "sent": found["sent"]}
        row |= dict(pair.split("=", 1) for pair in found["rest"].split())
        rows.append(row)
    return rows


def table(rows: list[dict[str, str]]) -> str:
    head = ["door", *COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * len(COLUMNS)) + "|"]
    lines += ["| " + " | ".join(row.get(c, "") for c in head) + " |" for row in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown-only", action="store_true", help="print only the table")
    args = parser.parse_args()
    command = [sys.executable, "-m", "pytest", "-s", "-q", "-p", "no:cacheprovider", *TESTS]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    rows = parse(done.stdout)
    if not args.markdown_only:
        summary = [line for line in done.stdout.splitlines() if " passed" in line or " failed" in line]
        print(f"flood tests: {summary[-1].strip('= ') if summary else 'no summary'} ({len(rows)} doors)\n")
    print(table(rows))
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
        return done.returncode
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
