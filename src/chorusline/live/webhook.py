"""POST each alert as JSON to a webhook, retried with exponential backoff.

Delivery is at least once: an alert whose POST is not confirmed (2xx) stays undelivered in the
outbox and is tried again on the next cycle, also after a restart. Each request carries the alert's
stable id in an ``Idempotency-Key`` header so a receiver can drop repeats."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

ATTEMPTS = 4
FIRST_BACKOFF = 0.2  # seconds; doubles after each failed attempt
TIMEOUT = 5.0


class WebhookError(RuntimeError):
    pass


def post(url: str, alert_id: str, body: bytes, attempts: int = ATTEMPTS, backoff: float = FIRST_BACKOFF) -> int:
    """The number of attempts it took; WebhookError when every attempt failed."""
    last = None
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Idempotency-Key": alert_id, "User-Agent": "chorusline-watch"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                if 200 <= response.status < 300:
                    return attempt
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    raise WebhookError(f"{url}: alert {alert_id} not delivered after {attempts} attempts ({last})")
