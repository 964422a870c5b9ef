"""Typed errors for bad input and broken books.

Every error names the file, the 1-based row (line) number and the reason, so a user can open the
file at the offending line. Nothing in the project raises a bare ``ValueError`` for bad input.
"""

from __future__ import annotations

from pathlib import Path


class ObreconError(Exception):
    """Base class of the project's own errors."""


class InputError(ObreconError):
    """A raw input file cannot be read as its format says.

    ``row`` is the 1-based line/record number in the (decompressed) file, or ``None`` when the
    problem is the file as a whole (missing, truncated archive, empty).
    """

    def __init__(self, path: str | Path, row: int | None, reason: str):
        self.path = str(path)
        self.row = row
        self.reason = reason
        where = f"{self.path}, row {row}" if row is not None else self.path
        super().__init__(f"{where}: {reason}")


class ReplayError(ObreconError):
    """The replayer was asked for something it cannot do (bad arguments, misaligned reference)."""
