"""Columns too long for memory, written to a scratch directory block by block and read back by
ranges or indices (:class:`Spill`).

Each column is one flat binary file (native byte order) in a temporary directory (the system's,
``TMPDIR``); the directory is removed by :meth:`Spill.close` (a writer that fails), else when
the :class:`Spill` is garbage collected or at exit.
A read maps the file only for that read (:class:`numpy.memmap`, dropped at once), so that a
day-sized column costs memory only for the values read, never for the whole file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np


class Spill:
    """Named columns appended block by block (:meth:`append`), read by index (:meth:`gather`)
    or whole (:meth:`read`)."""

    def __init__(self, dtypes: dict[str, type]):
        self.dtypes = {k: np.dtype(dt) for k, dt in dtypes.items()}
        self._dir = tempfile.TemporaryDirectory(prefix="obrecon-spill-")
        self.lengths = dict.fromkeys(self.dtypes, 0)

    def close(self) -> None:
        """Remove the scratch directory now (its columns cannot be read afterwards)."""
        self._dir.cleanup()

    def _path(self, name: str) -> Path:
        return Path(self._dir.name) / f"{name}.bin"

    def append(self, values: dict[str, np.ndarray]) -> None:
        """Append the arrays of some of the columns (each in its column's dtype)."""
        for name, v in values.items():
            with self._path(name).open("ab") as fh:
                np.ascontiguousarray(v, dtype=self.dtypes[name]).tofile(fh)
            self.lengths[name] += len(v)

    def read(self, name: str) -> np.ndarray:
        """The whole column in memory."""
        return np.fromfile(self._path(name), dtype=self.dtypes[name]) if self.lengths[name] else \
            np.zeros(0, dtype=self.dtypes[name])

    def gather(self, name: str, index: np.ndarray | slice) -> np.ndarray:
        """The column's values at ``index`` (int positions or a slice), a copy in memory."""
        if not self.lengths[name]:
            return np.zeros(0, dtype=self.dtypes[name])[index]
        mapped = np.memmap(self._path(name), dtype=self.dtypes[name], mode="r", shape=(self.lengths[name],))
        out = np.array(mapped[index])
        del mapped
        return out

    def searchsorted(self, name: str, value: int, side: str = "left", lo: int = 0, hi: int | None = None) -> int:
        """:func:`numpy.searchsorted` of ``value`` in the sorted column's ``[lo, hi)`` (a binary
        search: only the pages it visits are read)."""
        hi = self.lengths[name] if hi is None else hi
        if hi <= lo:
            return lo
        mapped = np.memmap(self._path(name), dtype=self.dtypes[name], mode="r", shape=(self.lengths[name],))
        at = lo + int(np.searchsorted(mapped[lo:hi], value, side))
        del mapped
        return at
