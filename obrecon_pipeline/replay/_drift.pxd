# cython: language_level=3
"""Drift against every mid-stream snapshot: was the rebuilt book the venue's book just before the
venue replaced it?

When a snapshot message starts while the book is synced and valid, the top ``levels`` of both
sides are kept (:func:`drift_begin`, before the snapshot clears the book); at the end of that
message the kept book is compared with the new one (:func:`drift_end`) on each side over the levels
the snapshot provides, ``min(levels, levels of the new side)``, price and size exactly. A kept
level the replay could not observe (UNKNOWN, a bounded side) is not judged; a kept level that is
empty where the snapshot has one disagrees. The first disagreement is kept: output row, event,
time, update id, level (1-based), side, ours and theirs (NULL_CELL where a side has no level).
Whether a snapshot is compared at all is the replayer's decision (see ``_replayer.pyx``).
"""

from libc.stdint cimport int8_t, int64_t

from obrecon_pipeline.codes cimport NULL_CELL, UNKNOWN_CELL, SIDE_BID, SIDE_ASK
from obrecon_pipeline.replay._book cimport Ladder
from obrecon_pipeline.replay._rows cimport write_side


cdef struct DriftStats:
    int64_t compared            # snapshots judged (= agree + disagree)
    int64_t agree
    int64_t disagree
    int64_t not_comparable      # both books carry update ids and they differ
    int64_t back_to_back        # snapshot right after a snapshot, no update ids to say they are one book
    int64_t pending             # 1 between a compared snapshot's first event and its end
    int64_t first_row           # the first disagreement (meaningful once disagree > 0)
    int64_t first_event
    int64_t first_ts
    int64_t first_update_id
    int64_t first_level
    int64_t first_side
    int64_t first_ours_price
    int64_t first_ours_size
    int64_t first_theirs_price
    int64_t first_theirs_size


cdef struct Drift:
    DriftStats st
    int64_t* ours               # 4 * levels cells: the book kept at the snapshot's first event


cdef inline void drift_begin(Drift* d, const Ladder* bids, const Ladder* asks, Py_ssize_t levels) noexcept nogil:
    write_side(bids, d.ours, levels, 0, SIDE_BID)
    write_side(asks, d.ours, levels, 2, SIDE_ASK)
    d.st.pending = 1


cdef inline bint _side_differs(Drift* d, const Ladder* lad, Py_ssize_t r, Py_ssize_t offset, int8_t side,
                               int64_t* price, int64_t* size) noexcept nogil:
    """Level ``r`` of the new side against the kept one; the new level's price/size out."""
    cdef Py_ssize_t idx = lad.count - 1 - r
    cdef int64_t ours_price = d.ours[4 * r + offset]
    price[0] = lad.key[idx] if side > 0 else -lad.key[idx]
    size[0] = lad.size[idx]
    if ours_price == UNKNOWN_CELL:
        return False
    return ours_price != price[0] or d.ours[4 * r + offset + 1] != size[0]


cdef inline void drift_end(Drift* d, const Ladder* bids, const Ladder* asks, Py_ssize_t levels,
                           int64_t row, int64_t event, int64_t ts, int64_t update_id) noexcept nogil:
    cdef Py_ssize_t r, k, offset
    cdef int64_t price, size
    cdef int8_t side
    cdef const Ladder* lad
    cdef bint bad = False
    d.st.pending = 0
    d.st.compared += 1
    for r in range(levels):
        for k in range(2):  # at each level the bid first, then the ask
            offset = 2 * k
            lad = bids if offset == 0 else asks
            side = SIDE_BID if offset == 0 else SIDE_ASK
            if r >= lad.count or not _side_differs(d, lad, r, offset, side, &price, &size):
                continue
            bad = True
            if d.st.disagree == 0:
                d.st.first_row = row
                d.st.first_event = event
                d.st.first_ts = ts
                d.st.first_update_id = update_id
                d.st.first_level = r + 1
                d.st.first_side = side
                d.st.first_ours_price = d.ours[4 * r + offset]
                d.st.first_ours_size = d.ours[4 * r + offset + 1]
                d.st.first_theirs_price = price
                d.st.first_theirs_size = size
            break
        if bad:
            break
    if bad:
        d.st.disagree += 1
    else:
        d.st.agree += 1
