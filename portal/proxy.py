"""Trust X-Forwarded-* headers only from the configured proxy, and only as many hops as it adds.

werkzeug's ProxyFix believes whoever sends the headers; a client that reaches the app
directly could then pick its own address (and dodge per-address limits or the metrics
allow-list). So the fix applies only when the direct peer is in FORWARDED_ALLOW_IPS.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxyFix:
    """ProxyFix(x_for, x_proto, x_host = `hops`) for requests whose peer is a trusted proxy."""

    def __init__(self, app: Any, hops: int, allowed: str) -> None:
        self.app = app
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops)
        entries = [entry.strip() for entry in allowed.split(",") if entry.strip()]
        self.any_peer = "*" in entries
        self.networks: list[Network] = list(_networks(e for e in entries if e != "*"))

    def _trusted(self, peer: str | None) -> bool:
        if self.any_peer:
            return True
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self._trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


def _networks(entries: Iterable[str]) -> Iterable[Network]:
    for entry in entries:
        yield ipaddress.ip_network(entry, strict=False)
