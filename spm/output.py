"""Printing for the command line: a line on standard output, a one-line user error."""

from __future__ import annotations

import sys


def say(message: str) -> None:
    """Print one line to standard output at once."""
    print(message, flush=True)


def fail(command: str, message: str, status: int = 2) -> int:
    """Print ``spm <command>: message`` on standard error; return ``status`` (2: a user error)."""
    print(f"spm {command}: {message}", file=sys.stderr, flush=True)
    return status
