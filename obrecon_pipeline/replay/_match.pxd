# cython: language_level=3
"""Each emitted row against the reference row of its event, cell by cell, as it is emitted.

The rule of :func:`obrecon_pipeline.integrity.reference.match_reference`, accumulated row by row
over the first ``4 * min(levels, reference depth)`` cells: a cell the replay wrote UNKNOWN is not
compared (counted ``unknown_cells``); every other cell must equal the reference exactly (an empty
level, NULL, matches only an empty level). ``first_mismatch_row`` is the global row index and
``first_mismatch_cell`` the cell index ``4 * (level - 1) + field`` of the first mismatching cell,
meaningful once ``mismatched_rows > 0``.
"""

from libc.stdint cimport int64_t

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


cdef inline void match_row(MatchStats* m, const int64_t* ours, const int64_t* theirs, int64_t row) noexcept nogil:
    cdef Py_ssize_t j, width = 4 * m.levels_compared
    cdef int64_t unknown = 0, bad = 0
    cdef bint u
    for j in range(width):  # branch-free: the compiler vectorises it
        u = ours[j] == UNKNOWN_CELL
        unknown += u
        bad += (ours[j] != theirs[j]) & (not u)
    m.rows_compared += 1
    m.unknown_cells += unknown
    m.cells_compared += width - unknown
    m.cells_matched += width - unknown - bad
    if bad:
        if m.mismatched_rows == 0:
            m.first_mismatch_row = row
            j = 0
            while ours[j] == UNKNOWN_CELL or ours[j] == theirs[j]:
                j += 1
            m.first_mismatch_cell = j
        m.mismatched_rows += 1
