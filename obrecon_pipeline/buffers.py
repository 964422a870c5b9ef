"""Output buffers for the replayer: large ones on transparent huge pages where the OS offers them.

A day's book is written once, row after row; with 4 KiB pages every 4 KiB of a multi-GB matrix
costs a page fault on first touch. Asking for huge pages (``MADV_HUGEPAGE``) makes first-touch
cost about five times smaller here (1.6 GB: 2.7 s -> 0.5 s).
"""

from __future__ import annotations

import mmap
import sys

import numpy as np

HUGE_THRESHOLD = 8 << 20  # bytes; smaller buffers come from NumPy's allocator


def empty(shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised C-contiguous array, backed by an anonymous huge-page mapping when large."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
    nbytes = count * dtype.itemsize
    if nbytes < HUGE_THRESHOLD or not hasattr(mmap, "MADV_HUGEPAGE"):
        return np.empty(shape, dtype=dtype)
    region = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    region.madvise(mmap.MADV_HUGEPAGE)
    return np.frombuffer(region, dtype=dtype, count=count).reshape(shape)


class Recycler:
    """Buffers handed out again once nothing refers to them any more, so a chunked run touches its
    pages once instead of once per chunk (a fresh multi-MB buffer per chunk cost more in first-touch
    page faults than the parsing or conversion that filled it).

    Each buffer is a flat byte array that owns (or maps) its memory; :meth:`take` returns a view of
    one, and every view of it, however derived, holds a reference to it (NumPy points a view's
    ``base`` at the array that owns the memory). A buffer whose only reference is this pool's is
    free: no consumer can still read it, so reuse is safe without any lifetime contract.
    """

    def __init__(self, keep: int = 4):
        self._pool: list[np.ndarray] = []
        self._keep = keep

    def take(self, shape: tuple[int, ...], dtype) -> np.ndarray:
        """An uninitialised C-contiguous array of ``shape`` and ``dtype``."""
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape)) * dtype.itemsize
        for i in range(len(self._pool)):
            # two references when free: the pool's list, and getrefcount's own argument
            if self._pool[i].nbytes >= nbytes and sys.getrefcount(self._pool[i]) == 2:
                return self._pool[i][:nbytes].view(dtype).reshape(shape)
        owner = empty((max(nbytes, 1),), np.uint8)
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        if len(self._pool) < self._keep:
            self._pool.append(owner)
        return owner[:nbytes].view(dtype).reshape(shape)
