"""The load generator: a separate process that posts signed slash commands over loopback.

`python -m bench.loadgen --url http://127.0.0.1:PORT/slack/events --concurrency 16
--requests 800 --actions 1000` prints one JSON line: latencies (seconds), errors, wall time.
Each of `concurrency` threads keeps one HTTP/1.1 connection open (as Slack's edge does) and
sends its share of requests back to back, cycling /action done, /action update,
/status overdue and /status, signed exactly as Slack signs them.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from bench.common import CHAIRS, SECRET
from tests.support.slack_signing import signed_headers, slash_command_body

COMMANDS = (
    ("/action", "done {id}"),
    ("/action", "update {id} bench progress note {n}"),
    ("/status", "overdue"),
    ("/status", ""),
)


def _worker(
    index: int,
    url: str,
    count: int,
    actions: int,
    response_url: str,
    channel: str,
    latencies: list[float],
    problems: Counter[str],
    lock: threading.Lock,
    barrier: threading.Barrier,
) -> None:
    parts = urlsplit(url)
    rng = random.Random(index)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    mine: list[float] = []
    barrier.wait()
    for n in range(count):
        command, template = COMMANDS[(index + n) % len(COMMANDS)]
        text = template.format(id=rng.randint(1, actions), n=n)
        body = slash_command_body(
            command=command,
            text=text,
            user_id=CHAIRS[index % len(CHAIRS)],
            user_name="chair",
            response_url=response_url,
            channel_id=channel,
        )
        headers = signed_headers(body, SECRET)
        started = time.perf_counter()
        try:
            conn.request("POST", parts.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            with lock:
                problems[f"{type(exc).__name__}"] += 1
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            continue
        mine.append(time.perf_counter() - started)
        if response.status != 200:
            with lock:
                problems[f"http_{response.status}"] += 1
        elif b"Working on it" in payload:
            with lock:
                problems["late_ack"] += 1
        elif b"went wrong" in payload or b"not answering" in payload:
            with lock:
                problems["error_reply"] += 1
    conn.close()
    with lock:
        latencies.extend(mine)


def generate(
    urls: list[str],
    *,
    concurrency: int,
    requests: int,
    actions: int,
    response_url: str,
    channel: str = "C1",
) -> dict[str, Any]:
    latencies: list[float] = []
    problems: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency + 1)
    share = [
        requests // concurrency + (1 if i < requests % concurrency else 0)
        for i in range(concurrency)
    ]
    threads = [
        threading.Thread(
            target=_worker,
            args=(
                i,
                urls[i % len(urls)],
                share[i],
                actions,
                response_url,
                channel,
                latencies,
                problems,
                lock,
                barrier,
            ),
            daemon=True,
        )
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=600)
    wall = time.perf_counter() - started
    return {"latencies": latencies, "problems": dict(problems), "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", action="append", required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--actions", type=int, default=1000)
    parser.add_argument("--response-url", default="http://127.0.0.1:9/response/unused")
    parser.add_argument("--channel", default="C1", help="the channel commands are typed in")
    args = parser.parse_args()
    result = generate(
        args.url,
        concurrency=args.concurrency,
        requests=min(args.requests, 100_000),
        actions=args.actions,
        response_url=args.response_url,
        channel=args.channel,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
