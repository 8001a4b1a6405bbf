"""The one `Settings` object. Built in entry points and passed down, never at import time."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - the known value that must not reach production


class Settings(BaseSettings):
    """Every knob Recast reads from the environment (or `.env`). Secrets are `SecretStr`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Infrastructure: unset means "start an embedded one under RECAST_DATA_DIR".
    database_url: str | None = Field(default=None, description="PostgreSQL URL; unset = embedded server")
    # Production: DATABASE_URL names an RLS-bound login role (`recast db login-role`), this one the tables'
    # owner. Unset: DATABASE_URL is used for both (development: the owner switches down per transaction).
    database_owner_url: str | None = Field(
        default=None, description="PostgreSQL URL of the tables' owner: migrations, seed data, operator commands"
    )
    redis_url: str | None = Field(default=None, description="Redis URL; unset = embedded redis-server")
    qdrant_url: str | None = Field(default=None, description="Qdrant URL; unset = local mode on disk")
    qdrant_api_key: SecretStr | None = None
    recast_data_dir: Path = Field(default=Path(".recast"), description="Embedded servers, media, vectors")
    media_root: Path | None = Field(default=None, description="Media storage dir; unset = DATA_DIR/media")
    recast_secret_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET_KEY), description="Encrypts stored tokens; signs callback tokens and links"
    )
    recast_secret_keys_old: SecretStr | None = Field(
        default=None,
        description="Previous RECAST_SECRET_KEY values, comma-separated: still decrypt and verify until rotated",
    )
    log_level: str = "INFO"
    task_queue: str = Field(default="recast:work", description="Redis list that wakes workers (unit ids)")
    work_lease_s: float = Field(
        default=30.0, description="Lease of a running unit, renewed every third of it; a lost worker's unit restarts"
    )
    work_shutdown_grace_s: float = Field(
        default=20.0, description="On SIGTERM, how long running units may finish before they are released"
    )
    work_sweep_interval_s: float = Field(default=10.0, description="How often workers and the scheduler sweep")
    worker_metrics_port: int | None = Field(default=None, description="Workers serve /metrics here; unset = off")
    web_host: str = "0.0.0.0"
    web_port: int = 8080
    public_base_url: str = "http://localhost:8080"
    default_timezone: str = "Asia/Kolkata"

    # AI: no key means local models and deterministic writers.
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_chat_model: str = "gpt-4o-mini"
    openai_transcribe_model: str = "whisper-1"
    openai_embedding_model: str = "text-embedding-3-small"
    whisper_model: str = Field(
        default="auto", description="Local model: auto, packaged:tiny.en, packaged:base or a path"
    )
    whisper_language: str | None = Field(
        default=None, description="ISO 639-1 code the talks are in (e.g. hi); unset = detected by the model"
    )
    whisper_languages: str = Field(
        default="en,hi", description="Languages talks may be in: detection picks among them (empty: any)"
    )
    link_download_max_mb: int = Field(default=500, description="Largest video Recast downloads from a link")
    link_allow_private_networks: bool = Field(
        default=False, description="Fetch links to private/local addresses too (off: public addresses only)"
    )

    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_url: str | None = None
    telegram_api_server: str | None = None
    telegram_update_lease_s: float = Field(
        default=60.0, description="A stored update whose handler stopped renewing for this long is handled again"
    )
    telegram_paste_window_seconds: float = Field(
        default=2.5, description="Text parts of one chat arriving within this quiet window are one paste"
    )

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str | None = Field(default=None, description="Slack Web API base; unset = https://slack.com/api/")

    # Payment gateways (API bases default to production; point them at a sandbox or a local server)
    razorpay_key_id: str | None = None
    razorpay_key_secret: SecretStr | None = None
    razorpay_webhook_secret: SecretStr | None = None
    stripe_api_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    cashfree_app_id: str | None = None
    cashfree_secret_key: SecretStr | None = None
    paypal_client_id: str | None = None
    paypal_client_secret: SecretStr | None = None
    paypal_webhook_id: str | None = None
    razorpay_api_base: str = "https://api.razorpay.com"
    stripe_api_base: str = "https://api.stripe.com"
    cashfree_api_base: str = "https://api.cashfree.com"
    paypal_api_base: str = "https://api-m.paypal.com"

    # Social platforms (publishing). API bases default to production; tests point them at local servers.
    linkedin_client_id: str | None = None
    linkedin_client_secret: SecretStr | None = None
    linkedin_api_base: str = "https://api.linkedin.com"
    linkedin_oauth_base: str = "https://www.linkedin.com/oauth/v2"
    linkedin_api_version: str = Field(
        default="202611", description="LinkedIn-Version header (YYYYMM); LinkedIn retires versions after a year"
    )
    linkedin_organizations: bool = Field(
        default=False,
        description="Also post as the LinkedIn Pages a member administers (needs the Community Management API)",
    )
    x_client_id: str | None = None
    x_client_secret: SecretStr | None = None
    x_api_base: str = "https://api.x.com"
    x_authorize_url: str = "https://x.com/i/oauth2/authorize"
    google_client_id: str | None = Field(
        default=None, description="Google OAuth client (YouTube); also the quota project"
    )
    google_client_secret: SecretStr | None = None
    google_auth_base: str = "https://accounts.google.com"
    google_token_base: str = "https://oauth2.googleapis.com"
    youtube_api_base: str = "https://www.googleapis.com"
    youtube_privacy_status: str = Field(default="public", description="public | unlisted | private for uploads")
    youtube_chunk_kib: int = Field(default=8192, description="Resumable upload chunk, a multiple of 256 KiB")
    youtube_daily_units: int = Field(default=10_000, description="The Google project's daily YouTube Data API units")
    youtube_daily_uploads: int = Field(default=100, description="The project's daily videos.insert calls")
    instagram_daily_calls: int = Field(
        default=4_800, ge=1, description="Graph API calls a day budgeted per Instagram account (quota ledger)"
    )
    x_monthly_reads: int = Field(default=15_000, ge=1, description="Posts the X app may read a month (its tier)")
    meta_app_secret: SecretStr | None = Field(
        default=None, description="Meta app secret: signs Instagram/Facebook webhooks and deauthorize callbacks"
    )
    meta_verify_token: SecretStr | None = Field(default=None, description="hub.verify_token of Meta's handshake")
    meta_app_id: str | None = Field(default=None, description="Meta app id: Facebook Login for Instagram/Pages")
    meta_graph_base: str = "https://graph.facebook.com"
    meta_graph_version: str = Field(default="v25.0", description="Graph API version in every Meta call's path")
    meta_oauth_base: str = "https://www.facebook.com"
    instagram_poll_interval_s: float = Field(default=10.0, description="How often an Instagram container is polled")
    instagram_poll_timeout_s: float = Field(default=300.0, description="How long a container may take to process")
    tiktok_client_secret: SecretStr | None = Field(
        default=None, description="TikTok app's client secret: the token endpoint, and signs TikTok webhooks"
    )
    tiktok_client_key: str | None = Field(default=None, description="TikTok app's client key (Login Kit)")
    tiktok_api_base: str = "https://open.tiktokapis.com"
    tiktok_authorize_url: str = "https://www.tiktok.com/v2/auth/authorize/"
    tiktok_pull_from_url: bool = Field(
        default=False,
        description="Media links' domain is verified in the TikTok app: TikTok pulls them (else Recast uploads)",
    )
    tiktok_privacy_level: str | None = Field(
        default=None, description="Privacy level of TikTok posts; unset: the most public the creator's account allows"
    )
    tiktok_chunk_bytes: int = Field(default=10 * 1024 * 1024, description="Chunk size of TikTok file uploads (5-64 MB)")
    tiktok_status_poll_s: float = Field(default=5.0, description="Pause between TikTok publish-status polls")
    tiktok_publish_wait_s: float = Field(
        default=300.0, description="How long a TikTok post may process before its outcome counts as unknown"
    )
    youtube_websub_secret: SecretStr | None = Field(default=None, description="hub.secret of YouTube push")
    publish_max_attempts: int = Field(default=5, description="Tries at one scheduled post before it fails")
    publish_retry_base_s: float = Field(default=30.0, description="First retry delay of a post (doubles, jittered)")
    platform_timeout_s: float = Field(default=30.0, description="How long a platform call may take")

    billing_contact: str | None = Field(
        default=None,
        description="Whom creators contact for a plan when no payment gateway is configured (billing off)",
    )

    # Media storage: a local directory (one machine) or an S3-compatible bucket (several machines).
    storage_backend: Literal["local", "s3"] = Field(default="local", description="Where media lives: local | s3")
    s3_endpoint_url: str | None = Field(default=None, description="S3 API endpoint (MinIO...); unset = AWS")
    s3_public_endpoint_url: str | None = Field(
        default=None, description="Endpoint in the links platforms fetch; unset = S3_ENDPOINT_URL"
    )
    s3_bucket: str | None = Field(default=None, description="Bucket holding the media (required for s3)")
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = Field(default=None, description="unset = boto3's usual credential chain")
    s3_secret_access_key: SecretStr | None = None
    s3_multipart_threshold_mb: int = Field(
        default=16, ge=1, description="Uploads from this size go up in parts of this size (at least 5 MB)"
    )
    s3_create_bucket: bool = Field(default=False, description="Create S3_BUCKET at start-up if it is missing")
    media_link_ttl_s: int = Field(
        default=3600, ge=1, le=7 * 24 * 3600, description="How long a media link for a platform works (max 7 days)"
    )

    # Upload guards (core.content.guards): hard limits of this server, checked before anything is downloaded,
    # decoded or charged; plans may be stricter (their max_upload_bytes / max_media_minutes).
    upload_max_mb: int = Field(
        default=2048, ge=1, description="Largest video or audio upload, in MB, refused before downloading"
    )
    upload_max_document_mb: int = Field(
        default=50, ge=1, description="Largest text or PDF upload, in MB, refused before downloading"
    )
    upload_max_media_minutes: int = Field(
        default=600, ge=1, description="Longest recording any plan may process, by the duration its header declares"
    )
    upload_max_frame_pixels: int = Field(
        default=7680 * 4320, ge=1, description="Most pixels in one video frame or cover image (default 8K, 33 Mpx)"
    )
    upload_max_frame_side: int = Field(default=16384, ge=1, description="Widest or tallest video frame, in pixels")
    upload_max_streams: int = Field(default=16, ge=1, description="Most tracks (video, audio, subtitles) in one file")
    upload_min_bytes_per_second: int = Field(
        default=100,
        ge=0,
        description="Fewer bytes per declared second of a recording: refused as crafted (a tiny file claiming hours)",
    )
    upload_sparse_check_after_s: int = Field(
        default=60, ge=0, description="Recordings shorter than this skip the bytes-per-second check"
    )
    upload_max_text_chars: int = Field(
        default=500_000, ge=1, description="Most characters of one text upload, paste or PDF's text"
    )
    upload_max_line_chars: int = Field(default=50_000, ge=1, description="Longest single line of a text upload")
    upload_max_text_lines: int = Field(default=50_000, ge=1, description="Most lines of a text upload")
    upload_max_pdf_pages: int = Field(default=500, ge=1, description="Most pages of a PDF upload")

    # Limits on every door (core.limits): 0 turns a limit off. Counted in Redis; Redis down = no limits.
    flood_user_messages_per_minute: int = Field(
        default=30, ge=0, description="Messages and button presses one chat user may send a minute"
    )
    flood_chat_messages_per_minute: int = Field(
        default=60, ge=0, description="Messages one chat (a group, a Slack channel) may send a minute, all users"
    )
    flood_user_uploads_per_hour: int = Field(
        default=20, ge=0, description="Files (videos, audio, documents) one chat user may send an hour"
    )
    web_refusals_per_minute: int = Field(
        default=30,
        ge=0,
        description="Refused (forged, malformed) deliveries one address may send to one webhook route a minute",
    )
    web_requests_per_minute: int = Field(
        default=120, ge=0, description="Requests one address may make a minute to OAuth callbacks, media links, feeds"
    )
    trusted_proxies: str = Field(
        default="", description="Comma-separated proxy addresses whose X-Forwarded-For is believed"
    )
    rate_limit_namespace: str = Field(
        default="", description="Prefix of the ratelimit:* keys when several Recast instances share one Redis"
    )

    # Invoicing (India GST)
    seller_gstin: str | None = None
    seller_state_code: str = "29"
    webhook_max_body_bytes: int = 1_048_576

    # Analytics collection shares the platforms' daily quotas with publishing; this share stays for publishing
    analytics_quota_reserve_percent: int = Field(
        default=20, ge=0, le=100, description="Share of a platform's daily quota analytics never uses"
    )

    # ROI (core.analytics.roi): used when the creator has not stated what the original took
    roi_default_hours: Decimal = Field(
        default=Decimal(3), gt=0, description="Hours to make an original, when not stated"
    )
    roi_hourly_rate_inr: Decimal = Field(
        default=Decimal(1500), gt=0, description="Creator's hour in INR, when not stated"
    )
    roi_hourly_rate_usd: Decimal = Field(
        default=Decimal(25), gt=0, description="Creator's hour in USD, when not stated"
    )
    roi_cpm_inr: Decimal = Field(default=Decimal(150), ge=0, description="What 1,000 views are worth in INR (ad price)")
    roi_cpm_usd: Decimal = Field(default=Decimal(6), ge=0, description="What 1,000 views are worth in USD (ad price)")

    def secret_keys(self) -> list[str]:
        """RECAST_SECRET_KEY first (encrypts and signs), then the old keys (still decrypt and verify)."""
        old = self.recast_secret_keys_old.get_secret_value() if self.recast_secret_keys_old else ""
        return [self.recast_secret_key.get_secret_value(), *(k.strip() for k in old.split(",") if k.strip())]

    def insecure_for_public_use(self) -> str | None:
        """Why these settings must not serve the public, or None. The dev key signs install links and
        callback tokens and encrypts Slack tokens, so anyone who has read this file could forge them."""
        host = urlsplit(self.public_base_url).hostname or ""
        local = host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost")
        if not local and self.recast_secret_key.get_secret_value() == DEV_SECRET_KEY:
            return (
                f"PUBLIC_BASE_URL is {self.public_base_url} but RECAST_SECRET_KEY is the development default. "
                "Set RECAST_SECRET_KEY to a long random value, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        return None

    @property
    def media_dir(self) -> Path:
        return self.media_root or self.recast_data_dir / "media"


def owner_database_url(settings: Settings) -> str | None:
    """The URL migrations, seeding and the operator's commands connect with (None: the embedded server)."""
    return settings.database_owner_url or settings.database_url
