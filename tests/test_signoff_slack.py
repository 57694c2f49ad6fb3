"""Delivered, then signed off, on Slack end to end: the real app on a real socket, requests
signed as Slack signs them, the fake Slack Web API on loopback (files.info and the file's
url_private included). An owner's done is delivered with an Add evidence button; the form's
file is read through the bot token for its size and SHA-256 (never stored); the chair's Sign
off and Return buttons do what their commands do."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import inspect as schema
from sqlalchemy import select

from bot.domain import Status
from bot.services.context import Core
from storage.db import transaction
from storage.models import Evidence
from tests import test_slack_http as http
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import block_actions_body, text_input
from tests.test_slack_blocks import all_text, validated
from tests.test_slack_http import (
    AMIRA,
    CHAIR,
    SlackUser,
    action_row,
    add,
    dm,
    history,
    responses,
    wait_until,
)

# The fixtures of the Slack end-to-end tests: the app served on loopback, the fake Slack.
slack, slack_process, slack_core, bot, base = (
    http.slack,
    http.slack_process,
    http.slack_core,
    http.bot,
    http.base,
)
chair, amira, ben = http.chair, http.amira, http.ben

pytestmark = pytest.mark.signoff

EVIDENCE_FORM = "signoff_evidence_form"
RETURN_FORM = "signoff_return_form"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 300 + b"\n%%EOF\n"


def press_command(user: SlackUser, element: dict[str, Any], **where: Any) -> None:
    """Press a button whose value is a command, where it was shown."""
    body = block_actions_body(
        user.user_id,
        element["action_id"],
        element["value"],
        response_url=user.slack.response_url(f"press-{user.user_id}"),
        **where,
    )
    assert user.post(body).status_code == 200


def element(blocks: list[dict[str, Any]], label: str) -> dict[str, Any]:
    for block in blocks:
        for item in block.get("elements", []) if block["type"] == "actions" else []:
            if item["text"]["text"] == label:
                return dict(item)
    raise AssertionError(f"no button {label!r} in {blocks}")


def opened_form(slack: FakeSlack, callback_id: str, count: int = 1) -> dict[str, Any]:
    def forms() -> list[dict[str, Any]]:
        views = [
            json.loads(c.params["view"]) if isinstance(c.params["view"], str) else c.params["view"]
            for c in slack.calls("views.open")
        ]
        return [v for v in views if v["callback_id"] == callback_id]

    wait_until(lambda: len(forms()) >= count, f"the form {callback_id}")
    return forms()[count - 1]


def evidence_rows(core: Core) -> list[Evidence]:
    with transaction(core.sessions) as session:
        rows = list(session.scalars(select(Evidence).order_by(Evidence.id)))
        for row in rows:
            session.expunge(row)
        return rows


def test_delivered_evidence_file_through_the_form_then_signed_off(
    chair: SlackUser, amira: SlackUser, ben: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = add(chair, "Audit 50 case files <@UAMIRA> due 2026-12-04")
    answer = amira.reply(f"done {number}")
    assert answer["text"].startswith("Marked #1 Audit 50 case files as delivered")
    add_evidence = element(answer["blocks"], "Add evidence")
    assert add_evidence["action_id"].startswith("signoff_press_")
    assert action_row(slack_core, number).status == Status.DELIVERED
    # The chair's one message, with Sign off and Return.
    notice = dm(slack, CHAIR)
    assert "Amira Khan delivered #1 Audit 50 case files" in all_text(notice.blocks or [])
    sign_off = element(notice.blocks or [], "Sign off")
    element(notice.blocks or [], "Return")

    # Add evidence opens the form with a file input, a link and a note.
    press_command(amira, add_evidence)
    form = opened_form(slack, EVIDENCE_FORM)
    kinds = [b["element"]["type"] for b in form["blocks"] if b["type"] == "input"]
    assert kinds == ["file_input", "url_text_input", "plain_text_input"]
    slack.add_file("F0AUDIT", "audit-report.pdf", PDF, user=AMIRA)
    values = {
        "file": {"file": {"type": "file_input", "files": [{"id": "F0AUDIT", "name": "x"}]}},
        "link": {"link": {"type": "url_text_input", "value": None}},
        "note": {"note": text_input("the signed audit")},
    }
    response = amira.submit(EVIDENCE_FORM, values, form["private_metadata"])
    assert response.status_code == 200 and response.content in (b"", b"null")
    wait_until(lambda: evidence_rows(slack_core), "the evidence row")
    [kept] = evidence_rows(slack_core)
    assert (kept.kind, kept.platform, kept.file_ref, kept.file_name) == (
        "file",
        "slack",
        "F0AUDIT",
        "audit-report.pdf",
    )
    assert kept.size == len(PDF)
    assert kept.sha256 == hashlib.sha256(PDF).hexdigest()
    assert kept.note == "the signed audit"
    # Never the bytes: the table has no column that could hold them.
    columns = {c["name"] for c in schema(slack_core.sessions.kw["bind"]).get_columns("evidence")}
    assert not columns & {"content", "data", "bytes", "blob"}
    # Read through the bot token, from the address files.info gave.
    assert [c.params["file"] for c in slack.calls("files.info")] == ["F0AUDIT"]
    [download] = slack.calls("files-pri")
    assert download.headers["authorization"] == "Bearer xoxb-test" and download.outcome == "ok"
    entry = [h for h in history(slack_core, number) if h[0] == "evidence"][-1]
    assert entry[2] == (
        f"file audit-report.pdf ({len(PDF):,} bytes, SHA-256 {hashlib.sha256(PDF).hexdigest()}):"
        " the signed audit"
    )
    wait_until(lambda: responses(slack, "press-UAMIRA"), "the answer to the form")
    told = responses(slack, "press-UAMIRA")[-1].params
    assert told["text"].startswith("Added to the evidence of #1 Audit 50 case files: file")

    # A file Slack does not know is refused as Slack refuses it; nothing is kept.
    response = amira.submit(
        EVIDENCE_FORM,
        {"file": {"file": {"type": "file_input", "files": [{"id": "F0NOPE"}]}}},
        form["private_metadata"],
    )
    assert response.status_code == 200
    wait_until(lambda: len(responses(slack, "press-UAMIRA")) >= 2, "the refusal")
    refusal = responses(slack, "press-UAMIRA")[-1].params["text"]
    assert refusal == "Not kept: Slack did not give me the file F0NOPE (file_not_found)."
    assert len(evidence_rows(slack_core)) == 1
    # Nothing at all in the form: the form says so and stays open.
    empty = amira.submit(EVIDENCE_FORM, {}, form["private_metadata"])
    assert empty.json() == {
        "response_action": "errors",
        "errors": {"note": "Add a file, a link or a note."},
    }

    # Ben may not sign off: told beside the message, nothing changes.
    assert notice.response is not None
    where = {"channel_id": notice.response["channel"], "message": notice.response["message"]}
    press_command(ben, sign_off, **where)
    wait_until(lambda: responses(slack, "press-UBEN"), "Ben's refusal")
    assert responses(slack, "press-UBEN")[-1].params["text"] == (
        "Only a chair or the secretary can sign actions off or return them."
    )
    assert action_row(slack_core, number).status == Status.DELIVERED
    # The chair signs off: complete, the notice redrawn in place, Amira told.
    press_command(chair, sign_off, **where)
    wait_until(lambda: action_row(slack_core, number).status == Status.DONE, "the sign-off")
    # Other messages may be redrawn too (buttons taken off the owner's): find the notice's.
    ts = notice.response["ts"]
    wait_until(
        lambda: [c for c in slack.calls("chat.update") if c.params["ts"] == ts],
        "the notice redrawn",
    )
    updated = [c for c in slack.calls("chat.update") if c.params["ts"] == ts][-1]
    assert updated.params["text"].startswith("Signed off #1 Audit 50 case files")
    told_amira = dm(slack, AMIRA, 2)
    assert told_amira.text == "🔵 Sarah Chair signed off #1 Audit 50 case files; it is complete."
    assert history(slack_core, number)[-1][:2] == ("signed_off", "done")


def test_return_through_its_form_tells_the_owner_why(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = add(chair, "Police data <@UAMIRA> due 2026-12-04")
    amira.reply(f"done {number}")
    notice = dm(slack, CHAIR)
    assert notice.response is not None
    where = {"channel_id": notice.response["channel"], "message": notice.response["message"]}
    press_command(chair, element(notice.blocks or [], "Return"), **where)
    form = opened_form(slack, RETURN_FORM)
    assert json.loads(form["private_metadata"])["action"] == number
    empty = chair.submit(
        RETURN_FORM, {"reason": {"reason": text_input("  ")}}, form["private_metadata"]
    )
    assert empty.json()["response_action"] == "errors"
    reason = "the data share is not signed yet"
    response = chair.submit(
        RETURN_FORM, {"reason": {"reason": text_input(reason)}}, form["private_metadata"]
    )
    assert response.status_code == 200
    wait_until(lambda: action_row(slack_core, number).status == Status.OPEN, "the return")
    told = dm(slack, AMIRA, 2)
    assert told.text is not None
    assert told.text.startswith(f"↩️ Sarah Chair returned #1 Police data: “{reason}”.")
    validated(told.blocks or [])
    assert history(slack_core, number)[-1] == ("returned", "open", reason, "Sarah Chair")
    wait_until(lambda: slack.calls("chat.update"), "the notice redrawn")
    assert slack.calls("chat.update")[-1].params["text"].startswith("Returned #1 Police data")


def test_mark_done_on_a_message_says_delivered_with_add_evidence_beside_it(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = add(chair, "Audit 50 case files <@UAMIRA> due 2026-12-04")
    assigned = dm(slack, AMIRA)
    assert amira.press("action_done", number, message=assigned).status_code == 200
    wait_until(lambda: action_row(slack_core, number).status == Status.DELIVERED, "delivered")
    wait_until(lambda: responses(slack, "press-UAMIRA"), "the note beside the message")
    beside = responses(slack, "press-UAMIRA")[-1].params
    assert beside["text"].startswith("Marked #1 Audit 50 case files as delivered")
    validated(beside["blocks"])
    assert element(beside["blocks"], "Add evidence")["action_id"].startswith("signoff_press_")
