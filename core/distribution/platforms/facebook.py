"""Facebook Pages: posts, photos and videos on a Page the person manages, through the Graph API.

Connecting ends with each Page's own access token, not the person's: `/me/accounts`, asked with the
long-lived user token, lists every Page the person manages and allowed, each with its token; the first is
the connection the sign-in names and the others come with it (`TokenSet.also`), one connection each.
Meta documents that a Page token obtained that way has no expiry (it stops working only if the person
loses their role on the Page, changes their password or removes the app), where the user token lasts
about 60 days and can't be renewed server-side; Recast stores whatever expiry `debug_token` reports for
each, so a Page token that does expire is warned about like any.

Posts go out with that token: text to `/<page-id>/feed` (`message`), an image to `/<page-id>/photos`
(`url`, or the file as `source`), a video to `/<page-id>/videos` (`file_url`, or the file as `source`)
with the text as its `description`. The Page's recent posts (and, for videos, which show in the feed only
once processed, its videos) are where a post whose answer was lost is looked for.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp

from core.distribution.errors import CannotConnect, PlatformError, TokenRevoked
from core.distribution.platforms.http import unreadable
from core.distribution.platforms.meta_graph import (
    IDS_PER_CALL,
    MetaGraphClient,
    account_id,
    caption_of,
    graph_id,
    metric_values,
    node_of,
    summary_count,
)
from core.distribution.platforms.names import Platform
from core.distribution.ports import (
    Account,
    Credentials,
    ManagedAccount,
    PostContent,
    PostInsights,
    PublishedPost,
    TokenSet,
    text_marker,
)

RECENT = 25
# Page post insights after Meta retired `post_impressions_unique` (replaced by the media-view metrics).
POST_METRICS = ("post_media_view", "post_total_media_view_unique", "post_clicks")
COUNTS = "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"


class FacebookPagesClient(MetaGraphClient):
    platform = Platform.FACEBOOK
    # `read_insights`: Page post insights, for analytics.
    scopes: tuple[str, ...] = ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "read_insights")
    own_scopes: tuple[str, ...] = ("pages_manage_posts", "read_insights")
    insights_scopes: tuple[str, ...] = ("read_insights",)

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        """The person's long-lived token, traded for every Page's token, each with its own expiry: the first
        Page's is the answer, the others ride along in `also`."""
        person = await super().exchange_code(code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)
        async with self.session() as session:
            listing = await self.graph(
                session,
                "GET",
                "me/accounts",
                person.access_token,
                params={"fields": "id,name,access_token"},
                strict=True,
            )
            listed = listing.get("data")
            if not isinstance(listed, list):
                raise unreadable(self.label, "me/accounts' data", listing)
            # A Page Recast can post to: its id, and a token of its own.
            pages = [p for p in listed if isinstance(p, dict) and graph_id(p, "id") and caption_of(p, "access_token")]
            if not pages:
                raise CannotConnect(
                    "You don't manage a Facebook Page that you allowed Recast to use. Create or pick a Page on "
                    "the sign-in screen, then /connect again."
                )
            tokens: list[tuple[dict[str, Any], TokenSet, str]] = []
            for page in pages:
                token = caption_of(page, "access_token")
                info = await self._debug(session, token)
                try:
                    expires = int(info.get("expires_at") or 0)  # 0: never
                    expires_at = datetime.fromtimestamp(expires, UTC) if expires else None
                except (TypeError, ValueError, OverflowError, OSError) as exc:
                    raise unreadable(self.label, "debug_token's expires_at", info) from exc
                page_tokens = TokenSet(
                    access_token=token, refresh_token=None, expires_at=expires_at, scopes=person.scopes
                )
                tokens.append((page, page_tokens, str(info["user_id"])))
        first, *others = tokens
        also = tuple(
            ManagedAccount(Account(account_id(str(graph_id(p, "id")), who), _name(p), kind="page"), t)
            for p, t, who in others
        )
        return replace(first[1], also=also)

    async def _debug(self, session: aiohttp.ClientSession, token: str) -> dict[str, Any]:
        """`debug_token` (asked with the app's own token): whose token it is, for what, until when."""
        answer = await self.graph(
            session, "GET", "debug_token", self.app_token(), params={"input_token": token}, strict=True
        )
        data = answer.get("data")
        if isinstance(data, dict) and data.get("is_valid") is False:
            raise TokenRevoked(detail=f"debug_token: the token is not valid (keys: {', '.join(sorted(data))})")
        person = graph_id(data, "user_id") if isinstance(data, dict) else None
        if not isinstance(data, dict) or person is None:  # whose token it is: every connection names them
            raise unreadable(self.label, "debug_token's data.user_id", data if isinstance(data, dict) else answer)
        return {**data, "user_id": person}

    async def account(self, access_token: str) -> Account:
        """The Page the token is for (a Page token's `me` is the Page) and the person who granted it."""
        async with self.session() as session:
            page = await self.graph(session, "GET", "me", access_token, params={"fields": "id,name"}, strict=True)
            page_id = graph_id(page, "id")
            if page_id is None:
                raise unreadable(self.label, "me's id", page)
            info = await self._debug(session, access_token)
        return Account(account_id(page_id, str(info["user_id"])), _name(page), kind="page")

    async def revoke(self, access_token: str) -> bool:
        """Revoke `pages_manage_posts` for the person behind the Page token (with the app's token: a Page
        token can't speak for the person)."""
        async with self.session() as session:
            person = str((await self._debug(session, access_token)).get("user_id") or "")
            for permission in self.own_scopes:
                await self.graph(session, "DELETE", f"{person}/permissions/{permission}", self.app_token())
        return True

    async def publish(self, credentials: Credentials, content: PostContent) -> PublishedPost:
        page_id, token = node_of(credentials.platform_user_id), credentials.access_token
        async with self.session() as session:
            kind = content.media_kind or "image"
            if content.media_url is None and content.media is None:
                edge, form = "feed", _form({"message": content.text})
            elif kind == "video":
                edge, form = "videos", _media_form({"description": content.text}, content, "file_url")
            else:
                edge, form = "photos", _media_form({"message": content.text}, content, "url")
            made = await self.graph(session, "POST", f"{page_id}/{edge}", token, form=form, creates=True)
            # A photo answers with its post's id too; the post is what the feed lists and links to.
            post_id = str(made.get("post_id") or made["id"])
            # The post exists now: nothing after this line may fail the publish (a retry would post again).
            try:
                found = await self.graph(session, "GET", post_id, token, params={"fields": "permalink_url"})
                url = _absolute(caption_of(found, "permalink_url")) or self.post_url(post_id)
            except PlatformError:
                url = self.post_url(post_id)
        return PublishedPost(post_id, url)

    def post_url(self, post_id: str) -> str | None:
        return f"https://www.facebook.com/{post_id}"

    async def insights(self, credentials: Credentials, post_ids: list[str]) -> dict[str, PostInsights]:
        """Page posts' figures, 50 a call in one multiple-id read: reactions and comments (summaries),
        shares, and the post insights metrics as a field. A video's id is the Video node, which has no post
        insights: its reactions and comments are read alone. Deleted posts are left out."""
        found: dict[str, PostInsights] = {}
        posts = [p for p in post_ids if "_" in p]  # `<page>_<n>`
        videos = [p for p in post_ids if "_" not in p]
        token = credentials.access_token
        async with self.session() as session:
            for group, fields in (
                (posts, f"id,shares,{COUNTS},insights.metric({','.join(POST_METRICS)})"),
                (videos, f"id,{COUNTS}"),
            ):
                for start in range(0, len(group), IDS_PER_CALL):
                    answer = await self.nodes(session, token, group[start : start + IDS_PER_CALL], fields)
                    for post_id, node in answer.items():
                        found[post_id] = _figures(node, in_posts=post_id in posts)
        return found

    async def find_post(self, credentials: Credentials, content: PostContent) -> PublishedPost | None:
        page_id, token = node_of(credentials.platform_user_id), credentials.access_token
        async with self.session() as session:
            posts = await self.graph(
                session,
                "GET",
                f"{page_id}/posts",
                token,
                params={"fields": "id,message,permalink_url", "limit": str(RECENT)},
            )
            found = _matching(posts, "message", content)
            if found is None and content.media_kind == "video":
                videos = await self.graph(
                    session,
                    "GET",
                    f"{page_id}/videos",
                    token,
                    params={"fields": "id,description,permalink_url", "limit": str(RECENT)},
                )
                found = _matching(videos, "description", content)
        if found is None:
            return None
        post_id = str(found["id"])
        return PublishedPost(post_id, _absolute(caption_of(found, "permalink_url")) or self.post_url(post_id))


def _name(page: dict[str, Any]) -> str | None:
    """A Page's name as Meta lists it, if it is text."""
    return caption_of(page, "name") or None


def _figures(node: dict[str, Any], *, in_posts: bool) -> PostInsights:
    metrics = metric_values(node)
    shares = node.get("shares")
    # A post nobody shared has no `shares` field at all: that is a measured 0.
    count = int(shares.get("count") or 0) if isinstance(shares, dict) else (0 if in_posts else None)
    return PostInsights(
        views=metrics.get("post_media_view"),
        reach=metrics.get("post_total_media_view_unique"),
        likes=summary_count(node, "reactions"),
        comments=summary_count(node, "comments"),
        shares=count,
        clicks=metrics.get("post_clicks"),
    )


def _matching(listing: dict[str, Any], key: str, content: PostContent) -> dict[str, Any] | None:
    for item in listing.get("data", []):
        if isinstance(item, dict) and text_marker(caption_of(item, key)) == content.marker:
            return item
    return None


def _form(fields: dict[str, str]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    return form


def _media_form(fields: dict[str, str], content: PostContent, url_field: str) -> aiohttp.FormData:
    """Facebook fetches the media from its URL when there is one, else the file goes up in the request."""
    if content.media_url:
        return _form({**fields, url_field: content.media_url})
    assert content.media is not None
    form = _form(fields)
    form.add_field("source", content.media.read_bytes(), filename=content.media.name)
    return form


def _absolute(link: str) -> str:
    """Videos' `permalink_url` is a path on facebook.com; posts' is a whole URL."""
    return f"https://www.facebook.com{link}" if link.startswith("/") else link
