"""Fonts for burned-in captions.

libass draws nothing at all when it finds no font, and a fresh machine (or a slim container) may have
none, so Recast ships DejaVu Sans (regular and bold; free licence in fonts/LICENSE-DejaVu.txt) and hands
that directory to every render. A brand font is used when the machine has it, else DejaVu Sans.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

FONTS_DIR = Path(__file__).with_name("fonts")
DEFAULT_FAMILY = "DejaVu Sans"
BUNDLED_FAMILIES = frozenset({"dejavu sans"})


@functools.lru_cache(maxsize=1)
def system_families() -> frozenset[str]:
    """Font families fontconfig knows on this machine (lower case); empty without fc-list."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return frozenset()
    try:
        out = subprocess.run(  # noqa: S603 - fixed arguments
            [fc_list, ":", "family"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(name.strip().lower() for line in out.splitlines() for name in line.split(",") if name.strip())


def usable_family(family: str | None) -> str:
    """``family`` when it can be drawn here, else the bundled DejaVu Sans."""
    if family and (family.lower() in BUNDLED_FAMILIES or family.lower() in system_families()):
        return family
    if family:
        log.info("caption font %r is not installed; using %s", family, DEFAULT_FAMILY)
    return DEFAULT_FAMILY
