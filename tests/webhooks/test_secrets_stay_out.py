"""No configured secret and no OAuth token reaches a log line, an audit row, a stored error or a work payload.

Every secret setting gets a recognizable random value; then real flows run over HTTP against the real web
app, database and a local LinkedIn: gateway webhooks with a forged and a good signature, an OAuth connect
through the browser's redirect, and a publish LinkedIn rejects. Everything logged (DEBUG, aiohttp and
SQLAlchemy included), every audit row, every work unit's payload and error and every enqueued task's
arguments are then searched for each secret and each token the fake LinkedIn issued.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
import webhook_signing as signing
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlalchemy import select

from core.common import redaction
from core.config import Settings
from core.deps import CoreDeps
from core.distribution import connect, publishing
from core.distribution.connections import Owner
from core.distribution.models import PlatformConnection, PostStatus, PublishAttempt, ScheduledPost
from core.distribution.platforms.names import Platform
from core.repurposing.models import GeneratedContent
from core.system.models import AuditLog
from core.work import submit as work
from core.work.models import WorkUnit
from tests.distribution_fixtures import Creator, now, wait_for_status
from tests.fakes.linkedin_api import FakeLinkedIn, Fault
from tests.workers import running_worker
from webhooks.app import make_web_app


def secret_values() -> dict[str, Any]:
    """Every `SecretStr` setting with a value of its own, plus passwords in the infrastructure URLs."""
    values: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        if "SecretStr" in str(field.annotation):
            values[name] = SecretStr(f"S3cr3t-{name.replace('_', '-')}-{uuid.uuid4().hex}")
    old = [f"0ld-key-{uuid.uuid4().hex}", f"0lder-key-{uuid.uuid4().hex}"]
    values["recast_secret_keys_old"] = SecretStr(",".join(old))
    values["redis_url"] = f"redis://:r3dis-pw-{uuid.uuid4().hex}@127.0.0.1:1/0"
    values["qdrant_url"] = f"http://qd:qdr-pw-{uuid.uuid4().hex}@127.0.0.1:1"
    return values


def plain(values: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for value in values.values():
        if isinstance(value, SecretStr):
            found += [v for v in value.get_secret_value().split(",") if v]
        elif isinstance(value, str) and "@" in value:
            found.append(value.split("//", 1)[1].split("@", 1)[0].split(":", 1)[1])
    return found


@pytest.fixture
def redacting_logs() -> Iterator[None]:
    """Log redaction as `recast` installs it, undone afterwards (the record factory is process-wide)."""
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


def leaks(texts: list[str], secrets: list[str]) -> list[tuple[str, str]]:
    return [(s, t[max(0, t.find(s) - 80) : t.find(s) + 80]) for t in texts for s in secrets if s in t]


async def test_no_secret_or_token_is_logged_audited_or_queued(
    publish_deps: CoreDeps,
    linkedin: FakeLinkedIn,
    creator: Creator,
    run_id: str,
    caplog: pytest.LogCaptureFixture,
    redacting_logs: None,
) -> None:
    recorded = publish_deps.enqueue
    values = secret_values()
    secrets = plain(values)
    assert len(secrets) >= 25  # every secret setting took part
    linkedin.client_secret = values["linkedin_client_secret"].get_secret_value()
    settings = publish_deps.settings.model_copy(update=values)
    publish_deps.settings = settings
    redaction.install_log_redaction(settings)  # what `recast` does after logging.basicConfig
    for name in ("", "aiohttp", "sqlalchemy.engine", "core", "webhooks", "tasks"):
        caplog.set_level(logging.DEBUG, logger=name or None)

    server = TestServer(make_web_app(publish_deps), host="127.0.0.1")
    await server.start_server()
    try:
        publish_deps.settings = settings = settings.model_copy(update={"public_base_url": str(server.make_url(""))})
        # Gateway deliveries: one forged (refused and logged), one genuine (stored with its unit).
        async with aiohttp.ClientSession() as http:
            raw = signing.body({"entity": "event", "event": "payment.captured", "payload": {}, "created_at": 1})
            forged = signing.razorpay(raw, secret="not-the-secret", event_id=f"evt_{uuid.uuid4().hex[:12]}")
            good_secret = values["razorpay_webhook_secret"].get_secret_value()
            good = signing.razorpay(raw, secret=good_secret, event_id=f"evt_{uuid.uuid4().hex[:12]}")
            async with http.post(server.make_url("/webhooks/razorpay"), data=raw, headers=forged) as r:
                assert r.status == 400
            async with http.post(server.make_url("/webhooks/razorpay"), data=raw, headers=good) as r:
                assert r.status in (200, 202)
            # The OAuth connect, as the browser goes through it: Recast's link, LinkedIn's redirect back.
            link = await connect.sign_in_link(
                publish_deps.redis, settings, Platform.LINKEDIN, Owner(creator.user_id), creator.chat
            )
            async with http.get(link) as page:
                assert page.status == 200 and "LinkedIn connected" in await page.text()
        assert linkedin.tokens and linkedin.refresh_tokens
        # A publish that fails: LinkedIn rejects the post, the worker records why.
        linkedin.faults.append(Fault(status=422))
        async with publish_deps.sessionmaker() as session:
            connection = await session.scalar(
                select(PlatformConnection).where(PlatformConnection.user_id == creator.user_id)
            )
            draft = await session.get(GeneratedContent, creator.draft_id)
            assert connection is not None and draft is not None
            post, unit = await publishing.schedule(
                session, draft=draft, connection=connection, when=now() + timedelta(seconds=0), timezone="UTC"
            )
            await session.commit()
        async with running_worker(publish_deps, f"secrets-{run_id}-{uuid.uuid4().hex[:6]}"):
            if unit is not None:
                await work.push(publish_deps.work_queue, publish_deps.sessionmaker, [unit])
            await wait_for_status(publish_deps, post.id, PostStatus.FAILED)
    finally:
        await server.close()

    tokens = [*linkedin.tokens, *linkedin.refresh_tokens]
    texts = [caplog.text]
    for record in caplog.records:
        texts += [record.getMessage(), repr(record.args), record.exc_text or ""]
    assert len(caplog.records) > 50  # DEBUG from the app, aiohttp and SQLAlchemy was captured
    async with publish_deps.sessionmaker() as session:
        for entry in (await session.scalars(select(AuditLog))).all():
            texts.append(json.dumps([entry.metadata_, entry.user_agent, entry.action], default=str))
        for unit_row in (await session.scalars(select(WorkUnit))).all():
            texts.append(json.dumps([unit_row.payload, unit_row.last_error, unit_row.dedupe_key], default=str))
        for attempt in (await session.scalars(select(PublishAttempt))).all():
            texts.append(str(attempt.error))
        texts.append(str((await session.get_one(ScheduledPost, post.id)).error_message))
        connected = await session.scalar(select(AuditLog).where(AuditLog.user_id == creator.user_id))
        assert connected is not None and connected.action == "platform.connected"
    texts.append(repr(getattr(recorded, "calls", None)))  # tasks enqueued before the worker took over
    assert leaks(texts, secrets + tokens) == []
