# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The book structures of :file:`_book.pxd` made visible to Python, one operation per method (the
unit tests of the ladder and the order map drive them), and :func:`ladder_loop`, the least a
replay can do: the benchmarks' ceiling for the replay loop.
"""

from libc.stdint cimport int8_t, int64_t, uint64_t

# the structures and their operations come from _book.pxd, this module's own declarations
from obrecon_pipeline.codes cimport SIDE_BID, SIDE_ASK
from libc.string cimport memcpy
from obrecon_pipeline.replay._rows cimport refresh_side, write_side

import numpy as np


cdef Py_ssize_t _row_levels(Py_ssize_t cells, Py_ssize_t offset) except -1:
    """The levels of a row of ``cells`` cells, checked with a side's ``offset``."""
    if cells % 4 or offset not in (0, 2):
        raise ValueError("a row has 4 cells per level; a side's offset is 0 (bids) or 2 (asks)")
    return cells // 4


cdef class PyLadder:
    """One side's ladder: ``keys`` ascending with the best level last (``key = price`` for bids,
    ``-price`` for asks)."""

    cdef Ladder lad

    def __cinit__(self):
        ladder_init(&self.lad)

    def __dealloc__(self):
        ladder_free(&self.lad)

    @property
    def keys(self) -> list:
        return [self.lad.key[i] for i in range(self.lad.count)]

    @property
    def sizes(self) -> list:
        return [self.lad.size[i] for i in range(self.lad.count)]

    @property
    def count(self) -> int:
        return self.lad.count

    @property
    def capacity(self) -> int:
        return self.lad.cap

    @property
    def bounded(self) -> bool:
        return bool(self.lad.bounded)

    @property
    def frontier(self) -> int:
        return self.lad.frontier

    @property
    def base(self) -> int:
        """Free slots before the worst level in the buffer."""
        return self.lad.base

    @property
    def stale(self) -> int | None:
        """The first rank (0 = best) whose row cells are stale, or None."""
        return None if self.lad.stale == ROW_CURRENT else self.lad.stale

    @property
    def resized(self) -> int | None:
        """The rank of the one level whose size alone changed, or None."""
        return None if self.lad.resized < 0 else self.lad.resized

    def refresh(self, int64_t[::1] row, int8_t side, Py_ssize_t offset=0) -> int:
        """:func:`._rows.refresh_side` into ``row`` (``4 * levels`` cells, this side's cells at
        ``4r + offset``); returns the UNKNOWN cells of the side."""
        return refresh_side(&self.lad, &row[0], _row_levels(row.shape[0], offset), offset, side)

    def write(self, int64_t[::1] row, int8_t side, Py_ssize_t offset=0) -> int:
        """:func:`._rows.write_side` (every cell of the side) into ``row``."""
        return write_side(&self.lad, &row[0], _row_levels(row.shape[0], offset), offset, side)

    def search(self, int64_t key) -> int:
        """Index of ``key``, else ``-(insertion point) - 1``."""
        return ladder_search(&self.lad, key)

    def insert_at(self, Py_ssize_t pos, int64_t key, int64_t size):
        if not 0 <= pos <= self.lad.count:
            raise IndexError(pos)
        ladder_insert_at(&self.lad, pos, key, size)

    def remove_at(self, Py_ssize_t pos):
        if not 0 <= pos < self.lad.count:
            raise IndexError(pos)
        ladder_remove_at(&self.lad, pos)

    def knows(self, int64_t key) -> bool:
        return ladder_knows(&self.lad, key)

    def add(self, int64_t key, int64_t delta) -> tuple:
        """``(broke, size before, size after)`` of adding ``delta`` at ``key``."""
        cdef int64_t before, after
        broke = ladder_add(&self.lad, key, delta, &before, &after)
        return bool(broke), before, after

    def set(self, int64_t key, int64_t size) -> tuple:
        """``(broke, size before)`` of setting the level at ``key`` to ``size``."""
        cdef int64_t before
        broke = ladder_set(&self.lad, key, size, &before)
        return bool(broke), before

    def truncate(self, Py_ssize_t window):
        ladder_truncate(&self.lad, window)

    def clear(self):
        ladder_clear(&self.lad)


cdef class PyOrderMap:
    """The L3 order map: open addressing with linear probing, backward-shift deletion."""

    cdef OrderMap m

    def __cinit__(self, Py_ssize_t capacity=0):
        orders_init(&self.m, capacity)

    def __dealloc__(self):
        orders_free(&self.m)

    @property
    def count(self) -> int:
        return self.m.count

    @property
    def capacity(self) -> int:
        return self.m.cap

    def home(self, uint64_t oid) -> int:
        """The slot where ``oid``'s probe chain starts."""
        return _slot_of(&self.m, oid)

    def slot_ids(self) -> list:
        """The id held in every slot (0 = empty), in slot order."""
        return [self.m.slots[j].id for j in range(self.m.cap)]

    def insert(self, uint64_t oid, int8_t side, int64_t price, int64_t size):
        if oid == 0:
            raise ValueError("order id 0 means no order")
        orders_insert(&self.m, oid, side, price, size)

    def find(self, uint64_t oid):
        """``(side, price, size)`` of ``oid``, or None."""
        cdef OrderSlot* slot = orders_find(&self.m, oid)
        return None if slot == NULL else (slot.side, slot.price, slot.size)

    def remove(self, uint64_t oid) -> bool:
        cdef OrderSlot* slot = orders_find(&self.m, oid)
        if slot == NULL:
            return False
        orders_remove_slot(&self.m, slot)
        return True

    def clear_side(self, int8_t side):
        orders_clear_side(&self.m, side)


def ladder_loop(const int8_t[::1] side, const int64_t[::1] price, const int64_t[::1] delta, int64_t[:, ::1] out,
                Py_ssize_t window=0):
    """The ladder alone: each event adds ``delta`` at its side and price (and keeps the best
    ``window`` levels, if ``window``), then the top ``out.shape[1] // 4`` levels are written into
    ``out[i]`` (no order map, no frontier check, no integrity, no counters): the ceiling a replay
    loop over the same ladders and rows can reach. For a valid L3 stream without windows
    (``delta`` = +size for adds, -size for cancels, deletes and executions, 0 otherwise) the rows
    are the replayer's."""
    cdef Py_ssize_t i, n = side.shape[0], width = out.shape[1], levels = width // 4
    cdef Ladder bids, asks
    cdef Ladder* lad
    cdef int64_t before, after
    cdef int64_t[::1] scratch = np.empty(width, dtype=np.int64)
    if price.shape[0] != n or delta.shape[0] != n or out.shape[0] < n or width != 4 * levels:
        raise ValueError("ladder_loop needs equal-length columns and n rows of 4N cells")
    ladder_init(&bids)
    ladder_init(&asks)
    try:
        with nogil:
            for i in range(n):
                lad = &bids if side[i] > 0 else &asks
                ladder_add(lad, price[i] if side[i] > 0 else -price[i], delta[i], &before, &after)
                if window > 0:
                    ladder_truncate(&bids, window)
                    ladder_truncate(&asks, window)
                refresh_side(&bids, &scratch[0], levels, 0, SIDE_BID)
                refresh_side(&asks, &scratch[0], levels, 2, SIDE_ASK)
                memcpy(&out[i, 0], &scratch[0], width * sizeof(int64_t))
    finally:
        ladder_free(&bids)
        ladder_free(&asks)
