"""1. Command latency: signed slash commands against `actionbot serve` and a bare-Bolt baseline.

Database: 1,000 actions and 20,000 history rows on the default board, and 1,000 boards in
1,000 installed workspaces (the app installed through the install flow: each request's
workspace is looked up in the installation store, and its board among all the boards). The
commands are typed in the default board's channel. The load generator is its own process
(bench/loadgen.py); the fake Slack Web API (users.info, auth.test, notifications sent after a
command) runs in this process on loopback.

Two baselines, measured in the same run: bare Bolt as Bolt runs by default (the listener in
its executor, the ack polled every 10 ms) and bare Bolt with `process_before_response=True`
(the ack is the response at once: the floor of a signed request and an acknowledgement).
Beside each: server CPU per command, the CPU time of the server's processes during the run
divided by the requests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    CHAIRS,
    SECRET,
    TOKEN,
    Table,
    actionbot,
    bulk_load,
    databases,
    fresh_database,
    group_cpu_seconds,
    ms,
    python,
    spawn,
    stop,
    wait_http,
)

ACTIONS = 1_000
HISTORY = 20_000
#: Boards, each in its own installed workspace; the default board (id 1) is the first.
BOARDS = 1_000
BOARD_CHANNEL = "CBOARD01"
CLIENT_ID = "1000.bench"
#: ACTIONBOT_SECRET_KEY of the bench's servers (installations' tokens are sealed with it).
SECRET_KEY = "bench-secret-key-of-at-least-32-characters"
#: (concurrency, requests) of each measured run; a short warm-up precedes them.
RUNS = ((1, 200), (16, 800))
WARMUP = 40
P99_TARGET = 0.250
P50_RATIO_TARGET = 2.0


def web_concurrency() -> str:
    """Server processes for both servers: WEB_CONCURRENCY if set, else one per core."""
    return os.environ.get("WEB_CONCURRENCY") or str(os.cpu_count() or 1)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def load_database(url: str) -> None:
    """1,000 actions (100 due this week, 100 overdue, 100 done, 20 blocked), 20,000 history."""
    from bot.clock import SystemClock

    now = SystemClock().now()
    fresh_database(url)
    from zoneinfo import ZoneInfo

    bulk_load(
        url,
        actions=ACTIONS,
        due_soon=100,
        overdue=100,
        done=100,
        blocked=20,
        history=HISTORY,
        owners=50,
        today=now.astimezone(ZoneInfo("Europe/London")).date(),
        now=now,
    )
    seed_workspaces(url, now=now)


def seed_workspaces(url: str, *, now: Any) -> None:
    """BOARDS - 1 boards beside the default one, each with its channel in its own workspace,
    and an installation for every workspace (the default board's is SLACK_BOT_TOKEN's)."""
    from slack_sdk.oauth.installation_store.models.installation import Installation
    from sqlalchemy import create_engine, insert, update

    from handlers.slack.installations import EncryptedInstallationStore, TokenCipher
    from storage.models import Board
    from tests.support.slack_signing import TEAM_ID

    engine = create_engine(url)
    with engine.begin() as conn:
        # The default board is the workspace of SLACK_BOT_TOKEN, as the install flow ties it.
        conn.execute(update(Board).where(Board.id == 1).values(slack_team_id=TEAM_ID))
        boards = [
            {
                "name": f"Bench board {n:04d}",
                "slack_team_id": f"TB{n:05d}",
                "slack_channel": f"CB{n:05d}",
                "created_at": now,
            }
            for n in range(2, BOARDS + 1)
        ]
        if boards:
            conn.execute(insert(Board), boards)
    store = EncryptedInstallationStore(CLIENT_ID, engine, TokenCipher(SECRET_KEY))
    teams = [(TEAM_ID, TOKEN)] + [(f"TB{n:05d}", f"xoxb-bench-{n}") for n in range(2, BOARDS + 1)]
    for n, (team, token) in enumerate(teams):
        store.save(
            Installation(
                app_id="ABENCH",
                enterprise_id=None,
                team_id=team,
                bot_token=token,
                bot_id=f"BBOT{n}",
                bot_user_id=f"UBOT{n}",
                bot_scopes="commands,chat:write,users:read,users:read.email",
                user_id=f"UINSTALL{n}",
                installed_at=now.timestamp(),
            )
        )
    engine.dispose()


def serve_env(url: str, port: int, fake: Any) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "CHAIR_USER_IDS": ",".join(CHAIRS),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "BOARD_CHANNEL": BOARD_CHANNEL,
        "WEB_CONCURRENCY": web_concurrency(),
        # The install flow on: every request's workspace is found among the installations.
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": "bench-client-secret",
        "ACTIONBOT_SECRET_KEY": SECRET_KEY,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
    }


def start_fake() -> Any:
    from tests.support.fake_slack import FakeSlack

    fake = FakeSlack().start()
    for n, user in enumerate(CHAIRS):
        fake.add_user(user, email=f"chair{n}@council.example", real_name=f"Chair {n}")
    for n in range(50):
        fake.add_user(f"UOWN{n:05d}", email=f"owner{n}@council.example")
    return fake


def load(urls: list[str], concurrency: int, requests: int, response_url: str) -> dict[str, Any]:
    args = [
        python(),
        "-m",
        "bench.loadgen",
        "--concurrency",
        str(concurrency),
        "--requests",
        str(requests),
        "--actions",
        str(ACTIONS),
        "--response-url",
        response_url,
        "--channel",
        BOARD_CHANNEL,
    ]
    for url in urls:
        args += ["--url", url]
    done = subprocess.run(args, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    lat = result["latencies"]
    result["p50"] = percentile(lat, 50)
    result["p95"] = percentile(lat, 95)
    result["p99"] = percentile(lat, 99)
    result["mean"] = statistics.fmean(lat) if lat else float("nan")
    result["rps"] = len(lat) / result["wall"] if result["wall"] else 0.0
    return result


def measure_server(
    args: list[str],
    env: dict[str, str],
    port: int,
    log: Path,
    response_url: str,
    profile: Path | None = None,
) -> dict[int, dict[str, Any]]:
    proc = spawn(args, env=env, log=log)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60, proc=proc)
        url = f"http://127.0.0.1:{port}/slack/events"
        load([url], 4, WARMUP, response_url)
        results = {}
        for c, n in RUNS:
            spy = start_profiler(proc.pid, profile) if profile and c == RUNS[-1][0] else None
            cpu = group_cpu_seconds(proc.pid)
            results[c] = load([url], c, n, response_url)
            # Notifications the last commands queued go out after their replies: they are
            # part of a command's cost, so let them finish (an idle server spends ~0 CPU).
            time.sleep(0.5)
            results[c]["cpu"] = (group_cpu_seconds(proc.pid) - cpu) / n
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
        return results
    finally:
        stop(proc)


def profiler() -> str | None:
    """py-spy, when installed (`.venv/bin/pip install py-spy`): not a dependency."""
    beside = Path(python()).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start_profiler(pid: int, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the server's processes while they hold the GIL (their CPU in
    Python), written as a flame graph to `out` when stopped."""
    spy = profiler()
    if spy is None:
        return None
    command = [spy, "record", "--gil", "--subprocesses", "--nonblocking", "-r", "200"]
    return subprocess.Popen(
        [*command, "-o", str(out), "-p", str(pid)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def baseline_args(port: int, url: str, fake: Any, *, before_response: bool) -> list[str]:
    args = [
        python(),
        "-m",
        "bench.baseline",
        "--port",
        str(port),
        "--database",
        url,
        "--slack-api-url",
        fake.api_url,
    ]
    return [*args, "--process-before-response"] if before_response else args


def run(db: str = "both", quick: bool = False) -> list[Table]:
    from bench.common import free_port

    tables = []
    logs = Path(tempfile.mkdtemp(prefix="actionbot-bench-logs-"))
    global RUNS
    if quick:
        RUNS = ((1, 60), (16, 240))
    for label, url in databases(db):
        load_database(url)
        fake = start_fake()
        try:
            port = free_port()
            # BENCH_PROFILE=1: a flame graph of our server during the c=16 run (py-spy).
            flame = logs / f"serve-{label}.svg" if os.environ.get("BENCH_PROFILE") else None
            ours = measure_server(
                [actionbot(), "serve"],
                serve_env(url, port, fake),
                port,
                logs / f"serve-{label}.log",
                fake.response_url(),
                profile=flame,
            )
            bases = []
            for before_response in (False, True):
                port = free_port()
                kind = "floor" if before_response else "poll"
                bases.append(
                    measure_server(
                        baseline_args(port, url, fake, before_response=before_response),
                        {"WEB_CONCURRENCY": web_concurrency()},
                        port,
                        logs / f"baseline-{kind}-{label}.log",
                        fake.response_url(),
                    )
                )
        finally:
            fake.stop()
        table = latency_table(label, ours, bases[0], bases[1], logs)
        if flame is not None:
            table.notes.append(
                f"profile (py-spy --gil, c={RUNS[-1][0]}): {flame}"
                if flame.exists()
                else "no profile: py-spy is not installed (.venv/bin/pip install py-spy)"
            )
        tables.append(table)
    return tables


def latency_table(
    label: str,
    ours: dict[int, dict[str, Any]],
    poll: dict[int, dict[str, Any]],
    floor: dict[int, dict[str, Any]],
    logs: Path,
) -> Table:
    """Ours beside both baselines; the baseline column reads `ack poll / floor`."""
    table = Table(
        f"1. Command latency ({label}; {ACTIONS:,} actions, {HISTORY:,} history rows, "
        f"{BOARDS:,} boards in as many installed workspaces)"
    )

    def both(key: str, fmt: Any = ms) -> str:
        return f"{fmt(b[key])} / {fmt(f[key])}"

    for concurrency, requests in RUNS:
        o, b, f = ours[concurrency], poll[concurrency], floor[concurrency]
        head = f"c={concurrency} ({requests} req)"
        table.add(f"{head} p50", ms(o["p50"]), "-", both("p50"))
        table.add(
            f"{head} p50 ratio to bare Bolt",
            f"{o['p50'] / b['p50']:.2f}x",
            f"<= {P50_RATIO_TARGET}x",
            "1.00x",
            ok=o["p50"] / b["p50"] <= P50_RATIO_TARGET,
        )
        table.add(
            f"{head} p50 ratio to the floor",
            f"{o['p50'] / f['p50']:.2f}x",
            "-",
            "1.00x",
        )
        table.add(f"{head} p95", ms(o["p95"]), "-", both("p95"))
        table.add(
            f"{head} p99",
            ms(o["p99"]),
            f"< {P99_TARGET * 1000:.0f} ms" if concurrency == 16 else "-",
            both("p99"),
            ok=o["p99"] < P99_TARGET if concurrency == 16 else None,
        )
        table.add(f"{head} requests/s", f"{o['rps']:.0f}", "-", both("rps", "{:.0f}".format))
        table.add(f"{head} server CPU per command", ms(o["cpu"]), "-", both("cpu"))
        if o["problems"] or b["problems"] or f["problems"]:
            table.notes.append(
                f"c={concurrency}: ours {o['problems']}, baselines {b['problems']} / "
                f"{f['problems']}"
            )
    table.notes.append(
        "baseline: bare Bolt as Bolt runs by default (its ack polled every 10 ms) / bare Bolt "
        "with process_before_response=True (the floor: a signed request and an ack); "
        "server CPU per command: CPU time of the server's processes over the run / requests"
    )
    table.notes.append(
        "mix: /action done, /action update, /status overdue, /status, round robin, as chairs; "
        f"{web_concurrency()} server process(es) each (WEB_CONCURRENCY); server logs in {logs}"
    )
    return table
