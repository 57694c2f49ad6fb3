"""The baseline server: a bare Bolt app on the same stack as `actionbot serve`.

Same Starlette app (handlers.web.create_web_app: body limit, signature check, Bolt dispatch
in a worker thread), same uvicorn settings, same signature verification by Bolt; its
listeners only ack. `python -m bench.baseline --port N --database URL --slack-api-url URL
[--process-before-response]`.

Two configurations: Bolt's default runs the listener in its executor and polls for the ack
every 10 ms (ThreadListenerRunner), which sets an 11-12 ms floor at any load; with
`--process-before-response` the listener runs in the request's thread and its ack is the
response at once: the real floor of a signed request and an acknowledgement.
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast


@dataclass
class BareSlack:
    """What handlers.web's Slack route reads from a SlackBot: the app and its secret."""

    app: Any
    signing_secret: str


def build_app(
    database_url: str, secret: str, api_url: str, *, process_before_response: bool = False
) -> Any:
    from slack_bolt import Ack, App

    from bench.common import build_bench_core
    from handlers.slack.app import SlackBot
    from handlers.slack.client import build_web_client
    from handlers.web import create_web_app

    # The same client and auth.test at start as `actionbot serve` (Bolt caches its answer).
    app = App(
        client=build_web_client("xoxb-bench-baseline", base_url=api_url),
        signing_secret=secret,
        token_verification_enabled=True,
        process_before_response=process_before_response,
        listener_executor=ThreadPoolExecutor(max_workers=16),
    )

    @app.command("/action")
    def action(ack: Ack) -> None:
        ack()

    @app.command("/status")
    def status(ack: Ack) -> None:
        ack()

    core = build_bench_core(database_url)  # only for /healthz
    return create_web_app(core, slack=cast(SlackBot, BareSlack(app, secret)))


def main() -> None:
    import uvicorn

    from bench.common import SECRET

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--slack-api-url", required=True)
    parser.add_argument("--process-before-response", action="store_true")
    args = parser.parse_args()
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": args.port,
        "log_level": "info",
        "proxy_headers": True,
        "timeout_graceful_shutdown": 10,
    }
    # The same number of processes as `actionbot serve` gets from WEB_CONCURRENCY.
    workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
    if workers > 1:
        os.environ["BENCH_BASELINE_DATABASE"] = args.database
        os.environ["BENCH_BASELINE_API_URL"] = args.slack_api_url
        os.environ["BENCH_BASELINE_PBR"] = "1" if args.process_before_response else ""
        from wiring.serve import listening_socket

        # The same shared socket as `actionbot serve` (TCP_NODELAY set on it).
        listener = listening_socket(options.pop("host"), options.pop("port"))
        uvicorn.run(
            "bench.baseline:app_from_environment",
            factory=True,
            workers=workers,
            fd=listener.fileno(),
            **options,
        )
    else:
        app = build_app(
            args.database,
            SECRET,
            args.slack_api_url,
            process_before_response=args.process_before_response,
        )
        uvicorn.run(app, **options)


def app_from_environment() -> Any:
    """Factory for uvicorn's worker processes when WEB_CONCURRENCY > 1."""
    from bench.common import SECRET

    return build_app(
        os.environ["BENCH_BASELINE_DATABASE"],
        SECRET,
        os.environ["BENCH_BASELINE_API_URL"],
        process_before_response=bool(os.environ.get("BENCH_BASELINE_PBR")),
    )


if __name__ == "__main__":
    main()
