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
    cdef Py_ssize_t r, top = lad.count - 1
    cdef Py_ssize_t held = lad.count if lad.count < levels else levels
    cdef const int64_t* key = lad.key  # locals: the row stores cannot change them
    cdef const int64_t* size = lad.size
    cdef int64_t* out = row + offset
    cdef int64_t fill = UNKNOWN_CELL if lad.bounded else NULL_CELL
    if side > 0:
        for r in range(held):
            out[4 * r] = key[top - r]
            out[4 * r + 1] = size[top - r]
    else:
        for r in range(held):
            out[4 * r] = -key[top - r]
            out[4 * r + 1] = size[top - r]
    for r in range(held, levels):
        out[4 * r] = fill
        out[4 * r + 1] = fill
    return 2 * (levels - held) if lad.bounded else 0
