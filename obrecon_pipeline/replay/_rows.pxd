# cython: language_level=3
"""A book row in the cell layout of :mod:`obrecon_pipeline.book_schema`: for level r (0-based)
``bid_price, bid_size, ask_price, ask_size`` at cells ``4r .. 4r+3``, scaled integers, NULL_CELL
for an empty level and UNKNOWN_CELL for a level a bounded side cannot observe."""

from libc.stdint cimport int8_t, int64_t

from obrecon_pipeline.codes cimport NULL_CELL, UNKNOWN_CELL
from obrecon_pipeline.replay._book cimport Ladder


cdef inline int64_t write_side(const Ladder* lad, int64_t* row, Py_ssize_t levels, Py_ssize_t offset,
                               int8_t side) noexcept nogil:
    """The best ``levels`` of one side into ``row`` (price at ``4r + offset``, size next to it);
    returns the number of UNKNOWN cells written."""
    cdef Py_ssize_t r, idx = lad.count - 1
    cdef int64_t fill = UNKNOWN_CELL if lad.bounded else NULL_CELL
    for r in range(levels):
        if idx >= 0:
            row[4 * r + offset] = lad.key[idx] if side > 0 else -lad.key[idx]
            row[4 * r + offset + 1] = lad.size[idx]
            idx -= 1
        else:
            row[4 * r + offset] = fill
            row[4 * r + offset + 1] = fill
    if not lad.bounded or lad.count >= levels:
        return 0
    return 2 * (levels - lad.count)
