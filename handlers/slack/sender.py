"""Delivers outbox messages through Slack's chat.postMessage; maps Slack's errors for the outbox.

The sender paces its posts (bot/outbox/pacing.py) and retries them itself: a 429 lowers the
pace and is waited out here when Slack asks for at most MAX_INLINE_RETRY_AFTER seconds, a 5xx
is retried once after a short delay; beyond that the row goes back to the outbox, which
retries it later while the next rows go out.

Many workspaces: a message for a board goes with the token of the board's workspace
(`workspace`, its Slack team id; None: the single workspace), found through the installation
store (handlers/slack/install.py, cached per process), and is paced per workspace and method,
so one busy workspace never slows another. A workspace the app was uninstalled from is
refused for good, with the reason kept on the row.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain import Platform
from bot.outbox.pacing import Backlogged, Pacer, Pacers
from bot.outbox.sender import Delivered, SendError
from bot.render.model import Counts, Heading, Message, Paragraph
from bot.services.context import Core
from handlers.slack.blocks import SlackMessage, escape, render
from handlers.slack.client import (
    MAX_INLINE_RETRY_AFTER,
    SERVER_ERROR_RETRIES,
    SERVER_ERROR_RETRY_DELAY,
    in_workspace,
    retry_after,
)

if TYPE_CHECKING:
    from handlers.slack.install import Workspaces

log = logging.getLogger(__name__)

#: Conversation ids: C (public), G (private / group DM), D (DM); `#name` for a public channel.
_CHANNEL = re.compile(r"(?:[CGD][A-Z0-9]{6,}|#[a-z0-9][a-z0-9._\-]{0,79})")
#: A conversation's id, which Slack's upload API needs (not a #name).
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{6,}")

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


#: 429s waited out inside one send before the row is handed back to the outbox.
RATE_LIMIT_RETRIES = 2

#: Answers to a token that no longer works: the app was uninstalled or its tokens revoked
#: (perhaps by another process, whose news this one's cache has not had yet).
#: https://api.slack.com/methods/chat.postMessage#errors
TOKEN_GONE = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired"})

POST = "chat.postMessage"
UPLOAD = "files.completeUploadExternal"


class SlackSender:
    """The outbox's Slack platform: DMs to user ids, posts to channel ids."""

    platform = Platform.SLACK

    def __init__(
        self,
        client: WebClient,
        core: Core,
        *,
        pacer: Pacer | None = None,
        workspaces: Workspaces | None = None,
        new_pacer: Callable[[], Pacer] | None = None,
    ) -> None:
        self._client = client
        self._core = core
        self._workspaces = workspaces
        # One pacer per workspace and method, shared by the sender's threads: Slack's limits
        # are per app, workspace and method. `pacer` is the single workspace's for posts.
        self.pacer = pacer or Pacer(ceiling=core.settings.slack_max_send_rate)
        self.pacers = Pacers(new_pacer or self.pacer.sibling)
        self.pacers.put(None, POST, self.pacer)

    def send_to_account(
        self, external_id: str, message: Message, *, workspace: str | None = None
    ) -> Delivered:
        """DM a user: chat.postMessage with the user id posts in the app's DM with them."""
        with self._in(workspace):
            return self._post(external_id, message, workspace)

    def send_to_channel(
        self, channel: str, message: Message, *, workspace: str | None = None
    ) -> Delivered:
        """Post to a channel the bot is a member of; a board pack's files are uploaded into
        it with the message as their comment."""
        with self._in(workspace):
            if message.files is not None and _CHANNEL_ID.fullmatch(channel):
                return self._upload(channel, message, workspace)
            # A #name cannot take an upload (Slack wants the channel's id): the message, which
            # carries the pack's link, is posted alone.
            return self._post(channel, message, workspace)

    def _in(self, workspace: str | None) -> contextlib.AbstractContextManager[None]:
        """Calls go with the token of `workspace` (the single workspace's when None)."""
        if self._workspaces is None:
            return contextlib.nullcontext()
        own = getattr(self._client, "_own_token", None)
        if workspace is None and isinstance(own, str) and own:
            # SLACK_BOT_TOKEN's workspace, even when a request of another is in hand.
            return in_workspace(own)
        token = self._workspaces.token_for(workspace)
        if token is None:
            where = f"workspace {workspace}" if workspace else "the board's workspace"
            raise SendError(
                f"the Slack app is not installed in {where} (uninstalled, or never installed)",
                permanent=True,
            )
        return in_workspace(token)

    def _upload(self, channel: str, message: Message, workspace: str | None) -> Delivered:
        """Slack's upload API, through slack_sdk's files_upload_v2: files.getUploadURLExternal
        per file, the bytes POSTed to its upload_url, then files.completeUploadExternal
        sharing them all in `channel` with one comment."""
        from bot.pack.build import pack_file

        assert message.files is not None
        uploads = []
        for name in message.files.names:
            content = pack_file(self._core, message.files.pack_id, name)
            if content is None:
                raise SendError(f"board pack {message.files.pack_id} has no {name}", permanent=True)
            uploads.append({"content": content, "filename": name, "title": name})
        try:
            self.pacers.get(workspace, UPLOAD).acquire(max_wait=MAX_INLINE_RETRY_AFTER)
        except Backlogged as exc:
            raise SendError(
                "Slack rate limit (waiting for Retry-After)", permanent=False, retry_after=exc.wait
            ) from None
        try:
            self._client.files_upload_v2(
                file_uploads=uploads, channel=channel, initial_comment=upload_comment(message)
            )
        except SlackApiError as exc:
            raise self._refused(exc, workspace) from exc
        except (SlackClientError, OSError) as exc:
            raise SendError(f"Slack unreachable: {exc}", permanent=False) from exc
        return Delivered(channel=channel)

    def owns_channel(self, channel: str) -> bool:
        """Slack conversation ids (C…, G…, D…) and #names are Slack's."""
        return _CHANNEL.fullmatch(channel) is not None

    def edit_message(
        self, channel: str, ref: str, message: Message, *, workspace: str | None = None
    ) -> None:
        """Redraw a message the bot sent (chat.update), e.g. without an action's buttons."""
        rendered = render(message, today=self._core.today(), tz=self._core.settings.tz)
        try:
            with self._in(workspace):
                self._client.chat_update(
                    channel=channel, ts=ref, text=rendered.text, blocks=rendered.blocks
                )
        except SlackApiError as exc:
            raise self._refused(exc, workspace) from exc
        except (SlackClientError, OSError) as exc:
            raise SendError(f"Slack unreachable: {exc}", permanent=False) from exc

    def _refused(self, exc: SlackApiError, workspace: str | None) -> SendError:
        """The outbox's view of a refusal; a token that stopped working is forgotten, so the
        next send reads the workspace's installation again."""
        error = send_error(exc)
        data = exc.response.data
        code = data.get("error") if isinstance(data, dict) else None
        if code in TOKEN_GONE and self._workspaces is not None:
            self._workspaces.forget(workspace)
        return error

    def _post(self, channel: str, message: Message, workspace: str | None = None) -> Delivered:
        rendered = render(message, today=self._core.today(), tz=self._core.settings.tz)
        pacer = self.pacers.get(workspace, POST)
        server_errors = rate_limits = 0
        delay = 0.0
        while True:
            try:
                pacer.acquire(after=delay, max_wait=MAX_INLINE_RETRY_AFTER)
            except Backlogged as exc:
                # The pace Slack taught us leaves no slot soon: the outbox waits, not this thread.
                raise SendError(
                    "Slack rate limit (waiting for Retry-After)",
                    permanent=False,
                    retry_after=exc.wait,
                ) from None
            try:
                return self._call(channel, rendered)
            except SlackApiError as exc:
                error = send_error(exc)
                if _rate_limited(exc):
                    wait = error.retry_after or 0.0
                    inline = rate_limits < RATE_LIMIT_RETRIES and wait <= MAX_INLINE_RETRY_AFTER
                    # A longer wait is the outbox's: it pauses the pass and keeps the row's
                    # retry time on the core's clock.
                    pacer.throttled(error.retry_after, hold=inline)
                    if not inline:
                        raise error from exc
                    rate_limits += 1
                    delay = 0.0  # acquire() waits out the Retry-After
                    continue
                if exc.response.status_code >= 500 and server_errors < SERVER_ERROR_RETRIES:
                    server_errors += 1
                    delay = SERVER_ERROR_RETRY_DELAY
                    log.info("Slack answered HTTP %s; retrying once", exc.response.status_code)
                    continue
                raise self._refused(exc, workspace) from exc
            except (SlackClientError, OSError) as exc:  # timeouts, resets, DNS: try again later
                raise SendError(f"Slack unreachable: {exc}", permanent=False) from exc

    def _call(self, channel: str, rendered: SlackMessage) -> Delivered:
        response = self._client.chat_postMessage(
            channel=channel,
            text=rendered.text,
            blocks=rendered.blocks,
            # Our text is already escaped; links and names in it must stay text.
            unfurl_links=False,
            unfurl_media=False,
        )
        return Delivered(channel=str(response["channel"]), ref=str(response["ts"]))


def upload_comment(message: Message) -> str:
    """The message as the comment of an upload (mrkdwn text, no blocks): its heading in bold,
    its figures on one line, its paragraphs; the summary when it has none of these."""
    lines: list[str] = []
    for block in message.blocks:
        if isinstance(block, Heading):
            lines.append(f"*{escape(block.text)}*")
        elif isinstance(block, Counts):
            lines.append(" · ".join(f"{escape(c.label)} *{c.value}*" for c in block.items))
        elif isinstance(block, Paragraph):
            lines.append(escape(block.text))
    return "\n".join(lines) or escape(message.text)


def _rate_limited(exc: SlackApiError) -> bool:
    data = exc.response.data
    error = data.get("error") if isinstance(data, dict) else None
    return exc.response.status_code == 429 or error == "ratelimited"


def send_error(exc: SlackApiError) -> SendError:
    """The outbox's view of a Slack API error: rate limits wait, gone people are permanent."""
    response = exc.response
    error = str(response.get("error") or "") if isinstance(response.data, dict) else ""
    status = response.status_code
    if _rate_limited(exc):
        wait = retry_after(response.headers or {})
        return SendError("Slack rate limit (ratelimited)", permanent=False, retry_after=wait)
    if error in PERMANENT_ERRORS:
        return SendError(f"Slack refused the message: {error}", permanent=True)
    return SendError(f"Slack error: {error or f'HTTP {status}'}", permanent=False)
