"""The error every CLI command raises for a problem with how it was called (exit 2).

In a module of its own so that ``python -m makini_desktop.cli`` (where ``cli`` runs as
``__main__``) and the command modules share one class.
"""


class UsageError(Exception):
    """A problem with how the command was called; exit 2 with the message."""
