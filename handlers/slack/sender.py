"""Delivers outbox messages through Slack's chat.postMessage; maps Slack's errors for the outbox."""

from __future__ import annotations

import logging
import re

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.render.model import Message
from bot.services.context import Core
from bot.services.outbox import Delivered, SendError
from handlers.slack.blocks import render
from handlers.slack.client import retry_after
from storage.models import Platform

log = logging.getLogger(__name__)

#: Conversation ids: C (public), G (private / group DM), D (DM); `#name` for a public channel.
_CHANNEL = re.compile(r"(?:[CGD][A-Z0-9]{6,}|#[a-z0-9][a-z0-9._\-]{0,79})")

#: Errors that will not go away by trying again: the person left, the channel went, or the
#: message itself is wrong. https://api.slack.com/methods/chat.postMessage#errors
PERMANENT_ERRORS = frozenset(
    {
        "user_not_found",
        "user_not_visible",
        "user_disabled",
        "account_inactive",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "cannot_dm_bot",
        "messages_tab_disabled",
        "restricted_action",
        "restricted_action_read_only_channel",
        "team_access_not_granted",
        "ekm_access_denied",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
    }
)


class SlackSender:
    """The outbox's Slack platform: DMs to user ids, posts to channel ids."""

    platform = Platform.SLACK

    def __init__(self, client: WebClient, core: Core) -> None:
        self._client = client
        self._core = core

    def send_to_account(self, external_id: str, message: Message) -> Delivered:
        """DM a user: chat.postMessage with the user id posts in the app's DM with them."""
        return self._post(external_id, message)

    def send_to_channel(self, channel: str, message: Message) -> Delivered:
        """Post to a channel the bot is a member of."""
        return self._post(channel, message)

    def owns_channel(self, channel: str) -> bool:
        """Slack conversation ids (C…, G…, D…) and #names are Slack's."""
        return _CHANNEL.fullmatch(channel) is not None

    def _post(self, channel: str, message: Message) -> Delivered:
        rendered = render(message, today=self._core.today(), tz=self._core.settings.tz)
        try:
            response = self._client.chat_postMessage(
                channel=channel,
                text=rendered.text,
                blocks=rendered.blocks,
                # Our text is already escaped; links and names in it must stay text.
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            raise send_error(exc) from exc
        except (SlackClientError, OSError) as exc:  # timeouts, resets, DNS: try again later
            raise SendError(f"Slack unreachable: {exc}", permanent=False) from exc
        return Delivered(channel=str(response["channel"]), ref=str(response["ts"]))


def send_error(exc: SlackApiError) -> SendError:
    """The outbox's view of a Slack API error: rate limits wait, gone people are permanent."""
    response = exc.response
    error = str(response.get("error") or "") if isinstance(response.data, dict) else ""
    status = response.status_code
    if status == 429 or error == "ratelimited":
        wait = retry_after(response.headers or {})
        return SendError("Slack rate limit (ratelimited)", permanent=False, retry_after=wait)
    if error in PERMANENT_ERRORS:
        return SendError(f"Slack refused the message: {error}", permanent=True)
    return SendError(f"Slack error: {error or f'HTTP {status}'}", permanent=False)
