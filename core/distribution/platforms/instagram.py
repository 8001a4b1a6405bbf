"""Instagram: the Graph API's content publishing for a business or creator account linked to a Facebook Page.

A post is made in two steps. `POST /<ig-user-id>/media` creates a container from a URL Instagram fetches
itself (`image_url`, or `media_type=REELS` + `video_url`: the signed, expiring link `recast web` serves
from media storage) with the caption; the container is processed (`GET /<container>?fields=status_code`
until `FINISHED`); only `POST /<ig-user-id>/media_publish` with `creation_id` makes the post. So a failure
before `media_publish` made no post and is retried as is, and only a lost `media_publish` answer leaves the
outcome unknown (the next try finds the post among the account's media by its caption's marker).

The account may publish `quota_total` posts (50 in Meta's reference, 100 in its current guide: Recast reads
the number, it doesn't assume one) per rolling 24 hours; `content_publishing_limit` is asked before each
container is made, and a used-up allowance raises `QuotaExhausted` with the time a slot frees.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

import aiohttp

from core.common.clock import utcnow
from core.distribution.errors import (
    CannotConnect,
    ContentRejected,
    NotConfigured,
    PlatformError,
    PlatformUnavailable,
    QuotaExhausted,
)
from core.distribution.platforms.http import unreadable
from core.distribution.platforms.meta_graph import (
    IDS_PER_CALL,
    MetaGraphClient,
    account_id,
    caption_of,
    graph_id,
    metric_values,
    node_of,
    person_of,
)
from core.distribution.platforms.names import Platform
from core.distribution.ports import Account, Credentials, PostContent, PostInsights, PublishedPost, text_marker

log = logging.getLogger(__name__)

DEFAULT_QUOTA_WINDOW_S = 86_400
# Media insights' current metrics (`impressions`, `plays` and `video_views` are retired); Reels add their
# watch time (milliseconds). Asking a feed post for a Reels metric fails the whole call, so each kind is
# asked apart.
FEED_METRICS = ("views", "reach", "likes", "comments", "shares", "saved", "total_interactions")
REEL_METRICS = (*FEED_METRICS, "ig_reels_avg_watch_time", "ig_reels_video_view_total_time")
RECENT_MEDIA = 25


class InstagramClient(MetaGraphClient):
    platform = Platform.INSTAGRAM
    scopes: tuple[str, ...] = (
        "instagram_basic",
        "instagram_content_publish",
        "pages_show_list",
        "pages_read_engagement",
        "instagram_manage_insights",  # media insights, for analytics
    )
    own_scopes: tuple[str, ...] = ("instagram_content_publish", "instagram_basic", "instagram_manage_insights")
    insights_scopes: tuple[str, ...] = ("instagram_manage_insights",)

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        graph_base: str = "https://graph.facebook.com",
        oauth_base: str = "https://www.facebook.com",
        version: str = "v23.0",
        timeout_s: float = 30.0,
        poll_interval_s: float = 10.0,
        poll_timeout_s: float = 300.0,
        usage_ceiling_percent: int = 80,
    ) -> None:
        super().__init__(
            app_id=app_id,
            app_secret=app_secret,
            graph_base=graph_base,
            oauth_base=oauth_base,
            version=version,
            timeout_s=timeout_s,
            usage_ceiling_percent=usage_ceiling_percent,
        )
        # Meta suggests polling a container about once a minute for up to five minutes; images are
        # usually FINISHED at once, Reels take a while.
        self.poll_interval_s, self.poll_timeout_s = poll_interval_s, poll_timeout_s

    async def account(self, access_token: str) -> Account:
        """The Instagram professional account linked to the first of the person's Pages that has one (the
        others come from `managed_accounts`, each its own connection on the same sign-in)."""
        linked = await self._linked_accounts(access_token)
        if not linked:
            raise CannotConnect(
                "None of the Facebook Pages you allowed has an Instagram business or creator account linked. Link "
                "the Instagram account to a Page (Instagram: Settings → Account type and tools), then /connect "
                "again."
            )
        return linked[0]

    async def managed_accounts(self, access_token: str) -> list[Account]:
        """Every further Instagram account linked to the person's Pages: one login connects them all."""
        return (await self._linked_accounts(access_token))[1:]

    async def _linked_accounts(self, access_token: str) -> list[Account]:
        async with self.session() as session:
            person = await person_of(self, session, access_token)
            pages = await self.graph(
                session,
                "GET",
                "me/accounts",
                access_token,
                params={"fields": "name,instagram_business_account{id,username}"},
                strict=True,
            )
        listed = pages.get("data")
        if not isinstance(listed, list):
            raise unreadable(self.label, "me/accounts' data", pages)
        found: list[Account] = []
        for page in listed:
            linked = page.get("instagram_business_account") if isinstance(page, dict) else None
            ig_id = graph_id(linked, "id") if isinstance(linked, dict) else None
            if isinstance(linked, dict) and ig_id is not None:
                username = caption_of(linked, "username")
                found.append(Account(account_id(ig_id, person), f"@{username}" if username else None, kind="business"))
        return found

    # ------------------------------------------------------------ posts

    async def publish(self, credentials: Credentials, content: PostContent) -> PublishedPost:
        if not content.media_url and content.media is not None:
            # Instagram can't take an upload: it fetches the file from a link this server hands out.
            log.error("an Instagram post carries a file but no media link to fetch it from; set up media links")
            raise NotConfigured(
                "Instagram fetches the clip from a link to this server, and this server gives out no media links "
                "yet: its operator has to set them up.",
                detail="PostContent.media without media_url for Instagram",
            )
        if not content.media_url:
            raise ContentRejected(
                "Instagram posts need an image or a video, and this post has neither. "
                "Attach a clip or an image to the draft, then schedule it again."
            )
        token, ig_user = credentials.access_token, node_of(credentials.platform_user_id)
        async with self.session() as session:
            total, window = await self._check_quota(session, token, ig_user)
            container = await self._create_container(session, token, ig_user, content)
            await self._wait_until_finished(session, token, container)
            try:
                published = await self.graph(
                    session, "POST", f"{ig_user}/media_publish", token, form={"creation_id": container}, creates=True
                )
            except QuotaExhausted as exc:  # the allowance ran out since the check (other apps post too)
                until = await self._slot_frees_at(session, token, ig_user, total or 1, window)
                raise QuotaExhausted(until=until, detail=str(exc)) from exc
            media_id = str(published["id"])
            # The post exists now: nothing after this line may fail the publish (a retry would post again).
            try:
                media = await self.graph(session, "GET", media_id, token, params={"fields": "permalink"})
                permalink = caption_of(media, "permalink") or None
            except PlatformError:
                permalink = None
        return PublishedPost(media_id, permalink)

    async def insights(self, credentials: Credentials, post_ids: list[str]) -> dict[str, PostInsights]:
        """Media insights, 50 posts a call: one multiple-id read for each post's kind and public counts, then
        one per kind (`insights.metric(...)` as a field) for the figures. Deleted media is left out."""
        found: dict[str, PostInsights] = {}
        token = credentials.access_token
        async with self.session() as session:
            for start in range(0, len(post_ids), IDS_PER_CALL):
                chunk = post_ids[start : start + IDS_PER_CALL]
                media = await self.nodes(session, token, chunk, "id,media_product_type,like_count,comments_count")
                reels = [i for i, m in media.items() if m.get("media_product_type") == "REELS"]
                feed = [i for i in media if i not in reels]
                for group, metrics in ((reels, REEL_METRICS), (feed, FEED_METRICS)):
                    if not group:
                        continue
                    answer = await self.nodes(session, token, group, f"insights.metric({','.join(metrics)})")
                    for media_id in group:
                        found[media_id] = _figures(media[media_id], metric_values(answer.get(media_id, {})))
        return found

    def post_url(self, post_id: str) -> str | None:
        return None  # a permalink carries a shortcode, not the media id: it is read from the API instead

    async def find_post(self, credentials: Credentials, content: PostContent) -> PublishedPost | None:
        """The account's recent media whose caption carries the post's marker."""
        async with self.session() as session:
            media = await self.graph(
                session,
                "GET",
                f"{node_of(credentials.platform_user_id)}/media",
                credentials.access_token,
                params={"fields": "id,caption,permalink,timestamp", "limit": str(RECENT_MEDIA)},
            )
        for item in media.get("data", []):
            if isinstance(item, dict) and text_marker(caption_of(item, "caption")) == content.marker:
                return PublishedPost(str(item["id"]), caption_of(item, "permalink") or None)
        return None

    async def _check_quota(
        self, session: aiohttp.ClientSession, token: str, ig_user: str
    ) -> tuple[int | None, timedelta]:
        """The allowance (posts per window) and the window; raises `QuotaExhausted` when it is used up."""
        answer = await self.graph(
            session, "GET", f"{ig_user}/content_publishing_limit", token, params={"fields": "config,quota_usage"}
        )
        limit = (answer.get("data") or [{}])[0]
        config = limit.get("config") or {}
        used, total = int(limit.get("quota_usage") or 0), config.get("quota_total")
        window = timedelta(seconds=int(config.get("quota_duration") or DEFAULT_QUOTA_WINDOW_S))
        if total is None or used < int(total):
            return (int(total) if total is not None else None), window
        until = await self._slot_frees_at(session, token, ig_user, used, window)
        raise QuotaExhausted(
            until=until,
            detail=f"Instagram content_publishing_limit: {used} of {total} used in the last {window}",
        )

    async def _slot_frees_at(
        self, session: aiohttp.ClientSession, token: str, ig_user: str, used: int, window: timedelta
    ) -> datetime:
        """When the rolling window next has room. Meta gives only a count, not when those posts were made,
        so this reads the account's media in the window: the API-published posts the count covers are
        `used` of them, so the `used`-th newest is at least as old as the oldest counted one, and a window
        after it at least one has rolled out. That time is never too early (the post won't meet the limit
        again and move twice) and is exact when every recent post came through the API. Without a usable
        listing, a whole window from now is the time that is surely free."""
        now = utcnow()
        fallback = now + window
        try:
            listing = await self.graph(
                session,
                "GET",
                f"{ig_user}/media",
                token,
                params={"fields": "id,timestamp", "limit": str(min(100, max(used, 1)))},
            )
        except PlatformError:
            return fallback
        stamps = sorted(
            (t for t in (_timestamp(i) for i in listing.get("data", []) if isinstance(i, dict)) if t > now - window),
            reverse=True,
        )
        if len(stamps) < used or used < 1:
            return fallback
        return min(fallback, stamps[used - 1] + window + timedelta(minutes=1))  # a minute for clock skew

    async def _create_container(
        self, session: aiohttp.ClientSession, token: str, ig_user: str, content: PostContent
    ) -> str:
        form = {"caption": content.text}
        if (content.media_kind or "image") == "video":
            form |= {"media_type": "REELS", "video_url": str(content.media_url)}
        else:
            form |= {"image_url": str(content.media_url)}
        # Not `creates`: a container is not a post; a lost answer leaves at most an unpublished container
        # that expires by itself in 24 hours.
        made = await self.graph(session, "POST", f"{ig_user}/media", token, form=form)
        return str(made["id"])

    async def _wait_until_finished(self, session: aiohttp.ClientSession, token: str, container: str) -> None:
        """Poll the container until Instagram has fetched and processed the media."""
        deadline = time.monotonic() + self.poll_timeout_s
        while True:
            state = await self.graph(session, "GET", container, token, params={"fields": "status_code,status"})
            code = str(state.get("status_code", ""))
            if code == "FINISHED":
                return
            if code in ("ERROR", "EXPIRED"):
                reason = caption_of(state, "status") or code.lower()
                raise ContentRejected(
                    f"Instagram couldn't use the media: {reason}",
                    detail=f"container {container} {code}: {reason}",
                )
            if code == "PUBLISHED":  # only this client publishes its containers, and only once
                raise ContentRejected(detail=f"container {container} is already published")
            if time.monotonic() + self.poll_interval_s > deadline:
                raise PlatformUnavailable(
                    "Instagram is still processing the media; Recast will try again (nothing was posted).",
                    detail=f"container {container} still {code or 'unknown'} after {self.poll_timeout_s:.0f}s",
                )
            await asyncio.sleep(self.poll_interval_s)


def _timestamp(item: dict[str, object]) -> datetime:
    raw = item.get("timestamp")
    try:
        # Graph timestamps look like 2026-12-02T04:00:00+0000.
        return datetime.strptime(str(raw), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return datetime.min.replace(tzinfo=utcnow().tzinfo)


def _figures(media: dict[str, object], metrics: dict[str, int]) -> PostInsights:
    """Insights lag up to 48 hours and are empty below a viewer threshold: the public counts on the media
    stand in for likes and comments then."""

    def public(key: str) -> int | None:
        value = media.get(key)
        return value if isinstance(value, int) else None

    watched_ms = metrics.get("ig_reels_video_view_total_time")
    return PostInsights(
        views=metrics.get("views"),
        reach=metrics.get("reach"),
        likes=metrics.get("likes", public("like_count")),
        comments=metrics.get("comments", public("comments_count")),
        shares=metrics.get("shares"),
        saves=metrics.get("saved"),
        watch_time_s=watched_ms // 1000 if watched_ms is not None else None,
    )
