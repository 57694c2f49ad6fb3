"""The Slack app manifest creates an app that matches what the code listens for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from handlers.slack import blocks
from handlers.slack import forms as modals

MANIFEST = Path(__file__).resolve().parents[1] / "deploy" / "slack" / "manifest.yml"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_slash_commands_point_at_the_events_url_and_escape_mentions(
    manifest: dict[str, Any],
) -> None:
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {"/action", "/status", "/board"}
    for command in commands.values():
        assert command["url"].endswith("/slack/events")
        # owners are resolved from <@U…> mentions, which Slack only sends with should_escape
        assert command["should_escape"] is True
        assert command["description"] and len(command["description"]) <= 100


def test_interactivity_events_and_home_tab(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert settings["event_subscriptions"]["bot_events"] == [
        "app_home_opened",
        "message.im",
        "app_uninstalled",
        "tokens_revoked",
    ]
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] is True and home["messages_tab_enabled"] is True
    # Replies to reminders are written in the Messages tab, so people must be able to type.
    assert home["messages_tab_read_only_enabled"] is False


def test_every_event_the_app_listens_for_is_subscribed(manifest: dict[str, Any]) -> None:
    """The events Bolt listens for (handlers/slack/events.py) are the manifest's bot events:
    `message` in a DM arrives as `message.im`, which needs `im:history`."""
    from handlers.slack import events

    class Recorder:
        """Stands in for Bolt's App: records the events listeners are registered for."""

        def __init__(self) -> None:
            self.events: list[str] = []

        def event(self, name: str) -> Callable[[object], object]:
            self.events.append(name)
            return lambda listener: listener

    app = Recorder()
    # With the install flow on (many workspaces), uninstalls and revocations are listened for.
    installable = SimpleNamespace(workspaces=SimpleNamespace(store=None))
    events.register(app, installable)  # type: ignore[arg-type]
    listened = set(app.events)
    subscribed = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"message.im" if e == "message" else e for e in listened} == subscribed
    assert {"app_uninstalled", "tokens_revoked"} <= subscribed
    assert "im:history" in manifest["oauth_config"]["scopes"]["bot"]


def test_the_install_flow_redirects_to_the_manifests_url_with_its_scopes(
    manifest: dict[str, Any],
) -> None:
    """Slack sends installers back to a redirect URL the manifest lists, and the install asks
    for the scopes the manifest asks for (bot/config.py's default SLACK_SCOPES)."""
    from bot.config import SLACK_SCOPES

    [redirect] = manifest["oauth_config"]["redirect_urls"]
    assert redirect.endswith("/slack/oauth_redirect")
    assert redirect.startswith(
        manifest["settings"]["event_subscriptions"]["request_url"].removesuffix("/slack/events")
    )
    assert list(SLACK_SCOPES) == manifest["oauth_config"]["scopes"]["bot"]


def test_scopes_cover_every_web_api_method_the_bot_calls(manifest: dict[str, Any]) -> None:
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # chat.postMessage/update: chat:write; DMs: im:write; users.info: users:read;
    # users.lookupByEmail and profile emails: users:read.email; slash commands: commands.
    # views.open/publish need no scope.
    # Replies in the DM (message.im): im:history. A file given as evidence (files.info and
    # its url_private): files:read. The board pack's upload (files.getUploadURLExternal,
    # files.completeUploadExternal): files:write.
    assert scopes == {
        "files:read",
        "files:write",
        "commands",
        "chat:write",
        "im:write",
        "im:history",
        "users:read",
        "users:read.email",
    }


def test_display_information_within_slack_limits(manifest: dict[str, Any]) -> None:
    info = manifest["display_information"]
    assert 1 <= len(info["name"]) <= 35
    assert len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    assert len(manifest["features"]["bot_user"]["display_name"]) <= 80


def test_code_constants_match_what_the_manifest_enables() -> None:
    assert blocks.BUTTON_ACTION_IDS == ("action_done", "action_update", "action_blocked")
    assert len({modals.ADD_FORM, modals.UPDATE_FORM, modals.BLOCKED_FORM}) == 3
