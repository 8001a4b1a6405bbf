"""`/recast workflow`, `/recast submit` and file shares over HTTP: signed requests to the real bolt app, a local
Slack Web API (views.open, files.info, url_private downloads), a real database and a real worker on
durable work units running the Slack and pipeline tasks until the drafts are posted for approval."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from core.content.models import ContentAsset
from core.media.ffmpeg import run_ffmpeg
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.workflow.models import ApprovalRequest, ApprovalWorkflow
from tests.bots.slack.conftest import BOTH_LOGINS, CHANNEL, TEAM
from tests.bots.slack.test_approvals_over_http import FORM, buttons, click
from tests.core.workflow.builders import TALK

pytestmark = BOTH_LOGINS

WAIT = 180.0  # generous: the pipeline runs for real on a shared, possibly busy machine


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = WAIT) -> Any:
    """Poll a database condition until it holds (the worker commits on its own schedule)."""
    deadline = time.monotonic() + timeout
    while True:
        if result := await check():
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.0f}s")
        await asyncio.sleep(0.2)


def review_posts(fake_slack) -> Callable[[Any], bool]:
    """Review messages in the client's channel (not the full-text replies in their threads)."""
    return lambda c: c.params.get("channel") == CHANNEL and c.params.get("blocks") and not c.params.get("thread_ts")


async def request_of(deps, post) -> ApprovalRequest:
    request_id = buttons(post)["recast_approve"].split(":")[0]
    async with deps.sessionmaker() as s:
        return await s.get_one(ApprovalRequest, uuid.UUID(request_id))


async def asset_of_request(deps, request: ApprovalRequest) -> ContentAsset:
    async with deps.sessionmaker() as s:
        draft = await s.get_one(GeneratedContent, request.generated_content_id)
        return await s.get_one(ContentAsset, draft.content_asset_id)


async def all_jobs_settled(deps, asset_id: uuid.UUID) -> bool:
    async with deps.sessionmaker() as s:
        statuses = (
            await s.scalars(select(RepurposingJob.status).where(RepurposingJob.content_asset_id == asset_id))
        ).all()
    return bool(statuses) and all(st in ("completed", "failed") for st in statuses)


async def approve_first_stage(deps, slack, fake_slack, agency, post) -> None:
    """Drafts from Slack go through the same approval flow: the manager approves stage 1 of 2."""
    await slack.send(
        slack.interactive_body(
            click(agency.slack_ids["manager"], "recast_approve", buttons(post)["recast_approve"], "1")
        ),
        FORM,
    )
    (update,) = await fake_slack.wait_for("chat.update", timeout=WAIT)
    assert "Stage 2/2" in json.dumps(update.params["blocks"])
    assert (await request_of(deps, post)).current_stage == 2


def ephemerals(fake_slack, user: str, count: int = 1):
    return fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == user, count=count, timeout=WAIT)


# ------------------------------------------------------------------------------------ /recast workflow


def workflow_submission(user: str, meta: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": TEAM},
        "api_app_id": "A0RECAST",
        "token": "legacy",
        "user": {"id": user, "team_id": TEAM},
        "trigger_id": "trig-view",
        "view": {
            "id": "V1",
            "type": "modal",
            "team_id": TEAM,
            "callback_id": "recast_workflow_modal",
            "private_metadata": meta,
            "app_id": "A0RECAST",
            "state": {"values": values},
        },
    }


def text_value(text: str | None) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": text}}


async def test_workflow_command_opens_the_modal_and_its_submission_saves_the_stages(deps, slack, fake_slack, agency):
    manager, client = agency.slack_ids["manager"], agency.slack_ids["client"]
    assert await slack.command(manager, "workflow") == ""
    (opened,) = await fake_slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "recast_workflow_modal"
    assert view["private_metadata"] == f"{agency.team.client.id}|{CHANNEL}"
    assert {b["block_id"] for b in view["blocks"]} >= {"name", "stage1_name", "stage1_users", "stage2_role"}
    # Publishing automatically is offered, and left off unless ticked (below).
    assert "auto_publish" in {b["block_id"] for b in view["blocks"]}

    values = {
        "name": text_value("Acme two-step"),
        "stage1_name": text_value("Editor"),
        "stage1_users": {"value": {"type": "multi_users_select", "selected_users": [manager]}},
        "stage1_role": {"value": {"type": "static_select", "selected_option": None}},
        "stage2_name": text_value("Client"),
        "stage2_users": {"value": {"type": "multi_users_select", "selected_users": []}},
        "stage2_role": {"value": {"type": "static_select", "selected_option": {"value": "client"}}},
        "stage3_name": text_value(None),
    }
    resp = await slack.send(
        slack.interactive_body(workflow_submission(manager, view["private_metadata"], values)), FORM
    )
    assert resp.status == 200 and (await resp.text()) == ""
    async with deps.sessionmaker() as s:
        workflows = (
            await s.scalars(
                select(ApprovalWorkflow).where(
                    ApprovalWorkflow.client_account_id == agency.team.client.id, ApprovalWorkflow.is_active.is_(True)
                )
            )
        ).all()
    (saved,) = workflows  # the client's workflow was replaced, not duplicated
    assert (saved.name, saved.auto_publish, saved.organization_id) == ("Acme two-step", False, agency.team.org.id)
    assert saved.stages == [
        {"order": 1, "name": "Editor", "approvers": [str(agency.team.manager.id)], "role": None},
        {"order": 2, "name": "Client", "approvers": [], "role": "client"},
    ]
    # Saving says what was saved, where the command was run.
    (saved_note,) = await ephemerals(fake_slack, manager)
    assert saved_note.params["channel"] == CHANNEL
    assert saved_note.params["text"] == (
        "✅ Saved the workflow *Acme two-step* for drafts for *Acme Foods*:\n"
        f"1. *Editor*: <@{manager}>\n2. *Client*: anyone with the client role"
    )

    # A stage naming someone Slack can't match to Recast is refused inside the modal.
    fake_slack.add_user("U0NOBODY", "nobody@example.org", "Nobody")
    values["stage1_users"] = {"value": {"type": "multi_users_select", "selected_users": ["U0NOBODY"]}}
    resp = await slack.send(
        slack.interactive_body(workflow_submission(manager, view["private_metadata"], values)), FORM
    )
    answer = json.loads(await resp.text())
    assert answer["response_action"] == "errors" and "isn't linked to Recast" in answer["errors"]["stage1_name"]

    # Only owners, admins and managers may open it.
    text = await slack.command(client, "workflow")
    assert "Only owners, admins and managers" in text
    assert len(fake_slack.calls_to("views.open")) == 1


# -------------------------------------------------------------------------------------- /recast submit


@pytest.fixture(scope="module")
def clip_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 2-second video with sound, as a video site would serve it."""
    path = tmp_path_factory.mktemp("links") / "clip.mp4"
    asyncio.run(
        run_ffmpeg(
            ["-y", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2", "-f", "lavfi", "-i", "sine=d=2"]
            + ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", path]
        )
    )
    return path


@pytest.fixture
async def article_site(clip_mp4: Path) -> AsyncIterator[str]:
    async def article(request: web.Request) -> web.Response:
        html = (
            f"<html><head><title>Consistency</title><style>p {{}}</style></head><body><h1>Consistency beats "
            f"talent</h1><p>{TALK}</p><script>track()</script></body></html>"
        )
        return web.Response(text=html, content_type="text/html")

    async def video(request: web.Request) -> web.Response:
        return web.Response(body=b"\0" * 64, content_type="video/mp4")

    async def clip(request: web.Request) -> web.FileResponse:
        return web.FileResponse(clip_mp4, headers={"Content-Type": "video/mp4"})

    app = web.Application()
    app.router.add_get("/posts/consistency", article)
    app.router.add_get("/talk.mp4", video)
    app.router.add_get("/clip.mp4", clip)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.mark.usefixtures("worker")
async def test_submit_text_becomes_drafts_posted_for_approval(deps, slack, fake_slack, agency):
    manager = agency.slack_ids["manager"]
    assert "working on it" in await slack.command(manager, f"submit {TALK}")
    (got,) = await ephemerals(fake_slack, manager)
    assert got.params["text"].startswith("Got “Most creators in India") and got.params["channel"] == CHANNEL

    (post, *_) = await fake_slack.wait_for("chat.postMessage", review_posts(fake_slack), timeout=WAIT)
    assert "Stage 1/2" in json.dumps(post.params["blocks"]) and post.token == "xoxb-test-token"
    request = await request_of(deps, post)
    asset = await asset_of_request(deps, request)
    assert (asset.source_platform, asset.client_account_id, asset.user_id, asset.organization_id) == (
        "slack",
        agency.team.client.id,
        agency.team.manager.id,
        agency.team.org.id,
    )
    assert request.workflow_id is not None and request.status == "pending"
    await approve_first_stage(deps, slack, fake_slack, agency, post)
    await eventually(lambda: all_jobs_settled(deps, asset.id))


async def test_one_submissions_drafts_can_be_told_apart_in_the_channel(deps, slack, fake_slack, agency, worker):
    manager = agency.slack_ids["manager"]
    await slack.command(manager, f"submit {TALK}")
    (post, *_) = await fake_slack.wait_for("chat.postMessage", review_posts(fake_slack), timeout=WAIT)
    asset = await asset_of_request(deps, await request_of(deps, post))
    await eventually(lambda: all_jobs_settled(deps, asset.id))
    await worker.drain()
    posts = [c for c in fake_slack.calls_to("chat.postMessage") if review_posts(fake_slack)(c)]
    heads = [c.params["blocks"][0]["elements"][0]["text"] for c in posts]
    formats = [h.split("*")[1] for h in heads]
    assert len(posts) >= 3 and len(set(formats)) == len(posts), heads  # each names its own format
    assert {"LinkedIn post", "X thread"} <= set(formats)
    for head in heads:
        assert "· Source: “Most creators in India" in head and "(text from Slack)" in head
        assert re.search(r"· Version 1( · Quality \d+/100)?$", head), head  # the score only where it has checks
    assert all("Stage 1/2:* Manager review" in json.dumps(c.params["blocks"]) for c in posts)
    assert all(c.params["text"].startswith(f"Draft for review: {f} “") for c, f in zip(posts, formats, strict=True))


@pytest.mark.usefixtures("worker")
async def test_submit_link_fetches_the_article(deps, slack, fake_slack, agency, article_site):
    manager = agency.slack_ids["manager"]
    link = f"{article_site}/posts/consistency"
    await slack.command(manager, f"submit <{link}|consistency>")
    (got,) = await ephemerals(fake_slack, manager)
    assert got.params["text"].startswith("Got “Consistency”")  # the page's title, as for Telegram's links
    (post, *_) = await fake_slack.wait_for("chat.postMessage", review_posts(fake_slack), timeout=WAIT)
    asset = await asset_of_request(deps, await request_of(deps, post))
    assert (asset.source_url, asset.client_account_id) == (link, agency.team.client.id)
    async with deps.sessionmaker() as s:
        from core.content.models import ContentAnalysis

        transcript = await s.scalar(
            select(ContentAnalysis.transcript).where(ContentAnalysis.content_asset_id == asset.id)
        )
    assert transcript is not None and "track()" not in transcript and "Bangalore" in transcript
    await eventually(lambda: all_jobs_settled(deps, asset.id))


async def test_submit_explains_what_it_cannot_take(deps, slack, fake_slack, agency, article_site, worker):
    manager = agency.slack_ids["manager"]
    await slack.command(manager, "submit Just one short line.")
    await slack.command(manager, f"submit {article_site}/talk.mp4")
    await slack.command(manager, f"submit {article_site}/missing")
    # Refusals known before any work are the acknowledgement itself: no "working on it" first.
    no_workflow = await slack.command(manager, f"submit {TALK}", channel="C0NOWORKFLOW")
    stranger = await slack.command("U0STRANGER", f"submit {TALK}")
    assert "No approval workflow covers this channel" in no_workflow and "working on it" not in no_workflow
    assert "don't know your Slack account" in stranger and "working on it" not in stranger
    notes = await ephemerals(fake_slack, manager, count=3)
    texts = sorted(n.params["text"] for n in notes)
    assert any("a bit short to repurpose" in t for t in texts)
    assert any("could not be read" in t for t in texts)  # a "video" that isn't one: downloaded, then refused
    assert any("That link answered 404" in t for t in texts)
    await worker.drain()
    assert len([c for c in fake_slack.calls_to("chat.postEphemeral") if c.params.get("user") == manager]) == 3
    assert not [c for c in fake_slack.calls_to("chat.postEphemeral") if c.params.get("user") == "U0STRANGER"]
    async with deps.sessionmaker() as s:
        from_slack = (
            await s.scalars(
                select(ContentAsset.id).where(
                    ContentAsset.source_platform == "slack", ContentAsset.organization_id == agency.team.org.id
                )
            )
        ).all()
    assert from_slack == []


async def test_a_video_link_is_downloaded_as_telegrams_are(deps, slack, fake_slack, agency, article_site):
    """The same fetcher as Telegram's links: a video link becomes a video asset of the channel's client."""
    manager = agency.slack_ids["manager"]
    link = f"{article_site}/clip.mp4"
    asset_id = await deps.team_chat.submit_link(
        deps, team_id=TEAM, channel_id=CHANNEL, chat_user_id=manager, link=link, text=None
    )
    (got,) = await ephemerals(fake_slack, manager)
    assert asset_id is not None and got.params["text"].startswith("Got “clip”")
    async with deps.sessionmaker() as s:
        asset = await s.get_one(ContentAsset, asset_id)
    assert (asset.content_type, asset.source_url, asset.source_platform, asset.client_account_id) == (
        "video",
        link,
        "slack",
        agency.team.client.id,
    )
    assert ("pipeline.process_asset", {"asset_id": str(asset_id)}) in deps.enqueue.calls


# ---------------------------------------------------------------------------------------- file shares


def file_events(user: str, file_id: str) -> list[dict[str, Any]]:
    """What Slack sends for one upload: `file_shared` and a `message` carrying the file."""
    return [
        {
            "type": "file_shared",
            "file_id": file_id,
            "user_id": user,
            "file": {"id": file_id},
            "channel_id": CHANNEL,
            "event_ts": f"{time.time():.6f}",
        },
        {
            "type": "message",
            "subtype": "file_share",
            "user": user,
            "channel": CHANNEL,
            "text": "",
            "files": [{"id": file_id}],
            "ts": f"{time.time():.6f}",
        },
    ]


async def test_a_shared_file_is_downloaded_once_and_its_drafts_go_to_approval(deps, slack, fake_slack, agency, worker):
    manager = agency.slack_ids["manager"]
    file_id = f"F{uuid.uuid4().hex[:10].upper()}"
    fake_slack.add_file(file_id, "talk-notes.txt", "text/plain", TALK.encode())
    for event in file_events(manager, file_id):
        await slack.event(event)

    (got,) = await ephemerals(fake_slack, manager)
    assert got.params["text"].startswith("Got “talk-notes”") and got.params["channel"] == CHANNEL
    (post, *_) = await fake_slack.wait_for("chat.postMessage", review_posts(fake_slack), timeout=WAIT)
    request = await request_of(deps, post)
    asset = await asset_of_request(deps, request)
    assert (asset.source_platform, asset.client_account_id, asset.user_id) == (
        "slack",
        agency.team.client.id,
        agency.team.manager.id,
    )
    assert asset.metadata_["slack"]["file_id"] == file_id and asset.source_url.endswith("/talk-notes.txt")
    assert deps.store.local_path(asset.file_url).read_bytes() == TALK.encode()
    await approve_first_stage(deps, slack, fake_slack, agency, post)
    await eventually(lambda: all_jobs_settled(deps, asset.id))
    await worker.drain()

    # Both announcements were handled; the file was fetched with the bot token and became one asset.
    assert all(token == "xoxb-test-token" for _, token in fake_slack.downloads)
    async with deps.sessionmaker() as s:
        assets = (
            await s.scalars(select(ContentAsset.id).where(ContentAsset.metadata_["slack"]["file_id"].astext == file_id))
        ).all()
    assert assets == [asset.id]
    assert len([c for c in fake_slack.calls_to("chat.postEphemeral") if c.params.get("user") == manager]) == 1


@pytest.mark.usefixtures("worker")
async def test_unsupported_and_too_large_files_get_a_friendly_note_and_are_not_downloaded(
    deps, slack, fake_slack, agency
):
    manager = agency.slack_ids["manager"]
    sheet, keynote = f"F{uuid.uuid4().hex[:10].upper()}", f"F{uuid.uuid4().hex[:10].upper()}"
    fake_slack.add_file(sheet, "budget.xlsx", "application/vnd.ms-excel", b"PK\x03\x04")
    fake_slack.add_file(keynote, "keynote.mp4", "video/mp4", b"", size=3 * 1024**3)
    await slack.event(file_events(manager, sheet)[0])
    await slack.event(file_events(manager, keynote)[0])
    notes = await ephemerals(fake_slack, manager, count=2)
    texts = " | ".join(sorted(n.params["text"] for n in notes))
    assert "I can't turn “budget.xlsx” into drafts" in texts
    # The manager has no plan of their own: the trial plan's allowance (500 MB files) applies, never "no limit".
    assert "“keynote.mp4” is 3072 MB; I can take files up to 500 MB" in texts
    assert fake_slack.downloads == []


@pytest.mark.usefixtures("worker")
async def test_a_file_from_someone_recast_does_not_know_is_not_processed(deps, slack, fake_slack, agency):
    file_id = f"F{uuid.uuid4().hex[:10].upper()}"
    fake_slack.add_file(file_id, "talk.txt", "text/plain", TALK.encode())
    await slack.event(file_events("U0STRANGER", file_id)[0])
    (note,) = await ephemerals(fake_slack, "U0STRANGER")
    assert "don't know your Slack account" in note.params["text"]
    assert fake_slack.downloads == []


@pytest.mark.usefixtures("worker")
async def test_a_first_submit_by_a_member_matched_by_email_is_taken(deps, slack, fake_slack, agency):
    """The acknowledgement links the person by their Slack e-mail; the work after it finds that link."""
    newcomer = f"U{uuid.uuid4().hex[:10].upper()}"
    fake_slack.add_user(newcomer, agency.team.creator.email, "Asha Rao")
    assert await slack.command(newcomer, f"submit {TALK}") == "Got it — working on it…"
    (got,) = await ephemerals(fake_slack, newcomer)
    assert got.params["text"].startswith("Got “Most creators in India")
    (post, *_) = await fake_slack.wait_for("chat.postMessage", review_posts(fake_slack), timeout=WAIT)
    asset = await asset_of_request(deps, await request_of(deps, post))
    assert asset.user_id == agency.team.creator.id
    await eventually(lambda: all_jobs_settled(deps, asset.id))
