"""The real web app (Starlette under uvicorn) on 127.0.0.1 in a thread, and Teams activities."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette

_ids = itertools.count(1)


@contextmanager
def running(app: Starlette) -> Iterator[str]:
    """Serve `app` on a free loopback port; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


BOT_ID = "28:bot-app-id"
TENANT = "tenant-1"


def message(
    service_url: str,
    user_id: str,
    text: str = "",
    *,
    name: str = "Someone",
    conversation: str | None = None,
    conversation_type: str = "personal",
    channel_id: str | None = None,
    value: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    tenant: str = TENANT,
) -> dict[str, Any]:
    """A message activity as Teams sends it (only the fields the bot reads, plus a few)."""
    activity: dict[str, Any] = {
        "type": "message",
        "id": f"msg-{next(_ids)}",
        "timestamp": "2026-11-23T09:30:00.000Z",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": user_id, "name": name, "aadObjectId": f"aad-{user_id}"},
        "conversation": {
            "id": conversation or f"a:personal-{user_id}",
            "conversationType": conversation_type,
            "tenantId": tenant,
        },
        "recipient": {"id": BOT_ID, "name": "ActionBot"},
        "channelData": {"tenant": {"id": tenant}},
        "text": text,
        "textFormat": "plain",
    }
    if channel_id:
        activity["channelData"]["channel"] = {"id": channel_id}
        activity["channelData"]["team"] = {"id": channel_id}
    if value is not None:
        activity["value"] = value
    if entities is not None:
        activity["entities"] = entities
    return activity


def installed(
    service_url: str, user_id: str, *, name: str = "Someone", tenant: str = TENANT
) -> dict[str, Any]:
    """The conversationUpdate Teams sends when a user installs the app in personal scope."""
    return {
        "type": "conversationUpdate",
        "id": f"upd-{next(_ids)}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": user_id, "name": name},
        "conversation": {
            "id": f"a:personal-{user_id}",
            "conversationType": "personal",
            "tenantId": tenant,
        },
        "recipient": {"id": BOT_ID, "name": "ActionBot"},
        "membersAdded": [{"id": BOT_ID}],
        "channelData": {"tenant": {"id": tenant}},
    }


def card_action(
    service_url: str,
    user_id: str,
    data: dict[str, Any],
    *,
    reply_to: str,
    conversation: str | None = None,
    conversation_type: str = "personal",
    channel_id: str | None = None,
    tenant: str = TENANT,
) -> dict[str, Any]:
    """The invoke Teams sends when an `Action.Execute` button is pressed on the card that is
    activity `reply_to`; `data` is the button's data with the card's inputs merged in."""
    activity = message(
        service_url,
        user_id,
        conversation=conversation,
        conversation_type=conversation_type,
        channel_id=channel_id,
        tenant=tenant,
    )
    del activity["text"], activity["textFormat"]
    verb = data.get("actionbot")
    activity.update(
        {
            "type": "invoke",
            "name": "adaptiveCard/action",
            "replyToId": reply_to,
            "value": {
                "action": {"type": "Action.Execute", "verb": verb, "data": data},
                "trigger": "manual",
            },
        }
    )
    return activity
