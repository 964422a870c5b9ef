"""Columns too long for memory, written to a scratch directory block by block and read back by
ranges or indices (:class:`Spill`).

Each column is one flat binary file (native byte order) in a temporary directory (the system's,
``TMPDIR``); the directory is removed by :meth:`Spill.close` (a writer that fails), else when
the :class:`Spill` is garbage collected or at exit.
A read maps the file only for that read (:class:`numpy.memmap`, dropped at once), so that a
day-sized column costs memory only for the values read, never for the whole file.

A killed process (SIGKILL, the OOM killer) runs none of those, so the directory's name says whose
it is: ``obrecon-spill-<boot>-<ns>-<pid>-<start>-<random>``, the kernel's boot id
(``/proc/sys/kernel/random/boot_id``), the owner's pid namespace (the inode of
``/proc/self/ns/pid``), its pid and its start time in clock ticks since boot (``/proc/<pid>/stat``'s
22nd field). A pid is reused by a later process but never with the same start time in the same
boot, so an owner of this boot and namespace is alive exactly when ``/proc/<pid>/stat`` shows that
start time and a state other than zombie or dead. An owner of another boot (another machine
sharing the directory, or this one before a reboot) or namespace (a container sharing ``/tmp``)
cannot be looked up and counts as alive. Every new :class:`Spill` first removes the directories of
owners no longer alive (:func:`remove_orphans`); a dead owner stays dead, so the check cannot go
stale, and two removers at once are arbitrated by an atomic rename of the orphan into a directory
of the remover's own, which only one of them wins.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

#: what every scratch directory's name starts with
PREFIX = "obrecon-spill-"
_NAME = re.compile(re.escape(PREFIX) + r"([0-9a-f]{32}-\d+)-(\d+)-(\d+)-")
_PROC = Path("/proc")


def _host() -> str | None:
    """Where this process's pids mean something: ``<boot id, 32 hex digits>-<pid namespace's
    inode>``; ``None`` without ``/proc`` (then no owner is judged dead)."""
    try:
        boot = (_PROC / "sys/kernel/random/boot_id").read_text().strip().replace("-", "")
        namespace = os.readlink(_PROC / "self/ns/pid")  # pid:[4026531836]
    except OSError:
        return None
    return f"{boot}-{namespace.strip('pid:[]')}"


def _start_time(pid: int) -> int | None:
    """The start time in clock ticks since boot of the running process ``pid``, ``None`` if no
    such process runs (none, a zombie, or dead). The fields after the command's closing
    parenthesis (the command may hold spaces and parentheses): state, then the start time 19 on."""
    try:
        fields = (_PROC / str(pid) / "stat").read_bytes().rpartition(b")")[2].split()
    except OSError:
        return None
    return None if fields[0] in (b"Z", b"X", b"x") else int(fields[19])


def _owner_prefix() -> str:
    """The name prefix of this process's scratch directories (pid read each time: a forked child
    is another owner)."""
    pid = os.getpid()
    return f"{PREFIX}{_host()}-{pid}-{_start_time(pid)}-"


def _alive(name: str, host: str) -> bool:
    """Whether the owner named in a scratch directory's ``name`` may still run (a name of another
    form, boot or pid namespace has no owner that can be looked up, and counts as alive)."""
    m = _NAME.match(name)
    return m is None or m[1] != host or _start_time(int(m[2])) == int(m[3])


def _mine(entry: os.DirEntry) -> bool:
    """Whether ``entry`` is a directory (not a link) of this user's, ``False`` once it is gone
    (another remover renamed it)."""
    try:
        return entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_uid == os.getuid()
    except OSError:
        return False


def remove_orphans(root: str | None = None) -> list[Path]:
    """Remove the scratch directories in ``root`` (the system's temporary directory) of owners no
    longer alive, this user's only; the paths removed, by their orphan names. Each is first
    renamed to a name of this process's (:func:`os.rename` is atomic: of two removers one wins,
    the other skips it), so a remover killed halfway leaves an orphan of its own for the next."""
    host = _host()
    if host is None:
        return []
    root = Path(root or tempfile.gettempdir())
    removed = []
    with os.scandir(root) as entries:
        orphans = [e for e in entries if e.name.startswith(PREFIX) and not _alive(e.name, host) and _mine(e)]
    for entry in orphans:
        mine = Path(tempfile.mkdtemp(prefix=_owner_prefix(), dir=root))
        try:
            os.rename(entry.path, mine / "orphan")
        except OSError:  # another remover took it first
            mine.rmdir()
            continue
        shutil.rmtree(mine)
        removed.append(Path(entry.path))
    return removed


class Spill:
    """Named columns appended block by block (:meth:`append`), read by index (:meth:`gather`)
    or whole (:meth:`read`)."""

    def __init__(self, dtypes: dict[str, type]):
        self.dtypes = {k: np.dtype(dt) for k, dt in dtypes.items()}
        remove_orphans()
        self._dir = tempfile.TemporaryDirectory(prefix=_owner_prefix())
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
