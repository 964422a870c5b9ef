# cython: language_level=3
"""Crossed books classified online, row by row, as :mod:`obrecon_pipeline.integrity.crossed` does
on a whole day.

A *cross episode* is a maximal run of consecutive emitted rows with best bid > best ask (both
sides non-empty). With ``first``/``last`` the events (``seq``) of its first and last rows and
``end`` the event of the next row, and trades = events with action TRADE, FILL, EXECUTE or
HIDDEN_EXECUTE counted by arrival:

* ``trades_while_crossed`` = trades with ``first < arrival <= last``;
* ``trades_at_uncross`` = trades with ``last < arrival <= end`` (0 while the episode is open).

It is *pre-open* when ``trades_while_crossed == 0 and trades_at_uncross > 0`` (trading starting is
what ended it), else *continuous*; an episode still open has no end and is continuous. Locked rows
(bid == ask) are counted apart and are not episodes.

Online: ``pending`` counts the trades since the previous emitted row, so at each row it holds the
trades in ``(previous row's event, this row's event]``, which a crossed row adds to its episode's
``trades_while_crossed`` and the first uncrossed row makes the episode's ``trades_at_uncross``.
Counts per kind are complete; the first ``limit`` closed episodes are kept.
"""

from libc.stdint cimport int64_t

from obrecon_pipeline.replay._records cimport Records, records_slot

from obrecon_pipeline.codes cimport CROSSED_CONTINUOUS, CROSSED_PRE_OPEN

cdef enum:
    EPISODE_FIELDS = 8  # rows, first_seq, last_seq, end_seq, first_ts, last_ts, trades_while, trades_at_uncross


cdef struct CrossedStats:
    int64_t crossed_rows        # every crossed row, open episode included
    int64_t locked_rows         # emitted rows with best bid == best ask
    int64_t closed              # closed episodes
    int64_t closed_pre_open
    int64_t rows_pre_open       # rows of closed pre-open episodes
    int64_t kept                # closed episodes held (<= limit)
    int64_t limit
    int64_t pending             # trades since the previous emitted row
    int64_t open                # 1 while the latest row is crossed
    int64_t rows                # the open episode: rows, events, times and trades so far
    int64_t first_seq
    int64_t last_seq
    int64_t first_ts
    int64_t last_ts
    int64_t trades_while


cdef struct Crossed:
    CrossedStats st
    Records records             # EPISODE_FIELDS per kept closed episode


cdef inline int episode_kind(int64_t trades_while, int64_t trades_at_uncross) noexcept nogil:
    """The :class:`~obrecon_pipeline.codes.CrossedKind` of an episode."""
    return CROSSED_PRE_OPEN if trades_while == 0 and trades_at_uncross > 0 else CROSSED_CONTINUOUS


cdef inline int crossed_keep(Crossed* x, int64_t end_seq, int64_t at_uncross) except -1 nogil:
    cdef int64_t* r = records_slot(&x.records, x.st.kept, x.st.limit, EPISODE_FIELDS)
    if r == NULL:
        return 0
    r[0] = x.st.rows
    r[1] = x.st.first_seq
    r[2] = x.st.last_seq
    r[3] = end_seq
    r[4] = x.st.first_ts
    r[5] = x.st.last_ts
    r[6] = x.st.trades_while
    r[7] = at_uncross
    x.st.kept += 1
    return 0


cdef inline int crossed_row(Crossed* x, bint crossed, bint locked, int64_t seq, int64_t ts) except -1 nogil:
    """Classify one emitted row (``seq`` = its event, ``ts`` = that event's time)."""
    if locked:
        x.st.locked_rows += 1
    if crossed:
        x.st.crossed_rows += 1
        if x.st.open:
            x.st.trades_while += x.st.pending
        else:
            x.st.open = 1
            x.st.rows = 0
            x.st.first_seq = seq
            x.st.first_ts = ts
            x.st.trades_while = 0
        x.st.rows += 1
        x.st.last_seq = seq
        x.st.last_ts = ts
    elif x.st.open:
        x.st.open = 0
        x.st.closed += 1
        if episode_kind(x.st.trades_while, x.st.pending) == CROSSED_PRE_OPEN:
            x.st.closed_pre_open += 1
            x.st.rows_pre_open += x.st.rows
        crossed_keep(x, seq, x.st.pending)
    x.st.pending = 0
    return 0

