"""The README's examples, run as a reader would run them: the console walk-through, the piped
console, the import and export commands, and every command the README names in `--help`.

Each runs the installed `actionbot` in a fresh folder (its own SQLite `actionbot.db`, no
`.env`, no platform configured), so what the README promises works on a new checkout.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
ACTIONBOT = Path(sys.executable).parent / "actionbot"


def block_after(marker: str, fence: str = "```") -> str:
    """The first fenced block after the line containing `marker`."""
    start = README.index(marker)
    opened = README.index(fence, start)
    body = README.index("\n", opened) + 1
    return README[body : README.index("\n```", body)]


def clean_env() -> dict[str, str]:
    """The environment without any platform or database setting of the machine running tests."""
    prefixes = ("SLACK_", "TEAMS_", "DATABASE_URL", "BOARD_CHANNEL", "CHAIR_USER_IDS")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def run(command: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """A README command line as a shell runs it, with `.venv/bin/actionbot` the installed one."""
    line = command.replace(".venv/bin/actionbot", shlex.quote(str(ACTIONBOT)))
    return subprocess.run(
        line,
        shell=True,
        cwd=cwd,
        env=clean_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_console_walk_through_runs_as_written(tmp_path: Path) -> None:
    lines = block_after("In the console you are").splitlines()
    typed = [re.sub(r"^\w+> ", "", line) for line in lines if re.match(r"^\w+> ", line)]
    assert typed and any(t.startswith(":as ") for t in typed)
    done = run(".venv/bin/actionbot console --demo", tmp_path, "\n".join(typed) + "\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "✗" not in out, out  # nothing the README tells people to type is refused
    marked = next(t for t in typed if t.startswith("/action done"))
    number = marked.split()[2]
    assert f"Marked #{number} " in out and " as delivered" in out
    signed = out.index(f"Signed off #{number} ")  # a chair signs it off: complete
    mine = out[out.rindex("Your open actions", 0, signed) : signed]
    assert f"#{number} " not in mine  # delivered, so no longer among amira's open actions


def test_commands_can_be_piped_into_the_console(tmp_path: Path) -> None:
    [example] = re.findall(r"`(printf [^`]+\| \.venv/bin/actionbot console)`", README)
    done = run(example, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Improvement plan" in done.stdout and "✗" not in done.stdout


def readme_plan(folder: Path) -> None:
    """The README's `plan.csv`, also saved as the `plan.xlsx` the commands name, and a
    `people.xlsx` with the people it names."""
    text = block_after("`plan.csv` as a board officer might save it", "```csv")
    (folder / "plan.csv").write_text(text, encoding="utf-8")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Improvement Plan"
    for row in csv.reader(io.StringIO(text)):
        sheet.append(row)
    book.save(folder / "plan.xlsx")
    people = Workbook()
    sheet = people.active
    assert sheet is not None
    sheet.append(["Name", "Role", "Organisation", "Email"])
    sheet.append(
        ["Helen Marsh", "Head of Service – Quality", "Council", "helen.marsh@council.example"]
    )
    sheet.append(["Gareth Lowe", "DCS", "Council", "g.lowe@council.example"])
    people.save(folder / "people.xlsx")


def test_the_import_and_export_examples_run_as_written(tmp_path: Path) -> None:
    readme_plan(tmp_path)
    commands = [
        line.split("#", 1)[0].strip() if "  #" in line else line.strip()
        for line in block_after("## Plans in, evidence out").splitlines()
        if line.strip()
    ]
    assert any(" export " in c for c in commands) and any(" import " in c for c in commands)
    migrated = run(".venv/bin/actionbot migrate", tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    for command in commands:
        done = run(command, tmp_path)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        if "--dry-run" in command:
            assert "nothing was changed" in done.stdout
    assert (tmp_path / "register.xlsx").stat().st_size > 0
    history = (tmp_path / "history.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(history) > 1 and "Audit 50 contacts" in "\n".join(history)
    listed = run(".venv/bin/actionbot people list", tmp_path).stdout
    assert "Helen Marsh" in listed


def readme_commands() -> list[str]:
    """The `actionbot` subcommands the README names."""
    named = set(re.findall(r"`actionbot ([a-z][\w-]*)", README))
    named |= set(re.findall(r"\.venv/bin/actionbot ([a-z][\w-]*)", README))
    return sorted(named)


def test_help_lists_every_command_the_readme_names() -> None:
    commands = readme_commands()
    assert {"console", "serve", "worker", "import", "export", "people", "run"} <= set(commands)
    helped = subprocess.run(
        [str(ACTIONBOT), "--help"], capture_output=True, text=True, env=clean_env(), check=False
    )
    assert helped.returncode == 0
    for command in commands:
        assert re.search(rf"\b{command}\b", helped.stdout), command


@pytest.mark.parametrize("command", readme_commands())
def test_each_readme_command_has_help(command: str) -> None:
    helped = subprocess.run(
        [str(ACTIONBOT), command, "--help"],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
    )
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage:")
