"""The names of the changes the evidence trail records, and where a change can come from.

They are stored in `action_history.change`: renaming one needs a migration of the stored rows.
"""

from __future__ import annotations

import enum

#: `source` of every change a plan import makes; changes made in chat name their platform.
IMPORT_SOURCE = "import"


class Change(enum.StrEnum):
    """What one history entry records."""

    CREATED = "created"
    NOTE = "note"
    ASSIGNED = "assigned"
    DUE = "due"
    STATUS = "status"
    BLOCKED_REASON = "blocked_reason"
    RAG = "rag"
    TITLE = "title"
    WORKSTREAM = "workstream"
    PRIORITY = "priority"
    NOTES = "notes"
    SUCCESS_MEASURE = "success_measure"
    CADENCE = "cadence"
    #: The supporting owners, as one list of names (old and new).
    SUPPORTERS = "supporters"
    #: The owner as the plan wrote it, while nobody the bot knows answers to it.
    OWNER_TEXT = "owner_text"
    #: A chair kept the owner's rating against the computed one (old: declared, new:
    #: computed, note: why).
    RAG_ACCEPTED = "rag_accepted"
    #: Evidence added (a note, a link, a file by name, size and SHA-256), in the note.
    EVIDENCE = "evidence"
    #: A chair or the secretary signed a delivered action off (status delivered → done).
    SIGNED_OFF = "signed_off"
    #: A chair or the secretary returned a delivered action (delivered → open), the reason
    #: in the note.
    RETURNED = "returned"
    #: An owner asked for a new deadline: old is the deadline, new the date asked, note why.
    DATE_REQUESTED = "date_requested"
    #: A request for a new date that a newer one (or a chair moving the date) replaced.
    DATE_SUPERSEDED = "date_superseded"
    #: A chair or the secretary declined a request for a new date: note is why.
    DATE_DECLINED = "date_declined"
    #: The deadline moved from one date to another (a request approved, or a chair moving
    #: it): a re-baseline, counted; the baseline stays. Setting a first date is `due`.
    REBASELINED = "rebaselined"
    #: A chair sent the owner a nudge about the action (the actor is the chair).
    NUDGED = "nudged"
    #: A person's role on the board (old and new), recorded in `role_changes`.
    ROLE = "role"

    @property
    def field(self) -> str | None:
        """The field whose old and new values the entry holds; None for an event."""
        return _FIELDS.get(self, self.value)


# "assigned" rather than "owner": the word people search the trail for.
_FIELDS: dict[Change, str | None] = {
    Change.CREATED: None,
    Change.NOTE: None,
    Change.ASSIGNED: "owner",
    Change.EVIDENCE: None,
    Change.SIGNED_OFF: "status",
    Change.RETURNED: "status",
    Change.DATE_REQUESTED: None,
    Change.DATE_SUPERSEDED: None,
    Change.DATE_DECLINED: None,
    Change.REBASELINED: "due",
    Change.NUDGED: None,
}
