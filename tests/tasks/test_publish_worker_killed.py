"""A worker SIGKILLed while LinkedIn holds its post request (the post already created, the answer not yet
sent): another worker process takes the unit when the lease expires, finds the post on the account, and
publishes nothing twice; the creator hears about it once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from datetime import timedelta

from fakes.linkedin_api import FakeLinkedIn, Fault
from fakes.telegram_api import FakeTelegram
from sqlalchemy import select

from core.accounts import service as accounts
from core.common.clock import utcnow
from core.config import Settings
from core.db.session import make_engine, make_sessionmaker, session_scope
from core.distribution import connections, publishing
from core.distribution.connections import Owner
from core.distribution.models import AttemptOutcome, PostStatus, ScheduledPost
from core.distribution.ports import Account, TokenSet
from core.repurposing.models import GeneratedContent
from core.work.queue import RedisWorkQueue
from core.work.submit import push
from tasks.registry import load_all
from tests.tasks.test_worker_crash import _start_worker

CHAT = 8800101


async def test_a_worker_killed_mid_publish_never_causes_a_second_post(
    database_url, redis_url, run_id, tmp_path, redis_client
):
    queue = f"recast-pubkill-{run_id}"
    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    settings = Settings(_env_file=None)
    load_all()
    async with FakeLinkedIn() as linkedin, FakeTelegram(strict_chats=False) as tg:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "RECAST_DATA_DIR": str(tmp_path / "data"),
            "TASK_QUEUE": queue,
            "WORK_LEASE_S": "3",
            "WORK_SWEEP_INTERVAL_S": "1",
            "WORK_SHUTDOWN_GRACE_S": "0.5",
            "TELEGRAM_BOT_TOKEN": tg.token,
            "TELEGRAM_API_SERVER": tg.base_url,
            "LINKEDIN_CLIENT_ID": linkedin.client_id,
            "LINKEDIN_CLIENT_SECRET": linkedin.client_secret,
            "LINKEDIN_API_BASE": linkedin.base_url,
            "LINKEDIN_OAUTH_BASE": f"{linkedin.base_url}/oauth/v2",
            "PLATFORM_TIMEOUT_S": "60",  # the first worker waits on LinkedIn until it is killed
            "LOG_LEVEL": "WARNING",
        }
        env.pop("OPENAI_API_KEY", None)
        token = linkedin.issue_token()
        async with session_scope(sessionmaker) as session:
            reg = await accounts.register_chat_user(
                session=session, provider="telegram", external_user_id=str(CHAT), chat_id=str(CHAT), full_name="Ravi"
            )
            connection = await connections.save_connection(
                session,
                settings,
                platform="linkedin",
                owner=Owner(reg.user.id),
                account=Account(linkedin.member_id, "Ravi K"),
                tokens=TokenSet(token, None, utcnow() + timedelta(days=30), ["w_member_social"]),
            )
            draft = GeneratedContent(
                user_id=reg.user.id,
                content_type="social_post",
                content_text=f"Show up every week. ({run_id})",
                metadata_={"output_format": "linkedin_post"},
            )
            session.add(draft)
            await session.flush()
            post, unit = await publishing.schedule(
                session, draft=draft, connection=connection, when=utcnow(), timezone="Asia/Kolkata"
            )
        assert unit is not None
        linkedin.faults.append(Fault(after_create=True, hang_s=10.0))
        first = _start_worker(env, tmp_path / "worker1.log")
        second = None
        try:
            await push(RedisWorkQueue(redis_client, queue), sessionmaker, [unit])
            deadline = time.monotonic() + 60
            while not linkedin.posts and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert linkedin.posts, (tmp_path / "worker1.log").read_text()[-3000:]
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=20)

            second = _start_worker(env, tmp_path / "worker2.log")
            deadline = time.monotonic() + 90
            status = None
            while time.monotonic() < deadline:
                async with sessionmaker() as session:
                    status = await session.scalar(select(ScheduledPost.status).where(ScheduledPost.id == post.id))
                if status == PostStatus.PUBLISHED:
                    break
                await asyncio.sleep(0.2)
            assert status == PostStatus.PUBLISHED, (tmp_path / "worker2.log").read_text()[-3000:]
            await tg.wait_for_message(CHAT, contains="Published on LinkedIn", timeout=20)
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        os.killpg(proc.pid, signal.SIGKILL)
            await redis_client.delete(queue)
        async with sessionmaker() as session:
            attempts = await publishing.attempts_of(session, post.id)
        published = [m for m in tg.messages_to(CHAT) if "Published on LinkedIn" in m.content]
    await engine.dispose()
    assert len(linkedin.posts) == 1 and linkedin.requests.count(("POST", "/rest/posts")) == 1
    assert [a.outcome for a in attempts] == [AttemptOutcome.SENT, AttemptOutcome.PUBLISHED]
    assert attempts[1].platform_post_id == linkedin.posts[0]["id"]
    assert len(published) == 1
