"""The shape of the house: one composition root per process, and layers that point one way."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[1]

#: Run in a fresh interpreter, as a `serve` process starts: build the whole HTTP app from the
#: environment, then count the live objects that must exist once per process.
COUNT_SERVE_PARTS = """
import gc, json
from bot.config import Settings
from bot.outbox.pacing import Pacer
from handlers.slack.directory import SlackDirectory
from handlers.slack.sender import SlackSender
from handlers.teams.connector import Connector
from handlers.teams.sender import TeamsSender
from slack_sdk import WebClient
from wiring.serve import build_app

app = build_app(Settings())
assert app is not None
gc.collect()
kinds = (SlackSender, Pacer, WebClient, SlackDirectory, TeamsSender, Connector)
print(json.dumps({k.__name__: sum(isinstance(o, k) for o in gc.get_objects()) for k in kinds}))
"""


def test_serve_builds_one_sender_and_one_pacer_per_platform(tmp_path: Path) -> None:
    with FakeSlack() as slack:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": slack.api_url,
            "TEAMS_INSECURE_NO_AUTH": "1",
        }
        result = subprocess.run(
            [sys.executable, "-c", COUNT_SERVE_PARTS],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    # Slack and Teams are both on: one pacer each, owned by its sender. A second sender of
    # either platform brings a third pacer, which would spend that platform's allowance twice.
    assert counts == {
        "SlackSender": 1,
        "Pacer": 2,
        "WebClient": 1,
        "SlackDirectory": 1,
        "TeamsSender": 1,
        "Connector": 1,
    }


def _imports(path: Path) -> set[str]:
    """Every module a Python file imports, at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def test_no_adapter_or_core_module_imports_the_composition_root() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in _imports(path) if n.startswith("wiring"))
        for path in _modules("bot", "handlers", "scheduler", "storage")
    }
    # `python -m bot` is the command line's other name; it reaches the CLI, not the root.
    allowed = {"bot/__main__.py": ["wiring.cli"]}
    assert {path: names for path, names in offenders.items() if names} == allowed


def test_the_core_imports_no_platform() -> None:
    platform = ("handlers", "slack_bolt", "slack_sdk", "microsoft_teams", "starlette", "wiring")
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in _imports(path) if n.startswith(platform))
        for path in _modules("bot", "scheduler", "storage")
        if path.name != "__main__.py"
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_storage_imports_nothing_of_ours_above_it() -> None:
    above = ("bot.services", "bot.outbox", "bot.render", "bot.plans", "handlers", "scheduler")
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in _imports(path) if n.startswith(above))
        for path in _modules("storage")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
