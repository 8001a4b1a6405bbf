"""The fake Slack Web API's file upload speaks the external upload flow the way slack_sdk's `files_upload_v2`
uses it: a URL and file id, the bytes POSTed there, the completion sharing them in a channel."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from .slack_api import FakeSlack


async def test_files_upload_v2_shares_the_bytes_in_the_channel_with_its_comment() -> None:
    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
        data = bytes(range(256)) * 40
        answer = await client.files_upload_v2(
            channel="C0ACME",
            content=data,
            filename="week.png",
            title="This week",
            initial_comment="Figures",
            thread_ts="1700000000.000001",
        )
        (shared,) = fake.shared
        assert answer["file"]["id"] == shared.file_id and shared.file_id.startswith("F")
        assert (shared.data, shared.filename, shared.title) == (data, "week.png", "This week")
        assert (shared.channel_id, shared.initial_comment, shared.thread_ts) == (
            "C0ACME",
            "Figures",
            "1700000000.000001",
        )
        (asked,) = fake.calls_to("files.getUploadURLExternal")
        assert asked.params["length"] == str(len(data)) and asked.params["filename"] == "week.png"


async def test_uploads_as_a_form_or_json_and_refusals_as_slack_gives_them() -> None:
    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
        with pytest.raises(SlackApiError) as missing:
            await client.files_getUploadURLExternal(filename="week.png", length=0)
        assert missing.value.response["error"] == "invalid_arguments"

        # The bytes may come as a multipart form's `file` field too; Slack answers "OK - <length>".
        url = await client.files_getUploadURLExternal(filename="week.png", length=5)
        form = aiohttp.FormData()
        form.add_field("file", b"12345", filename="week.png")
        async with aiohttp.ClientSession() as http, http.post(url["upload_url"], data=form) as resp:
            assert resp.status == 200 and await resp.text() == "OK - 5"
        done = await client.api_call(
            "files.completeUploadExternal", json={"files": [{"id": url["file_id"], "title": "w"}], "channel_id": "C1"}
        )
        assert done["files"][0]["id"] == url["file_id"] and fake.shared[-1].data == b"12345"

        # Completing a file that was never uploaded.
        with pytest.raises(SlackApiError) as unknown:
            await client.files_completeUploadExternal(files=[{"id": "F404", "title": "w"}], channel_id="C1")
        assert unknown.value.response["error"] == "file_not_found"
        assert len(fake.shared) == 1
