"""Events: the App Home tab is drawn each time someone opens it.

https://api.slack.com/events/app_home_opened
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from handlers.slack.deps import SlackDeps
from handlers.slack.interact import publish_home


def register(app: App, deps: SlackDeps) -> None:
    """Listener for app_home_opened (events are acknowledged by Bolt before it runs)."""

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        # The event also fires for the Messages tab, which has nothing to draw.
        if event.get("tab", "home") != "home":
            return
        user = str(event["user"])
        publish_home(deps, deps.caller(user))
