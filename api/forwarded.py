"""Which client a request came from, behind a proxy or not.

The feedback rate limit and the per-client caps key on the client address, so it must be
one the client cannot choose. `X-Forwarded-For` is believed only from the proxies named in
`MOVIE_R_TRUSTED_PROXIES` (addresses, networks, or host names such as compose's `proxy`,
whose addresses change when it restarts and are looked up again every few seconds); from
anyone else, and from everyone when it is unset, the client is the peer of the socket.
uvicorn's own proxy-header handling is off (`movie-r serve`): it trusts 127.0.0.1 by default
and cannot follow a host name.

From a trusted proxy the last `X-Forwarded-For` entry is taken: the address that proxy saw
(ours overwrites the header with it; a proxy that appends keeps the client's own entries
to the left).
"""

from __future__ import annotations

import ipaddress
import logging
import socket

from starlette.types import ASGIApp, Receive, Scope, Send

from movie_r.periodic import Periodic

log = logging.getLogger(__name__)

RESOLVE_EVERY = 5.0  # seconds between look-ups of the proxies named by host name

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The proxies whose forwarded headers are believed; host names are resolved on a thread."""

    def __init__(self, entries: str | None) -> None:
        self.networks: list[Network] = []
        self.names: list[str] = []
        for entry in (part.strip() for part in (entries or "").split(",")):
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.names.append(entry)
        self._resolved: frozenset[str] = frozenset()
        self._refresher = Periodic("trusted-proxies", RESOLVE_EVERY, self.resolve) if self.names else None

    def __bool__(self) -> bool:
        return bool(self.networks or self.names)

    def start(self) -> None:
        if self._refresher is not None:
            self.resolve()
            self._refresher.start()

    def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.stop(timeout=5)

    def resolve(self) -> None:
        addresses = set()
        for name in self.names:
            try:
                addresses |= {info[4][0] for info in socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)}
            except OSError as exc:  # not up yet, or gone: its requests count as its own meanwhile
                log.debug("trusted proxy not resolved name=%s reason=%r", name, exc)
        self._resolved = frozenset(addresses)

    def trusts(self, host: str) -> bool:
        if host in self._resolved:
            return True
        if not self.networks:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)


class ForwardedClient:
    """Pure ASGI middleware: from a trusted proxy, the client and scheme it forwarded."""

    def __init__(self, app: ASGIApp, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.proxies:
            peer = scope.get("client")
            if peer is not None and self.proxies.trusts(peer[0]):
                for name, value in scope["headers"]:
                    if name == b"x-forwarded-for":
                        forwarded = value.decode("latin-1").rsplit(",", 1)[-1].strip()
                        if forwarded:
                            scope["client"] = (forwarded, 0)
                    elif name == b"x-forwarded-proto" and value in (b"http", b"https"):
                        scope["scheme"] = value.decode()
        await self.app(scope, receive, send)
