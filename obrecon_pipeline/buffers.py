"""Output buffers for the replayer: large ones on transparent huge pages where the OS offers them.

A day's book is written once, row after row; with 4 KiB pages every 4 KiB of a multi-GB matrix
costs a page fault on first touch. Asking for huge pages (``MADV_HUGEPAGE``) makes first-touch
cost about five times smaller here (1.6 GB: 2.7 s -> 0.5 s).
"""

from __future__ import annotations

import mmap

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
