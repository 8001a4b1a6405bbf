"""The bot after its Redis restarts: the creator's next message is answered, not silently dropped (the
conversation state lives in Redis, and the first command on a pooled connection the server closed used to
raise "Connection closed by server")."""

from __future__ import annotations

import tempfile
from pathlib import Path

from test_bot_flow import USER, running_bot

from core.infra.embedded import EmbeddedRedis, _free_port
from core.seed.service import apply_seed
from recast.runtime import connect_redis


async def test_the_next_message_after_a_redis_restart_is_answered(live_deps, run_id):
    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="recast-redis-restart-")), port=_free_port())
    url = server.start()
    live_deps.redis = connect_redis(url)
    try:
        async with live_deps.sessionmaker() as session:
            await apply_seed(session=session)
            await session.commit()
        async with running_bot(live_deps, url, run_id) as tg:
            tg.user_sends_command(USER + 77, "help", first_name="Ravi")
            first = await tg.wait_for_message(USER + 77, contains="", timeout=15)
            assert server._process is not None
            server._process.kill()  # a crash, as in the fault-injection run
            server._process.wait()
            server._process = None
            server.start()
            tg.user_sends_command(USER + 77, "help", first_name="Ravi")
            again = await tg.wait_for_message(USER + 77, contains="", timeout=15, since_message_id=first.message_id)
            assert again.content == first.content
    finally:
        await live_deps.redis.aclose()
        server.stop()
