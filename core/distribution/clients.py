"""Which platform clients this server can use: those whose developer app is configured in settings."""

from __future__ import annotations

from core.config import Settings
from core.distribution.errors import NotConfigured
from core.distribution.platforms.facebook import FacebookPagesClient
from core.distribution.platforms.instagram import InstagramClient
from core.distribution.platforms.linkedin import LinkedInClient
from core.distribution.platforms.names import Platform
from core.distribution.platforms.tiktok import TikTokClient
from core.distribution.platforms.x import XClient
from core.distribution.platforms.youtube import YouTubeClient
from core.distribution.ports import PlatformClient


def configured_clients(settings: Settings) -> dict[Platform, PlatformClient]:
    clients: dict[Platform, PlatformClient] = {}
    if settings.linkedin_client_id and settings.linkedin_client_secret:
        clients[Platform.LINKEDIN] = LinkedInClient(
            client_id=settings.linkedin_client_id,
            client_secret=settings.linkedin_client_secret.get_secret_value(),
            api_base=settings.linkedin_api_base,
            oauth_base=settings.linkedin_oauth_base,
            version=settings.linkedin_api_version,
            timeout_s=settings.platform_timeout_s,
            organizations=settings.linkedin_organizations,
        )
    if settings.x_client_id and settings.x_client_secret:
        clients[Platform.X] = XClient(
            client_id=settings.x_client_id,
            client_secret=settings.x_client_secret.get_secret_value(),
            api_base=settings.x_api_base,
            authorize_base=settings.x_authorize_url,
            timeout_s=settings.platform_timeout_s,
        )
    if settings.google_client_id and settings.google_client_secret:
        clients[Platform.YOUTUBE] = YouTubeClient(
            client_id=settings.google_client_id,
            client_secret=settings.google_client_secret.get_secret_value(),
            api_base=settings.youtube_api_base,
            auth_base=settings.google_auth_base,
            token_base=settings.google_token_base,
            privacy_status=settings.youtube_privacy_status,
            chunk_bytes=settings.youtube_chunk_kib * 1024,
            # Status checks after a dropped chunk back off from a thirtieth of a call's allowed time (1 s).
            resume_backoff_s=settings.platform_timeout_s / 30,
            timeout_s=settings.platform_timeout_s,
        )
    if settings.meta_app_id and settings.meta_app_secret:
        # One Meta app serves both; META_APP_SECRET may list several (rotation): the first signs calls.
        app_secret = settings.meta_app_secret.get_secret_value().split(",")[0].strip()
        clients[Platform.INSTAGRAM] = InstagramClient(
            app_id=settings.meta_app_id,
            app_secret=app_secret,
            graph_base=settings.meta_graph_base,
            oauth_base=settings.meta_oauth_base,
            version=settings.meta_graph_version,
            timeout_s=settings.platform_timeout_s,
            poll_interval_s=settings.instagram_poll_interval_s,
            poll_timeout_s=settings.instagram_poll_timeout_s,
            usage_ceiling_percent=100 - settings.analytics_quota_reserve_percent,
        )
        clients[Platform.FACEBOOK] = FacebookPagesClient(
            app_id=settings.meta_app_id,
            app_secret=app_secret,
            graph_base=settings.meta_graph_base,
            oauth_base=settings.meta_oauth_base,
            version=settings.meta_graph_version,
            timeout_s=settings.platform_timeout_s,
            usage_ceiling_percent=100 - settings.analytics_quota_reserve_percent,
        )
    if settings.tiktok_client_key and settings.tiktok_client_secret:
        clients[Platform.TIKTOK] = TikTokClient(
            client_key=settings.tiktok_client_key,
            client_secret=settings.tiktok_client_secret.get_secret_value(),
            api_base=settings.tiktok_api_base,
            authorize_url=settings.tiktok_authorize_url,
            pull_from_url=settings.tiktok_pull_from_url,
            privacy_level=settings.tiktok_privacy_level,
            chunk_bytes=settings.tiktok_chunk_bytes,
            poll_s=settings.tiktok_status_poll_s,
            publish_wait_s=settings.tiktok_publish_wait_s,
            timeout_s=settings.platform_timeout_s,
        )
    return clients


def client_for(settings: Settings, platform: str) -> PlatformClient:
    try:
        return configured_clients(settings)[Platform(platform)]
    except (ValueError, KeyError):
        raise NotConfigured(detail=f"no client configured for {platform!r}") from None
