"""Links over real HTTP: articles become text, video pages and media links become files, failures are
clear. yt-dlp runs for real against a local page with an embedded video (its generic extractor)."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from fakes.site import local_site

from core.accounts.service import register_chat_user
from core.content import links
from core.content.address_policy import REFUSED, FetchPolicy
from core.content.errors import LinkTooLarge, LinkUnreachable
from core.content.service import ingest_link
from core.media.ffmpeg import run_ffmpeg
from core.seed.service import apply_seed

ARTICLE = (
    "<html><head><title>Why consistency wins</title></head><body><nav>Home About</nav><article>"
    + "".join(
        f"<p>Paragraph {i}: consistency beats talent when you build a personal brand in public every week.</p>"
        for i in range(12)
    )
    + "</article></body></html>"
)


# The local test site lives on 127.0.0.1, a private address the default policy refuses.
LOCAL = FetchPolicy(allow_private=True)


@pytest.fixture(scope="module")
def talk_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import asyncio

    path = tmp_path_factory.mktemp("links") / "talk.mp4"
    asyncio.run(
        run_ffmpeg(
            [
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=s=320x240:r=25:d=3",
                "-f",
                "lavfi",
                "-i",
                "sine=d=3",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-c:a",
                "aac",
                "-shortest",
                path,
            ]
        )
    )
    return path


@contextlib.asynccontextmanager
async def site(talk_mp4: Path) -> AsyncIterator[str]:
    async def article(_: web.Request) -> web.Response:
        return web.Response(text=ARTICLE, content_type="text/html")

    async def video_page(_: web.Request) -> web.Response:
        page = (
            '<html><head><title>My talk at SaaSBoomi</title></head><body><video src="/talk.mp4"></video></body></html>'
        )
        return web.Response(text=page, content_type="text/html")

    async def media(_: web.Request) -> web.FileResponse:
        return web.FileResponse(talk_mp4, headers={"Content-Type": "video/mp4"})

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "video/mp4"})  # chunked: no length up front
        await resp.prepare(request)
        for _ in range(64):
            await resp.write(b"\x00" * 65536)
        return resp

    async def gone(_: web.Request) -> web.Response:
        return web.Response(status=410, text="expired")

    routes = [
        web.get("/post", article),
        web.get("/watch", video_page),
        web.get("/talk.mp4", media),
        web.get("/endless.mp4", endless),
        web.get("/expired", gone),
    ]
    async with local_site(routes) as base:
        yield base


async def test_an_article_link_becomes_its_readable_text(talk_mp4: Path, tmp_path: Path) -> None:
    async with site(talk_mp4) as base:
        got = await links.fetch_link(f"{base}/post", dest_dir=tmp_path, policy=LOCAL)
    assert isinstance(got, links.Article)
    assert got.title == "Why consistency wins"
    assert "Paragraph 11: consistency beats talent" in got.text and "Home About" not in got.text


async def test_a_direct_media_link_is_downloaded_whole(talk_mp4: Path, tmp_path: Path) -> None:
    async with site(talk_mp4) as base:
        got = await links.fetch_link(f"{base}/talk.mp4", dest_dir=tmp_path, policy=LOCAL)
    assert isinstance(got, links.DownloadedMedia)
    assert got.path.read_bytes() == talk_mp4.read_bytes() and got.mime_type == "video/mp4"


async def test_a_page_with_an_embedded_video_is_downloaded_with_yt_dlp(talk_mp4: Path, tmp_path: Path) -> None:
    async with site(talk_mp4) as base:
        got = await links.fetch_link(f"{base}/watch", dest_dir=tmp_path / "dl", policy=LOCAL)
    assert isinstance(got, links.DownloadedMedia)
    assert got.title.startswith("My talk at SaaSBoomi")
    assert got.path.parent == tmp_path / "dl" and got.path.read_bytes() == talk_mp4.read_bytes()


async def test_media_over_the_size_cap_is_refused_with_or_without_a_length(talk_mp4: Path, tmp_path: Path) -> None:
    async with site(talk_mp4) as base:
        with pytest.raises(LinkTooLarge) as known:
            await links.fetch_link(f"{base}/talk.mp4", dest_dir=tmp_path, max_bytes=1024, policy=LOCAL)
        with pytest.raises(LinkTooLarge):
            await links.fetch_link(f"{base}/endless.mp4", dest_dir=tmp_path, max_bytes=1024 * 1024, policy=LOCAL)
        with pytest.raises(LinkTooLarge):
            await links.download_video(f"{base}/watch", dest_dir=tmp_path / "yt", max_bytes=1024, policy=LOCAL)
    assert "larger than" in known.value.user_message
    assert not list(tmp_path.glob("*.mp4")) and not list((tmp_path / "yt").glob("*.mp4"))


async def test_expired_and_unreachable_links_say_what_to_do(talk_mp4: Path, tmp_path: Path) -> None:
    async with site(talk_mp4) as base:
        with pytest.raises(LinkUnreachable) as expired:
            await links.fetch_link(f"{base}/expired", dest_dir=tmp_path, policy=LOCAL)
    assert "expired" in expired.value.user_message and "Send the file" in expired.value.user_message
    with pytest.raises(LinkUnreachable) as refused:
        await links.fetch_link("http://127.0.0.1:9/post", dest_dir=tmp_path, timeout_s=5, policy=LOCAL)
    with pytest.raises(LinkUnreachable) as video_site:
        await links.download_video(
            "http://127.0.0.1:9/watch", dest_dir=tmp_path, max_bytes=10**6, timeout_s=5, policy=LOCAL
        )
    for caught in (refused, video_site):
        assert "couldn't fetch that link" in caught.value.user_message


async def test_a_video_link_becomes_a_video_asset_with_its_source(session, core_deps, talk_mp4: Path, tmp_path: Path):
    await apply_seed(session=session)
    reg = await register_chat_user(
        session=session, provider="telegram", external_user_id="9101", chat_id="9101", full_name="Asha Rao"
    )
    async with site(talk_mp4) as base:
        asset = await ingest_link(
            session=session,
            store=core_deps.store,
            user_id=reg.user.id,
            organization_id=reg.organization.id,
            url=f"{base}/watch",
            work_dir=tmp_path / "work",
            policy=LOCAL,
        )
        article = await ingest_link(
            session=session,
            store=core_deps.store,
            user_id=reg.user.id,
            organization_id=reg.organization.id,
            url=f"{base}/post",
            work_dir=tmp_path / "work2",
            policy=LOCAL,
        )
    assert (asset.content_type, asset.source_url) == ("video", f"{base}/watch")
    assert asset.title.startswith("My talk at SaaSBoomi") and asset.duration == 3
    assert core_deps.store.local_path(asset.file_url).read_bytes() == talk_mp4.read_bytes()
    assert (article.content_type, article.source_platform, article.title) == ("document", "web", "Why consistency wins")


@contextlib.asynccontextmanager
async def two_hosts(talk_mp4: Path) -> AsyncIterator[tuple[str, str, list[str]]]:
    """A "public" site on 127.0.0.1 and an "internal" one on 127.0.0.2 (both loopback here; the tests'
    policy blocks 127.0.0.2). Yields both bases and the paths the internal one was asked for."""
    internal_hits: list[str] = []

    async def internal(request: web.Request) -> web.Response:
        internal_hits.append(request.path)
        return web.Response(text=ARTICLE, content_type="text/html")

    async with local_site([web.get("/{tail:.*}", internal)], host="127.0.0.2") as inner_base:  # noqa: SIM117
        # The outer site's routes point at the inner one, so it can only start once that one has a port.
        async with local_site(_outer_routes(inner_base)) as outer_base:
            yield outer_base, inner_base, internal_hits


def _outer_routes(inner_base: str) -> list[web.RouteDef]:
    async def to_internal(_: web.Request) -> web.Response:
        raise web.HTTPFound(f"{inner_base}/latest/meta-data/")

    async def to_article(_: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/post")

    async def internal_player(_: web.Request) -> web.Response:
        return web.Response(
            text=f'<html><body><video src="{inner_base}/talk.mp4"></video></body></html>', content_type="text/html"
        )

    async def article(_: web.Request) -> web.Response:
        return web.Response(text=ARTICLE, content_type="text/html")

    return [
        web.get("/to-internal", to_internal),
        web.get("/to-article", to_article),
        web.get("/post", article),
        web.get("/player", internal_player),
    ]


async def test_links_to_private_addresses_are_refused_by_default_without_connecting(
    talk_mp4: Path, tmp_path: Path
) -> None:
    async with two_hosts(talk_mp4) as (_, inner_base, internal_hits):
        port = inner_base.rsplit(":", 1)[1]
        for url in (
            f"{inner_base}/post",  # a private IP literal
            f"http://localhost:{port}/post",  # a name that resolves to loopback
            f"http://[::ffff:127.0.0.2]:{port}/post",  # the same address, IPv4-mapped
            "http://169.254.169.254/latest/meta-data/",  # cloud metadata: refused at once, not timed out
        ):
            with pytest.raises(LinkUnreachable) as refused:
                await links.fetch_link(url, dest_dir=tmp_path, timeout_s=5)
            assert refused.value.user_message == REFUSED, url
        with pytest.raises(LinkUnreachable) as video:
            await links.download_video(f"http://localhost:{port}/watch", dest_dir=tmp_path, max_bytes=10**6)
        assert video.value.user_message == REFUSED
    assert internal_hits == []


async def test_redirects_are_followed_only_to_permitted_addresses(talk_mp4: Path, tmp_path: Path) -> None:
    policy = FetchPolicy(allow_private=True, blocked=(ipaddress.ip_network("127.0.0.2/32"),))
    async with two_hosts(talk_mp4) as (outer_base, _, internal_hits):
        followed = await links.fetch_link(f"{outer_base}/to-article", dest_dir=tmp_path, policy=policy)
        assert isinstance(followed, links.Article) and followed.title == "Why consistency wins"
        with pytest.raises(LinkUnreachable) as redirected:
            await links.fetch_link(f"{outer_base}/to-internal", dest_dir=tmp_path, policy=policy)
        with pytest.raises(LinkUnreachable) as embedded:
            await links.fetch_link(f"{outer_base}/player", dest_dir=tmp_path / "yt", policy=policy)
    assert redirected.value.user_message == REFUSED
    assert embedded.value.user_message == REFUSED  # the page is public, the video it embeds is not
    assert internal_hits == []
