"""The composition root and the command line: the one place a process is put together."""
