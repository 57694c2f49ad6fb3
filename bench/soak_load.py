"""The soak's load generator: a paced mix of signed slash commands and button presses.

`python -m bench.soak_load --url http://127.0.0.1:PORT/slack/events --commands 10000
--seconds 600` prints one JSON line: per kind the count and latencies (seconds), the problems
seen, the refusals, how far the schedule slipped. Command n is sent at start + n × seconds /
commands (an open loop, like people typing: a slow answer does not slow the arrivals) by one of
`concurrency` threads, each keeping one HTTP/1.1 connection open as Slack's edge does.

The mix is chairs' reads and writes on random actions (/status, /status overdue, /action show,
done, update, blocked, reopen, rag, due, list pages) and owners' own lists and the buttons those
lists carry (Mark done, Add update, Previous / Next), pressed with the values the bot put there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bench.common import CHAIRS, SECRET
from tests.support.slack_signing import block_actions_body, signed_headers, slash_command_body

#: (kind, weight): the share of each kind in the mix (weights sum to 100).
MIX: tuple[tuple[str, int], ...] = (
    ("/status", 9),
    ("/status overdue", 9),
    ("/action show", 12),
    ("/action done", 7),
    ("/action update", 12),
    ("/action blocked", 5),
    ("/action reopen", 9),
    ("/action rag", 7),
    ("/action due", 6),
    ("/action list page", 6),
    ("/action list mine (owner)", 6),
    ("button: Mark done", 5),
    ("button: Add update", 3),
    ("button: Next page", 4),
)
#: Button action ids the bot writes (handlers/slack/blocks.py); the press sends them back.
DONE, UPDATE, PAGE_NEXT = "action_done", "action_update", "list_page_next"
#: Words a reply carries when the bot failed rather than refused (see bench/loadgen.py).
FAILED = (b"went wrong", b"not answering")


@dataclass
class Shared:
    """What the threads share: the schedule, the buttons seen, and the tallies."""

    kinds: list[str]
    start: float
    interval: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_index: int = 0
    #: (presser, action_id, value) of buttons seen in replies; bounded, newest kept.
    buttons: dict[str, deque[tuple[str, str]]] = field(
        default_factory=lambda: {k: deque(maxlen=200) for k in (DONE, UPDATE, PAGE_NEXT)}
    )
    latencies: dict[str, list[float]] = field(default_factory=dict)
    #: Latencies by the minute of the schedule they were sent in ("0", "1", …).
    minutes: dict[str, list[float]] = field(default_factory=dict)
    problems: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    substituted: Counter[str] = field(default_factory=Counter)
    lag: float = 0.0

    def take(self) -> int | None:
        with self.lock:
            if self.next_index >= len(self.kinds):
                return None
            self.next_index += 1
            return self.next_index - 1


def plan_kinds(count: int, seed: int) -> list[str]:
    """`count` kinds in the proportions of MIX, shuffled (the same for the same seed)."""
    total = sum(weight for _, weight in MIX)
    kinds: list[str] = []
    for kind, weight in MIX:
        kinds += [kind] * (count * weight // total)
    kinds += [MIX[i % len(MIX)][0] for i in range(count - len(kinds))]
    random.Random(seed).shuffle(kinds)
    return kinds


class Client:
    """One thread's keep-alive connection to the bot."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "127.0.0.1", parts.port, parts.path
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def post(self, body: bytes) -> tuple[int, bytes]:
        try:
            self.conn.request("POST", self.path, body=body, headers=signed_headers(body, SECRET))
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            raise


def command_for(
    kind: str, rng: random.Random, n: int, actions: int, owners: list[str], today: dt.date
) -> tuple[str, str, str]:
    """(caller, command, text) of a typed command of `kind`."""
    chair = CHAIRS[n % len(CHAIRS)]
    number = rng.randint(1, actions)
    if kind == "/status":
        return chair, "/status", ""
    if kind == "/status overdue":
        return chair, "/status", "overdue"
    if kind == "/action list page":
        return chair, "/action", f"list all page {rng.randint(1, 5)}"
    if kind == "/action list mine (owner)":
        return rng.choice(owners), "/action", "list mine"
    verb = kind.split()[1]
    if verb == "update":
        return chair, "/action", f"update {number} soak progress note {n}"
    if verb == "blocked":
        return chair, "/action", f"blocked {number} waiting for the data, soak {n}"
    if verb == "rag":
        return chair, "/action", f"rag {number} {rng.choice(('red', 'amber', 'green'))}"
    if verb == "due":
        # Within the reminder window: the worker plans a reminder for the new deadline.
        when = today + dt.timedelta(days=rng.randint(1, 10))
        return chair, "/action", f"due {number} {when.isoformat()} soak replanning"
    return chair, "/action", f"{verb} {number}"  # show, done, reopen


def harvest(shared: Shared, presser: str, payload: bytes) -> None:
    """Keep the buttons a reply carries, to be pressed later by the person who saw them."""
    try:
        blocks = json.loads(payload).get("blocks") or []
    except (ValueError, AttributeError):
        return
    found: list[tuple[str, str]] = []
    for block in blocks:
        for element in block.get("elements") or [] if block.get("type") == "actions" else []:
            if element.get("action_id") in shared.buttons:
                found.append((str(element["action_id"]), str(element.get("value") or "")))
    with shared.lock:
        for action_id, value in found:
            shared.buttons[action_id].append((presser, value))


def _press_kind(kind: str) -> str | None:
    return {
        "button: Mark done": DONE,
        "button: Add update": UPDATE,
        "button: Next page": PAGE_NEXT,
    }.get(kind)


def run_thread(
    shared: Shared,
    url: str,
    actions: int,
    owners: list[str],
    response_url: str,
    today: dt.date,
    seed: int,
) -> None:
    client = Client(url)
    rng = random.Random(seed)
    mine: dict[str, list[float]] = {}
    by_minute: dict[str, list[float]] = {}
    while (n := shared.take()) is not None:
        due = shared.start + n * shared.interval
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        kind = shared.kinds[n]
        body, caller, record = _request(shared, kind, rng, n, actions, owners, response_url, today)
        started = time.perf_counter()
        slip = started - due
        try:
            status, payload = client.post(body)
        except (OSError, http.client.HTTPException) as exc:
            with shared.lock:
                shared.problems[type(exc).__name__] += 1
            continue
        elapsed = time.perf_counter() - started
        mine.setdefault(record, []).append(elapsed)
        by_minute.setdefault(str(int(n * shared.interval // 60)), []).append(elapsed)
        with shared.lock:
            shared.lag = max(shared.lag, slip)
            if status != 200:
                shared.problems[f"http_{status}"] += 1
            elif b"Working on it" in payload:
                shared.problems["late_ack"] += 1
            elif any(words in payload for words in FAILED):
                shared.problems["error_reply"] += 1
            elif b":x: " in payload:  # a refusal (no such action, already done): counted
                shared.refused[record] += 1
        if status == 200 and record.startswith("/action list"):
            harvest(shared, caller, payload)
    with shared.lock:
        for kind, values in mine.items():
            shared.latencies.setdefault(kind, []).extend(values)
        for minute, values in by_minute.items():
            shared.minutes.setdefault(minute, []).extend(values)


def _request(
    shared: Shared,
    kind: str,
    rng: random.Random,
    n: int,
    actions: int,
    owners: list[str],
    response_url: str,
    today: dt.date,
) -> tuple[bytes, str, str]:
    """(body, caller, kind recorded) of command n; a press with no button seen yet is a list."""
    action_id = _press_kind(kind)
    if action_id is not None:
        with shared.lock:
            seen = shared.buttons[action_id]
            pick = seen[rng.randrange(len(seen))] if seen else None
            if pick is None:
                shared.substituted[kind] += 1
        if pick is not None:
            presser, value = pick
            body = block_actions_body(
                presser, action_id, value, user_name="soak", response_url=response_url
            )
            return body, presser, kind
        kind = "/action list mine (owner)" if action_id != PAGE_NEXT else "/action list page"
    caller, command, text = command_for(kind, rng, n, actions, owners, today)
    body = slash_command_body(
        command=command,
        text=text,
        user_id=caller,
        user_name="soak",
        response_url=response_url,
    )
    return body, caller, kind


def generate(
    url: str,
    *,
    commands: int,
    seconds: float,
    concurrency: int,
    actions: int,
    owners: list[str],
    response_url: str,
    today: dt.date,
    seed: int = 18,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    shared = Shared(
        kinds=plan_kinds(commands, seed),
        start=time.perf_counter() + 0.2,
        interval=seconds / max(commands, 1),
    )
    threads = [
        threading.Thread(
            target=run_thread,
            args=(shared, url, actions, owners, response_url, today, seed * 1000 + i),
            daemon=True,
        )
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 600)
    wall = time.perf_counter() - shared.start
    return {
        "latencies": shared.latencies,
        "minutes": shared.minutes,
        "problems": dict(shared.problems),
        "refused": dict(shared.refused),
        "substituted": dict(shared.substituted),
        "lag": shared.lag,
        "wall": wall,
        "sent": sum(len(v) for v in shared.latencies.values()),
        "planned": commands,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--commands", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--actions", type=int, default=1000)
    parser.add_argument("--owner", action="append", default=[], help="an owner's Slack id")
    parser.add_argument("--response-url", default="http://127.0.0.1:9/response/unused")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    result = generate(
        args.url,
        commands=min(args.commands, 1_000_000),
        seconds=args.seconds,
        concurrency=args.concurrency,
        actions=args.actions,
        owners=args.owner or ["UOWN00000"],
        response_url=args.response_url,
        today=args.today,
        seed=args.seed,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
