"""What every console response carries, and the login throttle."""

from __future__ import annotations

import threading
import time
from collections import deque

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


class LoginThrottle:
    """At most `per_name` failed logins per user name and `per_address` per client address in `window` seconds."""

    def __init__(self, per_name: int = 5, per_address: int = 20, window: float = 300.0) -> None:
        self.per_name, self.per_address, self.window = per_name, per_address, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] < now - self.window:
            times.popleft()
        return times

    def retry_after(self, address: str, username: str) -> int:
        """Seconds until a login may be tried again; 0 when it may be tried now."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key, limit in ((f"name:{username.lower()}", self.per_name), (f"addr:{address}", self.per_address)):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(times[0] + self.window - now)
            return max(1, int(max(waits)) + 1) if waits else 0

    def failed(self, address: str, username: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(f"name:{username.lower()}", now).append(now)
            self._recent(f"addr:{address}", now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"name:{username.lower()}", None)
