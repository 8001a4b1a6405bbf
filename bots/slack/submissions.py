"""Content submitted from Slack (`/recast submit <link or text>`, file shares) becomes a content asset of
the channel's client account through the same content service as Telegram uploads, then goes through the
pipeline; its drafts come back to the channel for approval. Run by the `slack.submit_*` tasks.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bots.slack import outbox
from bots.slack.listeners import email_lookup
from core.billing import usage as billing_usage
from core.common.errors import RecastError
from core.content import guards
from core.content import service as content
from core.content.address_policy import FetchPolicy
from core.content.errors import FileTooLarge, UnsupportedInput
from core.content.guards import UploadLimits
from core.content.models import ContentAsset
from core.db.session import session_scope
from core.deps import CoreDeps
from core.integrations import slack_links, slack_people
from core.integrations.slack_models import SlackEventReceipt
from core.integrations.slack_people import Submitter
from core.media.errors import MediaError

MB = 1024 * 1024
MAX_FILE_BYTES = 1024 * MB  # Slack's own per-file limit
DOWNLOAD_CHUNK = 256 * 1024
READY = "I'll post the drafts in this channel for review when they're ready."


class DownloadFailed(RecastError):
    user_message = "I couldn't download that file from Slack. Make sure Recast is in this channel and try again."


Say = Callable[[str], Awaitable[None]]


def _sayer(api: AsyncWebClient, channel_id: str | None, slack_user_id: str) -> Say:
    async def say(text: str) -> None:
        if channel_id:
            await api.chat_postEphemeral(channel=channel_id, user=slack_user_id, text=text)
        else:
            await api.chat_postMessage(channel=slack_user_id, text=text)

    return say


async def _submitter(
    session: AsyncSession, api: AsyncWebClient, team_id: str, channel_id: str | None, slack_user_id: str
) -> Submitter:
    return await slack_people.check_submitter(
        session=session,
        team_id=team_id,
        channel_id=channel_id,
        slack_user_id=slack_user_id,
        email=email_lookup(api, slack_user_id),
    )


def _tag(asset: ContentAsset, who: Submitter, origin: dict[str, Any]) -> None:
    asset.client_account_id = who.client_account_id
    asset.source_platform = "slack"
    asset.metadata_ = {**(asset.metadata_ or {}), "slack": origin}


async def _ingest_link(
    deps: CoreDeps, session: AsyncSession, who: Submitter, link: str, work_dir: Path
) -> ContentAsset:
    """The link fetched as Telegram's are: an article becomes text, a video (site or file) is downloaded."""
    return await content.ingest_link(
        session=session,
        store=deps.store,
        user_id=who.user_id,
        organization_id=who.organization_id,
        url=link,
        work_dir=work_dir,
        max_download_bytes=deps.settings.link_download_max_mb * MB,
        policy=FetchPolicy(allow_private=deps.settings.link_allow_private_networks),
        limits=UploadLimits.from_settings(deps.settings),
    )


async def submit(
    deps: CoreDeps,
    *,
    team_id: str,
    channel_id: str,
    slack_user_id: str,
    link: str | None = None,
    text: str | None = None,
) -> uuid.UUID | None:
    """`/recast submit`: an article link or pasted text into the pipeline; the outcome is told ephemerally."""
    api = await outbox.client_for_team(deps, team_id, outbox.base_client(deps))
    say = _sayer(api, channel_id, slack_user_id)
    try:
        async with session_scope(deps.sessionmaker) as session:
            who = await _submitter(session, api, team_id, channel_id, slack_user_id)
        with tempfile.TemporaryDirectory(prefix="recast-link-") as tmp:
            async with session_scope(deps.sessionmaker) as session:
                asset = (
                    await _ingest_link(deps, session, who, link, Path(tmp))
                    if link
                    else await content.ingest_text(
                        session=session,
                        store=deps.store,
                        user_id=who.user_id,
                        organization_id=who.organization_id,
                        text=text or "",
                        source_platform="slack",
                        limits=UploadLimits.from_settings(deps.settings),
                    )
                )
                _tag(asset, who, {"team_id": team_id, "channel_id": channel_id, "user_id": slack_user_id})
                asset_id, title = asset.id, asset.title
    except (RecastError, MediaError) as exc:
        await say(f"⚠️ {exc.user_message}")
        return None
    await deps.enqueue("pipeline.process_asset", asset_id=str(asset_id))
    await say(f"Got “{title}”. {READY}")
    return asset_id


def _receipt_id(team_id: str, file_id: str) -> str:
    return f"file:{team_id}:{file_id}"[:64]


async def _size_limit(deps: CoreDeps, user_id: uuid.UUID) -> int:
    async with deps.sessionmaker() as session:
        limits = await billing_usage.plan_limits(session=session, user_id=user_id)
    plan = limits.get("max_upload_bytes")
    return min(int(plan), MAX_FILE_BYTES) if plan else MAX_FILE_BYTES


async def _download(url: str, *, token: str | None, dest: Path, limit: int, name: str) -> None:
    """Stream `url_private` (bearer token) to `dest`, stopping once more than `limit` bytes arrived."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    size = 0
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_read=120)) as http,
            http.get(url, headers=headers) as resp,
        ):
            # Without a valid token Slack answers 200 with its HTML sign-in page, not the file.
            if resp.status != 200 or resp.content_type == "text/html":
                raise DownloadFailed(detail=f"GET {url}: {resp.status} {resp.content_type}")
            with dest.open("wb") as out:
                async for chunk in resp.content.iter_chunked(DOWNLOAD_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise _too_large(name, size, limit)
                    out.write(chunk)
    except aiohttp.ClientError as exc:
        raise DownloadFailed(detail=str(exc)) from exc


def _too_large(name: str, size: int, limit: int) -> FileTooLarge:
    return FileTooLarge(
        f"“{name}” is {size / MB:.0f} MB; I can take files up to {limit // MB} MB. "
        "Share a shorter cut, or a link to the article instead."
    )


async def submit_file(
    deps: CoreDeps, *, team_id: str, channel_id: str | None, slack_user_id: str, file_id: str
) -> uuid.UUID | None:
    """A file shared in a linked channel: download it, store it as a content asset and start the pipeline.
    Slack announces one upload twice (`file_shared` and a `message` with files): only the first counts."""
    receipt = _receipt_id(team_id, file_id)
    async with deps.sessionmaker() as session:
        if await session.get(SlackEventReceipt, receipt) is not None:
            return None
    api = await outbox.client_for_team(deps, team_id, outbox.base_client(deps))
    say = _sayer(api, channel_id, slack_user_id)
    try:
        async with session_scope(deps.sessionmaker) as session:
            who = await _submitter(session, api, team_id, channel_id, slack_user_id)
        try:
            info: dict[str, Any] = (await api.files_info(file=file_id))["file"]
        except SlackApiError as exc:
            raise DownloadFailed(detail=str(exc)) from exc
        name = str(info.get("name") or info.get("title") or file_id)
        try:
            kind = content.classify_upload(name, info.get("mimetype"))
        except UnsupportedInput as exc:
            raise UnsupportedInput(
                f"I can't turn “{name}” into drafts. Share a video, an audio file or voice note, a PDF or a text file."
            ) from exc
        limit = await _size_limit(deps, who.user_id)
        if int(info.get("size") or 0) > limit:
            raise _too_large(name, int(info["size"]), limit)
        # This server's hard cap too, by the size Slack declares, before downloading (plans may allow more).
        guards.check_size(
            int(info.get("size") or 0), content_type=kind.content_type, limits=UploadLimits.from_settings(deps.settings)
        )
        url = info.get("url_private_download") or info.get("url_private")
        if not url:
            raise DownloadFailed(detail="no url_private")
        with tempfile.TemporaryDirectory(prefix="recast-slack-") as tmp:
            path = Path(tmp) / (re.sub(r"[^\w.\-]+", "_", Path(name).name) or "upload")
            await _download(str(url), token=api.token, dest=path, limit=limit, name=name)
            async with session_scope(deps.sessionmaker) as session:
                # Claimed in the asset's transaction: a failed ingest leaves the file free to retry.
                if not await slack_links.accept_event(
                    session=session, event_id=receipt, team_id=team_id, event_type="file"
                ):
                    return None
                asset = await content.ingest_file(
                    session=session,
                    store=deps.store,
                    user_id=who.user_id,
                    organization_id=who.organization_id,
                    path=path,
                    filename=name,
                    mime_type=info.get("mimetype"),
                    source_platform="slack",
                    limits=UploadLimits.from_settings(deps.settings),
                )
                asset.source_url = info.get("permalink")
                _tag(
                    asset,
                    who,
                    {"team_id": team_id, "channel_id": channel_id, "user_id": slack_user_id, "file_id": file_id},
                )
                asset_id, title = asset.id, asset.title
    except RecastError as exc:
        await say(f"⚠️ {exc.user_message}")
        return None
    await deps.enqueue("pipeline.process_asset", asset_id=str(asset_id))
    await say(f"Got “{title}”. {READY}")
    return asset_id
