"""The casecraft command's failures: each is one line that says what to do, never a traceback."""

from __future__ import annotations


class CommandError(Exception):
    """The command cannot go on; ``str(error)`` is the one line to show (without the
    ``casecraft:`` prefix the command adds)."""


class UsageError(CommandError):
    """An argument the command cannot use (a missing file, an unknown component); refused before
    any service starts."""
