"""Which addresses a creator's link may make Recast connect to.

Anyone who can message the bot can send a link, and Recast fetches it from inside the operator's
network. Without a guard, `http://169.254.169.254/...` (cloud metadata), `http://localhost:6379` or an
intranet page would be fetched and its text turned into drafts sent back to that person (server-side
request forgery). So by default only public (globally routable) addresses are fetched:

- hostnames are checked *after* DNS resolution, by the resolver aiohttp connects with, so a name that
  resolves to a private address is refused and a second lookup cannot swap the address in between;
- IP literals, which aiohttp does not resolve, are checked before connecting;
- redirects are followed by hand so that every hop goes through the same two checks.

`LINK_ALLOW_PRIVATE_NETWORKS=true` lifts the guard for a deployment that wants intranet links.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from core.content.errors import LinkUnreachable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_REDIRECTS = 5
REFUSED = (
    "That link points to a private or local network address, which I don't fetch. "
    "Send the file or paste the text instead."
)


@dataclass(frozen=True)
class FetchPolicy:
    """`allow_private` admits every address; `blocked` networks are refused even then."""

    allow_private: bool = False
    blocked: tuple[IPNetwork, ...] = ()

    def permits(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if any(ip in network for network in self.blocked):
            return False
        return self.allow_private or ip.is_global

    def check_url(self, url: str) -> None:
        """Refuse a URL that is not http(s) or names a refused IP literal (hostnames: see the resolver)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LinkUnreachable("That doesn't look like a web link. Send an http(s) link instead.", detail=url)
        try:
            literal = ipaddress.ip_address(parts.hostname)
        except ValueError:
            return
        if not self.permits(str(literal)):
            raise LinkUnreachable(REFUSED, detail=f"refused address {literal}")

    def check_resolved(self, url: str) -> None:
        """For clients that connect by themselves (yt-dlp): every address the host resolves to now must be
        permitted. Unlike `PolicyResolver`, a DNS answer that changes before the client's own lookup is
        not caught, so use it only where the guarded aiohttp path cannot be."""
        self.check_url(url)
        host = urlsplit(url).hostname or ""
        try:
            answers = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise LinkUnreachable(detail=f"{host}: {exc}") from exc
        refused = [str(a[4][0]) for a in answers if not self.permits(str(a[4][0]))]
        if refused:
            raise LinkUnreachable(REFUSED, detail=f"{host} resolves to {refused}")


class PolicyResolver(AbstractResolver):
    """aiohttp's resolver, keeping only the addresses the policy permits (the connector connects to these)."""

    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        permitted = [a for a in answers if self._policy.permits(a["host"])]
        if not permitted:
            raise LinkUnreachable(REFUSED, detail=f"{host} resolves to {[a['host'] for a in answers]}")
        return permitted

    async def close(self) -> None:
        await self._inner.close()


def guarded_session(policy: FetchPolicy, timeout: aiohttp.ClientTimeout) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(resolver=PolicyResolver(policy)))


@asynccontextmanager
async def get_following_redirects(
    http: aiohttp.ClientSession, url: str, policy: FetchPolicy, *, headers: dict[str, str] | None = None
) -> AsyncIterator[aiohttp.ClientResponse]:
    """GET `url`, following up to MAX_REDIRECTS redirects, each hop checked by `policy`."""
    for _ in range(MAX_REDIRECTS + 1):
        policy.check_url(url)
        resp = await http.get(url, headers=headers, allow_redirects=False)
        location = resp.headers.get("Location")
        if resp.status in (301, 302, 303, 307, 308) and location:
            resp.release()
            url = urljoin(url, location)
            continue
        try:
            yield resp
        finally:
            resp.release()
        return
    raise LinkUnreachable("That link redirects too many times. Send the final address instead.", detail=url)
