"""Constant event columns (flags, scales) shared by every chunk instead of allocated per chunk.

A chunked reader builds each chunk's constant columns (``price_scale``, ``size_scale``, LOBSTER's
``flags``) as read-only slices of one cached array per value and dtype, grown when a longer chunk
needs it: no allocation and no first-touch page faults per chunk. Polars wraps the slices
without copying; nothing writes to them (they are read-only).
"""

from __future__ import annotations

import numpy as np

_CACHE: dict[tuple[int, str], np.ndarray] = {}


def constant(value: int, n: int, dtype) -> np.ndarray:
    """A read-only ``dtype[n]`` array of ``value``."""
    key = (int(value), np.dtype(dtype).str)
    cached = _CACHE.get(key)
    if cached is None or cached.shape[0] < n:
        cached = np.full(max(n, 1 << 16), value, dtype=dtype)
        cached.flags.writeable = False
        _CACHE[key] = cached
    return cached[:n]
