# cython: language_level=3
"""Each emitted row against the reference row of its event, cell by cell, as it is emitted.

The rule of :func:`obrecon_pipeline.integrity.reference.match_reference`, accumulated row by row
over the first ``4 * min(levels, reference depth)`` cells: a cell the replay wrote UNKNOWN is not
compared (counted ``unknown_cells``); every other cell must equal the reference exactly (an empty
level, NULL, matches only an empty level). ``first_mismatch_row`` is the global row index and
``first_mismatch_cell`` the cell index ``4 * (level - 1) + field`` of the first mismatching cell,
meaningful once ``mismatched_rows > 0``.

The replayer writes UNKNOWN exactly for the levels of a bounded side beyond those it holds, so a
row's known cells are, per side, its first ``known`` levels: the levels both sides know are
compared in one ``memcmp`` (the common case: equal), cell by cell only when that finds a
difference, and the few levels only one side knows cell by cell.
"""

from libc.stdint cimport int64_t
from libc.string cimport memcmp

from obrecon_pipeline.codes cimport UNKNOWN_CELL


cdef struct MatchStats:
    int64_t rows_compared
    int64_t levels_compared
    int64_t cells_compared
    int64_t cells_matched
    int64_t unknown_cells
    int64_t mismatched_rows
    int64_t first_mismatch_row
    int64_t first_mismatch_cell


cdef inline void match_row(MatchStats* m, const int64_t* ours, const int64_t* theirs, int64_t row,
                           Py_ssize_t bid_known, Py_ssize_t ask_known) noexcept nogil:
    """Compare one row; ``bid_known`` / ``ask_known``: levels of each side the row knows."""
    cdef Py_ssize_t j, r, levels = m.levels_compared
    cdef Py_ssize_t kb = bid_known if bid_known < levels else levels
    cdef Py_ssize_t ka = ask_known if ask_known < levels else levels
    cdef Py_ssize_t both = kb if kb < ka else ka
    cdef int64_t unknown = 2 * (levels - kb) + 2 * (levels - ka), bad = 0
    if memcmp(ours, theirs, 4 * both * sizeof(int64_t)) != 0:
        for j in range(4 * both):
            bad += ours[j] != theirs[j]
    for r in range(both, levels):  # levels one side knows: its two cells
        j = 4 * r if r < kb else 4 * r + 2
        if r < kb or r < ka:
            bad += (ours[j] != theirs[j]) + (ours[j + 1] != theirs[j + 1])
    m.rows_compared += 1
    m.unknown_cells += unknown
    m.cells_compared += 4 * levels - unknown
    m.cells_matched += 4 * levels - unknown - bad
    if bad:
        if m.mismatched_rows == 0:
            m.first_mismatch_row = row
            j = 0
            while ours[j] == UNKNOWN_CELL or ours[j] == theirs[j]:
                j += 1
            m.first_mismatch_cell = j
        m.mismatched_rows += 1
