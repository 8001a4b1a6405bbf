"""YouTube: Google OAuth 2.0 (offline access, PKCE) and the Data API v3 `videos.insert` by resumable upload.

Why the raw resumable protocol and not google-api-python-client: that library is synchronous (httplib2), so
each chunk would block the worker's event loop or need a thread per upload, and its retry loop hides the one
thing the publisher must know: whether the request that may have created the video went unanswered
(`OutcomeUnknown`, so the next attempt looks for the video before uploading again). The protocol is four
documented requests: start a session (`POST /upload/youtube/v3/videos?uploadType=resumable`, the video
resource as JSON, the session URI in `Location`), `PUT` the bytes in chunks with `Content-Range` (308 and a
`Range` header until the last one, which answers the video resource), and, after a dropped connection or a
5xx, a `PUT` with `Content-Range: bytes */<total>` that says how far the session got, so the upload resumes
from there instead of starting again.

A Short is a vertical or square video of at most three minutes; Recast tags it `#Shorts` (in the title if it
fits, else in the description). After an unknown outcome the video is looked for in the channel's uploads
playlist by the marker of its description.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import av

from core.common.clock import utcnow
from core.distribution.errors import (
    CannotConnect,
    ContentRejected,
    OutcomeUnknown,
    PlatformError,
    PlatformUnavailable,
    QuotaExhausted,
    RateLimited,
    TokenRevoked,
)
from core.distribution.platforms.http import error_for, json_object, oauth_tokens, retry_after, unreadable
from core.distribution.platforms.names import RULES, Platform
from core.distribution.ports import (
    Account,
    Credentials,
    PostContent,
    PostInsights,
    PublishedPost,
    TokenSet,
    text_marker,
)
from core.distribution.quotas import next_reset
from core.media.probe import probe_media

LABEL = "YouTube"
UPLOAD_SCOPE = "https://www.googleapis.com/auth/youtube.upload"
READONLY_SCOPE = "https://www.googleapis.com/auth/youtube.readonly"
CHUNK_UNIT = 256 * 1024  # every chunk but the last must be a multiple of this
SHORTS_MAX_S = 180.0
SHORTS_TAG = "#Shorts"
MAX_TAGS_CHARS = 500
PEOPLE_AND_BLOGS = "22"  # the default video category
STATS_IDS_PER_CALL = 50  # videos.list takes up to 50 ids a call, for 1 quota unit whatever their number
_QUOTA_REASONS = {"quotaExceeded", "uploadLimitExceeded", "dailyLimitExceeded"}
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
_AUTH_REASONS = {"authError", "invalidCredentials", "insufficientPermissions", "forbidden"}


class _Dropped(Exception):
    """A chunk's request got no answer: the connection dropped or timed out, or Google answered 5xx."""


class YouTubeClient:
    platform = Platform.YOUTUBE
    uses_pkce = True
    scopes: tuple[str, ...] = (UPLOAD_SCOPE, READONLY_SCOPE)

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_base: str = "https://www.googleapis.com",
        auth_base: str = "https://accounts.google.com",
        token_base: str = "https://oauth2.googleapis.com",
        privacy_status: str = "public",
        category_id: str = PEOPLE_AND_BLOGS,
        chunk_bytes: int = 32 * CHUNK_UNIT,  # 8 MiB
        resume_tries: int = 5,
        resume_backoff_s: float = 1.0,
        timeout_s: float = 30.0,
    ) -> None:
        if chunk_bytes <= 0 or chunk_bytes % CHUNK_UNIT:
            raise ValueError(f"chunk_bytes must be a positive multiple of {CHUNK_UNIT} (256 KiB)")
        self.client_id, self._secret = client_id, client_secret
        self.api_base = api_base.rstrip("/")
        self.auth_base, self.token_base = auth_base.rstrip("/"), token_base.rstrip("/")
        self.privacy_status, self.category_id = privacy_status, category_id
        self.chunk_bytes, self.resume_tries, self.resume_backoff_s = chunk_bytes, resume_tries, resume_backoff_s
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(10.0, timeout_s))

    # ------------------------------------------------------------ OAuth

    def authorize_url(self, *, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        query = {
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(self.scopes),
            # A refresh token is only issued for offline access, and again on a reconnect only with consent.
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
            "state": state,
        }
        if code_challenge:
            query |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{self.auth_base}/o/oauth2/v2/auth?{urlencode(query, quote_via=quote)}"

    async def _token(self, form: dict[str, str]) -> TokenSet:
        form = {**form, "client_id": self.client_id, "client_secret": self._secret}
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            try:
                _, _, body = await _call(session, "POST", f"{self.token_base}/token", data=form)
            except ContentRejected as exc:  # 400 invalid_grant: the code or the refresh token is no good
                raise TokenRevoked(detail=str(exc)) from exc
        data = json_object(body, label=LABEL)
        access, refresh, expires_at = oauth_tokens(LABEL, data)  # a 2xx must hold them as documented
        return TokenSet(
            access_token=access,
            refresh_token=refresh or None,  # a refresh answer has none: the old one stays valid
            expires_at=expires_at,
            scopes=str(data.get("scope", "")).split(),
        )

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        """The code for Google's tokens. Recast asks for offline access with consent, so the answer carries a
        refresh token; without one the access token (an hour) could never be renewed and every post
        scheduled later would fail, so the connect is refused with what to do."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        tokens = await self._token({**form, **({"code_verifier": code_verifier} if code_verifier else {})})
        if tokens.refresh_token is None:
            raise CannotConnect(
                "YouTube gave Recast access for an hour only (Google sent no refresh token), so scheduled posts "
                "would fail. Remove Recast under Third-party apps at myaccount.google.com/connections, then "
                "/connect again.",
                detail="Google's code exchange answered without a refresh_token",
            )
        return tokens

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def revoke(self, access_token: str) -> bool:
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            await _call(session, "POST", f"{self.token_base}/revoke", data={"token": access_token})
        return True

    async def account(self, access_token: str) -> Account:
        url = f"{self.api_base}/youtube/v3/channels?part=snippet&mine=true"
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            _, _, body = await _call(session, "GET", url, headers=_bearer(access_token))
        data = json_object(body, label=LABEL)
        items = data.get("items")
        # Google leaves `items` out of a channelListResponse that found none.
        if items is None and data.get("kind") == "youtube#channelListResponse" or items == []:
            raise CannotConnect(
                "This Google account has no YouTube channel yet. Create one on YouTube, then connect again.",
                detail="channels.list mine=true returned no items",
            )
        channel = items[0] if isinstance(items, list) and items else None
        channel_id = channel.get("id") if isinstance(channel, dict) else None
        if not isinstance(channel, dict) or not isinstance(channel_id, str) or not channel_id:
            raise unreadable(LABEL, "channels.list's items[0].id", channel if isinstance(channel, dict) else data)
        snippet = channel.get("snippet")
        name = (snippet.get("customUrl") or snippet.get("title")) if isinstance(snippet, dict) else None
        return Account(platform_user_id=channel_id, username=name if isinstance(name, str) else None, kind="channel")

    # ------------------------------------------------------------ videos

    async def publish(self, credentials: Credentials, content: PostContent) -> PublishedPost:
        video = await _video_of(content)
        resource = {
            "snippet": {
                "title": video.title,
                "description": video.description,
                "tags": fit_tags(content.tags),
                "categoryId": self.category_id,
            },
            "status": {"privacyStatus": self.privacy_status, "selfDeclaredMadeForKids": False},
        }
        total = video.path.stat().st_size
        headers = {
            **_bearer(credentials.access_token),
            "X-Upload-Content-Length": str(total),
            "X-Upload-Content-Type": video.mime_type,
        }
        url = f"{self.api_base}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status"
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            # aiohttp silently sends an idempotent request (PUT) again when the connection drops; a chunk
            # sent again from its start after the session kept part of it is out of place, so the resumable
            # protocol's own status check decides where to go on instead. No public switch exists; aiohttp's
            # test client turns off the same attribute.
            session._retry_connection = False
            # Starting a session creates nothing: a 5xx or no answer here is safe to retry from scratch.
            _, answer_headers, _ = await _call(session, "POST", url, headers=headers, json=resource)
            session_uri = answer_headers.get("Location") or answer_headers.get("location")
            if not session_uri:
                raise PlatformUnavailable(detail="YouTube started an upload session without a Location")
            try:
                made = await self._upload(session, session_uri, credentials.access_token, video.path, total)
            except TokenRevoked as exc:
                # The token started the session moments ago: a 401 now means it ran out during a long upload
                # (Google's tokens live an hour), not that the owner revoked it. The next try refreshes it.
                raise PlatformUnavailable(detail=f"the access token expired during the upload: {exc}") from exc
        video_id = str(made["id"])
        return PublishedPost(video_id, watch_url(video_id, short=video.short))

    async def _upload(
        self, session: aiohttp.ClientSession, session_uri: str, token: str, path: Path, total: int
    ) -> dict[str, Any]:
        """PUT the file chunk by chunk; after a drop, ask the session how far it got and go on from there."""
        offset, stalled = 0, 0
        with path.open("rb") as file:
            while True:
                file.seek(offset)
                chunk = file.read(self.chunk_bytes)
                end = offset + len(chunk) - 1
                headers = {**_bearer(token), "Content-Range": f"bytes {offset}-{end}/{total}"}
                try:
                    status, answer_headers, body = await _put(session, session_uri, headers, chunk)
                except _Dropped:
                    # The last chunk may have completed the video before its answer was lost: only the
                    # session can say; if it can't, the outcome is unknown.
                    final = end == total - 1
                    status, answer_headers, body = await self._ask_session(session, session_uri, token, total, final)
                if status in (200, 201):
                    return dict(json.loads(body))
                resume_at = _next_offset(answer_headers)
                stalled = stalled + 1 if resume_at <= offset else 0
                if stalled > self.resume_tries:
                    raise PlatformUnavailable(detail=f"YouTube's upload session kept no bytes past {resume_at}")
                offset = resume_at

    async def _ask_session(
        self, session: aiohttp.ClientSession, session_uri: str, token: str, total: int, final: bool
    ) -> tuple[int, dict[str, str], bytes]:
        """The upload's status (`Content-Range: bytes */<total>`): 308 with the bytes kept, or the video."""
        headers = {**_bearer(token), "Content-Range": f"bytes */{total}"}
        why = ""
        for attempt in range(self.resume_tries):
            await asyncio.sleep(min(30.0, self.resume_backoff_s * 2**attempt))
            try:
                return await _put(session, session_uri, headers, b"")
            except _Dropped as exc:
                why = str(exc)
        detail = f"YouTube's upload session did not answer after {self.resume_tries} status checks ({why})"
        # Until the last chunk was sent nothing could have been created: a retry starts a new session.
        raise OutcomeUnknown(detail=detail) if final else PlatformUnavailable(detail=detail)

    def post_url(self, post_id: str) -> str | None:
        return watch_url(post_id, short=False)

    async def insights(self, credentials: Credentials, post_ids: list[str]) -> dict[str, PostInsights]:
        """`videos.list?part=statistics` for up to 50 videos a call (1 quota unit each call: the collector
        reserves `stats_calls(len(post_ids))` units first). YouTube's counts come as strings; a deleted or
        private video is simply not in `items` and is left out."""
        found: dict[str, PostInsights] = {}
        headers = _bearer(credentials.access_token)
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            for start in range(0, len(post_ids), STATS_IDS_PER_CALL):
                ids = ",".join(post_ids[start : start + STATS_IDS_PER_CALL])
                query = urlencode({"part": "statistics", "id": ids})  # maxResults is not allowed with id
                _, _, body = await _call(session, "GET", f"{self.api_base}/youtube/v3/videos?{query}", headers=headers)
                for item in json.loads(body).get("items") or []:
                    stats = item.get("statistics") or {}
                    found[str(item["id"])] = PostInsights(
                        views=_count(stats.get("viewCount")),
                        likes=_count(stats.get("likeCount")),
                        comments=_count(stats.get("commentCount")),
                    )
        return found

    async def find_post(self, credentials: Credentials, content: PostContent) -> PublishedPost | None:
        """The channel's recent uploads (its uploads playlist), matched on the description's marker."""
        headers = _bearer(credentials.access_token)
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            url = f"{self.api_base}/youtube/v3/channels?part=contentDetails&mine=true"
            _, _, body = await _call(session, "GET", url, headers=headers)
            items = json.loads(body).get("items") or []
            if not items:
                return None
            uploads = items[0]["contentDetails"]["relatedPlaylists"]["uploads"]
            query = urlencode({"part": "snippet", "playlistId": uploads, "maxResults": "50"})
            _, _, body = await _call(
                session, "GET", f"{self.api_base}/youtube/v3/playlistItems?{query}", headers=headers
            )
        wanted = {text_marker(description(content.text, shorts_tag=tag)) for tag in (False, True)}
        for item in json.loads(body).get("items") or []:
            snippet = item.get("snippet") or {}
            if text_marker(str(snippet.get("description", ""))) in wanted:
                video_id = str((snippet.get("resourceId") or {}).get("videoId", ""))
                short = content.media is not None and (await _video_of(content)).short
                return PublishedPost(video_id, watch_url(video_id, short=short))
        return None


# ------------------------------------------------------------ what goes in the video resource


@dataclass(frozen=True)
class _Video:
    path: Path
    mime_type: str
    short: bool
    title: str
    description: str


async def _video_of(content: PostContent) -> _Video:
    if content.media is None or (content.media_kind or "video") != "video":
        raise ContentRejected("YouTube takes videos only, and this post has none.", detail="no video to upload")
    info = await asyncio.to_thread(probe_media, content.media)
    width, height = info.width, info.height
    if await asyncio.to_thread(_rotation, content.media) % 180 == 90:  # a phone's portrait video
        width, height = height, width
    short = is_short(width, height, info.duration_s)
    title = video_title(content.title, content.text)
    tagged_title = f"{title} {SHORTS_TAG}"
    in_title = short and len(tagged_title) <= _MAX_TITLE and SHORTS_TAG.lower() not in content.text.lower()
    return _Video(
        path=content.media,
        mime_type=info.mime_type if info.mime_type.startswith("video/") else "application/octet-stream",
        short=short,
        title=tagged_title if in_title else title,
        description=description(content.text, shorts_tag=short and not in_title),
    )


_MAX_TITLE = RULES[Platform.YOUTUBE].max_title or 100
_ANGLES = re.compile(r"[<>]")  # YouTube refuses titles and descriptions containing < or >


def _rotation(path: Path) -> int:
    """How far a player turns the picture: phones store portrait video as landscape pixels plus a display
    matrix, and YouTube goes by what is shown."""
    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(container.streams.video[0]), None)
    except (av.error.FFmpegError, IndexError, StopIteration):
        return 0
    return int(frame.rotation) if frame is not None else 0


def is_short(width: int | None, height: int | None, duration_s: float) -> bool:
    """YouTube shows a vertical or square video of up to three minutes as a Short."""
    return bool(width and height and height >= width and duration_s <= SHORTS_MAX_S)


def video_title(title: str | None, text: str) -> str:
    """The draft's title, else the text's first line; at most 100 characters, without < or >."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    raw = " ".join(_ANGLES.sub("", title or first_line).split()) or "Video"
    return raw if len(raw) <= _MAX_TITLE else raw[: _MAX_TITLE - 1].rstrip() + "…"


def description(text: str, *, shorts_tag: bool) -> str:
    """The post's text (it carries the marker `find_post` looks for), plus `#Shorts` when it goes there."""
    body = _ANGLES.sub("", text).strip()
    if shorts_tag and SHORTS_TAG.lower() not in body.lower():
        body = f"{body}\n\n{SHORTS_TAG}"
    return body


def fit_tags(tags: tuple[str, ...] | list[str]) -> list[str]:
    """Tags in order, without '#', duplicates or angle brackets, within YouTube's 500 characters: the
    commas between tags count, and a tag with a space counts as quoted (two characters more)."""
    out: list[str] = []
    used = 0
    seen: set[str] = set()
    for raw in tags:
        tag = " ".join(_ANGLES.sub("", raw).lstrip("#").split())
        if not tag or tag.lower() in seen:
            continue
        cost = len(tag) + (2 if " " in tag else 0) + (1 if out else 0)
        if used + cost > MAX_TAGS_CHARS:
            continue
        out.append(tag)
        seen.add(tag.lower())
        used += cost
    return out


def watch_url(video_id: str, *, short: bool) -> str:
    return f"https://www.youtube.com/shorts/{video_id}" if short else f"https://www.youtube.com/watch?v={video_id}"


# ------------------------------------------------------------ HTTP and Google's errors


def stats_calls(videos: int) -> int:
    """How many `videos.list` calls (quota units) the figures of `videos` videos take."""
    return -(-videos // STATS_IDS_PER_CALL)


def _count(value: object) -> int | None:
    """A statistics count (a decimal string, absent when the owner hides it)."""
    return None if value is None else int(str(value))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _next_offset(headers: Mapping[str, str]) -> int:
    """From a 308's `Range: bytes=0-N`: the next byte to send (0 when the session kept nothing)."""
    value = headers.get("Range") or headers.get("range") or ""
    match = re.fullmatch(r"bytes=0-(\d+)", value.strip())
    return int(match.group(1)) + 1 if match else 0


async def _put(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], data: bytes
) -> tuple[int, dict[str, str], bytes]:
    """One chunk (or status check). 200/201/308 come back; a drop or 5xx is `_Dropped` (resume);
    404 means the session expired; any other answer is Google's error."""
    # No total limit (a chunk takes as long as the link needs), but an answer must start in time.
    read = session.timeout.total
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=session.timeout.sock_connect, sock_read=read)
    try:
        async with session.put(url, headers=headers, data=data, timeout=timeout) as response:
            body = await response.read()
            answer = dict(response.headers.items())
            status = response.status
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise _Dropped(f"{type(exc).__name__}: {exc}") from exc
    if status in (200, 201, 308):
        return status, answer, body
    if status >= 500:
        raise _Dropped(f"answered {status}")
    if status in (404, 410):
        raise PlatformUnavailable(detail=f"YouTube's upload session expired ({status}); a new one starts next time")
    raise google_error(status, body.decode(errors="replace"), answer, creates=False)


async def _call(
    session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, dict[str, str], bytes]:
    try:
        async with session.request(method, url, **kwargs) as response:
            body = await response.read()
            headers = dict(response.headers.items())
            if response.status >= 400:
                raise google_error(response.status, body.decode(errors="replace"), headers, creates=False)
            return response.status, headers, body
    except aiohttp.ClientConnectorError as exc:
        raise PlatformUnavailable(detail=f"{LABEL} unreachable: {exc}") from exc
    except (TimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
        raise PlatformUnavailable(detail=f"{LABEL}: no answer ({type(exc).__name__})") from exc


def google_error(status: int, body: str, headers: Mapping[str, str], *, creates: bool) -> PlatformError:
    """Google's error JSON (`{"error": {"code", "message", "errors": [{"reason"}]}}`, or OAuth's
    `{"error": "invalid_grant"}`) as the publisher's error."""
    detail = f"{LABEL} answered {status}: {body[:300]}"
    reason, message = _reason(body)
    if status == 401 or (status == 403 and reason in _AUTH_REASONS):
        if reason == "youtubeSignupRequired":
            return ContentRejected("This Google account has no YouTube channel yet.", detail=detail)
        return TokenRevoked(detail=detail)
    if status == 403 and reason in _QUOTA_REASONS:
        # The project's daily quota: it resets at midnight Pacific time, not before.
        return QuotaExhausted(next_reset(utcnow()), detail=detail)
    if status == 429 or (status == 403 and reason in _RATE_REASONS):
        return RateLimited(detail=detail, retry_after=retry_after(headers))
    if status == 400 or (status == 403 and reason):
        why = ": ".join(p for p in (reason, message) if p) or "no reason given"
        return ContentRejected(f"YouTube rejected the video ({why[:200]}).", detail=detail)
    return error_for(status, body, headers, label=LABEL, creates=creates)


def _reason(body: str) -> tuple[str, str]:
    try:
        data = json.loads(body)
    except ValueError:
        return "", ""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, str):  # the OAuth endpoints
        return error, str(data.get("error_description", ""))
    if not isinstance(error, dict):
        return "", ""
    errors = error.get("errors") or [{}]
    first = errors[0] if isinstance(errors[0], dict) else {}
    return str(first.get("reason", "")), str(error.get("message", ""))
