"""Media storage port and its local-directory implementation.

Files are addressed by keys such as `assets/<uuid>/source.mp4`; rows store `local:<key>` here and
`s3://<bucket>/<key>` with `core.storage.s3.S3FileStore`, so switching backends needs no schema change.
`fetchable_url` is a signed link that expires, for platforms that fetch media by URL.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from core.storage.links import MediaLinks

T = TypeVar("T")


async def off_loop(call: Callable[[], T]) -> T:
    """Run a store call in a thread (with S3 storage it is a download or an upload; the event loop keeps
    leases beating meanwhile). Cancelled, it still waits for the call to end before raising, so cleanup
    that follows (`delete_prefix` on an aborted ingest) never races a write still in flight."""
    future = asyncio.ensure_future(asyncio.to_thread(call))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait({future})
        raise


class FileStore(Protocol):
    def url_for(self, key: str) -> str: ...
    def put_path(self, src: Path, key: str) -> str: ...
    def put_bytes(self, data: bytes, key: str) -> str: ...
    def local_path(self, url: str) -> Path: ...
    def delete_prefix(self, prefix: str) -> None: ...
    def fetchable_url(self, url: str, *, expires_s: int) -> str:
        """An HTTP(S) link anyone holding it can GET for `expires_s` seconds, then refused."""
        ...


class LocalFileStore:
    """Stores media under `root`. Writes go to a temporary name first so readers never see half a file."""

    scheme = "local:"

    def __init__(self, root: Path, *, links: MediaLinks | None = None) -> None:
        """`links` signs `fetchable_url`s (served by `recast web` at /media/<token>); without it there are none."""
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.links = links

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

    def _key(self, url: str) -> str:
        if not url.startswith(self.scheme):
            raise ValueError(f"not a local storage url: {url!r}")
        return url[len(self.scheme) :]

    def local_path(self, url: str) -> Path:
        return self._path(self._key(url))

    def fetchable_url(self, url: str, *, expires_s: int) -> str:
        if self.links is None:
            raise RuntimeError("this LocalFileStore was built without media links (PUBLIC_BASE_URL and key)")
        key = self._key(url)
        self._path(key)  # refuses a key outside the media root before signing it
        return self.links.url(key, expires_s=expires_s)

    def linked_path(self, token: str) -> Path:
        """The file a `/media/<token>` link names: `ForgedLink`, `ExpiredLink`, or FileNotFoundError."""
        if self.links is None:
            raise FileNotFoundError("media links are not served by this store")
        try:
            path = self._path(self.links.key_of(token))
        except ValueError as exc:  # a signed key outside the root: never ours to serve
            raise FileNotFoundError(str(exc)) from exc
        if not path.is_file():
            raise FileNotFoundError(str(path))
        return path

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()
