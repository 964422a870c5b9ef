# cython: language_level=3, boundscheck=False, wraparound=False
"""The level columns a capture parser fills (:class:`LevelColumns`): one place for the arrays and
the :c:type:`~._json_scan.Levels` buffer that :func:`~._json_scan.read_levels` writes through."""

from libc.stdint cimport int64_t

import numpy as np


cdef class LevelColumns:
    """Room for ``cap`` levels: ``side`` (int8), ``price_m`` / ``size_m`` (int64 mantissas) and
    ``price_f`` / ``size_f`` (int8 decimals), with ``lv`` pointing into them (``lv.n`` written)."""

    def __init__(self, Py_ssize_t cap):
        self.side = np.empty(max(cap, 1), dtype=np.int8)
        self.price_f = np.empty(max(cap, 1), dtype=np.int8)
        self.size_f = np.empty(max(cap, 1), dtype=np.int8)
        self.price_m = np.empty(max(cap, 1), dtype=np.int64)
        self.size_m = np.empty(max(cap, 1), dtype=np.int64)
        self.sd, self.pf, self.sf, self.pm, self.sm = self.side, self.price_f, self.size_f, self.price_m, self.size_m
        self.lv.side, self.lv.price_m, self.lv.price_f = &self.sd[0], &self.pm[0], &self.pf[0]
        self.lv.size_m, self.lv.size_f = &self.sm[0], &self.sf[0]
        self.lv.n, self.lv.cap = 0, cap

    def written(self) -> dict:
        """The levels written so far, by column name (views, not copies)."""
        n = self.lv.n
        return {"side": self.side[:n], "price_m": self.price_m[:n], "price_f": self.price_f[:n],
                "size_m": self.size_m[:n], "size_f": self.size_f[:n]}
