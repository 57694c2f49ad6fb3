"""Requests as Slack sends them to our app: signed headers and the bodies of each kind.

Feed them to ``POST /slack/events`` (over real HTTP, or as a ``BoltRequest``)::

    body = slash_command_body(text="done 12", user_id="U1", response_url=slack.response_url())
    client.post("/slack/events", content=body, headers=signed_headers(body, SECRET))

Payload shapes follow Slack's reference pages (linked on each builder), trimmed to the fields
Bolt and our handlers read plus the identifying ones Slack always sends. Ids default to the
fake workspace of ``tests.support.fake_slack`` so both halves agree.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from tests.support.fake_slack import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    FIRST_TS_SECONDS,
    TEAM_DOMAIN,
    TEAM_ID,
    dm_channel_id,
)

#: The deprecated verification token Slack still puts in payloads; Bolt ignores it.
LEGACY_TOKEN = "legacy-verification-token"

#: Default response_url: loopback port 9 (discard) refuses connections, so a test that forgot
#: to pass FakeSlack.response_url() fails fast instead of reaching for the internet.
UNUSED_RESPONSE_URL = "http://127.0.0.1:9/response/unused"

#: Default trigger_id, in Slack's "digits.digits.hex" shape.
DEFAULT_TRIGGER_ID = "1700000000.1.0123456789abcdef0123456789abcdef"

#: The ts of the message that default block_actions payloads come from.
DEFAULT_MESSAGE_TS = f"{FIRST_TS_SECONDS}.000100"

_event_ids = itertools.count(1)


def signed_headers(
    body: bytes,
    secret: str,
    timestamp: int | None = None,
    *,
    content_type: str | None = None,
) -> dict[str, str]:
    """Headers Slack sends with ``body``: signature, timestamp and content type.

    ``X-Slack-Signature`` is ``v0=`` + hex HMAC-SHA256, keyed with the signing secret, of
    ``v0:{timestamp}:{body}``; ``X-Slack-Request-Timestamp`` is the Unix time in seconds
    (now unless given; apps refuse it when more than five minutes off).
    https://api.slack.com/authentication/verifying-requests-from-slack

    ``Content-Type`` is JSON for a body starting with ``{`` (events), else form-encoded
    (commands and interactivity), unless ``content_type`` says otherwise.
    """
    ts = int(time.time()) if timestamp is None else timestamp
    basestring = b"v0:" + str(ts).encode("ascii") + b":" + body
    digest = hmac.new(secret.encode("utf-8"), basestring, hashlib.sha256).hexdigest()
    if content_type is None:
        is_json = body.lstrip().startswith(b"{")
        content_type = "application/json" if is_json else "application/x-www-form-urlencoded"
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": f"v0={digest}",
    }


def slash_command_body(
    command: str = "/action",
    text: str = "done 12",
    user_id: str = "U1",
    user_name: str = "amira",
    channel_id: str = "C1",
    team_id: str = TEAM_ID,
    response_url: str = UNUSED_RESPONSE_URL,
    trigger_id: str = DEFAULT_TRIGGER_ID,
    *,
    channel_name: str = "board",
) -> bytes:
    """A slash command invocation, form-encoded as Slack posts it.

    https://api.slack.com/interactivity/slash-commands#app_command_handling
    """
    fields = {
        "token": LEGACY_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return urlencode(fields).encode("utf-8")


def _user(user_id: str, user_name: str, team_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def _interaction_body(payload: dict[str, Any]) -> bytes:
    # Interactivity arrives form-encoded with the JSON in a single "payload" field.
    # https://api.slack.com/interactivity/handling#payloads
    return urlencode({"payload": json.dumps(payload)}).encode("utf-8")


def block_actions_body(
    user_id: str,
    action_id: str,
    value: str,
    block_id: str = "actions",
    message: dict[str, Any] | None = None,
    channel_id: str | None = None,
    response_url: str = UNUSED_RESPONSE_URL,
    trigger_id: str = DEFAULT_TRIGGER_ID,
    *,
    team_id: str = TEAM_ID,
    user_name: str = "amira",
    action_type: str = "button",
    view: dict[str, Any] | None = None,
) -> bytes:
    """A click on an interactive element (a button by default), as ``payload=<json>``.

    From a message by default: in ``channel_id`` (default: the user's DM with the bot) on
    ``message`` (default: a bot message with ts ``DEFAULT_MESSAGE_TS``). Pass ``view`` (e.g.
    the App Home view) for a click in a view instead; such payloads carry no response_url.
    https://api.slack.com/reference/interaction-payloads/block-actions
    """
    action: dict[str, Any] = {
        "type": action_type,
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "action_ts": f"{int(time.time())}.000001",
    }
    if action_type == "button":
        action["text"] = {"type": "plain_text", "text": value, "emoji": True}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": APP_ID,
        "token": LEGACY_TOKEN,
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [action],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V00001")}
        payload["view"] = view
        return _interaction_body(payload)

    channel = channel_id or dm_channel_id(user_id)
    if message is None:
        message = {
            "type": "message",
            "subtype": "bot_message",
            "text": "",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": team_id,
            "ts": DEFAULT_MESSAGE_TS,
            "blocks": [],
        }
    payload["container"] = {
        "type": "message",
        "message_ts": message.get("ts", DEFAULT_MESSAGE_TS),
        "channel_id": channel,
        "is_ephemeral": False,
    }
    payload["channel"] = {"id": channel, "name": "directmessage" if channel[:1] == "D" else ""}
    payload["message"] = message
    payload["response_url"] = response_url
    return _interaction_body(payload)


def view_submission_body(
    user_id: str,
    callback_id: str,
    state_values: dict[str, dict[str, dict[str, Any]]],
    private_metadata: str = "",
    *,
    team_id: str = TEAM_ID,
    user_name: str = "amira",
    view_id: str = "V00001",
    trigger_id: str = DEFAULT_TRIGGER_ID,
) -> bytes:
    """A modal submitted, as ``payload=<json>``.

    ``state_values`` is ``{block_id: {action_id: element_state}}``; build element states with
    text_input(), users_select(), datepicker() and static_select().
    https://api.slack.com/reference/interaction-payloads/views#view_submission
    """
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, user_name, team_id),
        "api_app_id": APP_ID,
        "token": LEGACY_TOKEN,
        "trigger_id": trigger_id,
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": state_values},
            "hash": f"{FIRST_TS_SECONDS}.abcdef01",
            "title": {"type": "plain_text", "text": "Action", "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": {"type": "plain_text", "text": "Save", "emoji": True},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": APP_ID,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": BOT_ID,
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _interaction_body(payload)


def text_input(value: str | None) -> dict[str, Any]:
    """State of a ``plain_text_input`` element (``None``: left empty)."""
    return {"type": "plain_text_input", "value": value}


def users_select(user_id: str | None) -> dict[str, Any]:
    """State of a ``users_select`` element."""
    return {"type": "users_select", "selected_user": user_id}


def datepicker(date: str | None) -> dict[str, Any]:
    """State of a ``datepicker`` element; ``date`` is ``YYYY-MM-DD``."""
    return {"type": "datepicker", "selected_date": date}


def static_select(value: str | None, text: str | None = None) -> dict[str, Any]:
    """State of a ``static_select`` element."""
    option = None
    if value is not None:
        label = value if text is None else text
        option = {"text": {"type": "plain_text", "text": label, "emoji": True}, "value": value}
    return {"type": "static_select", "selected_option": option}


def event_body(
    event: dict[str, Any],
    *,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    event_id: str | None = None,
    event_time: int | None = None,
) -> bytes:
    """An Events API ``event_callback`` envelope around ``event``, as JSON.

    Each call gets a fresh ``event_id`` unless given (Slack retries reuse it).
    https://api.slack.com/apis/connections/events-api#callback-field
    """
    envelope = {
        "token": LEGACY_TOKEN,
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_event_ids):08d}",
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(envelope).encode("utf-8")


def app_home_opened_event(
    user_id: str,
    *,
    tab: str = "home",
    channel: str | None = None,
    view: dict[str, Any] | None = None,
) -> bytes:
    """The whole ``event_callback`` body (bytes) for ``user_id`` opening the App Home tab.

    ``view`` is the Home view Slack includes once one was published.
    https://api.slack.com/events/app_home_opened
    """
    now = time.time()
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel or dm_channel_id(user_id),
        "tab": tab,
        "event_ts": f"{now:.6f}",
    }
    if view is not None:
        event["view"] = view
    return event_body(event, event_time=int(now))
