"""The sandbox property's quotas, as GA4's `propertyQuota` reports them.

GA4 charges each report in tokens, more for reports that read more data; a property has tokens
per day and per hour (and per project per hour), a cap on concurrent requests, on server errors
per hour and on potentially thresholded requests per hour. Here a report costs
1 token + 1 per `records_per_token` records it reads. Windows are fixed periods of wall-clock
time (`hour_seconds`, `day_seconds`) that tests shorten. A request that finds a quota used up is
refused with 429 RESOURCE_EXHAUSTED, naming the quota.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class QuotaLimits:
    """GA4 standard-property limits (developers.google.com/analytics/devguides/reporting/data/v1/quotas)."""

    tokens_per_day: int = 200_000
    tokens_per_hour: int = 40_000
    tokens_per_project_per_hour: int = 14_000
    concurrent_requests: int = 10
    server_errors_per_project_per_hour: int = 10
    potentially_thresholded_requests_per_hour: int = 120
    records_per_token: int = 10_000
    hour_seconds: float = 3600.0
    day_seconds: float = 86_400.0


# propertyQuota field -> (limit attribute, window)
QUOTAS = {
    "tokensPerDay": ("tokens_per_day", "day"),
    "tokensPerHour": ("tokens_per_hour", "hour"),
    "concurrentRequests": ("concurrent_requests", None),
    "serverErrorsPerProjectPerHour": ("server_errors_per_project_per_hour", "hour"),
    "potentiallyThresholdedRequestsPerHour": ("potentially_thresholded_requests_per_hour", "hour"),
    "tokensPerProjectPerHour": ("tokens_per_project_per_hour", "hour"),
}

EXHAUSTED_MESSAGES = {
    "tokensPerDay": "Exhausted property tokens per day quota. Consider waiting until tomorrow.",
    "tokensPerHour": "Exhausted property tokens per hour quota. Consider waiting an hour.",
    "tokensPerProjectPerHour": "Exhausted property tokens per project per hour quota.",
    "concurrentRequests": "Exhausted concurrent requests quota.",
    "serverErrorsPerProjectPerHour": "Exhausted server errors per project per hour quota.",
    "potentiallyThresholdedRequestsPerHour": "Exhausted potentially thresholded requests per hour quota.",
}


@dataclass
class PropertyQuota:
    limits: QuotaLimits = field(default_factory=QuotaLimits)
    _consumed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(QUOTAS, 0))
    _window_start: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _roll(self) -> None:
        now = time.monotonic()
        for window, length in (("hour", self.limits.hour_seconds), ("day", self.limits.day_seconds)):
            started = self._window_start.setdefault(window, now)
            if now - started >= length:
                self._window_start[window] = now
                for name, (_, quota_window) in QUOTAS.items():
                    if quota_window == window:
                        self._consumed[name] = 0

    def _remaining(self, name: str) -> int:
        return max(getattr(self.limits, QUOTAS[name][0]) - self._consumed[name], 0)

    def admit(self) -> str | None:
        """Start a request: None when admitted, else the name of the quota that is used up."""
        with self._lock:
            self._roll()
            for name in ("tokensPerDay", "tokensPerHour", "tokensPerProjectPerHour", "concurrentRequests"):
                if self._remaining(name) <= 0:
                    return name
            self._consumed["concurrentRequests"] += 1
            return None

    def finish(self) -> None:
        with self._lock:
            self._consumed["concurrentRequests"] = max(self._consumed["concurrentRequests"] - 1, 0)

    def tokens_for(self, rows_scanned: int) -> int:
        return 1 + rows_scanned // self.limits.records_per_token

    def charge(self, tokens: int, *, thresholded: bool = False) -> None:
        with self._lock:
            for name in ("tokensPerDay", "tokensPerHour", "tokensPerProjectPerHour"):
                self._consumed[name] += tokens
            if thresholded:
                self._consumed["potentiallyThresholdedRequestsPerHour"] += 1

    def server_error(self) -> None:
        with self._lock:
            self._roll()
            self._consumed["serverErrorsPerProjectPerHour"] += 1

    def status(self) -> dict[str, dict[str, int]]:
        """The `propertyQuota` object of a response. Concurrent requests count the one answered."""
        with self._lock:
            return {name: {"consumed": self._consumed[name], "remaining": self._remaining(name)} for name in QUOTAS}
