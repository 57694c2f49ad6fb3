"""The plan's rules, independent of storage and chat: enums, history names, status moves."""

from bot.domain.changes import IMPORT_SOURCE, Change
from bot.domain.enums import OPEN_STATUSES, Platform, Rag, Role, Status

__all__ = ["IMPORT_SOURCE", "OPEN_STATUSES", "Change", "Platform", "Rag", "Role", "Status"]
