"""The plan's rules, independent of storage and chat: enums, history names, status moves."""

from bot.domain.enums import OPEN_STATUSES, Platform, Rag, Role, Status
from bot.domain.history import IMPORT_SOURCE, Change

__all__ = ["IMPORT_SOURCE", "OPEN_STATUSES", "Change", "Platform", "Rag", "Role", "Status"]
