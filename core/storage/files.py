"""Media storage port and its local-directory implementation.

Files are addressed by keys such as `assets/<uuid>/source.mp4`; rows store `local:<key>` so a later
S3 implementation can store `s3://bucket/<key>` without a schema change.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Protocol


class FileStore(Protocol):
    def url_for(self, key: str) -> str: ...
    def put_path(self, src: Path, key: str) -> str: ...
    def put_bytes(self, data: bytes, key: str) -> str: ...
    def local_path(self, url: str) -> Path: ...
    def delete_prefix(self, prefix: str) -> None: ...


class LocalFileStore:
    """Stores media under `root`. Writes go to a temporary name first so readers never see half a file."""

    scheme = "local:"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"storage key escapes the media root: {key!r}")
        return path

    def url_for(self, key: str) -> str:
        return self.scheme + key

    def put_path(self, src: Path, key: str) -> str:
        dst = self._path(key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(dst.name + ".part")
        shutil.copyfile(src, tmp)
        tmp.replace(dst)
        return self.url_for(key)

    def put_bytes(self, data: bytes, key: str) -> str:
        dst = self._path(key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(dst.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(dst)
        return self.url_for(key)

    def local_path(self, url: str) -> Path:
        if not url.startswith(self.scheme):
            raise ValueError(f"not a local storage url: {url!r}")
        return self._path(url[len(self.scheme) :])

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()
