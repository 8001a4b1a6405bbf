"""One notifier per chat provider behind the single `Notifier` port: a `ChatRef` goes to the notifier of
its provider (Slack channels and threads to the Slack adapter's), anything else to the default one."""

from __future__ import annotations

from core.notify.ports import ChatRef, Notifier, OutgoingMessage
from core.notify.progress import Progress


class RoutedNotifier:
    def __init__(self, default: Notifier, by_provider: dict[str, Notifier]) -> None:
        self.default = default
        self.by_provider = by_provider

    def _for(self, chat: ChatRef) -> Notifier:
        return self.by_provider.get(chat.provider, self.default)

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        return await self._for(chat).send(chat, message)

    async def edit_text(self, chat: ChatRef, message_id: str, text: str) -> None:
        await self._for(chat).edit_text(chat, message_id, text)

    async def show_progress(self, chat: ChatRef, message_id: str, progress: Progress) -> None:
        await self._for(chat).show_progress(chat, message_id, progress)

    async def close(self) -> None:
        """Release what the notifiers hold (the Telegram bot's HTTP session), at shutdown."""
        for notifier in (self.default, *self.by_provider.values()):
            close = getattr(notifier, "close", None)
            if close is not None:
                await close()
