"""S3FileStore against an S3-compatible server over real HTTP (moto's server mode, tests/fakes/s3.py),
built by the same factory the runtime uses. Two stores with their own cache directories on one bucket
stand for two machines."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fakes.s3 import ACCESS_KEY, SECRET_KEY, S3Server
from pydantic import SecretStr
from yarl import URL

from core.config import Settings
from core.storage.factory import StorageMisconfigured, file_store
from core.storage.s3 import MB, S3FileStore


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = S3Server()
    server.start()
    yield server
    server.stop()


def _settings(s3: S3Server, data_dir: Path, bucket: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        storage_backend="s3",
        s3_endpoint_url=s3.endpoint,
        s3_bucket=bucket,
        s3_access_key_id=ACCESS_KEY,
        s3_secret_access_key=SecretStr(SECRET_KEY),
        s3_create_bucket=True,
        s3_multipart_threshold_mb=5,
        recast_data_dir=data_dir,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def bucket() -> str:
    return f"media-{uuid.uuid4().hex[:12]}"


def _machine(s3: S3Server, root: Path, bucket: str, **overrides: Any) -> S3FileStore:
    store = file_store(_settings(s3, root, bucket, **overrides))
    assert isinstance(store, S3FileStore)
    return store


@pytest.fixture
def machines(s3: S3Server, tmp_path: Path, bucket: str) -> tuple[S3FileStore, S3FileStore]:
    return _machine(s3, tmp_path / "a", bucket), _machine(s3, tmp_path / "b", bucket)


def test_a_missing_bucket_stops_start_up_unless_creating_it_is_allowed(
    s3: S3Server, tmp_path: Path, bucket: str
) -> None:
    with pytest.raises(StorageMisconfigured, match=rf"bucket '{bucket}' does not exist .*S3_CREATE_BUCKET=true"):
        file_store(_settings(s3, tmp_path, bucket, s3_create_bucket=False))
    store = _machine(s3, tmp_path, bucket)  # created now
    store.client.head_bucket(Bucket=bucket)
    assert isinstance(file_store(_settings(s3, tmp_path, bucket, s3_create_bucket=False)), S3FileStore)
    with pytest.raises(StorageMisconfigured, match="needs S3_BUCKET"):
        file_store(_settings(s3, tmp_path, bucket, s3_bucket=None))


def test_bytes_put_on_one_machine_are_read_on_another(machines: tuple[S3FileStore, S3FileStore]) -> None:
    a, b = machines
    url = a.put_bytes(b'{"segments": []}', "assets/1/transcript.json")
    assert url == f"s3://{a.bucket}/assets/1/transcript.json" == a.url_for("assets/1/transcript.json")
    path = b.local_path(url)
    assert path.read_bytes() == b'{"segments": []}'
    assert path.name == "transcript.json" and path.is_relative_to(b.cache_dir)
    head = a.client.head_object(Bucket=a.bucket, Key="assets/1/transcript.json")
    assert head["ContentType"] == "application/json"


def test_a_large_render_goes_up_in_parts_and_comes_down_whole(
    machines: tuple[S3FileStore, S3FileStore], tmp_path: Path
) -> None:
    a, b = machines
    render = tmp_path / "render.mp4"
    render.write_bytes(uuid.uuid4().bytes * (12 * MB // 16) + b"tail")  # 12 MB and 4 bytes: 5 + 5 + 2 MB
    url = a.put_path(render, "clips/7/clip.mp4")
    head = a.client.head_object(Bucket=a.bucket, Key="clips/7/clip.mp4")
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]  # S3's ETag of a 3-part upload
    assert head["ContentLength"] == render.stat().st_size and head["ContentType"] == "video/mp4"
    assert a.client.head_object(Bucket=a.bucket, Key="clips/7/clip.mp4", PartNumber=1)["ContentLength"] == 5 * MB
    small = tmp_path / "thumb.jpg"
    small.write_bytes(b"\xff\xd8" + b"x" * 1000)
    a.put_path(small, "clips/7/clip.jpg")
    assert "-" not in a.client.head_object(Bucket=a.bucket, Key="clips/7/clip.jpg")["ETag"]  # one PUT
    assert hashlib.sha256(b.local_path(url).read_bytes()).digest() == hashlib.sha256(render.read_bytes()).digest()


def test_local_path_downloads_once_and_again_only_when_the_object_changed(
    s3: S3Server, machines: tuple[S3FileStore, S3FileStore]
) -> None:
    a, b = machines
    url = a.put_bytes(b"revision 1", "assets/2/transcript.json")
    key_path = f"/{a.bucket}/assets/2/transcript.json"
    first = b.local_path(url)
    s3.checks.requests.clear()
    again = b.local_path(url)
    assert again == first and again.read_bytes() == b"revision 1"
    assert s3.checks.requests == [("HEAD", key_path)]  # the cached copy is current: no download
    a.put_bytes(b"revision 2", "assets/2/transcript.json")  # the other machine corrects it
    fresh = b.local_path(url)
    assert fresh.read_bytes() == b"revision 2"
    assert not first.exists()  # the old version's copy is gone
    assert [p.name for p in b.cache_dir.rglob("*") if p.is_file()] == ["transcript.json"]
    # The machine that wrote it reads its own copy: one HEAD, no GET.
    s3.checks.requests.clear()
    assert a.local_path(url).read_bytes() == b"revision 2"
    assert [m for m, _ in s3.checks.requests] == ["HEAD"]


def test_a_missing_object_is_file_not_found_and_keys_cannot_escape(machines: tuple[S3FileStore, S3FileStore]) -> None:
    a, _ = machines
    with pytest.raises(FileNotFoundError):
        a.local_path(a.url_for("assets/none/transcript.json"))
    for bad in ("../etc/passwd", "/abs", "a/../../b", "a//b", "a\\b", ""):
        with pytest.raises(ValueError, match="not a storage key"):
            a.put_bytes(b"x", bad)
    with pytest.raises(ValueError, match="not a storage key"):
        a.local_path(f"s3://{a.bucket}/a/../../../outside")
    with pytest.raises(ValueError, match="not an s3 storage url"):
        a.local_path("s3://../outside/x.json")
    with pytest.raises(ValueError, match="not a storage key"):
        a.put_bytes(b"x", "assets/@deadbeef/x.json")  # the cache's version folders are named @<etag>


async def test_a_presigned_link_serves_the_bytes_until_it_expires(machines: tuple[S3FileStore, S3FileStore]) -> None:
    a, b = machines
    url = a.put_bytes(b"\x00\x00\x00\x18ftypmp42 video bytes", "clips/9/clip.mp4")
    link = b.fetchable_url(url, expires_s=2)
    assert link.startswith(b.client.meta.endpoint_url + f"/{a.bucket}/clips/9/clip.mp4?")
    async with aiohttp.ClientSession() as http:
        async with http.get(URL(link, encoded=True)) as response:
            assert response.status == 200
            assert await response.read() == b"\x00\x00\x00\x18ftypmp42 video bytes"
            assert response.headers["Content-Type"] == "video/mp4"
        async with http.get(URL(link.replace("clip.mp4", "clip.jpg"), encoded=True)) as response:
            assert response.status == 403  # the signature covers the key
            assert "SignatureDoesNotMatch" in await response.text()
        await asyncio.sleep(3.2)  # X-Amz-Date has whole seconds: past 2 s for sure
        async with http.get(URL(link, encoded=True)) as response:
            assert response.status == 403
            assert "Request has expired" in await response.text()
    for wrong in (0, 7 * 24 * 3600 + 1):  # S3 refuses presigned URLs that live longer than a week
        with pytest.raises(ValueError, match="between 1 s and 7 days"):
            b.fetchable_url(url, expires_s=wrong)


def test_presigned_links_name_the_public_endpoint(s3: S3Server, tmp_path: Path, bucket: str) -> None:
    store = _machine(s3, tmp_path, bucket, s3_public_endpoint_url="https://media.example.com")
    link = store.fetchable_url(store.url_for("clips/1/clip.mp4"), expires_s=60)
    assert link.startswith(f"https://media.example.com/{bucket}/clips/1/clip.mp4?")
    assert "X-Amz-Expires=60" in link


def test_delete_prefix_removes_the_objects_under_it_and_their_copies(
    machines: tuple[S3FileStore, S3FileStore],
) -> None:
    a, b = machines
    urls = [a.put_bytes(b"x", k) for k in ("assets/abc/source.mp4", "assets/abc/clips/1.mp4", "assets/abc")]
    keep = a.put_bytes(b"neighbour", "assets/abcdef/source.mp4")  # shares the prefix's letters, not its folder
    copies = [b.local_path(u) for u in [*urls, keep]]
    many = [f"assets/abc/frames/{i:04}.jpg" for i in range(1005)]  # more than one DeleteObjects batch
    for key in many:
        a.client.put_object(Bucket=a.bucket, Key=key, Body=b"f")
    b.delete_prefix("assets/abc")
    left = [o["Key"] for o in a.client.list_objects_v2(Bucket=a.bucket)["Contents"]]
    assert left == ["assets/abcdef/source.mp4"]
    assert [c.exists() for c in copies] == [False, False, False, True]
    for url in urls:
        with pytest.raises(FileNotFoundError):
            a.local_path(url)
    assert b.local_path(keep).read_bytes() == b"neighbour"


def test_the_runtime_opens_the_configured_store_and_refuses_a_missing_bucket(
    s3: S3Server, database_url: str, redis_url: str, tmp_path: Path, bucket: str
) -> None:
    from recast.runtime import open_infra

    def settings(**overrides: Any) -> Settings:
        return _settings(s3, tmp_path, bucket, database_url=database_url, redis_url=redis_url, **overrides)

    async def open_store(s: Settings) -> Any:
        async with open_infra(s, migrate_db=False) as infra:
            return infra.store

    with pytest.raises(SystemExit, match=rf"Media storage is not usable: S3 bucket '{bucket}' does not exist"):
        asyncio.run(open_store(settings(s3_create_bucket=False)))
    store = asyncio.run(open_store(settings()))
    assert isinstance(store, S3FileStore) and store.bucket == bucket
    assert store.cache_dir == (tmp_path / "s3-cache").resolve()
    local = asyncio.run(open_store(settings(storage_backend="local", public_base_url="https://recast.example")))
    assert local.root == (tmp_path / "media").resolve()
    assert local.fetchable_url(local.put_bytes(b"x", "a/b.mp4"), expires_s=60).startswith(
        "https://recast.example/media/"
    )
