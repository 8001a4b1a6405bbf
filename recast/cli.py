"""`recast`: one command that starts any Recast process.

recast demo              the whole pipeline offline on a sample talk (embedded servers)
recast run               web + Telegram bot + worker + scheduler in one process
recast web | worker | scheduler | bot
recast db upgrade [--seed] | db downgrade | db seed
recast info              what is configured and what would be embedded
recast jobs [--all] | jobs redrive <unit id>   stuck, retrying and dead-lettered work; re-drive one
recast org invite <org>  a single-use invite that joins a Slack workspace to an organization
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Callable, Sequence

from core.common.redaction import install_log_redaction
from core.config import Settings
from core.system.audit import AuditSource, acting_as


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recast", description=__doc__.split("\n")[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the whole pipeline offline on a sample talk")
    demo.add_argument("--input", help="a video/audio/text file to use instead of the generated sample talk")
    sub.add_parser("run", help="web + bot + worker + scheduler in one process")
    sub.add_parser("web", help="the aiohttp app: webhooks, Telegram webhook, Slack, health")
    worker = sub.add_parser("worker", help="a worker running durable work units")
    worker.add_argument("--concurrency", type=int, default=2)
    sub.add_parser("scheduler", help="periodic jobs (partitions, reminders, renewals)")
    sub.add_parser("bot", help="the Telegram bot in polling mode")
    sub.add_parser("info", help="print configuration (secrets hidden)")
    jobs = sub.add_parser("jobs", help="stuck, retrying and dead-lettered work units; re-drive one")
    jobs.add_argument("action", nargs="?", choices=["list", "redrive"], default="list")
    jobs.add_argument("unit_id", nargs="?", help="the unit to re-drive")
    jobs.add_argument("--all", action="store_true", help="list recent units in every state")
    db = sub.add_parser("db", help="database migrations and seed data")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade")
    up.add_argument("--revision", default="head")
    up.add_argument("--seed", action="store_true", help="also load the seed data")
    up.add_argument(
        "--login-role", help="also create/update this RLS-bound login role (password: RECAST_LOGIN_PASSWORD)"
    )
    down = db_sub.add_parser("downgrade")
    down.add_argument("--revision", default="base")
    db_sub.add_parser("seed")
    login = db_sub.add_parser(
        "login-role", help="create (or update) the RLS-bound login role the processes connect as in production"
    )
    login.add_argument("name", help="the role's name, e.g. recast_web")
    login.add_argument(
        "--password-env", default="RECAST_LOGIN_PASSWORD", help="environment variable holding its password"
    )
    sub.add_parser(
        "rotate-keys", help="re-encrypt stored tokens under RECAST_SECRET_KEY (old keys in RECAST_SECRET_KEYS_OLD)"
    )
    org = sub.add_parser("org", help="organizations")
    org_sub = org.add_subparsers(dest="org_command", required=True)
    invite = org_sub.add_parser("invite", help="a single-use invite for a Slack workspace (install or /recast link)")
    invite.add_argument("org", help="the organization's slug")
    invite.add_argument("--role", default="admin", help="the role whoever uses it gets (default: admin)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_redaction(settings)  # every configured secret, and each token once seen, is [redacted]
    for noisy in ("httpx", "pgserver", "faster_whisper", "aiogram.event", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from recast import commands  # here, not at the top: `recast --help` needn't import the whole product

    def info() -> int:
        commands.print_info(settings)
        return 0

    simple: dict[str, Callable[[], int]] = {
        "info": info,
        "jobs": lambda: asyncio.run(commands.jobs(settings, args.action, args.unit_id, show_all=args.all)),
        "db": lambda: (
            commands.login_role(settings, args.name, password_env=args.password_env)
            if args.db_command == "login-role"
            else commands.db(settings, args.db_command, getattr(args, "revision", None), getattr(args, "seed", False))
            or (
                commands.login_role(settings, args.login_role, password_env="RECAST_LOGIN_PASSWORD")
                if getattr(args, "login_role", None)
                else 0
            )
        ),
        "org": lambda: asyncio.run(commands.org_invite(settings, args.org, role=args.role)),
        "demo": lambda: asyncio.run(commands.demo(settings, input_path=args.input)),
        "rotate-keys": lambda: asyncio.run(commands.rotate_keys(settings)),
    }
    if args.command in simple:
        with acting_as(AuditSource("operator", actor=f"operator:{_login()}")):  # what these commands audit
            return int(simple[args.command]())
    if args.command in ("run", "web", "worker", "scheduler", "bot") and (problem := settings.insecure_for_public_use()):
        print(f"recast {args.command}: refusing to start. {problem}", file=sys.stderr)
        return 2
    if args.command == "worker":
        return asyncio.run(commands.worker(settings, concurrency=args.concurrency))
    if args.command in ("run", "web", "scheduler", "bot"):
        return asyncio.run(commands.serve(settings, args.command))
    return 2


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry)
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
