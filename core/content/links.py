"""Links: articles are fetched and reduced to their text; video links need a download tool.

Fetched only when the network allows: any connection failure becomes `LinkUnreachable`, a clear
message telling the creator to send the file or paste the text instead.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import aiohttp

from core.content.errors import LinkUnreachable

URL_RE = re.compile(r"^https?://\S+$", re.IGNORECASE)
VIDEO_HOSTS = ("youtube.com", "youtu.be", "instagram.com", "tiktok.com", "vimeo.com")
MAX_ARTICLE_BYTES = 5 * 1024 * 1024


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


async def fetch_article(url: str, *, timeout_s: float = 15.0) -> tuple[str, str]:
    if is_video_link(url):
        raise LinkUnreachable(
            "I can't download videos from that site here. Download the video and send me the file "
            "(or use a local Bot API server for files over 20 MB)."
        )
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http,
            http.get(url, headers={"User-Agent": "RecastBot/0.1"}) as resp,
        ):
            if resp.status >= 400:
                raise LinkUnreachable(
                    f"That link answered with an error ({resp.status}). It may have expired or need a login. "
                    "Paste the text instead."
                )
            if "html" not in resp.headers.get("Content-Type", "html"):
                raise LinkUnreachable("That link isn't a web page. Send the file itself instead.")
            raw = await resp.content.read(MAX_ARTICLE_BYTES)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise LinkUnreachable(detail=f"{type(exc).__name__}: {exc}") from exc
    return html_to_text(raw.decode("utf-8", errors="replace"))
