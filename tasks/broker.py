"""The taskiq broker, built from a URL by the entry point (never at import time).

Why `RedisStreamBroker`: acknowledged delivery, so a worker killed mid-task leaves its message to be
re-claimed by another worker after `idle_timeout_ms` (which must exceed the longest task). Every
task is idempotent, so a redelivered message never duplicates an effect.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from redis.asyncio import Redis
from taskiq import AckableMessage, AsyncBroker, InMemoryBroker
from taskiq_redis import RedisStreamBroker

from core.deps import CoreDeps


class RecastStreamBroker(RedisStreamBroker):
    """`RedisStreamBroker` whose workers re-claim a dead worker's messages even when the queue is idle.

    Why: taskiq-redis 1.2 runs XAUTOCLAIM only right after XREADGROUP returned new messages, so a message
    left unacknowledged by a killed worker waits until some unrelated task arrives. Here every poll first
    claims messages idle for longer than `idle_timeout` (XAUTOCLAIM is atomic: one claimer wins each)."""

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        async with Redis(connection_pool=self.connection_pool) as redis:
            while True:
                for stream in [self.queue_name, *self.additional_streams.keys()]:
                    claimed: Any = await redis.xautoclaim(
                        name=stream,
                        groupname=self.consumer_group_name,
                        consumername=self.consumer_name,
                        min_idle_time=self.idle_timeout,
                        count=self.unacknowledged_batch_size,
                    )
                    for msg_id, msg in claimed[1]:
                        if msg is None:  # trimmed from the stream meanwhile
                            continue
                        yield AckableMessage(data=msg[b"data"], ack=self._ack_generator(id=msg_id, queue_name=stream))
                streams: Any = {self.queue_name: ">", **self.additional_streams}
                fetched: Any = await redis.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    streams,
                    block=self.block,
                    noack=False,
                    count=self.count,
                )
                for stream, messages in fetched or []:
                    for msg_id, msg in messages:
                        yield AckableMessage(data=msg[b"data"], ack=self._ack_generator(id=msg_id, queue_name=stream))


def make_broker(
    redis_url: str | None, *, queue_name: str = "recast", idle_timeout_ms: int = 30 * 60 * 1000
) -> AsyncBroker:
    """A Redis Streams broker, or an in-process one when `redis_url` is None (single-process demo)."""
    if redis_url is None:
        return InMemoryBroker(await_inplace=False)
    return RecastStreamBroker(
        url=redis_url,
        queue_name=queue_name,
        consumer_group_name=f"{queue_name}-workers",
        idle_timeout=idle_timeout_ms,
        maxlen=100_000,
    )


def bind(broker: AsyncBroker, deps: CoreDeps) -> AsyncBroker:
    """Register every task and hand them `deps` through taskiq's dependency context."""
    from tasks import registry

    registry.load_all()
    for name, func in registry.TASKS.items():
        broker.register_task(func, task_name=name)
    broker.add_dependency_context({CoreDeps: deps})
    return broker


def make_enqueue(broker: AsyncBroker) -> Any:
    async def enqueue(task_name: str, /, **kwargs: Any) -> None:
        task = broker.find_task(task_name)
        if task is None:
            raise LookupError(f"unknown task {task_name!r}")
        await task.kiq(**kwargs)

    return enqueue
