"""The Slack Web API client: token, base URL and the retry policy every call goes through."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from contextvars import ContextVar

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
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

#: A 5xx is retried once, this long after; past that it is the caller's (the outbox's) to
#: retry later. slack_sdk's default backoff (0.5 s x 2^n plus up to 1 s of jitter) idled the
#: outbox's sender for seconds per error while other messages waited behind it. No longer
#: than the pacer's burst allowance (bot/outbox/pacing.py, BURST), so the messages behind
#: a retried one catch up and lose nothing.
SERVER_ERROR_RETRIES = 1
SERVER_ERROR_RETRY_DELAY = 0.1

#: Methods whose caller paces and retries them itself (handlers/slack/sender.py): retried here
#: as well, a 429 would be hidden from its pacing and every 5xx retried twice over.
CALLER_RETRIED_METHODS = frozenset({"chat.postMessage"})


def api_method(request: HttpRequest) -> str:
    """The Web API method a request calls: the last segment of its URL's path."""
    return request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Retries HTTP 429 after Retry-After (as slack_sdk's handler does), but only short waits.

    slack_sdk's default handlers do not retry 429 at all; its RateLimitErrorRetryHandler sleeps
    whatever Retry-After says. Rate limits: https://api.slack.com/apis/rate-limits
    """

    def __init__(
        self,
        max_retry_count: int = 2,
        max_wait: float = MAX_INLINE_RETRY_AFTER,
        skip: frozenset[str] = CALLER_RETRIED_METHODS,
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.skip = skip

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429 or api_method(request) in self.skip:
            return False
        wait = retry_after(response.headers)
        if wait is not None and wait > self.max_wait:
            log.info("Slack asked us to wait %ss; leaving it to the outbox", wait)
            return False
        return True


class ShortServerErrorRetryHandler(RetryHandler):
    """Retries any 5xx after a short fixed delay, a bounded number of times."""

    def __init__(
        self,
        max_retry_count: int = SERVER_ERROR_RETRIES,
        delay: float = SERVER_ERROR_RETRY_DELAY,
        skip: frozenset[str] = CALLER_RETRIED_METHODS,
    ) -> None:
        super().__init__(max_retry_count, FixedValueRetryIntervalCalculator(delay))
        self.skip = skip

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        # slack_sdk's own handler stops at 500 and 503; a gateway's 502 or 504 is as passing.
        return (
            response is not None
            and 500 <= response.status_code < 600
            and api_method(request) not in self.skip
        )


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
    """Connection resets, 5xx and short 429s are retried; everything else surfaces at once.

    chat.postMessage (CALLER_RETRIED_METHODS) is retried here only after a dropped connection.
    """
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        ShortServerErrorRetryHandler(),
        BoundedRateLimitRetryHandler(max_retry_count=2),
    ]


#: The token of the workspace in hand (handlers/slack/install.py); None: the client's own.
_in_hand: ContextVar[str | None] = ContextVar("slack_workspace_token", default=None)


class WorkspaceClient(WebClient):
    """A WebClient whose token is that of the workspace in hand, else its own.

    The process has one client, which listeners, the directory and the sender hold; with many
    workspaces each call must still go with the token of the workspace it is for: that of the
    request being answered, or the one the sender picked for a board (`in_workspace`).
    """

    @property
    def token(self) -> str | None:
        """The token calls are made with."""
        return _in_hand.get() or self._own_token

    @token.setter
    def token(self, value: str | None) -> None:
        self._own_token = value


def in_hand() -> str | None:
    """The token of the workspace in hand, if any."""
    return _in_hand.get()


def hold_workspace(token: str | None) -> None:
    """Put a workspace's token in hand for the rest of this context (a request's)."""
    _in_hand.set(token or None)


@contextlib.contextmanager
def in_workspace(token: str | None) -> Iterator[None]:
    """Calls made inside use `token` (None: the client's own)."""
    reset = _in_hand.set(token or None)
    try:
        yield
    finally:
        _in_hand.reset(reset)


def build_web_client(token: str | None, *, base_url: str | None = None) -> WorkspaceClient:
    """A WebClient for the bot token, on `base_url` (default Slack's), with our retry policy.

    Without a token (only the install flow) every call goes with a workspace's in hand.
    """
    url = base_url or DEFAULT_API_URL
    if not url.endswith("/"):
        url += "/"  # slack_sdk joins method names onto the base URL
    return WorkspaceClient(
        token=token, base_url=url, timeout=TIMEOUT, retry_handlers=retry_handlers()
    )
