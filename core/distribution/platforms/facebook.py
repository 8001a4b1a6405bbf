"""Facebook Pages: posts, photos and videos on a Page the person manages, through the Graph API.

The connection holds the person's long-lived user token and the Page's id (the first Page `/me/accounts`
lists). Each publish asks for the Page access token (`GET /<page-id>?fields=access_token`) and posts with
it: text to `/<page-id>/feed` (`message`), an image to `/<page-id>/photos` (`url`, or the file as
`source`), a video to `/<page-id>/videos` (`file_url`, or the file as `source`) with the text as its
`description`. The Page's recent posts (and, for videos, which show in the feed only once processed, its
videos) are where a post whose answer was lost is looked for.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from core.distribution.errors import ContentRejected, PlatformError
from core.distribution.platforms.meta_graph import (
    CannotConnect,
    MetaGraphClient,
    account_id,
    caption_of,
    node_of,
    person_of,
)
from core.distribution.platforms.names import Platform
from core.distribution.ports import Account, Credentials, PostContent, PublishedPost, text_marker

RECENT = 25


class FacebookPagesClient(MetaGraphClient):
    platform = Platform.FACEBOOK
    scopes: tuple[str, ...] = ("pages_show_list", "pages_read_engagement", "pages_manage_posts")
    own_scopes: tuple[str, ...] = ("pages_manage_posts",)

    async def account(self, access_token: str) -> Account:
        """The first Page the person manages and allowed Recast to use."""
        async with self.session() as session:
            person = await person_of(self, session, access_token)
            pages = await self.graph(session, "GET", "me/accounts", access_token, params={"fields": "id,name"})
        for page in pages.get("data", []):
            if isinstance(page, dict) and page.get("id"):
                return Account(account_id(str(page["id"]), person), page.get("name"), kind="page")
        raise CannotConnect(
            "You don't manage a Facebook Page that you allowed Recast to use. Create or pick a Page on the "
            "sign-in screen, then /connect again."
        )

    async def _page_token(self, session: aiohttp.ClientSession, credentials: Credentials) -> str:
        page_id = node_of(credentials.platform_user_id)
        page = await self.graph(session, "GET", page_id, credentials.access_token, params={"fields": "access_token"})
        token = caption_of(page, "access_token")
        if not token:
            raise ContentRejected(
                "Facebook gave no access to the Page: your role on it may have changed. "
                "Connect it again with /connect.",
                detail=f"no access_token for page {page_id}",
            )
        return token

    async def publish(self, credentials: Credentials, content: PostContent) -> PublishedPost:
        page_id = node_of(credentials.platform_user_id)
        async with self.session() as session:
            token = await self._page_token(session, credentials)
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

    async def find_post(self, credentials: Credentials, content: PostContent) -> PublishedPost | None:
        async with self.session() as session:
            token = await self._page_token(session, credentials)
            page_id = node_of(credentials.platform_user_id)
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
