"""The ports and infrastructure a core workflow needs, passed explicitly (never imported globals).

Entry points (`recast.runtime`) build one `CoreDeps`; bots get it through middleware, tasks through
the worker (`tasks.worker`), tests build their own with real servers and local fakes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.ai.providers import AIProviders
from core.analytics.ports import SearchConsole
from core.billing.gateways import GatewayClient
from core.config import Settings
from core.notify.ports import Notifier
from core.storage.files import FileStore
from core.system.metrics import Metrics
from core.vectors.brand_voice import BrandVoiceIndex
from core.work.queue import WorkQueue
from core.workflow.ports import TeamChat

# enqueue("pipeline.process_asset", asset_id="...") — how core asks for background work.
Enqueue = Callable[..., Awaitable[None]]


@dataclass
class Providers:
    """Ports to outside services other than AI, one typed field per kind (platform clients join here)."""

    # The payment gateway clients whose credentials are configured, keyed by gateway name
    # (`core.billing.gateway_clients.build_gateways`).
    gateways: dict[str, GatewayClient] = field(default_factory=dict)
    # A search console for blog traffic and rankings (`core.analytics.seo`); None = none connected.
    search_console: SearchConsole | None = None


@dataclass
class CoreDeps:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    store: FileStore
    notifier: Notifier
    enqueue: Enqueue
    # AI ports (transcriber, analyser, writer, embedder) and the brand-voice vector index.
    ai: AIProviders | None = None
    brand_index: BrandVoiceIndex | None = None
    # Wakes workers for stored work units (None: the sweeper or an inline run picks them up).
    work_queue: WorkQueue | None = None
    # Prometheus metrics of this process (None: not collected).
    metrics: Metrics | None = None
    # The team chat (Slack) the `slack.*` tasks post through (None: no team chat in this process).
    team_chat: TeamChat | None = None
    # Other providers behind ports (payment gateways, platforms next).
    providers: Providers = field(default_factory=Providers)

    def require_ai(self) -> AIProviders:
        if self.ai is None:
            raise RuntimeError("CoreDeps.ai is not configured")
        return self.ai
