# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Integer cells -> Float64 columns with Arrow validity bitmaps, in one blocked pass.

The replayer writes a row-major ``int64[n, W]`` matrix; the book table wants W columns of
``value / scale`` (correctly rounded division, so a cell is the double nearest the exact decimal)
with nulls where the cell is empty or unknown. A block of rows at a time is transposed so both the
reads and the column writes stay in cache; each column's validity is packed into an Arrow bitmap
(bit i of byte i // 8, least significant first, 1 = valid), ready for a zero-copy Arrow array.
"""

from libc.stdint cimport int64_t, uint8_t

import numpy as np

from obrecon_pipeline.codes cimport UNKNOWN_CELL
cdef enum:
    BLOCK = 512  # rows per block: a multiple of 8, so bitmap bytes never straddle blocks


def cells_to_columns(const int64_t[:, ::1] cells, const double[::1] scale, double[:, ::1] data, uint8_t[:, ::1] valid):
    """Fill ``data[j, i] = cells[i, j] / scale[j]`` and ``valid`` (bitmaps); return null counts per column."""
    cdef Py_ssize_t n = cells.shape[0], width = cells.shape[1]
    cdef Py_ssize_t r0, r1, r, j
    cdef int64_t v
    cdef double s
    cdef uint8_t byte
    cdef int64_t[::1] nulls = np.zeros(width, dtype=np.int64)
    with nogil:
        r0 = 0
        while r0 < n:
            r1 = r0 + BLOCK if r0 + BLOCK < n else n
            for j in range(width):
                s = scale[j]
                byte = 0
                for r in range(r0, r1):
                    v = cells[r, j]
                    if v <= UNKNOWN_CELL:
                        data[j, r] = 0.0
                        nulls[j] += 1
                    else:
                        data[j, r] = v / s
                        byte |= <uint8_t>(1 << (r & 7))
                    if (r & 7) == 7 or r == r1 - 1:
                        valid[j, r >> 3] = byte
                        byte = 0
            r0 = r1
    return np.asarray(nulls)
