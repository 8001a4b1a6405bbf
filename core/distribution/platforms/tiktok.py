"""TikTok: Login Kit for Web (OAuth v2) and the Content Posting API's Direct Post of a video.

A post is three steps. `POST /v2/post/publish/creator_info/query/` first: the privacy levels this creator
may post with, whether comments/duets/stitches are off on the account, and the longest video it may post
(a longer one is refused here, with the limit). Then `POST /v2/post/publish/video/init/` with the caption as
`post_info.title` and the video either pulled by TikTok from the signed `media_url` (`PULL_FROM_URL`, only
when the operator has verified the media domain in the TikTok app) or uploaded by Recast in chunks PUT to
the returned `upload_url` with `Content-Range` (`FILE_UPLOAD`). TikTok then processes the video: Recast polls
`POST /v2/post/publish/status/fetch/` with the `publish_id` until `PUBLISH_COMPLETE` or `FAILED`.

The `publish_id` is the idempotency handle. Once init has answered, the post exists on TikTok's side under
it; any failure after that (the last chunk's answer lost, a 5xx while polling, processing that outlasts
`publish_wait_s`) is `OutcomeUnknown` carrying it, and the next attempt asks TikTok for that publish_id's
status before anything else: published (found), still processing (still unknown, asked again later) or
failed (nothing was posted by it). Only when init's own answer was lost is there no publish_id; then the
check is the creator's recent videos (`POST /v2/video/list/`), matched on the caption (TikTok lists titles
and descriptions cut to 150 characters, so on that prefix). TikTok's video list shows public videos, and
unaudited apps can only post private (`SELF_ONLY`) ones: for those the list finds nothing, which is safe
for FILE_UPLOAD (TikTok publishes nothing without the bytes) but, for a pulled link, may post twice.

Errors come as `{"data": ..., "error": {"code", "message", "log_id"}}` with `code` "ok" on success.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from core.common.clock import utcnow
from core.distribution.errors import (
    ContentRejected,
    OutcomeUnknown,
    PlatformError,
    PlatformUnavailable,
    QuotaExhausted,
    RateLimited,
    TokenRevoked,
)
from core.distribution.platforms.http import error_for, oauth_tokens, retry_after, unreadable
from core.distribution.platforms.names import Platform
from core.distribution.ports import Account, Credentials, PostContent, PostInsights, PublishedPost, TokenSet
from core.media.errors import MediaError
from core.media.probe import probe_media

LABEL = "TikTok"
# Most public first: with no privacy level configured, a post uses the first one the creator may use.
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
LISTED_CHARS = 150  # the video list's `title` and `video_description` are cut to this length
# TikTok's daily cap on API posts per creator (`spam_risk_too_many_posts`) has no published reset time; a
# post that meets it moves a full day on, past any daily window.
DAILY_CAP_WAIT = timedelta(hours=24)
RATE_LIMIT_WAIT_S = 60.0  # TikTok's limits are per minute per token; a 429 without Retry-After waits one
MIME = {".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm"}

# `fail_reason` values of a FAILED post, in words a creator can act on; others are shown as TikTok sent them.
FAIL_REASONS = {
    "file_format_check_failed": "TikTok does not accept this video's file format",
    "duration_check_failed": "the video is too long or too short for TikTok",
    "frame_rate_check_failed": "TikTok takes videos at 23 to 60 frames per second",
    "picture_size_check_failed": "TikTok takes videos 360 to 4096 pixels on each side",
    "video_pull_failed": "TikTok could not download the video from Recast's link",
    "publish_cancelled": "the post was cancelled on TikTok",
    "auth_removed": "the TikTok account removed Recast's access",
    "spam_risk_user_banned_from_posting": "TikTok has stopped this account from posting",
    "spam_risk_text": "TikTok flagged the caption as spam",
    "spam_risk": "TikTok flagged the post as spam",
}


QUERY_IDS_PER_CALL = 20  # /v2/video/query/ takes at most 20 video ids


class TikTokClient:
    platform = Platform.TIKTOK
    # Login Kit for Web: the code verifier is for mobile and desktop apps only; a web app signs in with its
    # client secret at the token endpoint.
    uses_pkce = False
    scopes: tuple[str, ...] = ("user.info.basic", "video.publish", "video.list")

    def __init__(
        self,
        *,
        client_key: str,
        client_secret: str,
        api_base: str = "https://open.tiktokapis.com",
        authorize_url: str = "https://www.tiktok.com/v2/auth/authorize/",
        pull_from_url: bool = False,
        privacy_level: str | None = None,
        chunk_bytes: int = 10 * 1024 * 1024,
        poll_s: float = 5.0,
        publish_wait_s: float = 300.0,
        timeout_s: float = 30.0,
    ) -> None:
        self.client_key, self._secret = client_key, client_secret
        self.api_base, self.authorize_base = api_base.rstrip("/"), authorize_url
        self.pull_from_url, self.privacy_level = pull_from_url, privacy_level
        self.chunk_bytes, self.poll_s, self.publish_wait_s = max(1, chunk_bytes), poll_s, publish_wait_s
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(10.0, timeout_s))

    # ------------------------------------------------------------ OAuth

    def authorize_url(self, *, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        query = {
            "client_key": self.client_key,
            "response_type": "code",
            "scope": ",".join(self.scopes),  # TikTok separates scopes with commas
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return f"{self.authorize_base}?{urlencode(query, quote_via=quote)}"

    async def _token(self, form: dict[str, str]) -> TokenSet:
        form = {**form, "client_key": self.client_key, "client_secret": self._secret}
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            status, headers, raw = await _send(session, "POST", f"{self.api_base}/v2/oauth/token/", data=form)
        if status >= 500:  # what it said stays out of the detail: it may echo the request
            raise PlatformUnavailable(detail=f"{LABEL} token endpoint answered {status} ({len(raw)} bytes)")
        data = _json(raw)
        error = _oauth_error(data)
        if status == 429 or error == "rate_limit_exceeded":
            raise RateLimited(detail=f"{LABEL} token endpoint: {error or status}", retry_after=retry_after(headers))
        if error or status >= 400:
            described = f"{str(data.get('error_description', ''))[:200]} (log_id {data.get('log_id', '-')})"
            detail = f"{LABEL} token endpoint: {error or status} {described}"
            if error in ("invalid_grant", "access_denied") or (not error and status in (400, 401)):
                raise TokenRevoked(detail=detail)  # the code or refresh token is no good
            # invalid_client, invalid_request...: the server's app settings, not the creator's connection
            raise ContentRejected(f"{LABEL} refused this server's app at sign-in ({error or status}).", detail=detail)
        access, refresh, expires_at = oauth_tokens(LABEL, data)  # a 2xx must hold them as documented
        return TokenSet(
            access_token=access,
            refresh_token=refresh or None,  # rotated: each refresh answers a new one
            expires_at=expires_at,
            scopes=[s for s in str(data.get("scope", "")).replace(",", " ").split() if s],
        )

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        return await self._token({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def revoke(self, access_token: str) -> bool:
        form = {"client_key": self.client_key, "client_secret": self._secret, "token": access_token}
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            status, _, raw = await _send(session, "POST", f"{self.api_base}/v2/oauth/revoke/", data=form)
        error = _json(raw).get("error")
        refused = (
            isinstance(error, str) and error or isinstance(error, dict) and error.get("code") not in (None, "", "ok")
        )
        if status >= 400 or refused:
            raise error_for(
                status if status >= 400 else 400, raw.decode(errors="replace"), {}, label=LABEL, creates=False
            )
        return True

    async def account(self, access_token: str) -> Account:
        """The open id and display name (`user.info.basic`); the @username comes from the creator info of the
        posting API (`video.publish`), as `username` itself would need the `user.info.profile` scope."""
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            user = await self._api(
                session, "GET", "/v2/user/info/?fields=open_id,display_name", access_token, label_what="user info"
            )
            info = user.get("user")
            open_id = info.get("open_id") if isinstance(info, dict) else None
            if not isinstance(info, dict) or not isinstance(open_id, str) or not open_id:
                raise unreadable(LABEL, "user info's user.open_id", info if isinstance(info, dict) else user)
            try:
                creator = await self._creator_info(session, access_token)
            except (ContentRejected, PlatformUnavailable, RateLimited, QuotaExhausted):
                creator = {}
        handle, display = creator.get("creator_username"), info.get("display_name")
        name = f"@{handle}" if isinstance(handle, str) and handle else display if isinstance(display, str) else None
        return Account(platform_user_id=open_id, username=name or None, kind="member")

    # ------------------------------------------------------------ posts

    async def publish(self, credentials: Credentials, content: PostContent) -> PublishedPost:
        if content.media is None and content.media_url is None:
            raise ContentRejected("TikTok posts are videos, and this post has no video attached.")
        if content.media_kind == "image":
            raise ContentRejected("Recast posts videos to TikTok; this post's media is an image.")
        if content.media is not None and not content.media.is_file():
            raise ContentRejected("The clip's video is missing from Recast's media storage, so it can't be posted.")
        token = credentials.access_token
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            creator = await self._creator_info(session, token)
            await self._check_duration(content, creator)
            body = {"post_info": self._post_info(content, creator), "source_info": self._source_info(content)}
            data = await self._api(
                session, "POST", "/v2/post/publish/video/init/", token, json=body, creates=True, label_what="post"
            )
            publish_id = str(data["publish_id"])
            try:
                if body["source_info"]["source"] == "FILE_UPLOAD":
                    assert content.media is not None
                    await self._upload(session, str(data["upload_url"]), content.media)
                status = await self._await_published(session, token, publish_id)
            except OutcomeUnknown as exc:  # the next attempt asks TikTok about this publish_id
                raise OutcomeUnknown(detail=str(exc), handle=publish_id) from exc
        return _published(status, publish_id, creator.get("creator_username"))

    def post_url(self, post_id: str) -> str | None:
        return None  # a TikTok video's link carries its creator's @handle, which the id alone doesn't give

    async def find_post(self, credentials: Credentials, content: PostContent) -> PublishedPost | None:
        """With the publish_id of the attempt whose answer went missing, TikTok's status of it: published
        (found), still processing (still unknown: the next attempt asks again) or failed (nothing posted by
        it). Without one (init's answer was lost), or after a failed one, the creator's recent videos whose
        title or description is this caption, as far as TikTok lists it."""
        fields = "id,title,video_description,share_url,create_time"
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            if content.pending:
                found = await self._pending(session, credentials.access_token, content.pending)
                if found is not None:
                    return found
            data = await self._api(
                session,
                "POST",
                f"/v2/video/list/?fields={fields}",
                credentials.access_token,
                json={"max_count": 20},
                label_what="video list",
            )
        for video in data.get("videos") or []:
            listed = [str(video.get(k) or "") for k in ("title", "video_description")]
            if any(caption_matches(content.text, text) for text in listed):
                return PublishedPost(str(video["id"]), video.get("share_url") or None)
        return None

    async def insights(self, credentials: Credentials, post_ids: list[str]) -> dict[str, PostInsights]:
        """`POST /v2/video/query/` (scope video.list) for up to 20 of the creator's videos a call: views,
        likes, comments and shares. A video TikTok no longer lists for the creator is left out."""
        fields = "id,view_count,like_count,comment_count,share_count"
        found: dict[str, PostInsights] = {}
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            for start in range(0, len(post_ids), QUERY_IDS_PER_CALL):
                data = await self._api(
                    session,
                    "POST",
                    f"/v2/video/query/?fields={fields}",
                    credentials.access_token,
                    json={"filters": {"video_ids": post_ids[start : start + QUERY_IDS_PER_CALL]}},
                    label_what="video query",
                )
                for video in data.get("videos") or []:
                    found[str(video["id"])] = PostInsights(
                        views=video.get("view_count"),
                        likes=video.get("like_count"),
                        comments=video.get("comment_count"),
                        shares=video.get("share_count"),
                    )
        return found

    # ------------------------------------------------------------ the steps

    async def _pending(self, session: aiohttp.ClientSession, token: str, publish_id: str) -> PublishedPost | None:
        try:
            data = await self._status(session, token, publish_id)
        except ContentRejected:  # TikTok doesn't know the publish_id (expired): search the videos instead
            return None
        status = str(data.get("status", ""))
        if status == "PUBLISH_COMPLETE":
            creator = await self._creator_info(session, token)
            return _published(data, publish_id, creator.get("creator_username"))
        if status == "FAILED":
            return None
        raise OutcomeUnknown(detail=f"{LABEL} is still processing {publish_id} ({status})", handle=publish_id)

    async def _status(self, session: aiohttp.ClientSession, token: str, publish_id: str) -> dict[str, Any]:
        return await self._api(
            session,
            "POST",
            "/v2/post/publish/status/fetch/",
            token,
            json={"publish_id": publish_id},
            label_what="post status",
        )

    async def _creator_info(self, session: aiohttp.ClientSession, token: str) -> dict[str, Any]:
        return await self._api(
            session, "POST", "/v2/post/publish/creator_info/query/", token, json={}, label_what="creator info"
        )

    async def _check_duration(self, content: PostContent, creator: dict[str, Any]) -> None:
        limit = creator.get("max_video_post_duration_sec")
        if not limit or content.media is None:
            return  # a pulled link is checked by TikTok itself (FAILED with duration_check_failed)
        try:
            duration = (await asyncio.to_thread(probe_media, content.media)).duration_s
        except MediaError as exc:  # not a video ffmpeg can read
            raise ContentRejected(f"The clip's video can't be read: {exc.user_message}", detail=exc.detail) from exc
        if duration > float(limit):
            raise ContentRejected(
                f"TikTok takes videos up to {_seconds(float(limit))} on this account, and this one is "
                f"{_seconds(duration)}. Trim it, then schedule it again."
            )

    def _post_info(self, content: PostContent, creator: dict[str, Any]) -> dict[str, Any]:
        allowed = [str(o) for o in creator.get("privacy_level_options") or []]
        if self.privacy_level:
            if self.privacy_level not in allowed:
                raise ContentRejected(
                    f"This server posts to TikTok as {self.privacy_level}, which this account does not allow "
                    f"(it allows {', '.join(allowed) or 'none'}). The operator can change TIKTOK_PRIVACY_LEVEL."
                )
            privacy = self.privacy_level
        else:
            privacy = next((p for p in PRIVACY_LEVELS if p in allowed), allowed[0] if allowed else "SELF_ONLY")
        return {
            "title": content.text,
            "privacy_level": privacy,
            # What the creator turned off on the account stays off on the post.
            "disable_comment": bool(creator.get("comment_disabled")),
            "disable_duet": bool(creator.get("duet_disabled")),
            "disable_stitch": bool(creator.get("stitch_disabled")),
            "brand_content_toggle": False,
            "brand_organic_toggle": False,
        }

    def _source_info(self, content: PostContent) -> dict[str, Any]:
        if content.media_url and (self.pull_from_url or content.media is None):
            return {"source": "PULL_FROM_URL", "video_url": content.media_url}
        assert content.media is not None
        size = content.media.stat().st_size
        chunk, count = chunk_plan(size, self.chunk_bytes)
        return {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk, "total_chunk_count": count}

    async def _upload(self, session: aiohttp.ClientSession, upload_url: str, path: Path) -> None:
        """The chunks in order, each PUT with its `Content-Range`. Until the last one is sent nothing can be
        published, so an earlier failure is what it is; the last one's lost answer is an unknown outcome."""
        size = path.stat().st_size
        chunk, count = chunk_plan(size, self.chunk_bytes)
        mime = MIME.get(path.suffix.lower(), "video/mp4")
        with path.open("rb") as file:
            for index in range(count):
                first = index * chunk
                last = size - 1 if index == count - 1 else first + chunk - 1  # the last chunk takes the rest
                file.seek(first)
                data = file.read(last - first + 1)
                headers = {"Content-Type": mime, "Content-Range": f"bytes {first}-{last}/{size}"}
                status, answer_headers, raw = await _send(
                    session, "PUT", upload_url, creates=index == count - 1, data=data, headers=headers
                )
                if status >= 400:
                    raise _error(status, _json(raw), answer_headers, creates=index == count - 1, what="upload")

    async def _await_published(self, session: aiohttp.ClientSession, token: str, publish_id: str) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + self.publish_wait_s
        while True:
            try:
                data = await self._status(session, token, publish_id)
            except PlatformError as exc:  # the post is on its way; a retry must look for it first
                raise OutcomeUnknown(detail=f"{LABEL} status of {publish_id}: {exc}") from exc
            status = str(data.get("status", ""))
            if status == "PUBLISH_COMPLETE":
                return data
            if status == "FAILED":
                raise _failed(str(data.get("fail_reason") or "no reason given"), publish_id)
            if asyncio.get_running_loop().time() + self.poll_s > deadline:
                raise OutcomeUnknown(
                    detail=f"{LABEL} was still processing {publish_id} ({status}) after {self.publish_wait_s:.0f} s"
                )
            await asyncio.sleep(self.poll_s)

    async def _api(
        self,
        session: aiohttp.ClientSession,
        method: str,
        path: str,
        token: str,
        *,
        creates: bool = False,
        label_what: str,
        **kwargs: Any,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=UTF-8"}
        status, answer_headers, raw = await _send(
            session, method, f"{self.api_base}{path}", creates=creates, headers=headers, **kwargs
        )
        body = _json(raw)
        error = body.get("error")
        if status < 400 and error is not None and not isinstance(error, dict):  # not TikTok's envelope
            raise unreadable(LABEL, f"the {label_what} answer's error", body)
        code = str((error if isinstance(error, dict) else {}).get("code") or "ok")
        if status >= 400 or code != "ok":
            raise _error(status, body, answer_headers, creates=creates, what=label_what)
        data = body.get("data")
        return data if isinstance(data, dict) else {}


async def _send(
    session: aiohttp.ClientSession, method: str, url: str, *, creates: bool = False, **kwargs: Any
) -> tuple[int, dict[str, str], bytes]:
    """One request; network failures mapped like `platforms.http.call` (a request sent without an answer
    leaves a create's outcome unknown). The answer is returned whatever its status."""
    try:
        async with session.request(method, url, **kwargs) as response:
            return response.status, dict(response.headers.items()), await response.read()
    except aiohttp.ClientConnectorError as exc:
        raise PlatformUnavailable(detail=f"{LABEL} unreachable: {exc}") from exc
    except (TimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
        err = OutcomeUnknown if creates else PlatformUnavailable
        raise err(detail=f"{LABEL}: no answer ({type(exc).__name__})") from exc


def _error(status: int, body: dict[str, Any], headers: dict[str, str], *, creates: bool, what: str) -> PlatformError:
    """TikTok's error `code` first (its HTTP statuses are coarse: 403 covers the daily cap and an unaudited
    app alike), then the HTTP status as every platform maps it."""
    error = body.get("error")
    error = error if isinstance(error, dict) else {}
    code, message = str(error.get("code") or ""), str(error.get("message") or "")
    detail = f"{LABEL} {what} answered {status} {code}: {message[:300]} (log_id {error.get('log_id', '-')})"
    by_code = _error_by_code(code, detail, headers)
    if by_code is not None:
        return by_code
    if status == 429:
        return RateLimited(detail=detail, retry_after=retry_after(headers) or RATE_LIMIT_WAIT_S)
    if status >= 500 or code == "internal_error":
        return OutcomeUnknown(detail=detail) if creates else PlatformUnavailable(detail=detail)
    if status == 401:
        return TokenRevoked(detail=detail)
    reason = message or code or f"HTTP {status}"
    return ContentRejected(f"TikTok rejected the post: {_short(reason)}", detail=detail)


# Codes whose remedy is for the creator or the operator to take, in words that say which.
_REJECTIONS = {
    "unaudited_client_can_only_post_to_private_accounts": (
        "Until TikTok audits this server's app it can only post to private TikTok accounts. Make the account "
        "private in TikTok, or ask the operator about the app's audit."
    ),
    "url_ownership_unverified": (
        "TikTok has not verified the domain of Recast's media links for this server's app; the operator must "
        "verify it in the TikTok app or unset TIKTOK_PULL_FROM_URL."
    ),
    "privacy_level_option_mismatch": (
        "TikTok refused the post's privacy level for this account; the operator can change TIKTOK_PRIVACY_LEVEL."
    ),
}


def _error_by_code(code: str, detail: str, headers: dict[str, str]) -> PlatformError | None:
    if code == "access_token_invalid":
        return TokenRevoked(detail=detail)
    if code == "scope_not_authorized":
        return TokenRevoked(
            "The TikTok account didn't allow Recast to post. Connect it again with /connect and allow posting.",
            detail=detail,
        )
    if code == "rate_limit_exceeded":
        return RateLimited(detail=detail, retry_after=retry_after(headers) or RATE_LIMIT_WAIT_S)
    if code == "spam_risk_too_many_posts":
        return _daily_cap(detail)
    if code in _REJECTIONS:
        return ContentRejected(_REJECTIONS[code], detail=detail)
    return None


def _daily_cap(detail: str) -> QuotaExhausted:
    return QuotaExhausted(
        utcnow() + DAILY_CAP_WAIT,
        "TikTok's daily limit of posts from apps is used up on this account; the post moves a day on.",
        detail=detail,
    )


def _published(status: dict[str, Any], publish_id: str, handle: str | None) -> PublishedPost:
    ids = [str(i) for i in status.get("publicaly_available_post_id") or []]  # sic: TikTok's spelling
    if ids:
        return PublishedPost(ids[0], video_url(handle, ids[0]) if handle else None)
    # A private (SELF_ONLY) post has no public id: the publish id stands for it, and the link is the profile.
    return PublishedPost(publish_id, f"https://www.tiktok.com/@{handle}" if handle else None)


def failure_for(reason: str, publish_id: str) -> PlatformError:
    """What a FAILED post's `fail_reason` (from the status poll or the `post.publish.failed` webhook) means."""
    return _failed(reason, publish_id)


def _failed(reason: str, publish_id: str) -> PlatformError:
    detail = f"{LABEL} post {publish_id} FAILED: {reason}"
    if reason == "spam_risk_too_many_posts":
        return _daily_cap(detail)
    if reason == "internal":  # TikTok's own failure: nothing was posted, so trying again is safe
        return PlatformUnavailable(detail=detail)
    return ContentRejected(f"TikTok could not publish the video: {FAIL_REASONS.get(reason, reason)}.", detail=detail)


def chunk_plan(size: int, chunk_bytes: int) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) as TikTok counts them: a video no larger than one chunk goes whole;
    otherwise the count is the size divided by the chunk size, rounded down, and the last chunk carries the
    trailing bytes (TikTok allows it up to 128 MB)."""
    if size <= chunk_bytes:
        return size, 1
    return chunk_bytes, size // chunk_bytes


def caption_matches(caption: str, listed: str) -> bool:
    """Whether a listed title/description is this caption: equal, or (TikTok lists 150 characters) its
    first 150 characters, ignoring how whitespace was spaced."""
    ours, theirs = " ".join(caption.split()), " ".join(listed.split())
    if not theirs:
        return False
    return ours == theirs or (len(theirs) >= LISTED_CHARS - 10 and ours.startswith(theirs.rstrip("…")))


def video_url(handle: str, video_id: str) -> str:
    return f"https://www.tiktok.com/@{handle}/video/{video_id}"


def _seconds(value: float) -> str:
    whole = round(value)
    if whole < 60:
        return f"{whole} s"
    return f"{whole // 60} min" + (f" {whole % 60} s" if whole % 60 else "")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return (text[:160] + "…") if len(text) > 160 else text


def _oauth_error(data: dict[str, Any]) -> str:
    """The OAuth endpoints' `error` (a string); TikTok's API envelope (`{"code": ...}`) is read too."""
    error = data.get("error")
    if isinstance(error, dict):
        error = error.get("code")
    return "" if error in (None, "", "ok") else str(error)[:80]


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
