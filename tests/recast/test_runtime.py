"""Start-up of the composition root: a second process on the local vector store gets told what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.config import Settings
from recast.runtime import make_qdrant


def test_a_second_process_on_local_qdrant_is_told_to_use_recast_run_or_qdrant_url(tmp_path: Path) -> None:
    store = tmp_path / "qdrant"
    holder = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", "import sys, time\nfrom qdrant_client import QdrantClient\n"
         f"c = QdrantClient(path={str(store)!r})\nprint('ready', flush=True)\nsys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        settings = Settings(recast_data_dir=tmp_path, qdrant_url=None, _env_file=None)  # type: ignore[call-arg]
        with pytest.raises(SystemExit) as caught:
            make_qdrant(settings)
    finally:
        holder.communicate("", timeout=30)
    message = str(caught.value)
    assert "`recast run`" in message and "QDRANT_URL" in message and str(store) in message
    # The holder has exited: the store opens again.
    client = make_qdrant(settings)
    assert client is not None
