"""Boards: which board a command, a job or a message is about, and who holds which role on it."""
