"""The outbox's Slack sender and Slack's directory, over HTTP against the fake Slack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.domain import Platform, Status
from bot.outbox.delivery import backoff, deliver
from bot.outbox.pacing import Pacer
from bot.outbox.queue import enqueue
from bot.outbox.sender import SendError
from bot.render import replies
from bot.render.model import ActionView, Message, Paragraph, PersonView
from bot.services.context import Core
from handlers.slack.client import SERVER_ERROR_RETRY_DELAY, build_web_client
from handlers.slack.directory import SlackDirectory
from handlers.slack.sender import SlackSender
from storage.db import transaction
from storage.models import DEFAULT_BOARD_ID, Identity, OutboxMessage, OutboxStatus, Person
from tests.support.fake_slack import FakeSlack
from tests.support.fake_time import FakeTime
from tests.test_slack_blocks import validated
from wiring.root import compose

HELLO = Message(text="Hello <!here>", blocks=[Paragraph(text="Hello <!here>")], ephemeral=False)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_user("UAMIRA", "Amira.Khan@council.example", "Amira Khan")
        fake.add_user("UGONE", "gone@council.example", "Gone Person", deleted=True)
        yield fake


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def sender(slack: FakeSlack, core: Core, time: FakeTime) -> SlackSender:
    # The pacer's waits (Retry-After, the 5xx retry delay) move a fake clock: no real sleeps.
    pacer = Pacer(clock=time.monotonic, sleep=time.sleep)
    return SlackSender(build_web_client("xoxb-test", base_url=slack.api_url), core, pacer=pacer)


def test_dm_is_posted_to_the_user_and_lands_in_their_dm(
    sender: SlackSender, slack: FakeSlack
) -> None:
    delivered = sender.send_to_account("UAMIRA", HELLO)
    assert (delivered.channel, delivered.ref) == ("DUAMIRA", "1700000000.000100")
    [call] = slack.messages_to("UAMIRA")
    assert call.text == "Hello @here"  # Slack's markup in text reads as words, never notifies
    assert call.params["unfurl_links"] is False
    assert call.headers["authorization"] == "Bearer xoxb-test"
    validated(call.blocks or [])


def test_reminder_with_buttons_renders(sender: SlackSender, slack: FakeSlack) -> None:
    view = ActionView(id=3, title="Audit", owner=PersonView(id=1, name="A"), status=Status.OPEN)
    sender.send_to_channel("C0BOARD", replies.assigned_to_you(view, by="Chair"))
    [call] = slack.messages_to("C0BOARD")
    assert [b["type"] for b in call.blocks or []] == ["section", "section", "actions"]


def test_channels_slack_owns() -> None:
    owns = SlackSender.owns_channel
    fake_self = object.__new__(SlackSender)
    assert owns(fake_self, "C0123ABCD") and owns(fake_self, "G0123ABCD")
    assert owns(fake_self, "D0123ABCD") and owns(fake_self, "#improvement-board")
    assert not owns(fake_self, "19:abc@thread.tacv2") and not owns(fake_self, "general")


def test_a_long_rate_limit_is_handed_to_the_outbox(
    sender: SlackSender, slack: FakeSlack, time: FakeTime
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=120)
    with pytest.raises(SendError) as caught:
        sender.send_to_account("UAMIRA", HELLO)
    assert caught.value.permanent is False and caught.value.retry_after == 120
    assert len(slack.calls("chat.postMessage")) == 1  # not slept on inside the call
    # Nor in the next send: the outbox keeps that wait, on its own clock.
    sender.send_to_channel("C0BOARD", HELLO)
    assert time.sleeps == []


def test_a_short_rate_limit_is_waited_out_in_the_sender(
    sender: SlackSender, slack: FakeSlack, time: FakeTime
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=3)
    sender.send_to_account("UAMIRA", HELLO)
    assert [c.outcome for c in slack.calls("chat.postMessage")] == ["ratelimited", "ok"]
    assert time.sleeps == [pytest.approx(3.0)]  # Retry-After, no more (slack_sdk added jitter)


def test_short_rate_limits_and_server_errors_are_retried_by_the_sender(
    sender: SlackSender, slack: FakeSlack, time: FakeTime
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=0)
    slack.fail_next("chat.postMessage", status=503)
    sender.send_to_account("UAMIRA", HELLO)
    outcomes = [c.outcome for c in slack.calls("chat.postMessage")]
    assert outcomes == ["ratelimited", "http_503", "ok"]
    assert time.sleeps == [pytest.approx(SERVER_ERROR_RETRY_DELAY)]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_retried_once_after_a_short_delay(
    status: int, sender: SlackSender, slack: FakeSlack, time: FakeTime
) -> None:
    slack.fail_next("chat.postMessage", status=status)
    delivered = sender.send_to_account("UAMIRA", HELLO)
    assert delivered.channel == "DUAMIRA"
    assert [c.outcome for c in slack.calls("chat.postMessage")] == [f"http_{status}", "ok"]
    assert time.sleeps == [pytest.approx(SERVER_ERROR_RETRY_DELAY)]


def test_a_dropped_connection_is_retried(sender: SlackSender, slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", reset=True)
    sender.send_to_account("UAMIRA", HELLO)
    assert [c.outcome for c in slack.calls("chat.postMessage")] == ["reset", "ok"]


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        ("user_not_found", True),
        ("account_inactive", True),
        ("channel_not_found", True),
        ("not_in_channel", True),
        ("is_archived", True),
        ("cannot_dm_bot", True),
        ("internal_error", False),
        ("invalid_auth", False),
    ],
)
def test_slack_errors_map_to_permanent_or_transient(
    error: str, permanent: bool, sender: SlackSender, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", status=200, error=error)
    with pytest.raises(SendError) as caught:
        sender.send_to_channel("C0BOARD", HELLO)
    assert caught.value.permanent is permanent and error in caught.value.reason


def test_persistent_server_errors_become_a_transient_send_error(
    sender: SlackSender, slack: FakeSlack, time: FakeTime
) -> None:
    slack.fail_next("chat.postMessage", status=500, times=5)
    with pytest.raises(SendError) as caught:
        sender.send_to_channel("C0BOARD", HELLO)
    assert caught.value.permanent is False and caught.value.retry_after is None
    assert len(slack.calls("chat.postMessage")) == 2  # first try and one retry
    assert sum(time.sleeps) == pytest.approx(SERVER_ERROR_RETRY_DELAY)  # then the outbox's turn


def test_a_configured_ceiling_paces_from_the_first_message(
    slack: FakeSlack, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_MAX_SEND_RATE", "2.5")
    core.settings = Settings(_env_file=None, database_url=core.settings.database_url)  # type: ignore[call-arg]
    assert core.settings.slack_max_send_rate == 2.5
    client = build_web_client("xoxb-test", base_url=slack.api_url)
    assert SlackSender(client, core).pacer.rate == 2.5
    monkeypatch.setenv("SLACK_MAX_SEND_RATE", "0")
    with pytest.raises(ValueError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_the_client_leaves_post_message_retries_to_the_sender(slack: FakeSlack) -> None:
    from slack_sdk.errors import SlackApiError

    client = build_web_client("xoxb-test", base_url=slack.api_url)
    for fault in ({"status": 500}, {"status": 429, "retry_after": 0}):
        slack.fail_next("chat.postMessage", **fault)  # type: ignore[arg-type]
        with pytest.raises(SlackApiError):
            client.chat_postMessage(channel="C0BOARD", text="hi")
    assert [c.outcome for c in slack.calls("chat.postMessage")] == ["http_500", "ratelimited"]
    # Other methods keep the client's own short retry.
    slack.fail_next("users.info", status=502)
    assert client.users_info(user="UAMIRA")["user"]["id"] == "UAMIRA"
    assert [c.outcome for c in slack.calls("users.info")] == ["http_502", "ok"]


def test_a_message_slack_keeps_failing_goes_back_to_the_outbox_and_the_rest_go_out(
    sender: SlackSender, slack: FakeSlack, core: Core
) -> None:
    ids = []
    with transaction(core.sessions) as session:
        for user in ("U0ONE", "U0TWO", "U0THREE"):
            person = Person(display_name=user, created_at=core.now())
            person.identities.append(Identity(platform=Platform.SLACK, external_id=user))
            session.add(person)
            session.flush()  # the outbox row refers to the person by id
            outbox_id = enqueue(
                session,
                board_id=DEFAULT_BOARD_ID,
                key=f"reminder:{user}",
                kind="reminder",
                message=HELLO,
                now=core.now(),
                recipient=person,
            )
            assert outbox_id is not None
            ids.append(outbox_id)
    slack.fail_next("chat.postMessage", status=500, times=2)
    report = deliver(core, [sender])
    assert report.retried == ids[:1] and report.sent == ids[1:]
    assert report.paused_until is None  # not a rate limit: the pass went on
    with transaction(core.sessions) as session:
        first = session.get(OutboxMessage, ids[0])
        assert first is not None and first.status == OutboxStatus.PENDING
        assert first.not_before == core.now() + backoff(1)


def test_directory_finds_people_by_id_and_email(slack: FakeSlack) -> None:
    directory = SlackDirectory(build_web_client("xoxb-test", base_url=slack.api_url))
    account = directory.lookup_email(" amira.khan@COUNCIL.example ")
    assert account is not None
    assert (account.platform, account.external_id, account.name) == (
        Platform.SLACK,
        "UAMIRA",
        "Amira Khan",
    )
    assert account.email == "Amira.Khan@council.example"
    assert directory.lookup_id("UAMIRA") == account
    assert directory.lookup_id("UNOBODY") is None  # user_not_found
    assert directory.lookup_email("nobody@council.example") is None  # users_not_found
    assert directory.lookup_id("UGONE") is None  # deactivated
    before = len(slack.calls("users.info"))
    directory.lookup_id("UAMIRA")
    assert len(slack.calls("users.info")) == before  # cached


def test_directory_does_not_hide_a_broken_token(slack: FakeSlack) -> None:
    from slack_sdk.errors import SlackApiError

    slack.fail_next("users.lookupByEmail", status=200, error="invalid_auth")
    directory = SlackDirectory(build_web_client("xoxb-test", base_url=slack.api_url))
    with pytest.raises(SlackApiError):
        directory.lookup_email("amira.khan@council.example")


def test_composition_uses_slack_when_configured(core: Core, slack: FakeSlack) -> None:
    plain = compose(core.settings, clock=core.clock)
    assert plain.slack is None and plain.senders == ()
    assert plain.plan_directory.platform == Platform.CONSOLE
    plain.close()
    configured = compose(
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=core.settings.database_url,
            slack_bot_token="xoxb-test",
            slack_api_url=slack.api_url.rstrip("/"),
        ),
        clock=core.clock,
    )
    assert configured.slack is not None
    assert configured.slack.client.base_url == slack.api_url
    assert [s.platform for s in configured.senders] == [Platform.SLACK]
    assert configured.core.directories[Platform.SLACK] is configured.slack.directory
    directory = configured.plan_directory
    assert directory.platform == Platform.SLACK
    account = directory.lookup_email("amira.khan@council.example")
    assert account is not None and account.external_id == "UAMIRA"
    configured.close()
