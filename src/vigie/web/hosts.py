"""Which `Host` headers the console answers: the address it was started on, and names the user added. A page of
another site whose name was re-pointed at this address (DNS rebinding) sends its own name, and is refused."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})


def _normal_name(name: str) -> str:
    name = name.strip().lower().rstrip(".")
    if ":" in name and not name.startswith("["):
        return f"[{name}]"  # a bare IPv6 address, as it appears in a Host header
    return name


def _split(host_and_port: str) -> tuple[str, int | None]:
    """("name", port) from "name", "name:port", "[v6]" or "[v6]:port"; port None when absent or not a number."""
    text = host_and_port.strip().lower()
    name, sep, port = text.rpartition(":")
    if not sep or name.endswith(":") or (text.startswith("[") and not name.endswith("]")):
        return _normal_name(text), None  # no port: "name", "[v6]", or a bare v6 address
    return _normal_name(name), int(port) if port.isdigit() else -1


def _is_loopback_or_any(host: str) -> tuple[bool, bool]:
    if host.strip().lower() == "localhost":
        return True, False
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False, False
    return address.is_loopback, address.is_unspecified


@dataclass(frozen=True)
class AllowedHosts:
    """Host headers as "name:port" (exact), and names allowed on any port (given without one)."""

    exact: frozenset[str]
    any_port: frozenset[str]
    default_port: int = 80

    @classmethod
    def loopback(cls) -> AllowedHosts:
        """Any port of this machine's loopback names: the default of an app not told where it listens."""
        return cls(frozenset(), LOOPBACK_NAMES)

    @classmethod
    def for_address(cls, host: str, port: int, extra: Iterable[str] = (), tls: bool = False) -> AllowedHosts:
        """The served host:port (with the loopback names when it listens on loopback or on every address),
        plus each extra "name" (any port) or "name:port"."""
        loopback, anywhere = _is_loopback_or_any(host)
        names = {_normal_name(host)} if not anywhere else set()
        if loopback or anywhere:
            names |= LOOPBACK_NAMES
        exact = {f"{name}:{port}" for name in names}
        any_port = set()
        for given in extra:
            name, given_port = _split(given)
            if given_port is None:
                any_port.add(name)
            else:
                exact.add(f"{name}:{given_port}")
        return cls(frozenset(exact), frozenset(any_port), 443 if tls else 80)

    def allows(self, header: str | None) -> bool:
        if not header:
            return False
        name, port = _split(header)
        if name in self.any_port:
            return True
        return f"{name}:{self.default_port if port is None else port}" in self.exact

    def names(self) -> set[str]:
        """The host names alone, for a certificate's subjectAltName."""
        return {_split(h)[0].strip("[]") for h in self.exact} | {n.strip("[]") for n in self.any_port}
