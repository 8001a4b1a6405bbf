"""Links: articles are reduced to their text; videos (YouTube and other video sites, pages with an
embedded video, direct links to media files) are downloaded to a file.

Fetched only when the network allows: any connection failure becomes `LinkUnreachable`, a clear
message telling the creator to send the file or paste the text instead. Video sites are read with
yt-dlp (its extractors know each site's player); a direct media link is streamed with a size cap.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from core.content.address_policy import FetchPolicy, get_following_redirects, guarded_session
from core.content.errors import LinkTooLarge, LinkUnreachable
from core.media.ffmpeg import find_ffmpeg

log = logging.getLogger(__name__)

URL_RE = re.compile(r"^https?://\S+$", re.IGNORECASE)
VIDEO_HOSTS = (
    "youtube.com",
    "youtu.be",
    "instagram.com",
    "tiktok.com",
    "vimeo.com",
    "x.com",
    "twitter.com",
    "facebook.com",
    "linkedin.com",
    "loom.com",
)
MAX_ARTICLE_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_DOWNLOAD_BYTES = 500 * 1024 * 1024
USER_AGENT = "RecastBot/0.1 (+https://github.com/recast)"
MEDIA_TAG_RE = re.compile(r"<(video|audio|source)\b|og:video|og:audio", re.IGNORECASE)


@dataclass(frozen=True)
class Article:
    title: str
    text: str


@dataclass(frozen=True)
class DownloadedMedia:
    path: Path
    title: str
    mime_type: str | None


def is_link(text: str) -> bool:
    return bool(URL_RE.match(text.strip()))


def is_video_link(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in VIDEO_HOSTS)


class _TextExtractor(HTMLParser):
    SKIP = {"script", "style", "noscript", "nav", "footer", "header", "aside", "form", "svg"}
    BLOCK = {"p", "h1", "h2", "h3", "h4", "li", "blockquote", "br", "div", "section", "article"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skip:
            self._skip -= 1
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """(title, readable text) of an HTML page."""
    parser = _TextExtractor()
    parser.feed(html)
    lines = [re.sub(r"\s+", " ", line).strip() for line in "".join(parser.parts).split("\n")]
    # Keep paragraph-like lines; menus and buttons are short.
    body = "\n\n".join(line for line in lines if len(line.split()) >= 6)
    return parser.title.strip(), body


async def fetch_link(
    url: str,
    *,
    dest_dir: Path,
    max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
    min_article_words: int = 80,
    timeout_s: float = 30.0,
    policy: FetchPolicy = FetchPolicy(),  # noqa: B008 - frozen, safe to share
) -> Article | DownloadedMedia:
    """What a link holds: an article's text, or its video/audio downloaded into ``dest_dir``.
    Only addresses ``policy`` permits are connected to (public ones by default; see address_policy)."""
    if is_video_link(url):
        return await download_video(url, dest_dir=dest_dir, max_bytes=max_bytes, timeout_s=timeout_s, policy=policy)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout_s, sock_read=timeout_s)
    try:
        async with (
            guarded_session(policy, timeout) as http,
            get_following_redirects(http, url, policy, headers={"User-Agent": USER_AGENT}) as resp,
        ):
            _raise_for_status(resp.status)
            content_type = resp.headers.get("Content-Type", "text/html").split(";")[0].strip().lower()
            if content_type.startswith(("video/", "audio/")):
                return await _stream_to_file(resp, str(resp.url), content_type, dest_dir=dest_dir, max_bytes=max_bytes)
            if "html" not in content_type and not content_type.startswith("text/"):
                raise LinkUnreachable("That link isn't a web page or a video. Send the file itself instead.")
            raw = await resp.content.read(MAX_ARTICLE_BYTES)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise LinkUnreachable(detail=f"{type(exc).__name__}: {exc}") from exc
    page = raw.decode("utf-8", errors="replace")
    title, text = html_to_text(page) if "<" in page else ("", page)
    if len(text.split()) < min_article_words and MEDIA_TAG_RE.search(page):
        # Little text but a player on the page: the video is the content.
        return await download_video(url, dest_dir=dest_dir, max_bytes=max_bytes, timeout_s=timeout_s, policy=policy)
    return Article(title=title, text=text)


async def download_video(
    url: str,
    *,
    dest_dir: Path,
    max_bytes: int,
    timeout_s: float = 30.0,
    policy: FetchPolicy = FetchPolicy(),  # noqa: B008
) -> DownloadedMedia:
    """Download the video behind a page with yt-dlp, as one file of at most 1080p (no merging step)."""
    return await asyncio.to_thread(_download_with_ytdlp, url, dest_dir, max_bytes, timeout_s, policy)


# ----------------------------------------------------------------------------------------- internals


def _raise_for_status(status: int) -> None:
    if status in (401, 403, 404, 410):
        raise LinkUnreachable(
            f"That link answered {status}: it may have expired, be private or need a login. "
            "Send the file or paste the text instead.",
            detail=f"HTTP {status}",
        )
    if status >= 400:
        raise LinkUnreachable(
            f"That site answered with an error ({status}). Try again later, or send the file instead.",
            detail=f"HTTP {status}",
        )


def _too_large(max_bytes: int) -> LinkTooLarge:
    return LinkTooLarge(
        f"That video is larger than {max_bytes // (1024 * 1024)} MB, more than I download from links. "
        "Send a shorter cut or a smaller version.",
    )


async def _stream_to_file(
    resp: aiohttp.ClientResponse, url: str, content_type: str, *, dest_dir: Path, max_bytes: int
) -> DownloadedMedia:
    if resp.content_length is not None and resp.content_length > max_bytes:
        raise _too_large(max_bytes)
    name = Path(urlsplit(url).path).name or "download"
    if not Path(name).suffix:
        name += mimetypes.guess_extension(content_type) or ".bin"
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / name
    written = 0
    with target.open("wb") as out:
        async for chunk in resp.content.iter_chunked(256 * 1024):
            written += len(chunk)
            if written > max_bytes:
                out.close()
                target.unlink(missing_ok=True)
                raise _too_large(max_bytes)
            out.write(chunk)
    return DownloadedMedia(path=target, title=Path(name).stem, mime_type=content_type)


class _QuietLogger:
    """yt-dlp talks a lot; keep its errors for our logs and drop the progress chatter."""

    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)


def _download_with_ytdlp(
    url: str, dest_dir: Path, max_bytes: int, timeout_s: float, policy: FetchPolicy
) -> DownloadedMedia:
    # yt-dlp loads hundreds of site extractors: imported only when a video page is really fetched.
    import yt_dlp
    from yt_dlp.utils import DownloadError

    dest_dir.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {
        "outtmpl": str(dest_dir / "%(id)s.%(ext)s"),
        # One file that already has picture and sound: no separate merge step, no partial formats.
        "format": "best[height<=1080][vcodec!=none][acodec!=none]/best[vcodec!=none][acodec!=none]/best",
        "noplaylist": True,
        "max_filesize": max_bytes,
        "socket_timeout": timeout_s,
        "retries": 2,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": _QuietLogger(),
        "ffmpeg_location": find_ffmpeg(),
        "cachedir": False,
    }
    try:
        policy.check_resolved(url)
        with yt_dlp.YoutubeDL(options) as ydl:
            # Resolve the page first, then check where the chosen media would come from, then download.
            info = ydl.extract_info(url, download=False)
            for media_url in _media_urls(info):
                policy.check_resolved(media_url)
            if info is not None:
                info = ydl.process_ie_result(info, download=True)
    except DownloadError as exc:
        text = str(exc)
        if any(
            k in text
            for k in (
                "Private video",
                "Sign in",
                "members-only",
                "HTTP Error 403",
                "HTTP Error 404",
                "HTTP Error 410",
                "This video is unavailable",
                "removed",
            )
        ):
            raise LinkUnreachable(
                "That video is private, removed or needs a login, so I can't fetch it. "
                "Download it and send me the file instead.",
                detail=text[:500],
            ) from exc
        if "Unsupported URL" in text:
            raise LinkUnreachable(
                "I couldn't find a video on that page. Send the video file, or paste the text instead.",
                detail=text[:500],
            ) from exc
        raise LinkUnreachable(detail=text[:500]) from exc
    if info is None:
        raise LinkUnreachable("I couldn't find a video on that page. Send the video file instead.")
    if info.get("_type") == "playlist":
        entries = [e for e in info.get("entries") or [] if e]
        if not entries:
            raise LinkUnreachable("That link is a playlist with nothing I can download. Send one video instead.")
        info = entries[0]
    downloads = info.get("requested_downloads") or []
    path = Path(downloads[0]["filepath"]) if downloads and downloads[0].get("filepath") else None
    if path is None or not path.is_file():
        # yt-dlp skips (does not fail) a download over max_filesize.
        raise _too_large(max_bytes)
    mime = mimetypes.guess_type(path.name)[0]
    return DownloadedMedia(path=path, title=str(info.get("title") or path.stem)[:200], mime_type=mime)


def _media_urls(info: dict[str, Any] | None) -> list[str]:
    """The URLs yt-dlp will download for an extracted (not yet downloaded) result."""
    if not info:
        return []
    entries = [e for e in info.get("entries") or [] if e] if info.get("_type") == "playlist" else [info]
    urls: list[str] = []
    for entry in entries[:1]:
        formats = entry.get("requested_formats") or [entry]
        urls += [str(f["url"]) for f in formats if f.get("url")]
    return urls
