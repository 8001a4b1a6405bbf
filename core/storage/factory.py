"""`file_store(settings)`: the media store STORAGE_BACKEND names, checked before anything uses it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.config import Settings
from core.storage.files import FileStore, LocalFileStore
from core.storage.links import MediaLinks
from core.storage.s3 import MB, S3FileStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class StorageMisconfigured(Exception):
    """The configured media store cannot be used; the message says what to change."""


def media_links(settings: Settings) -> MediaLinks:
    return MediaLinks(secret=settings.secret_keys(), base_url=settings.public_base_url)


def s3_client(settings: Settings, *, endpoint_url: str | None) -> S3Client:
    key = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
    # Path-style addressing for a self-hosted endpoint (MinIO has no per-bucket DNS names); AWS picks its own.
    style: Any = "path" if endpoint_url else "auto"
    client: S3Client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": style},
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
        ),
    )
    return client


def _ensure_bucket(client: S3Client, settings: Settings, bucket: str) -> None:
    where = settings.s3_endpoint_url or "AWS S3"
    try:
        client.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise StorageMisconfigured(
                f"S3 bucket {bucket!r} at {where} refused us ({code or exc}): check S3_ACCESS_KEY_ID, "
                "S3_SECRET_ACCESS_KEY and the bucket's policy"
            ) from exc
    except BotoCoreError as exc:
        raise StorageMisconfigured(f"cannot reach S3 at {where}: {exc}") from exc
    if not settings.s3_create_bucket:
        raise StorageMisconfigured(
            f"S3 bucket {bucket!r} does not exist at {where}: create it, or set S3_CREATE_BUCKET=true"
        )
    try:
        if settings.s3_region == "us-east-1":
            client.create_bucket(Bucket=bucket)
        else:
            client.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": settings.s3_region},  # type: ignore[typeddict-item]
            )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "BucketAlreadyOwnedByYou":
            return  # another process created it a moment ago
        raise StorageMisconfigured(f"could not create S3 bucket {bucket!r} at {where}: {exc}") from exc
    except BotoCoreError as exc:
        raise StorageMisconfigured(f"could not create S3 bucket {bucket!r} at {where}: {exc}") from exc


def file_store(settings: Settings) -> FileStore:
    """The local directory (links served by `recast web`) or the S3 bucket (presigned links); an S3 bucket
    that is missing is created only when S3_CREATE_BUCKET says so, otherwise StorageMisconfigured."""
    legacy = LocalFileStore(settings.media_dir, links=media_links(settings))
    if settings.storage_backend == "local":
        return legacy
    if not settings.s3_bucket:
        raise StorageMisconfigured("STORAGE_BACKEND=s3 needs S3_BUCKET")
    client = s3_client(settings, endpoint_url=settings.s3_endpoint_url)
    _ensure_bucket(client, settings, settings.s3_bucket)
    public = settings.s3_public_endpoint_url
    return S3FileStore(
        client=client,
        bucket=settings.s3_bucket,
        cache_dir=settings.recast_data_dir / "s3-cache",
        multipart_threshold_bytes=settings.s3_multipart_threshold_mb * MB,
        presigner=s3_client(settings, endpoint_url=public) if public and public != settings.s3_endpoint_url else None,
        legacy=legacy,
    )


def describe(store: FileStore) -> str:
    """Where media goes, for start-up banners."""
    if isinstance(store, S3FileStore):
        return f"{store.scheme}{store.bucket} (cache {store.cache_dir})"
    if isinstance(store, LocalFileStore):
        return str(store.root)
    return type(store).__name__
