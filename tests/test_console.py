"""The console bot and the CLI, driven as a newcomer would: real processes, a pipe, a database."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest


def actionbot(
    database_url: str, *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "CHAIR_USER_IDS": ""}
    env.pop("SLACK_BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_demo_overdue_done_and_history_export(database_url: str, tmp_path: Path) -> None:
    typed = "/status overdue\n:as amira\n/action done 1 all 50 audited\n/action done 1\n"
    run = actionbot(database_url, "console", "--demo", stdin=typed, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    out = run.stdout.splitlines()
    assert out[0] == "Loaded the sample plan: 14 actions."
    # Each row leads with how late it is, then the plan's reference, the number and title.
    overdue = [line for line in out if " late · " in line][:4]
    days = [int(line.split(" day")[0].split()[-1]) for line in overdue]
    assert days == sorted(days, reverse=True) and len(days) == 4
    assert overdue[0].startswith(f"  {days[0]} days late · CIN-01 · #1 Audit 50 children-in-need")
    assert "plans for SMART outcomes — Amira Khan — due " in overdue[0]
    assert any("blocked: Awaiting police duty rota sign-off" in line for line in overdue)
    assert "✓ Marked #1 Audit 50 children-in-need plans for SMART outcomes as done." in out
    assert any(line.startswith("#1 was already marked done on") for line in out)

    export = actionbot(database_url, "export", "--history")
    assert export.returncode == 0, export.stderr
    rows = list(csv.DictReader(io.StringIO(export.stdout.lstrip("\ufeff"))))
    done = [r for r in rows if r["action_id"] == "1" and r["new_value"] == "done"]
    assert len(done) == 1
    assert (done[0]["who"], done[0]["source"], done[0]["note"]) == (
        "Amira Khan",
        "console",
        "all 50 audited",
    )


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/action done 99\n", "✗ There is no action #99."),
        ("/action due 1 someday\n", "✗ I can't read 'someday' as a date."),
        ("/action assign 1\n", "✗ Who should own it? Mention them, e.g. @amira."),
        (":as tom\n/action done 1\n", "✗ Only the owner of #1 (Amira Khan) or a chair can"),
        ("/action launch 1\n", "✗ I don't know `/action launch`."),
        ("hello\n", "Commands start with /action, /status or /board"),
    ],
)
def test_bad_input_gets_a_reason(
    database_url: str, tmp_path: Path, typed: str, expected: str
) -> None:
    run = actionbot(database_url, "console", "--demo", stdin=typed, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert any(line.startswith(expected) for line in run.stdout.splitlines()), run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_import_reports_bad_rows(database_url: str, tmp_path: Path) -> None:
    plan = tmp_path / "plan.csv"
    plan.write_text("title,owner,due\nAudit,amira,2026-12-01\nTrain,,1/13/2026\n")
    run = actionbot(database_url, "import", str(plan))
    assert run.returncode == 1
    assert "row 3: due '1/13/2026' is not a real date" in run.stderr
    plan.write_text("title,owner,due\nAudit,amira,2026-12-01\n")
    ok = actionbot(database_url, "import", str(plan))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[-1] == "Imported plan.csv: 1 created, 0 updated, 0 unchanged."


def test_help_lists_every_entry_point() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("serve", "socket", "worker", "console", "migrate", "import", "export", "run"):
        assert command in run.stdout
