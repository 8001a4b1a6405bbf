"""Slack adapter: bolt listeners, Block Kit builders, the PostgreSQL installation store, the aiohttp mount."""

from bots.slack.app import make_slack_app
from bots.slack.http import mount_slack

__all__ = ["make_slack_app", "mount_slack"]
