# cython: language_level=3
"""A book row in the cell layout of :mod:`obrecon_pipeline.book_schema`: for level r (0-based)
``bid_price, bid_size, ask_price, ask_size`` at cells ``4r .. 4r+3``, scaled integers, NULL_CELL
for an empty level and UNKNOWN_CELL for a level a bounded side cannot observe.

:func:`write_side` writes a side's cells whole; :func:`refresh_side` keeps one row image up to
date from the changes the ladder noted since the previous call (``Ladder.stale`` / ``resized``,
:mod:`._book`): after a typical event that is one size cell, not ``2N``. A ladder's notes belong to
one row image: only that image's writer calls :func:`refresh_side`."""

from libc.stdint cimport int8_t, int64_t

from obrecon_pipeline.codes cimport NULL_CELL, UNKNOWN_CELL
from obrecon_pipeline.replay._book cimport Ladder, ROW_CURRENT


cdef inline void _write_ranks(const Ladder* lad, int64_t* row, Py_ssize_t first, Py_ssize_t levels,
                              Py_ssize_t offset, int8_t side) noexcept nogil:
    """Ranks ``first .. levels - 1`` of one side into ``row`` (price at ``4r + offset``, size next
    to it)."""
    cdef Py_ssize_t r, top = lad.count - 1
    cdef Py_ssize_t held = lad.count if lad.count < levels else levels
    cdef const int64_t* key = lad.key  # locals: the row stores cannot change them
    cdef const int64_t* size = lad.size
    cdef int64_t* out = row + offset
    cdef int64_t fill = UNKNOWN_CELL if lad.bounded else NULL_CELL
    if side > 0:
        for r in range(first, held):
            out[4 * r] = key[top - r]
            out[4 * r + 1] = size[top - r]
    else:
        for r in range(first, held):
            out[4 * r] = -key[top - r]
            out[4 * r + 1] = size[top - r]
    for r in range(held if held > first else first, levels):
        out[4 * r] = fill
        out[4 * r + 1] = fill


cdef inline int64_t unknown_cells(const Ladder* lad, Py_ssize_t levels) noexcept nogil:
    """The UNKNOWN cells of one side in a row of ``levels`` levels."""
    return 2 * (levels - lad.count) if lad.bounded and lad.count < levels else 0


cdef inline int64_t write_side(const Ladder* lad, int64_t* row, Py_ssize_t levels, Py_ssize_t offset,
                               int8_t side) noexcept nogil:
    """The best ``levels`` of one side into ``row`` (price at ``4r + offset``, size next to it);
    returns the number of UNKNOWN cells written."""
    _write_ranks(lad, row, 0, levels, offset, side)
    return unknown_cells(lad, levels)


cdef inline int64_t refresh_side(Ladder* lad, int64_t* row, Py_ssize_t levels, Py_ssize_t offset,
                                 int8_t side) noexcept nogil:
    """:func:`write_side` into the row image the ladder's notes refer to, rewriting only what
    changed since the previous call (the stale ranks, the one resized level); returns the number
    of UNKNOWN cells of the side in the row."""
    cdef Py_ssize_t r = lad.resized
    if lad.stale < levels:
        _write_ranks(lad, row, lad.stale, levels, offset, side)
    if 0 <= r < lad.stale and r < levels:
        row[4 * r + offset + 1] = lad.size[lad.count - 1 - r]
    lad.stale = ROW_CURRENT
    lad.resized = -1
    return unknown_cells(lad, levels)
