"""YouTube's WebSub push body: an Atom feed of a channel's new or updated videos, or tombstones of removed ones."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

_ATOM = "{http://www.w3.org/2005/Atom}"
_YT = "{http://www.youtube.com/xml/schemas/2015}"
_TOMBSTONE = "{http://purl.org/atompub/tombstones/1.0}deleted-entry"


def parse_feed(body: bytes) -> tuple[dict[str, Any], str | None]:
    """The feed as `{"videos": [{"video_id", "channel_id", "title", "published", "updated"}], "deleted":
    ["yt:video:<id>", ...]}`, or an empty payload and why it isn't one."""
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - verified sender; no DTDs in Atom from the hub
    except ElementTree.ParseError as exc:
        return {}, f"not XML: {exc}"
    videos = []
    for entry in root.findall(f"{_ATOM}entry"):
        videos.append(
            {
                "video_id": entry.findtext(f"{_YT}videoId"),
                "channel_id": entry.findtext(f"{_YT}channelId"),
                "title": entry.findtext(f"{_ATOM}title"),
                "published": entry.findtext(f"{_ATOM}published"),
                "updated": entry.findtext(f"{_ATOM}updated"),
            }
        )
    deleted = [e.get("ref") for e in root.findall(_TOMBSTONE)]
    return {"videos": videos, "deleted": deleted}, None
