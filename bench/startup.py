"""5. Start-up: `actionbot --help` and the console's first prompt (heavy imports lazy)."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, Table, actionbot, python

TARGET = 1.0
RUNS = 5
PROMPT = b"> "


def _time(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=True, timeout=60)
    return time.perf_counter() - started


def _first_prompt(env: dict[str, str], cwd: str) -> float:
    """Seconds from spawning `actionbot console` on a terminal to its first prompt."""
    leader, follower = pty.openpty()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [actionbot(), "console", "--as", "sarah"],
        cwd=cwd,
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,
    )
    os.close(follower)
    seen = b""
    elapsed = float("inf")
    try:
        deadline = started + 30
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
                if b"sarah" + PROMPT in seen:
                    elapsed = time.perf_counter() - started
                    break
            if proc.poll() is not None:
                break
    finally:
        with contextlib.suppress(OSError):
            os.write(leader, b":quit\n")
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        os.close(leader)
    if elapsed == float("inf"):
        raise RuntimeError(f"no console prompt; output was {seen[-500:]!r}")
    return elapsed


def run(db: str = "both", quick: bool = False) -> list[Table]:
    runs = 3 if quick else RUNS
    table = Table("5. Start-up")
    with tempfile.TemporaryDirectory(prefix="actionbot-bench-") as folder:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{Path(folder) / 'console.db'}",
            "SLACK_BOT_TOKEN": "",
            "TEAMS_APP_ID": "",
        }
        env.pop("SLACK_BOT_TOKEN")
        env.pop("TEAMS_APP_ID")
        bare = statistics.median(_time([python(), "-c", "pass"], env) for _ in range(runs))
        helps = [_time([actionbot(), "--help"], env) for _ in range(runs)]
        first = _first_prompt(env, folder)  # creates and migrates the SQLite file
        prompts = [_first_prompt(env, folder) for _ in range(runs)]
    table.add(
        "actionbot --help, median",
        f"{statistics.median(helps):.2f} s",
        f"< {TARGET:.0f} s",
        f"{bare:.2f} s (python -c pass)",
        ok=statistics.median(helps) < TARGET,
    )
    table.add("  worst", f"{max(helps):.2f} s", f"< {TARGET:.0f} s", ok=max(helps) < TARGET)
    table.add(
        "console first prompt, median (schema up to date)",
        f"{statistics.median(prompts):.2f} s",
        f"< {TARGET:.0f} s",
        f"{bare:.2f} s (python -c pass)",
        ok=statistics.median(prompts) < TARGET,
    )
    table.add("  worst", f"{max(prompts):.2f} s", f"< {TARGET:.0f} s", ok=max(prompts) < TARGET)
    table.add(
        "console first prompt on a new database (migrates)",
        f"{first:.2f} s",
        "-",
    )
    return [table]
