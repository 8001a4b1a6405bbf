"""Implementations of the `recast` sub-commands (kept out of cli.py so argument parsing stays tiny).

Why one file of ~470 lines: this is the composition root, where every process role (web, bot, worker,
scheduler, demo, the operator commands) is wired from `Settings`; each command imports what it needs
inside the function, so a command only pays for the parts it starts."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from core.config import Settings, owner_database_url
from core.db import migrate
from core.deps import CoreDeps, Enqueue, Providers
from core.infra.embedded import infrastructure
from core.notify.ports import ChatRef, Notifier, OutgoingMessage, RecordingNotifier
from recast.runtime import Infra, open_infra

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from tasks.worker import WorkerConfig


def print_info(settings: Settings) -> None:
    """Print the effective configuration: secrets only as "(set)", passwords inside URLs masked."""
    for name, value in settings.model_dump().items():
        shown = "(set)" if value is not None and "Secret" in type(value).__name__ else value
        if isinstance(shown, str) and name.endswith("_url"):
            shown = mask_url_password(shown)
        print(f"{name.upper():28} {shown if shown is not None else '(unset)'}")
    from core.billing.gateway_clients import billing_warning

    if warning := billing_warning(settings):
        print(f"\nWARNING: {warning}")


def mask_url_password(url: str) -> str:
    """`postgresql://user:secret@host/db` → `postgresql://user:***@host/db` (for anything printed or logged)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def db(settings: Settings, action: str, revision: str | None, seed: bool) -> int:
    with infrastructure(
        data_dir=settings.recast_data_dir, database_url=owner_database_url(settings), redis_url="unused://"
    ) as (database_url, _):
        if action == "upgrade":
            migrate.upgrade(database_url, revision or "head")
            if seed:
                asyncio.run(_seed(database_url))
        elif action == "downgrade":
            migrate.downgrade(database_url, revision or "base")
        elif action == "seed":
            asyncio.run(_seed(database_url))
    return 0


def login_role(settings: Settings, name: str, *, password_env: str) -> int:
    """`recast db login-role NAME`: the role DATABASE_URL should name in production (see core.db.tenancy)."""
    import os

    from core.db.tenancy import LoginRoleError, ensure_login_role

    password = os.environ.get(password_env) or None
    with infrastructure(
        data_dir=settings.recast_data_dir, database_url=owner_database_url(settings), redis_url="unused://"
    ) as (database_url, _):
        try:
            asyncio.run(ensure_login_role(database_url, name, password=password))
        except LoginRoleError as exc:
            print(f"recast db login-role: {exc}", file=sys.stderr)
            return 2
    print(f"Role {name} can log in, bound by the tenant policies (a member of recast_app and recast_maintenance).")
    unset = "" if password else " (no password set)"
    print(f"Point DATABASE_URL at it and DATABASE_OWNER_URL at the tables' owner{unset}.")
    return 0


async def jobs(settings: Settings, action: str, unit_id: str | None, *, show_all: bool = False) -> int:
    """`recast jobs`: what an operator should look at (dead, failed, retrying, running past its lease),
    with the last error; `recast jobs redrive <id>` queues one again with a fresh attempt budget."""
    import uuid as uuid_

    from core.db.session import make_engine, make_sessionmaker, session_scope
    from core.work import admin

    with infrastructure(
        data_dir=settings.recast_data_dir, database_url=owner_database_url(settings), redis_url="unused://"
    ) as (database_url, _):
        engine = make_engine(database_url, pool_size=1)
        try:
            async with session_scope(make_sessionmaker(engine)) as session:
                if action == "redrive":
                    if not unit_id:
                        print("recast jobs redrive: give the unit id (from `recast jobs`).", file=sys.stderr)
                        return 2
                    try:
                        target = uuid_.UUID(unit_id)
                    except ValueError:
                        print(f"recast jobs redrive: {unit_id!r} is not a unit id.", file=sys.stderr)
                        return 2
                    if not await admin.redrive(session, target):
                        print(f"No dead, failed or waiting unit {unit_id}.", file=sys.stderr)
                        return 1
                    print(f"Queued {unit_id} again; a worker's sweeper picks it up within seconds.")
                    return 0
                rows = await (admin.units(session) if show_all else admin.stuck_or_failed(session))
                counts = await admin.counts_by_state(session)
        finally:
            await engine.dispose()
    totals: dict[str, int] = {}
    for (_, state), n in counts.items():
        totals[state] = totals.get(state, 0) + n
    print("units:", ", ".join(f"{k}={v}" for k, v in sorted(totals.items())) or "none")
    if not rows:
        print("Nothing stuck, retrying or dead-lettered.")
    for u in rows:
        error = (u.last_error or "").strip().splitlines()
        print(
            f"{u.id}  {u.kind:32} {u.state.value:9} attempts {u.attempts}/{u.max_attempts}  "
            f"updated {u.updated_at:%Y-%m-%d %H:%M:%S}  {error[-1][:120] if error else ''}"
        )
    return 0


async def _seed(database_url: str) -> None:
    from core.db.session import make_engine, make_sessionmaker, session_scope
    from core.seed.service import apply_seed

    engine = make_engine(database_url, pool_size=1)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            counts = await apply_seed(session=session)
        print("seed applied:", ", ".join(f"{k}={v}" for k, v in counts.items()))
    finally:
        await engine.dispose()


async def rotate_keys(settings: Settings) -> int:
    """`recast rotate-keys`: re-encrypt every stored token under the current key and say what is left."""
    import core.db.registry  # noqa: F401 - the whole mapper graph: the audit row refers to users
    from core.db.session import make_engine, make_sessionmaker
    from core.system.key_rotation import rotate_stored_secrets

    with infrastructure(
        data_dir=settings.recast_data_dir, database_url=owner_database_url(settings), redis_url="unused://"
    ) as (database_url, _):
        engine = make_engine(database_url, pool_size=1)
        try:
            report = await rotate_stored_secrets(make_sessionmaker(engine), settings)
        finally:
            await engine.dispose()
    for table, examined in sorted(report.examined.items()):
        print(
            f"{table}: {examined} examined, {report.reencrypted.get(table, 0)} re-encrypted, "
            f"{report.unreadable.get(table, 0)} unreadable with any configured key"
        )
    if not report.examined:
        print("no stored tokens")
    if any(report.unreadable.values()):
        print("Unreadable tokens stay as they are: their owners reconnect (or add the key that made them).")
        return 1
    print("Every readable token is under RECAST_SECRET_KEY; the old keys can be removed once no run reports any.")
    return 0


async def org_invite(settings: Settings, org: str, *, role: str) -> int:
    """`recast org invite <org>`: print a single-use invite (and its install link in OAuth mode)."""
    from core.common.errors import RecastError
    from core.db.session import make_engine, make_sessionmaker, session_scope
    from core.integrations import slack_links, slack_onboarding

    with infrastructure(
        data_dir=settings.recast_data_dir, database_url=owner_database_url(settings), redis_url="unused://"
    ) as (database_url, _):
        engine = make_engine(database_url, pool_size=1)
        try:
            async with session_scope(make_sessionmaker(engine)) as session:
                found = await slack_links.organization_for(session=session, ref=org)
                code = await slack_onboarding.create_invite(
                    session=session,
                    secret=settings.recast_secret_key.get_secret_value(),
                    organization_id=found.id,
                    by_user_id=None,
                    role=role,
                )
        except RecastError as exc:
            print(f"recast org invite: {exc.user_message}", file=sys.stderr)
            return 1
        finally:
            await engine.dispose()
    print(f"Invite into {found.name} (good once, for 7 days; joins as {role}): {code}")
    print(f"In Slack, where Recast is installed: /recast link {code}")
    if settings.slack_client_id:
        base = settings.public_base_url.rstrip("/")
        print(f"To install Recast in a workspace with it: {base}/slack/install?invite={code}")
    return 0


DEMO_TALK = [
    "Most creators in India post once and then disappear for a month, and that is the biggest mistake.",
    "Consistency beats talent when you are building a personal brand on LinkedIn.",
    "Here is what worked for me after three years and two hundred posts.",
    "First, write for one person, not for everyone.",
    "When I started writing for early stage founders in Bangalore, my engagement doubled in six weeks.",
    "Second, turn every long video into ten small posts.",
    "One podcast episode gives you a thread, a carousel, three short clips and a newsletter.",
    "Third, reply to every comment in the first hour, because the algorithm rewards conversations.",
    "Why do most people quit? They measure followers instead of conversations.",
    "The secret is simple: show up every week, share what you learned, and be generous with your knowledge.",
]


def build_deps(infra: Infra, *, notifier: Notifier, enqueue: Enqueue) -> CoreDeps:
    from bots.slack.team_chat import SlackTeamChat
    from core.ai.providers import build_ai_providers
    from core.billing.gateway_clients import build_gateways
    from core.system.metrics import Metrics
    from core.vectors.brand_voice import BrandVoiceIndex

    ai = build_ai_providers(infra.settings)
    deps = CoreDeps(
        metrics=Metrics(),
        providers=Providers(gateways=build_gateways(infra.settings)),
        settings=infra.settings,
        sessionmaker=infra.sessionmaker,
        redis=infra.redis,
        store=infra.store,
        notifier=notifier,
        enqueue=enqueue,
        ai=ai,
        brand_index=BrandVoiceIndex(infra.qdrant, ai.embedder),
        team_chat=SlackTeamChat(),
    )
    return with_slack_notices(deps)


def with_slack_notices(deps: CoreDeps) -> CoreDeps:
    """Outbox messages addressed to Slack channels and threads go through the Slack adapter's notifier."""
    from bots.slack.notifier import SlackNotifier
    from core.notify.routing import RoutedNotifier

    deps.notifier = RoutedNotifier(deps.notifier, {"slack": SlackNotifier(deps)})
    return deps


def _notifier(settings: Settings) -> Notifier:
    if settings.telegram_bot_token is None:
        return LogNotifier()
    from bots.telegram.app import make_bot
    from bots.telegram.notifier import TelegramNotifier

    return TelegramNotifier(
        make_bot(settings.telegram_bot_token.get_secret_value(), api_server=settings.telegram_api_server)
    )


async def close_notifier(notifier: Notifier) -> None:
    """Release what a notifier holds (the Telegram bot's HTTP session), at shutdown."""
    close = getattr(notifier, "close", None)
    if close is not None:
        await close()


class LogNotifier(RecordingNotifier):
    """Without a chat token, replies are logged (and kept) instead of sent."""

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        log.info("to %s: %s", chat, message.text[:200])
        return await super().send(chat, message)


# Long on purpose: the demo is a script, one step after another, as a reader would follow it.
async def demo(settings: Settings, *, input_path: str | None = None) -> int:  # noqa: PLR0915
    """The whole pipeline offline: embedded servers, a sample talk, real transcription, drafts printed
    as the bot would send them."""
    from sqlalchemy import select

    from core.accounts import service as accounts
    from core.content import service as content
    from core.content.models import ContentAsset
    from core.db.session import session_scope
    from core.media.samples import make_talk_video
    from core.storage.factory import describe
    from tasks.worker import Worker, WorkerConfig, attach, make_queue

    async with open_infra(settings) as infra:  # migrates and loads the seed data
        counts = infra.seeded
        print("Recast demo — embedded stack")
        print(f"  PostgreSQL : {mask_url_password(infra.database_url)}")
        print(f"  Redis      : {mask_url_password(infra.redis_url)}")
        print(f"  Qdrant     : {settings.qdrant_url or settings.recast_data_dir / 'qdrant'}")
        print(f"  Media      : {describe(infra.store)}")
        print(f"  Embedded   : {', '.join(infra.embedded) or 'nothing (all configured)'}")
        print(f"  Seed data  : {counts}")

        notifier = RecordingNotifier()
        deps = build_deps(infra, notifier=notifier, enqueue=_unwired)
        # One process, the same durable work as production: units in PostgreSQL, ids on a Redis list.
        queue = make_queue(deps, f"{settings.task_queue}:demo")
        attach(deps, queue)
        worker = Worker(deps, queue, WorkerConfig(concurrency=2, lease_s=settings.work_lease_s))
        running = asyncio.create_task(worker.run())
        ai = "OpenAI" if deps.ai and deps.ai.online else "local models (offline)"
        print(f"  AI         : {ai}")

        if input_path:
            source = Path(input_path)
        else:
            source = settings.recast_data_dir / "samples" / "demo-talk.mp4"
            if not source.exists():
                print("\nGenerating a sample talk (speech + test pattern)…")
                source.parent.mkdir(parents=True, exist_ok=True)
                await asyncio.to_thread(make_talk_video, source, DEMO_TALK)
        started = time.perf_counter()
        async with session_scope(infra.sessionmaker) as session:
            reg = await accounts.register_chat_user(
                session=session,
                provider="telegram",
                external_user_id="demo",
                chat_id="demo",
                full_name="Demo Creator",
                username="demo",
            )
            asset = await content.ingest_file(
                session=session,
                store=infra.store,
                user_id=reg.user.id,
                organization_id=reg.organization.id,
                path=source,
                filename=source.name,
                mime_type=None,
                source_platform="demo",
            )
            asset.metadata_ = {**(asset.metadata_ or {}), "chat": {"provider": "telegram", "chat_id": "demo"}}
        print(
            f"\nIngested {source.name}: {asset.content_type}, {asset.duration or '?'} s, "
            f"{(asset.file_size or 0) / 1024:.0f} KB"
        )
        await deps.enqueue("pipeline.process_asset", asset_id=str(asset.id))
        status = None
        for _ in range(1800):
            await asyncio.sleep(0.2)
            async with infra.sessionmaker() as session:
                status = await session.scalar(select(ContentAsset.upload_status).where(ContentAsset.id == asset.id))
            if status in ("completed", "failed"):
                break
        worker.stop()
        await running
        elapsed = time.perf_counter() - started
        print(f"Pipeline {status} in {elapsed:.1f} s\n")
        for _chat, message in notifier.sent:
            print("─" * 72)
            print(message.text)
            if message.document:
                print(f"[attached: {message.filename}]")
            if message.video:
                print(f"[video: {message.video}]")
            labels = " · ".join(b.label for row in message.buttons for b in row)
            if labels:
                print(f"[ {labels} ]")
        print("─" * 72)
        return 0 if status == "completed" else 1


async def _unwired(task_name: str, /, **kwargs: object) -> None:
    raise RuntimeError("deps.enqueue is wired by tasks.worker.attach")


async def worker(settings: Settings, *, concurrency: int) -> int:
    """A worker in this process until SIGTERM/SIGINT: then it drains within the grace period and releases
    what it could not finish (see `tasks.worker`)."""
    from tasks.worker import Worker, attach, make_queue

    async with open_infra(settings, migrate_db=False) as infra:
        notifier = _notifier(settings)
        deps = build_deps(infra, notifier=notifier, enqueue=_unwired)
        queue = make_queue(deps, settings.task_queue)
        attach(deps, queue)
        running = Worker(deps, queue, worker_config(settings, concurrency=concurrency))
        metrics_site = await _serve_worker_metrics(deps, settings.worker_metrics_port)
        task = asyncio.create_task(running.run())
        stop = asyncio.create_task(_until_signalled())
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        running.stop()
        await task
        stop.cancel()
        if metrics_site is not None:
            await metrics_site.cleanup()
        await close_notifier(notifier)
    return 0


async def _serve_worker_metrics(deps: CoreDeps, port: int | None) -> Any:
    """A worker's own /metrics and /readyz (its task durations and retries live in this process)."""
    if port is None:
        return None
    from aiohttp import web

    from webhooks.app import DEPS_KEY, healthz, metrics

    app = web.Application()
    app[DEPS_KEY] = deps
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/readyz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, deps.settings.web_host, port).start()
    return runner


def worker_config(settings: Settings, *, concurrency: int) -> WorkerConfig:
    from tasks.worker import WorkerConfig

    return WorkerConfig(
        concurrency=concurrency,
        lease_s=settings.work_lease_s,
        grace_s=settings.work_shutdown_grace_s,
        sweep_every_s=settings.work_sweep_interval_s,
    )


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


# The composition root of the long-running processes: it wires web, bot, worker and scheduler in start-up
# order, each branch one process role; split, the order would be spread over many functions.
async def serve(settings: Settings, what: str) -> int:  # noqa: PLR0912, PLR0915
    """`web`, `bot`, `scheduler`, or `run` (web + bot + worker in one process)."""
    from aiohttp import web

    from core.billing.gateway_clients import billing_warning
    from tasks.worker import Worker, attach, make_queue

    if what in ("run", "web", "bot") and (warning := billing_warning(settings)):
        log.warning(warning)
        print(f"WARNING: {warning}")
    async with open_infra(settings, migrate_db=what in ("run", "web", "bot")) as infra:
        notifier = _notifier(settings)
        deps = build_deps(infra, notifier=notifier, enqueue=_unwired)
        queue = make_queue(deps, settings.task_queue)
        attach(deps, queue)
        in_process: Worker | None = None
        background: list[asyncio.Task[object]] = []
        stoppers: list[Callable[[], Awaitable[object]]] = []
        runner: web.AppRunner | None = None
        bot = dp = None
        if what in ("run", "bot", "web") and settings.telegram_bot_token is not None:
            from bots.telegram.app import make_bot, make_dispatcher, set_commands
            from bots.telegram.polling import poll_durably

            bot = make_bot(settings.telegram_bot_token.get_secret_value(), api_server=settings.telegram_api_server)
            dp = make_dispatcher(deps)
            await set_commands(bot)
        webhook_mode = bool(settings.telegram_webhook_url and settings.telegram_webhook_secret)

        def extra_routes(app: web.Application) -> None:
            if bot is not None and dp is not None and webhook_mode and settings.telegram_webhook_secret:
                from bots.telegram.webhook import mount_telegram_webhook

                mount_telegram_webhook(
                    app, deps=deps, dp=dp, bot=bot, secret=settings.telegram_webhook_secret.get_secret_value()
                )
            if settings.slack_signing_secret is not None:
                from bots.slack.app import make_slack_app
                from bots.slack.http import mount_slack

                mount_slack(app, make_slack_app(deps))

        if what in ("run", "web"):
            from webhooks.app import make_web_app

            username = None
            if bot is not None:
                try:
                    username = (await bot.me()).username  # the checkout return page links back to the chat
                except Exception:
                    log.warning("could not read the bot's username; the payment return page won't link to it")
            app = make_web_app(deps, extra_routes=extra_routes, bot_username=username)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, settings.web_host, settings.web_port).start()
            print(f"web: http://{settings.web_host}:{settings.web_port}/healthz")
        if bot is not None and dp is not None:
            if webhook_mode and settings.telegram_webhook_secret and settings.telegram_webhook_url:
                await bot.set_webhook(
                    settings.telegram_webhook_url, secret_token=settings.telegram_webhook_secret.get_secret_value()
                )
                print(f"telegram: webhook {settings.telegram_webhook_url}")
                # Polling emits these itself; in webhook mode they resume pasted text left by a restart.
                await dp.emit_startup(bot=bot)
                stoppers.append(lambda: dp.emit_shutdown(bot=bot))
            elif what in ("run", "bot"):
                await bot.delete_webhook()
                # Stored before confirmed, so an update whose process dies mid-handler is handled again.
                polling = poll_durably(deps, dp, bot, lease_s=settings.telegram_update_lease_s)
                background.append(asyncio.create_task(polling))
                print("telegram: polling")
        elif what in ("run", "bot"):
            print("TELEGRAM_BOT_TOKEN is not set: the Telegram bot is off.")
        if what == "run":
            in_process = Worker(deps, queue, worker_config(settings, concurrency=2))
            worker_task = asyncio.create_task(in_process.run())
            print("worker: in-process")
        if what in ("run", "scheduler"):
            from tasks.scheduler import check_periodic, run_scheduler

            check_periodic()
            background.append(asyncio.create_task(run_scheduler(deps, queue, tick_s=settings.work_sweep_interval_s)))
        await _until_signalled()
        if in_process is not None:
            in_process.stop()
            await worker_task
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        for stop in stoppers:
            await stop()
        if runner is not None:
            await runner.cleanup()
        await close_notifier(notifier)
        if bot is not None:  # polling closes it itself; webhook mode does not
            await bot.session.close()
    return 0
