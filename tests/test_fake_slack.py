"""The fake Slack Web API and the request builders behave like Slack, seen from slack_sdk and Bolt.

Everything here goes over real HTTP on loopback; the only waits are the server-side delay
fault and slack_sdk's own Retry-After sleep.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.error import URLError

import pytest
from slack_bolt import Ack, App, BoltRequest, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.support.fake_slack import BOT_ID, BOT_USER_ID, TEAM_ID, FakeSlack
from tests.support.slack_signing import (
    app_home_opened_event,
    block_actions_body,
    datepicker,
    event_body,
    signed_headers,
    slash_command_body,
    text_input,
    users_select,
    view_submission_body,
)

SECRET = "test-signing-secret"

BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*#12* Refresh the plan"}},
    {
        "type": "actions",
        "block_id": "action-12",
        "elements": [
            {
                "type": "button",
                "action_id": "mark_done",
                "value": "12",
                "text": {"type": "plain_text", "text": "Done"},
            }
        ],
    },
]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def client_for(slack: FakeSlack, **kwargs: Any) -> WebClient:
    """A WebClient on the fake with no retry handlers unless given."""
    kwargs.setdefault("retry_handlers", [])
    return WebClient(token="xoxb-test", base_url=slack.api_url, **kwargs)


# --------------------------------------------------------------------------- answers


def test_fake_listens_on_loopback_only(slack: FakeSlack) -> None:
    assert slack.api_url == f"http://127.0.0.1:{slack.port}/api/"
    assert slack.response_url("x").startswith(f"http://127.0.0.1:{slack.port}/response/")


def test_auth_test_names_the_workspace_and_bot(slack: FakeSlack) -> None:
    answer = client_for(slack).auth_test()

    assert answer["team_id"] == TEAM_ID
    assert answer["user_id"] == BOT_USER_ID
    assert answer["bot_id"] == BOT_ID
    assert [c.method for c in slack.calls()] == ["auth.test"]


def test_post_message_is_recorded_with_blocks_intact(slack: FakeSlack) -> None:
    answer = client_for(slack).chat_postMessage(channel="C1", text="Action 12", blocks=BLOCKS)

    [call] = slack.calls("chat.postMessage")
    # slack_sdk sends chat.postMessage as JSON, so the blocks arrive as structures.
    assert call.headers["content-type"].startswith("application/json")
    assert call.headers["authorization"] == "Bearer xoxb-test"
    assert call.blocks == BLOCKS
    assert call.text == "Action 12"
    assert call.ok and call.outcome == "ok"
    assert answer["channel"] == "C1"
    assert answer["message"]["blocks"] == BLOCKS
    assert call.response is not None and call.response["ts"] == answer["ts"]


def test_posts_get_unique_increasing_ts(slack: FakeSlack) -> None:
    client = client_for(slack)
    stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(3)]

    assert stamps[0] == "1700000000.000100"
    assert len(set(stamps)) == 3
    assert stamps == sorted(stamps, key=float)


def test_form_encoded_bodies_are_parsed_and_json_fields_decoded(slack: FakeSlack) -> None:
    client = client_for(slack)
    # conversations.open goes form-encoded; blocks in a form body are a JSON string.
    client.conversations_open(users="U123")
    client.api_call(
        "chat.update", data={"channel": "C1", "ts": "1.2", "blocks": json.dumps(BLOCKS)}
    )

    opened = slack.calls("conversations.open")[0]
    assert opened.headers["content-type"] == "application/x-www-form-urlencoded"
    assert opened.params["users"] == "U123"
    assert slack.calls("chat.update")[0].blocks == BLOCKS


def test_validation_errors_like_slack(slack: FakeSlack) -> None:
    client = client_for(slack)
    with pytest.raises(SlackApiError) as no_text:
        client.api_call("chat.postMessage", json={"channel": "C1"})
    assert no_text.value.response["error"] == "no_text"
    assert slack.calls("chat.postMessage")[0].outcome == "no_text"


def test_blocks_slack_could_not_read_are_refused(slack: FakeSlack) -> None:
    client = client_for(slack)
    too_long = [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]
    for blocks in ([{"type": "section"}], too_long):
        with pytest.raises(SlackApiError) as refused:
            client.chat_postMessage(channel="C1", text="x", blocks=blocks)
        assert refused.value.response["error"] == "invalid_blocks"
    assert client.chat_postMessage(channel="C1", text="x", blocks=BLOCKS)["ok"]


def test_lookup_by_email_hit_and_miss(slack: FakeSlack) -> None:
    slack.add_user("U123", "amira@example.org", "Amira Khan", tz="Europe/London")
    client = client_for(slack)

    found = client.users_lookupByEmail(email="Amira@Example.org")
    assert found["user"]["id"] == "U123"
    assert found["user"]["profile"]["email"] == "amira@example.org"
    assert found["user"]["tz"] == "Europe/London"

    with pytest.raises(SlackApiError) as miss:
        client.users_lookupByEmail(email="nobody@example.org")
    assert miss.value.response["error"] == "users_not_found"
    assert [c.outcome for c in slack.calls("users.lookupByEmail")] == ["ok", "users_not_found"]


def test_users_info_hit_deleted_and_miss(slack: FakeSlack) -> None:
    slack.add_user("U9", "gone@example.org", "Gone Person", deleted=True)
    client = client_for(slack)

    assert client.users_info(user="U9")["user"]["deleted"] is True
    with pytest.raises(SlackApiError) as miss:
        client.users_info(user="U404")
    assert miss.value.response["error"] == "user_not_found"


def test_dm_found_whether_posted_to_user_or_channel(slack: FakeSlack) -> None:
    client = client_for(slack)
    channel = client.conversations_open(users="U123")["channel"]["id"]
    client.chat_postMessage(channel=channel, text="via D id")
    direct = client.chat_postMessage(channel="U123", text="via user id")
    client.chat_postMessage(channel="C1", text="elsewhere")

    assert channel == slack.dm_channel("U123") == "DU123"
    # Slack answers a post to a user id with the DM's channel id.
    assert direct["channel"] == "DU123"
    assert [c.text for c in slack.messages_to("U123")] == ["via D id", "via user id"]
    assert [c.text for c in slack.messages_to("DU123")] == ["via D id", "via user id"]
    assert [c.text for c in slack.messages_to("C1")] == ["elsewhere"]


def test_ephemeral_update_delete_and_unknown_methods(slack: FakeSlack) -> None:
    client = client_for(slack)
    ephemeral = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    posted = client.chat_postMessage(channel="C1", text="v1")
    updated = client.chat_update(channel="C1", ts=posted["ts"], text="v2")
    deleted = client.chat_delete(channel="C1", ts=posted["ts"])
    other = client.reactions_add(channel="C1", timestamp=posted["ts"], name="white_check_mark")

    assert ephemeral["message_ts"]
    assert [c.text for c in slack.ephemerals_to("U1")] == ["only you"]
    assert updated["ts"] == posted["ts"] and updated["text"] == "v2"
    assert deleted["ts"] == posted["ts"]
    assert other["ok"] is True
    assert slack.calls("reactions.add")[0].params["name"] == "white_check_mark"


def test_views_get_ids_and_home_is_one_view_per_user(slack: FakeSlack) -> None:
    client = client_for(slack)
    modal = {"type": "modal", "callback_id": "add", "title": {"type": "plain_text", "text": "Add"}}
    opened = client.views_open(trigger_id="1.2.3", view=modal)["view"]
    pushed = client.views_push(trigger_id="1.2.4", view=modal)["view"]
    updated = client.views_update(view_id=opened["id"], view={**modal, "callback_id": "add2"})
    home = {"type": "home", "blocks": BLOCKS}
    first = client.views_publish(user_id="U1", view=home)["view"]
    second = client.views_publish(user_id="U1", view={**home, "blocks": []})["view"]

    assert opened["id"] != pushed["id"]
    assert opened["callback_id"] == "add"
    assert updated["view"]["id"] == opened["id"]
    assert first["id"] == second["id"]
    assert slack.published_home("U1") == second
    assert slack.published_home("U2") is None


def test_response_url_posts_are_recorded(slack: FakeSlack) -> None:
    # Bolt's respond() posts with slack_sdk's WebhookClient, JSON to the response_url.
    answer = WebhookClient(slack.response_url("cmd-1")).send(
        text="Done #12", response_type="ephemeral"
    )

    assert answer.status_code == 200
    [call] = slack.calls("response_url")
    assert call.path == "/response/cmd-1"
    assert call.params == {"text": "Done #12", "response_type": "ephemeral"}


# --------------------------------------------------------------------------- waiting


def test_wait_for_sees_calls_made_on_other_threads(slack: FakeSlack) -> None:
    client = client_for(slack)
    worker = threading.Thread(
        target=lambda: [client.chat_postMessage(channel="C1", text=str(i)) for i in range(2)]
    )
    worker.start()

    calls = slack.wait_for("chat.postMessage", count=2)
    worker.join()

    assert [c.text for c in calls] == ["0", "1"]


def test_wait_for_timeout_lists_the_calls_seen(slack: FakeSlack) -> None:
    client_for(slack).auth_test()

    with pytest.raises(AssertionError, match=r"chat.postMessage(.|\n)*auth.test -> ok"):
        slack.wait_for("chat.postMessage", timeout=0.05)


def test_clear_forgets_calls(slack: FakeSlack) -> None:
    client_for(slack).auth_test()
    slack.clear()
    assert slack.calls() == []


# --------------------------------------------------------------------------- faults


def test_429_carries_retry_after_and_slack_body(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", retry_after=7)

    with pytest.raises(SlackApiError) as limited:
        client_for(slack).chat_postMessage(channel="C1", text="hi")

    response = limited.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.data == {"ok": False, "error": "ratelimited"}
    assert slack.calls("chat.postMessage")[0].outcome == "ratelimited"
    assert slack.messages_to("C1") == []


def test_429_is_retried_by_rate_limit_handler(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    client = client_for(slack, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])

    answer = client.chat_postMessage(channel="C1", text="hi")

    first, second = slack.calls("chat.postMessage")
    assert (first.outcome, second.outcome) == ("ratelimited", "ok")
    # slack_sdk waited Retry-After (1 s, plus jitter) between the attempts.
    assert second.at - first.at >= 1.0
    assert answer["ok"] is True
    assert len(slack.messages_to("C1")) == 1


def test_server_error_surfaces_without_retry_handler(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", status=500)

    with pytest.raises(SlackApiError) as failed:
        client_for(slack).chat_postMessage(channel="C1", text="hi")

    assert failed.value.response.status_code == 500
    assert [c.outcome for c in slack.calls("chat.postMessage")] == ["http_500"]


def test_ok_false_error_and_times(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", status=200, error="channel_not_found", times=2)
    client = client_for(slack)

    for _ in range(2):
        with pytest.raises(SlackApiError) as failed:
            client.chat_postMessage(channel="C404", text="hi")
        assert failed.value.response["error"] == "channel_not_found"
    client.chat_postMessage(channel="C404", text="hi")

    assert [c.outcome for c in slack.calls()] == ["channel_not_found"] * 2 + ["ok"]


def test_connection_reset_raises(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", reset=True)

    with pytest.raises((ConnectionError, URLError)):
        client_for(slack).chat_postMessage(channel="C1", text="hi")

    assert [c.outcome for c in slack.calls()] == ["reset"]


def test_connection_reset_is_retried_by_connection_handler(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", reset=True)
    client = client_for(slack, retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)])

    client.chat_postMessage(channel="C1", text="hi")

    assert [c.outcome for c in slack.calls()] == ["reset", "ok"]


def test_slow_answer_times_the_client_out_but_slack_still_posted(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", delay=3.0)
    client = client_for(slack, timeout=1)

    started = time.monotonic()
    with pytest.raises((TimeoutError, URLError)):
        client.chat_postMessage(channel="C1", text="late")

    assert time.monotonic() - started < 3.0
    # The request reached Slack: the message exists although the client saw a failure.
    assert [c.text for c in slack.messages_to("C1")] == ["late"]


def test_fail_when_is_persistent_and_selective(slack: FakeSlack) -> None:
    slack.fail_when(
        "chat.postMessage", lambda p: p.get("channel") == "DU9", error="account_inactive"
    )
    client = client_for(slack)

    for _ in range(2):
        with pytest.raises(SlackApiError) as failed:
            client.chat_postMessage(channel="DU9", text="reminder")
        assert failed.value.response["error"] == "account_inactive"
    client.chat_postMessage(channel="C1", text="digest")

    assert slack.messages_to("U9") == []
    assert len(slack.calls("chat.postMessage", ok=False)) == 2
    assert len(slack.calls("chat.postMessage", ok=True)) == 1

    slack.clear_faults()
    client.chat_postMessage(channel="DU9", text="reminder")
    assert len(slack.messages_to("U9")) == 1


def test_faults_apply_to_response_urls(slack: FakeSlack) -> None:
    slack.fail_next("response_url", status=404, error="expired_url")

    answer = WebhookClient(slack.response_url("old")).send(text="too late")

    assert answer.status_code == 404
    assert slack.calls("response_url")[0].outcome == "expired_url"


# --------------------------------------------------------------------------- signing


def test_signed_headers_pass_slack_sdk_verifier() -> None:
    body = slash_command_body(text="done 12")
    headers = signed_headers(body, SECRET)

    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers["X-Slack-Signature"].startswith("v0=")
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)


def test_altered_body_fails_verification() -> None:
    body = slash_command_body(text="done 12")
    headers = signed_headers(body, SECRET)

    assert not SignatureVerifier(SECRET).is_valid_request(body.replace(b"12", b"13"), headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)


def test_six_minute_old_timestamp_fails_verification() -> None:
    body = event_body({"type": "app_mention", "user": "U1", "text": "hi"})
    headers = signed_headers(body, SECRET, timestamp=int(time.time()) - 6 * 60)

    assert headers["Content-Type"] == "application/json"
    assert not SignatureVerifier(SECRET).is_valid_request(body, headers)


# --------------------------------------------------------------------------- Bolt parses them


def test_bolt_parses_every_built_body_and_talks_to_the_fake(slack: FakeSlack) -> None:
    """Each builder's body, signed, reaches the right Bolt listener with the expected fields."""
    seen: dict[str, Any] = {}
    app = App(
        client=client_for(slack),
        signing_secret=SECRET,
        process_before_response=True,  # listeners finish inside dispatch(): no waiting
    )

    @app.command("/action")
    def on_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        seen["command"] = command
        respond(f"Done #{command['text'].split()[-1]}")

    @app.action("mark_done")
    def on_action(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        seen["action"] = (body["user"]["id"], action["value"], body["container"]["message_ts"])

    @app.view("add_action")
    def on_view(ack: Ack, view: dict[str, Any]) -> None:
        ack()
        seen["view"] = (view["state"]["values"], view["private_metadata"])

    @app.event("app_home_opened")
    def on_home(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    def dispatch(body: bytes, headers: dict[str, str] | None = None) -> int:
        request = BoltRequest(body=body.decode(), headers=headers or signed_headers(body, SECRET))
        return app.dispatch(request).status

    state = {
        "title": {"title": text_input("Refresh the plan")},
        "owner": {"owner": users_select("U2")},
        "due": {"due": datepicker("2026-12-01")},
    }
    command = slash_command_body(text="done 12", user_id="U1", response_url=slack.response_url())
    assert dispatch(command) == 200
    assert dispatch(block_actions_body("U1", "mark_done", "12", block_id="action-12")) == 200
    assert dispatch(view_submission_body("U1", "add_action", state, private_metadata="C1")) == 200
    assert dispatch(app_home_opened_event("U1")) == 200
    # A bad signature is refused before any listener runs.
    assert dispatch(command, {**signed_headers(command, "wrong"), "X-Slack-Retry-Num": "0"}) == 401

    assert seen["command"]["text"] == "done 12"
    assert seen["command"]["user_id"] == "U1"
    assert slack.calls("response_url")[0].text == "Done #12"
    assert seen["action"] == ("U1", "12", "1700000000.000100")
    assert seen["view"] == (state, "C1")
    assert slack.published_home("U1") is not None
