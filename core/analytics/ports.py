"""Ports analytics reads outside figures through. None is connected by default: with none, the figures they
would give stay NULL and the creator is told so (never estimated)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class KeywordRanking:
    keyword: str
    position: float | None  # average position in search results; None = the page does not rank for it
    impressions: int
    clicks: int


@dataclass(frozen=True)
class PagePerformance:
    """What a search console measured for one page over its reporting window."""

    page_url: str
    organic_clicks: int
    rankings: Sequence[KeywordRanking]
    collected_at: datetime


class SearchConsoleError(Exception):
    """The search console could not answer (unreachable, refused, rate limited): implementations raise this."""


class SearchConsole(Protocol):
    """Port: a search-console style source (Google Search Console, Bing Webmaster) for a published page.
    Raises `SearchConsoleError` when it cannot answer."""

    async def page_performance(self, *, page_url: str, keywords: Sequence[str]) -> PagePerformance: ...
