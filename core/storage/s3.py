"""Media in an S3-compatible bucket (AWS S3, MinIO, ...), so workers on several machines see the same files.

Rows store `s3://<bucket>/<key>`. ffmpeg and the upload clients need files on disk, so `local_path`
keeps a copy under a cache directory, one per version of the object (its ETag): a key written again on
another machine (a corrected transcript) is downloaded again, never served stale. Every call is
synchronous, like the `FileStore` port; large files go up and down in parts with boto3's managed transfer.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from core.storage.files import LocalFileStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MB = 1024 * 1024
MIN_PART_BYTES = 5 * MB  # S3's smallest part but the last
MAX_PRESIGN_S = 7 * 24 * 3600  # SigV4 presigned URLs live at most a week
_ETAG = re.compile(r"^[0-9A-Za-z-]{1,80}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")  # S3's bucket naming rules


def _missing(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    return (
        error.get("Code") in ("404", "NoSuchKey", "NotFound")
        or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404
    )


def _content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


class S3FileStore:
    """`client` makes every call; `presigner` (a client for the public endpoint) signs the links platforms
    fetch, because a signature covers the host and the workers' endpoint (http://minio:9000) may not be
    reachable from outside. `legacy` reads `local:` rows stored before the switch to S3."""

    scheme = "s3://"

    def __init__(
        self,
        *,
        client: S3Client,
        bucket: str,
        cache_dir: Path,
        multipart_threshold_bytes: int = 16 * MB,
        presigner: S3Client | None = None,
        legacy: LocalFileStore | None = None,
    ) -> None:
        self.client = client
        self.presigner = presigner or client
        self.bucket = bucket
        self.cache_dir = cache_dir.resolve()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.legacy = legacy
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold_bytes,
            multipart_chunksize=max(multipart_threshold_bytes, MIN_PART_BYTES),
            max_concurrency=4,
        )

    # ------------------------------------------------------------------------------------------ addresses

    def url_for(self, key: str) -> str:
        self._check_key(key)
        return f"{self.scheme}{self.bucket}/{key}"

    @staticmethod
    def _check_key(key: str) -> None:
        parts = key.split("/")
        if (
            not key
            or key.startswith("/")
            or any(p in ("", ".", "..") or p.startswith("@") for p in parts)
            or "\\" in key
        ):
            raise ValueError(f"not a storage key: {key!r}")

    def _split(self, url: str) -> tuple[str, str]:
        if not url.startswith(self.scheme):
            raise ValueError(f"not an s3 storage url: {url!r}")
        bucket, _, key = url[len(self.scheme) :].partition("/")
        self._check_key(key)
        if not _BUCKET.match(bucket) or ".." in bucket:
            raise ValueError(f"not an s3 storage url: {url!r}")
        return bucket, key

    def _cached(self, bucket: str, etag: str, key: str) -> Path:
        """`<cache>/<bucket>/<key>/@<etag>/<name>`: a folder per key (so a key that is also another key's
        folder, `assets/1` beside `assets/1/source.mp4`, never clashes), a version per ETag, the key's own
        file name last (uploads and ffmpeg see `source.mp4`)."""
        if not _ETAG.match(etag):
            raise ValueError(f"unexpected ETag {etag!r}")
        path = (self.cache_dir / bucket / key / f"@{etag}" / key.rsplit("/", 1)[-1]).resolve()
        if not path.is_relative_to(self.cache_dir / bucket):
            raise ValueError(f"storage key escapes the cache: {key!r}")
        return path

    def _drop_others(self, bucket: str, key: str, *, keep: Path) -> None:
        """Every other cached version of `key`."""
        for version in (self.cache_dir / bucket / key).glob("@*"):
            if version != keep.parent:
                shutil.rmtree(version, ignore_errors=True)

    # --------------------------------------------------------------------------------------------- writes

    def put_path(self, src: Path, key: str) -> str:
        url = self.url_for(key)
        self.client.upload_file(
            str(src), self.bucket, key, ExtraArgs={"ContentType": _content_type(key)}, Config=self.transfer
        )
        self._keep(key, lambda tmp: shutil.copyfile(src, tmp))
        return url

    def put_bytes(self, data: bytes, key: str) -> str:
        url = self.url_for(key)
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=_content_type(key))
        self._keep(key, lambda name: Path(name).write_bytes(data))
        return url

    def _keep(self, key: str, write: Callable[[str], object]) -> None:
        """What was just written is what this machine reads next: cache it under the object's new ETag
        (one HEAD) instead of downloading it again, and drop older versions."""
        etag = self.client.head_object(Bucket=self.bucket, Key=key)["ETag"].strip('"')
        path = self._cached(self.bucket, etag, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
        os.close(fd)
        try:
            write(tmp)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self._drop_others(self.bucket, key, keep=path)

    # ---------------------------------------------------------------------------------------------- reads

    def local_path(self, url: str) -> Path:
        """A file on this machine with the object's current bytes (FileNotFoundError if there is none)."""
        if url.startswith(LocalFileStore.scheme) and self.legacy is not None:
            return self.legacy.local_path(url)
        bucket, key = self._split(url)
        try:
            head = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                raise FileNotFoundError(f"no object {url}") from exc
            raise
        path = self._cached(bucket, head["ETag"].strip('"'), key)
        if path.is_file():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        # A temporary name, then a rename: a reader never sees half a file, two downloaders never clash.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
        os.close(fd)
        try:
            self.client.download_file(bucket, key, tmp, Config=self.transfer)
            os.replace(tmp, path)
        except ClientError as exc:
            if _missing(exc):
                raise FileNotFoundError(f"no object {url}") from exc
            raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self._drop_others(bucket, key, keep=path)
        return path

    def fetchable_url(self, url: str, *, expires_s: int) -> str:
        if not 0 < expires_s <= MAX_PRESIGN_S:
            raise ValueError(f"a presigned link lives between 1 s and 7 days, not {expires_s} s")
        bucket, key = self._split(url)
        return self.presigner.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_s
        )

    # ------------------------------------------------------------------------------------------- deletion

    def delete_prefix(self, prefix: str) -> None:
        """The object named `prefix` and every object under `prefix/`, with their cached copies."""
        self._check_key(prefix.rstrip("/"))
        base = prefix.rstrip("/")
        paginator = self.client.get_paginator("list_objects_v2")
        keys: list[str] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=base):
            keys += [o["Key"] for o in page.get("Contents", []) if o["Key"] == base or o["Key"].startswith(base + "/")]
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            batch: list[Any] = [{"Key": k} for k in keys[start : start + 1000]]
            answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise OSError(f"could not delete {first.get('Key')}: {first.get('Code')} {first.get('Message')}")
        shutil.rmtree(self.cache_dir / self.bucket / base, ignore_errors=True)
        if self.legacy is not None:
            self.legacy.delete_prefix(prefix)
