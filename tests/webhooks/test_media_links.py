"""`/media/<token>` on the real web app over real HTTP: a platform fetching a clip by the link
`LocalFileStore.fetchable_url` made gets the file (ranges too, the right Content-Type); a forged token is
403, an expired one 410 with why, a deleted file 404, and no token or path reaches outside the media root."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from fakes.s3 import ACCESS_KEY, SECRET_KEY, S3Server
from pydantic import SecretStr
from yarl import URL

from core.config import Settings
from core.deps import CoreDeps
from core.storage.factory import file_store
from core.storage.files import LocalFileStore
from core.storage.links import MediaLinks
from webhooks.app import make_web_app

CLIP = bytes(range(256)) * 64  # 16 KiB whose every range is distinct
SECRET = "media-links-test-secret"


@pytest.fixture
async def served(
    make_settings: Callable[..., Settings], make_deps: Callable[[Settings], CoreDeps], tmp_path: Path
) -> AsyncIterator[tuple[LocalFileStore, str]]:
    deps = make_deps(make_settings())
    app = make_web_app(deps)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    deps.store = LocalFileStore(tmp_path / "served-media", links=MediaLinks(secret=SECRET, base_url=base))
    yield deps.store, base
    await server.close()


async def _get(url: str | URL, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return response.status, await response.read(), dict(response.headers)


async def test_a_signed_link_serves_the_file_with_ranges_and_its_type(served: tuple[LocalFileStore, str]) -> None:
    store, base = served
    url = store.put_bytes(CLIP, "clips/1/clip.mp4")
    link = store.fetchable_url(url, expires_s=600)
    assert link.startswith(f"{base}/media/") and "clips" not in link  # the key travels signed, not as a path
    status, body, headers = await _get(link)
    assert (status, body) == (200, CLIP)
    assert headers["Content-Type"] == "video/mp4" and headers["Accept-Ranges"] == "bytes"
    status, body, headers = await _get(link, Range="bytes=1000-1999")
    assert status == 206 and body == CLIP[1000:2000]
    assert headers["Content-Range"] == f"bytes 1000-1999/{len(CLIP)}"
    async with aiohttp.ClientSession() as http, http.head(link) as response:
        assert response.status == 200 and response.headers["Content-Length"] == str(len(CLIP))
    thumb = store.fetchable_url(store.put_bytes(b"\xff\xd8\xff", "clips/1/clip.jpg"), expires_s=600)
    assert (await _get(thumb))[2]["Content-Type"] == "image/jpeg"
    assert link != store.fetchable_url(url, expires_s=601)  # the expiry is part of what is signed


async def test_a_forged_token_is_403(served: tuple[LocalFileStore, str], tmp_path: Path) -> None:
    store, base = served
    url = store.put_bytes(CLIP, "clips/2/clip.mp4")
    link = store.fetchable_url(url, expires_s=600)
    head, _, mac = link.rpartition("/")[2].partition(".")
    other_key = MediaLinks(secret="someone else's key", base_url=base).url("clips/2/clip.mp4", expires_s=600)
    # A link to another file made by splicing a valid MAC onto another payload.
    spliced = store.fetchable_url(store.put_bytes(b"other", "clips/3/clip.mp4"), expires_s=600).rpartition("/")[2]
    for forged in (
        f"{base}/media/{head}.{mac[:-2]}AA",
        f"{base}/media/{head}",
        f"{base}/media/{spliced.partition('.')[0]}.{mac}",
        other_key,
        f"{base}/media/not-a-token",
        f"{base}/media/.",
    ):
        status, body, _ = await _get(URL(forged, encoded=True))
        assert (status, body) == (403, b"This is not a valid media link.\n"), forged


async def test_an_expired_link_is_410_and_says_so(served: tuple[LocalFileStore, str]) -> None:
    store, base = served
    url = store.put_bytes(CLIP, "clips/4/clip.mp4")
    # Issued two hours ago for one hour, by a process sharing the key and the media directory.
    issuer = LocalFileStore(
        store.root, links=MediaLinks(secret=SECRET, base_url=base, clock=lambda: time.time() - 7200)
    )
    status, body, headers = await _get(issuer.fetchable_url(url, expires_s=3600))
    assert (status, body) == (410, b"This media link has expired.\n")
    assert headers["Content-Type"].startswith("text/plain")
    status, _, _ = await _get(issuer.fetchable_url(url, expires_s=3 * 3600))  # still inside its time
    assert status == 200


async def test_a_deleted_file_is_404(served: tuple[LocalFileStore, str]) -> None:
    store, _ = served
    link = store.fetchable_url(store.put_bytes(CLIP, "assets/5/source.mp4"), expires_s=600)
    store.delete_prefix("assets/5")
    status, body, _ = await _get(link)
    assert (status, body) == (404, b"This file is no longer stored.\n")


async def test_nothing_outside_the_media_root_is_served(served: tuple[LocalFileStore, str], tmp_path: Path) -> None:
    store, base = served
    secret_file = tmp_path / "outside.txt"
    secret_file.write_text("not media")
    # Paths, raw and encoded, never reach the disk: they are tokens, and not ours.
    for path in ("/media/..%2F..%2Foutside.txt", "/media/%2E%2E%2Foutside.txt", "/media/../outside.txt"):
        status, body, _ = await _get(URL(base + path, encoded=True))
        assert status in (403, 404) and b"not media" not in body, path
    # Even a token signed with our key for a key that climbs out is refused.
    climbing = MediaLinks(secret=SECRET, base_url=base).url("../outside.txt", expires_s=600)
    status, body, _ = await _get(URL(climbing, encoded=True))
    assert (status, body) == (404, b"This file is no longer stored.\n")
    with pytest.raises(ValueError, match="escapes the media root"):
        store.fetchable_url("local:../outside.txt", expires_s=600)
    # A folder of the store is not a file.
    store.put_bytes(b"x", "assets/6/source.mp4")
    folder = MediaLinks(secret=SECRET, base_url=base).url("assets/6", expires_s=600)
    assert (await _get(folder))[0] == 404


def test_a_store_without_links_says_so_and_links_must_live(tmp_path: Path) -> None:
    plain = LocalFileStore(tmp_path / "m")
    with pytest.raises(RuntimeError, match="without media links"):
        plain.fetchable_url(plain.put_bytes(b"x", "a/b.mp4"), expires_s=60)
    linked = LocalFileStore(tmp_path / "m", links=MediaLinks(secret=SECRET, base_url="https://recast.example"))
    with pytest.raises(ValueError, match="positive"):
        linked.fetchable_url("local:a/b.mp4", expires_s=0)
    assert linked.fetchable_url("local:a/b.mp4", expires_s=60).startswith("https://recast.example/media/")


async def test_an_s3_backed_web_process_serves_no_local_links(
    make_settings: Callable[..., Settings], make_deps: Callable[[Settings], CoreDeps], tmp_path: Path
) -> None:
    local = LocalFileStore(tmp_path / "media", links=MediaLinks(secret=SECRET, base_url="http://x"))
    token = local.fetchable_url(local.put_bytes(CLIP, "clips/7/clip.mp4"), expires_s=600).rpartition("/")[2]
    s3 = S3Server()
    s3.start()
    settings = make_settings(
        storage_backend="s3",
        s3_endpoint_url=s3.endpoint,
        s3_bucket="media-links-test",
        s3_access_key_id=ACCESS_KEY,
        s3_secret_access_key=SecretStr(SECRET_KEY),
        s3_create_bucket=True,
    )
    deps = make_deps(settings)
    deps.store = file_store(settings)
    server = TestServer(make_web_app(deps), host="127.0.0.1")
    await server.start_server()
    try:
        status, body, _ = await _get(server.make_url(f"/media/{token}"))
        assert status == 404 and body == b"Media links are served by the storage bucket.\n"
    finally:
        await server.close()
        s3.stop()
