"""Atomic file writes: a failed write leaves the previous file intact; and the one writers' lock.

Data goes to a temporary file in the destination's own directory, is flushed and fsynced, and then
``os.replace``-d over the destination (atomic on POSIX file systems). The temporary file is created
with the process umask (mode ``0o666 & ~umask``, like any file a user writes), so the renamed file
is readable by whoever the umask allows (``mkstemp`` would make it ``0600``).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import polars as pl

#: what every temporary file of this module ends with (recovery removes the ones left by a kill)
TMP_SUFFIX = ".tmp"


def temporary_path(dest: Path) -> Path:
    """A new, empty file beside ``dest`` (``.<name>.<random>.tmp``), created with the umask."""
    while True:
        tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}{TMP_SUFFIX}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


@contextmanager
def atomic_path(dest: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``dest``; on success it replaces ``dest``."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = temporary_path(dest)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, dest)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextmanager
def exclusive_lock(path: str | Path, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing; released by the kernel if the
    process dies); yields False at once when ``blocking`` is False and another process holds it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def write_parquet(frame: pl.DataFrame, dest: str | Path) -> None:
    with atomic_path(dest) as tmp:
        frame.write_parquet(tmp)


def write_json(obj: object, dest: str | Path) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")
