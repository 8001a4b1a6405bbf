"""The chat doors' rules (Telegram, Slack), from the settings: one place, both adapters."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Settings
from core.limits.window import Rule

MINUTE, HOUR = 60, 3600


@dataclass(frozen=True, slots=True)
class ChatRules:
    user_messages: Rule  # every message, command, button press or modal submission of one user
    chat_messages: Rule  # all members of one group chat or channel together
    user_uploads: Rule  # files of one user

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatRules:
        return cls(
            Rule("message", settings.flood_user_messages_per_minute, MINUTE),
            Rule("chat-message", settings.flood_chat_messages_per_minute, MINUTE),
            Rule("upload", settings.flood_user_uploads_per_hour, HOUR),
        )
