"""What every console response carries, the login throttle, and how tokens a client sends are compared."""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

# No inline script or style anywhere in the console, no third-party origin, no framing.
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The printable case report carries its own styles and nothing else.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


@dataclass
class _Backoff:
    failures: int
    last: float
    not_before: float


class LoginThrottle:
    """Failed logins slow down only the (account, client address) pair that made them: free tries first, then a
    delay that doubles with each failure. A global rate caps the attempts of all clients together, so guesses
    spread over many addresses stay slow too. A guesser elsewhere never locks the account's owner out: an
    (account, address) pair that logged in within `trust_for` is not held by the global rate (its own failures
    still slow it down); a first login from a new address waits while the rate is reached.

    An attempt is counted when it starts, under the lock, and forgiven when it succeeds: concurrent guesses
    cannot all pass the check before any failure is recorded."""

    def __init__(self, free_failures: int = 5, base_delay: float = 2.0, max_delay: float = 900.0,
                 global_attempts: int = 60, global_window: float = 60.0, forget_after: float = 3600.0,
                 trust_for: float = 30 * 86400.0) -> None:
        self.free_failures, self.base_delay, self.max_delay = free_failures, base_delay, max_delay
        self.global_attempts, self.global_window, self.forget_after = global_attempts, global_window, forget_after
        self.trust_for = trust_for
        self._pairs: dict[tuple[str, str], _Backoff] = {}
        self._trusted: dict[tuple[str, str], float] = {}  # pairs that logged in: when they last did
        self._attempts: deque[float] = deque()
        self._lock = threading.Lock()

    def begin(self, address: str, username: str) -> int:
        """Count one attempt and return 0, or return the seconds to wait before trying (counting nothing)."""
        now = time.monotonic()
        key = (username.lower(), address)
        with self._lock:
            while self._attempts and self._attempts[0] <= now - self.global_window:
                self._attempts.popleft()
            self._forget_idle(now)
            pair = self._pairs.get(key)
            if pair is not None and now - pair.last > self.forget_after:
                del self._pairs[key]  # failures long ago are forgiven: the free tries come back
                pair = None
            wait = pair.not_before - now if pair else 0.0
            trusted = now - self._trusted.get(key, -math.inf) <= self.trust_for
            if len(self._attempts) >= self.global_attempts and not trusted:
                wait = max(wait, self._attempts[0] + self.global_window - now)
            if wait > 0:
                return math.ceil(wait)
            if pair is None:
                pair = self._pairs[key] = _Backoff(0, now, now)
            pair.failures += 1
            pair.last = now
            if pair.failures >= self.free_failures:
                extra = pair.failures - self.free_failures
                pair.not_before = now + min(self.max_delay, self.base_delay * 2 ** min(extra, 32))
            self._attempts.append(now)
            return 0

    def succeeded(self, address: str, username: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._pairs.pop((username.lower(), address), None)
            if len(self._trusted) > 10_000:  # bounded memory: the pairs that logged in longest ago are dropped
                for key in sorted(self._trusted, key=self._trusted.__getitem__)[:5_000]:
                    del self._trusted[key]
            self._trusted[(username.lower(), address)] = now

    def _forget_idle(self, now: float) -> None:
        # bounded memory: pairs quiet for long are dropped (a scan of many names from many addresses)
        if len(self._pairs) > 10_000:
            for key in [k for k, p in self._pairs.items() if now - p.last > self.forget_after]:
                del self._pairs[key]


def same_token(sent: str, expected: str) -> bool:
    """Whether a token a client sent is the one expected, compared in constant time; text that is not ASCII
    (which compare_digest refuses with a TypeError) is never a token Vigie made."""
    return sent.isascii() and expected.isascii() and secrets.compare_digest(sent, expected)
