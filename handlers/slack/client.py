"""The Slack Web API client: token, base URL and the retry policy every call goes through."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse

log = logging.getLogger(__name__)

#: Slack's own Web API; SLACK_API_URL replaces it (tests point it at a fake on loopback).
DEFAULT_API_URL = "https://slack.com/api/"

#: Longest Retry-After we wait for inside a call. Longer waits are handed back as a SendError
#: so the outbox retries later instead of holding a thread (or Slack's 3 s ack) hostage.
MAX_INLINE_RETRY_AFTER = 10.0

#: Seconds before a Web API call gives up; a reply to Slack is due within 3 s anyway.
TIMEOUT = 10


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Retries HTTP 429 after Retry-After (as slack_sdk's handler does), but only short waits.

    slack_sdk's default handlers do not retry 429 at all; its RateLimitErrorRetryHandler sleeps
    whatever Retry-After says. Rate limits: https://api.slack.com/apis/rate-limits
    """

    def __init__(self, max_retry_count: int = 2, max_wait: float = MAX_INLINE_RETRY_AFTER) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after(response.headers)
        if wait is not None and wait > self.max_wait:
            log.info("Slack asked us to wait %ss; leaving it to the outbox", wait)
            return False
        return True


def retry_after(headers: Mapping[str, object]) -> float | None:
    """Seconds from a Retry-After header (any case, list or plain value), or None."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return float(str(raw))
            except ValueError:
                return None
    return None


def retry_handlers() -> list[RetryHandler]:
    """Connection resets, 5xx and short 429s are retried; everything else surfaces at once."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=2),
        BoundedRateLimitRetryHandler(max_retry_count=2),
    ]


def build_web_client(token: str, *, base_url: str | None = None) -> WebClient:
    """A WebClient for the bot token, on `base_url` (default Slack's), with our retry policy."""
    url = base_url or DEFAULT_API_URL
    if not url.endswith("/"):
        url += "/"  # slack_sdk joins method names onto the base URL
    return WebClient(token=token, base_url=url, timeout=TIMEOUT, retry_handlers=retry_handlers())
