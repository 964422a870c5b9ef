# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The stateful replayer: normalized events in, chunk by chunk or one at a time; book rows out.

:class:`Replayer` owns the book (two price ladders and the L3 order map, :mod:`._book`), the
stream's sync state, the counters and every analysis that used to need the whole day (reference
match, crossed-book episodes, snapshot drift, located failures), all in C structs, so a day of any
length is replayed in memory set by the chunk size, and :meth:`Replayer.state` /
:meth:`Replayer.from_state` checkpoint and restore it exactly (continuing after a restore gives
what never stopping gives, row for row and counter for counter).

Per event (:func:`step`), in this order:

1. a trade (TRADE, FILL, EXECUTE, HIDDEN_EXECUTE) is counted for the crossed-book episodes;
2. a pending seed (:meth:`Replayer.seed`, LOBSTER) consumes the event without applying it: its row
   is the seeded book;
3. the first event of a snapshot message decides whether the snapshot is judged for drift
   (:mod:`._drift`): only while the book is synced and valid after an earlier snapshot; not when
   both books carry update ids that differ (``snapshots_not_comparable``), nor when it follows a
   snapshot with no update ids to tell them apart (``snapshots_back_to_back``);
4. :func:`apply_event`: the event's change to the ladders and the order map (rules in
   :mod:`obrecon_pipeline.replay.pymodel`), integrity failures noted, the visibility window cut;
5. at END_OF_MESSAGE, :func:`end_of_message`: resync on a completed snapshot, the venue checksum,
   re-seeding the levels that enter a bounded window from the reference row, snapshot drift, the
   crossed / locked book counters; a broken book stays invalid until the next snapshot;
6. the event's failures are logged (:mod:`._failures`);
7. a row is emitted after every event (``emit="event"``) or every END_OF_MESSAGE event
   (``"message"``), :func:`emit_row`: written, classified crossed (:mod:`._crossed`) and compared
   with the reference row of its event (:mod:`._match`).
"""

from libc.stdint cimport int8_t, uint8_t, int64_t, uint64_t, INT64_MAX
from libc.string cimport memcpy, memset
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_C_CONTIGUOUS, PyBUF_FORMAT

from obrecon_pipeline.codes cimport *
from obrecon_pipeline.replay._book cimport (
    Ladder, OrderMap, OrderSlot, _slot_of,
    ladder_init, ladder_free, ladder_reset, ladder_add, ladder_set, ladder_truncate, ladder_clear, ladder_knows,
    ladder_insert_at, ladder_bound, ladder_unbound, ladder_rescalable, ladder_rescale,
    orders_init, orders_free, orders_find, orders_insert, orders_remove_slot, orders_clear_side,
    orders_rescalable, orders_rescale,
)
from obrecon_pipeline.replay._checksum cimport book_checksum
from obrecon_pipeline.replay._counters cimport Counters, counters_init, note_failure
from obrecon_pipeline.replay._crossed cimport (
    Crossed, CrossedStats, EPISODE_FIELDS, crossed_row, episode_kind,
)
from obrecon_pipeline.replay._drift cimport Drift, DriftStats, drift_begin, drift_end
from obrecon_pipeline.replay._failures cimport (
    FailureLog, FailureStats, FAILURE_FIELDS, FAILURE_KIND_SLOTS, failures_note,
)
from obrecon_pipeline.replay._fastio cimport prefetch, stream_row, stream_fence
from obrecon_pipeline.replay._match cimport MatchStats, match_row
from obrecon_pipeline.replay._records cimport records_free, records_reserve
from obrecon_pipeline.replay._rows cimport refresh_side

import io
import time

import numpy as np
import polars as pl

from obrecon_pipeline import buffers
from obrecon_pipeline.book_schema import FIELDS
from obrecon_pipeline.codes import Checksum, CrossedKind, IntegrityKind, Side
from obrecon_pipeline.errors import ReplayError
from obrecon_pipeline.replay._checksum import kind_code
from obrecon_pipeline.streams import ReplayOptions

cdef enum:
    PREFETCH_AHEAD = 32  # events: the reference row and order slot of event i + 32 are fetched at i
    STREAM_BYTES = 64 << 20  # a block at least this big is streamed past the cache (see _fastio)
    STATE_VERSION = 2  # 2: Config.unseen_in_book

#: the columns of :meth:`Replayer.integrity_failures`
FAILURE_SCHEMA = {"event": pl.Int64, "src_row": pl.Int64, "ts_event": pl.Int64, "update_id": pl.Int64,
                  "kind": pl.String}
#: the fields of an episode in ``crossed_episode_list`` (those of ``integrity.crossed.EPISODE_SCHEMA``)
EPISODE_KEYS = ("episode", "kind", "rows", "first_seq", "last_seq", "end_seq", "first_ts", "last_ts",
                "trades_while_crossed", "trades_at_uncross")


cdef struct Config:
    int64_t levels
    int64_t window
    int64_t emit_every_event
    int64_t strict_orders
    int64_t unseen_in_book   # an order the replay has not seen rests in the book (seeded levels)
    int64_t checksum_kind
    int64_t price_decimals
    int64_t size_decimals
    int64_t reseed
    int64_t depth            # levels per side of the reference rows (0: none)
    int64_t compare          # compare every row with its reference row (when a chunk has one)
    int64_t price_scale
    int64_t size_scale


cdef struct Flow:
    int64_t valid            # the book is trusted (no failure since the last snapshot)
    int64_t broken           # a failure happened; the book stays invalid until a snapshot
    int64_t resyncing        # inside a snapshot message
    int64_t seed_pending     # the next event is consumed by the seeded row
    int64_t prev_flags       # flags of the previous event (END: the next event starts a message)
    int64_t prev_update_id   # update id of the previous event
    int64_t row_valid        # book_valid of the latest emitted row


cdef struct Chunk:
    # contiguous columns of consecutive events (optional columns may be NULL)
    const int8_t* action
    const int8_t* side
    const int64_t* price
    const int64_t* size
    const uint64_t* order_id
    const uint8_t* flags
    const int64_t* checksum   # NULL: no checksums
    const int64_t* src_row    # NULL: 0
    const int64_t* ts_event   # NULL: 0
    const int64_t* update_id  # NULL: NULL_ID
    const int64_t* reference  # NULL: none; else n rows of 4 * depth cells
    Py_ssize_t n


cdef struct Core:
    Config cfg
    Flow flow
    Counters c
    Ladder bids
    Ladder asks
    OrderMap orders
    FailureLog failures
    Crossed crossed
    MatchStats match
    Drift drift
    int64_t* row             # the latest emitted row, 4 * levels cells


# ------------------------------------------------------------------------------------ the pieces

cdef inline int64_t key_of(int8_t side, int64_t price) noexcept nogil:
    return price if side > 0 else -price


cdef inline int64_t column(const int64_t* col, Py_ssize_t i, int64_t absent) noexcept nogil:
    return col[i] if col != NULL else absent


cdef inline bint is_trade(int8_t action) noexcept nogil:
    """Trading actions of the crossed-book rule (``integrity.crossed.TRADING_ACTIONS``)."""
    return action == A_TRADE or action == A_FILL or action == A_EXECUTE or action == A_HIDDEN_EXECUTE


cdef inline OrderSlot* find_order(Core* s, uint64_t oid, int64_t event) noexcept nogil:
    """The resting order ``oid``, or NULL: counted, and an integrity failure on a strict feed."""
    cdef OrderSlot* slot = orders_find(&s.orders, oid) if oid != 0 else NULL
    if slot == NULL:
        s.c.unknown_order_ids += 1
        if s.cfg.strict_orders:
            note_failure(&s.c, event, I_UNKNOWN_ORDER)
            s.flow.broken = True
    return slot


cdef inline int apply_delta(Core* s, Ladder* lad, int8_t side, int64_t price, int64_t delta,
                            int64_t event) except -1 nogil:
    """Change the level at ``price`` by ``delta`` if it lies in the known part of the side; a level
    that would go negative breaks the book."""
    cdef int64_t key = key_of(side, price)
    cdef int64_t before, after
    if not ladder_knows(lad, key):
        s.c.outside_window_events += 1
        return 0
    if ladder_add(lad, key, delta, &before, &after):
        note_failure(&s.c, event, I_NEGATIVE_SIZE)
        s.flow.broken = True
    return 0


cdef inline int apply_event(Core* s, int8_t a, int8_t side, int64_t p, int64_t q, uint64_t oid,
                            uint8_t f, int64_t event) except -1 nogil:
    """One event's change to the book."""
    cdef Ladder* lad = &s.bids if side > 0 else &s.asks
    cdef OrderSlot* slot
    cdef int64_t before
    cdef Py_ssize_t resting
    if f & F_BAD_BOOK:
        note_failure(&s.c, event, I_VENUE_BAD_BOOK)
        s.flow.broken = True
    if a == A_ADD:
        if oid != 0:
            resting = s.orders.count
            orders_insert(&s.orders, oid, side, p, q)
            if s.cfg.strict_orders and s.orders.count == resting:  # it overwrote a resting order
                note_failure(&s.c, event, I_DUPLICATE_ORDER)
                s.flow.broken = True
        apply_delta(s, lad, side, p, q, event)
    elif a == A_CANCEL or a == A_EXECUTE or a == A_DELETE:
        slot = find_order(s, oid, event)
        if slot != NULL:
            if a == A_DELETE or slot.size <= q:
                orders_remove_slot(&s.orders, slot)
            else:
                slot.size -= q
        if slot != NULL or s.cfg.unseen_in_book:
            apply_delta(s, lad, side, p, -q, event)
    elif a == A_MODIFY:
        slot = find_order(s, oid, event)
        if slot == NULL:
            orders_insert(&s.orders, oid, side, p, q)
            apply_delta(s, lad, side, p, q, event)
        else:
            apply_delta(s, &s.bids if slot.side > 0 else &s.asks, slot.side, slot.price, -slot.size, event)
            apply_delta(s, lad, side, p, q, event)
            if q > 0:
                slot.side = side
                slot.price = p
                slot.size = q
            else:
                orders_remove_slot(&s.orders, slot)
    elif a == A_SET_LEVEL:
        if ladder_set(lad, key_of(side, p), q, &before):
            note_failure(&s.c, event, I_NEGATIVE_SIZE)
            s.flow.broken = True
    elif a == A_CLEAR:
        if side >= 0:
            ladder_clear(&s.bids)
        if side <= 0:
            ladder_clear(&s.asks)
        orders_clear_side(&s.orders, side)
        if f & F_SNAPSHOT:
            s.flow.resyncing = True
    # HIDDEN_EXECUTE, HALT, TRADE, FILL: no book change
    if s.cfg.window > 0:
        ladder_truncate(&s.bids, s.cfg.window)
        ladder_truncate(&s.asks, s.cfg.window)
    return 0


cdef inline int reseed_side(Core* s, Ladder* lad, const int64_t* ref, Py_ssize_t offset, int8_t side) except -1 nogil:
    """Fill the levels a bounded side cannot see from the reference row, one by one.

    Only levels worse than the frontier are taken (everything at or better than the frontier is
    replayed, never copied); an empty reference level means the side has no more levels at all.
    """
    cdef Py_ssize_t r
    cdef int64_t price, key
    while lad.bounded and lad.count < s.cfg.depth:
        r = lad.count
        price = ref[4 * r + offset]
        if price == NULL_CELL:
            ladder_unbound(lad)
            return 0
        key = key_of(side, price)
        if key >= lad.frontier:
            return 0  # the reference disagrees with a level we know: left to the comparison
        ladder_insert_at(lad, 0, key, ref[4 * r + offset + 1])
        lad.frontier = key
        s.c.reseeds += 1
    return 0


cdef inline int seed_side(Ladder* lad, const int64_t* ref, Py_ssize_t depth, Py_ssize_t offset,
                          int8_t side) except -1 nogil:
    """Load a side from a reference row; a full window makes the side bounded."""
    cdef Py_ssize_t r
    cdef int64_t price
    ladder_clear(lad)
    for r in range(depth):
        price = ref[4 * r + offset]
        if price == NULL_CELL:
            return 0
        ladder_insert_at(lad, 0, key_of(side, price), ref[4 * r + offset + 1])
    ladder_bound(lad, lad.key[0])
    return 0


cdef inline void begin_snapshot(Core* s, int64_t update_id) noexcept nogil:
    """The first event of a snapshot message: judge it for drift, or say why not."""
    if not (s.c.snapshots > 0 and s.flow.valid and not s.flow.broken):
        return  # no earlier synced book to compare
    if update_id != NULL_ID and s.flow.prev_update_id != NULL_ID:
        if update_id != s.flow.prev_update_id:
            s.drift.st.not_comparable += 1
            return
    elif s.flow.prev_flags & F_SNAPSHOT:
        s.drift.st.back_to_back += 1
        return
    drift_begin(&s.drift, &s.bids, &s.asks, s.cfg.levels)


cdef inline int end_of_message(Core* s, const Chunk* ch, Py_ssize_t i, int64_t event) except -1 nogil:
    """A complete venue message: resync, checksum, re-seed, drift, crossed book."""
    cdef int64_t value, bb, ba
    if s.flow.resyncing:
        s.flow.resyncing = False
        s.c.snapshots += 1
        if s.flow.broken or not s.flow.valid:
            s.c.resyncs += 1
        s.flow.broken = False
        s.flow.valid = True
    elif s.flow.broken:
        s.flow.valid = False
    # the venue checksum of the complete message (._checksum); a mismatch makes the book invalid
    # until the next snapshot
    if s.cfg.checksum_kind != 0 and ch.checksum != NULL and ch.checksum[i] != NULL_ID:
        value = ch.checksum[i]
        if book_checksum(s.cfg.checksum_kind, s.bids.key, s.bids.size, s.bids.count,
                         s.asks.key, s.asks.size, s.asks.count,
                         s.cfg.price_decimals, s.cfg.size_decimals) == value:
            s.c.checksum_ok += 1
        else:
            if s.c.checksum_failed == 0:
                s.c.first_checksum_event = event
                s.c.first_checksum_ts = column(ch.ts_event, i, 0)
                s.c.first_checksum_src_row = column(ch.src_row, i, 0)
                s.c.first_checksum_update_id = column(ch.update_id, i, NULL_ID)
                s.c.first_checksum_value = value
            s.c.checksum_failed += 1
            note_failure(&s.c, event, I_CHECKSUM)
            s.flow.broken = True
            s.flow.valid = False
    if s.cfg.reseed and ch.reference != NULL:
        # the test of reseed_side's loop, here: most messages leave both sides full
        if s.bids.bounded and s.bids.count < s.cfg.depth:
            reseed_side(s, &s.bids, ch.reference + i * 4 * s.cfg.depth, 0, SIDE_BID)
        if s.asks.bounded and s.asks.count < s.cfg.depth:
            reseed_side(s, &s.asks, ch.reference + i * 4 * s.cfg.depth, 2, SIDE_ASK)
    if s.drift.st.pending:
        drift_end(&s.drift, &s.bids, &s.asks, s.cfg.levels, s.c.rows, event,
                  column(ch.ts_event, i, 0), column(ch.update_id, i, NULL_ID))
    if s.bids.count > 0 and s.asks.count > 0:
        bb = s.bids.key[s.bids.count - 1]
        ba = -s.asks.key[s.asks.count - 1]
        if bb >= ba:
            if bb > ba:
                s.c.crossed_rows += 1
            else:
                s.c.locked_rows += 1
            if s.c.crossed_rows + s.c.locked_rows == 1:
                s.c.first_crossed_event = event
                s.c.first_crossed_ts = column(ch.ts_event, i, 0)
                s.c.first_crossed_src_row = column(ch.src_row, i, 0)
    return 0


cdef inline int emit_row(Core* s, const Chunk* ch, Py_ssize_t i, int64_t event, bint valid) except -1 nogil:
    """Write the book into ``s.row``; classify it crossed; compare it with its reference row."""
    cdef Py_ssize_t levels = s.cfg.levels
    cdef int64_t bb, ba
    cdef bint crossed = False, locked = False
    s.c.unknown_cells += refresh_side(&s.bids, s.row, levels, 0, SIDE_BID)
    s.c.unknown_cells += refresh_side(&s.asks, s.row, levels, 2, SIDE_ASK)
    s.flow.row_valid = valid
    if not valid:
        s.c.invalid_rows += 1
    if s.bids.count > 0 and s.asks.count > 0:
        bb = s.bids.key[s.bids.count - 1]
        ba = -s.asks.key[s.asks.count - 1]
        crossed = bb > ba
        locked = bb == ba
    if crossed or locked or s.crossed.st.open:
        crossed_row(&s.crossed, crossed, locked, event, column(ch.ts_event, i, 0))
    else:
        s.crossed.st.pending = 0
    if ch.reference != NULL and s.cfg.compare:
        match_row(&s.match, s.row, ch.reference + i * 4 * s.cfg.depth, s.c.rows,
                  s.bids.count if s.bids.bounded else levels, s.asks.count if s.asks.bounded else levels)
    s.c.rows += 1
    return 0


cdef inline int step(Core* s, const Chunk* ch, Py_ssize_t i) except -1 nogil:
    """Event ``i`` of ``ch``; returns 1 when it emitted a row (in ``s.row``)."""
    cdef int64_t event = s.c.events
    cdef int8_t a = ch.action[i]
    cdef uint8_t f = ch.flags[i]
    cdef int64_t update_id = column(ch.update_id, i, NULL_ID)
    cdef int64_t errors_before = s.c.integrity_errors
    cdef bint emitted
    if is_trade(a):
        s.crossed.st.pending += 1
    if s.flow.seed_pending:
        s.flow.seed_pending = False
        emit_row(s, ch, i, event, True)
        emitted = True
    else:
        if (f & F_SNAPSHOT) and (s.flow.prev_flags & F_END):
            begin_snapshot(s, update_id)
        apply_event(s, a, ch.side[i], ch.price[i], ch.size[i], ch.order_id[i], f, event)
        if f & F_END:
            end_of_message(s, ch, i, event)
        elif s.flow.broken:
            s.flow.valid = False
        if s.c.integrity_errors != errors_before:
            if s.failures.st.events == 0:
                s.c.first_integrity_ts = column(ch.ts_event, i, 0)
                s.c.first_integrity_src_row = column(ch.src_row, i, 0)
            failures_note(&s.failures, event, column(ch.src_row, i, 0), column(ch.ts_event, i, 0),
                          update_id, s.c.last_integrity_kind)
        emitted = s.cfg.emit_every_event or (f & F_END)
        if emitted:
            emit_row(s, ch, i, event, s.flow.valid and not s.flow.resyncing)
    s.flow.prev_flags = f
    s.flow.prev_update_id = update_id
    s.c.events += 1
    return emitted


cdef int run(Core* s, const Chunk* ch, int64_t* cells, uint8_t* valid, int64_t* row_event,
             Py_ssize_t* rows, bint stream) except -1 nogil:
    """Every event of ``ch``; emitted rows written into ``cells`` (row-major, 4 * levels wide):
    streamed past the cache when ``stream`` (a block too big to be read back from the cache),
    else plain stores (the block stays in the cache for whoever reads it next)."""
    cdef Py_ssize_t i, k, n = ch.n, row = 0, width = 4 * s.cfg.levels
    cdef Py_ssize_t ref_width = 4 * s.cfg.depth
    cdef Py_ssize_t compared = 4 * s.match.levels_compared if s.cfg.compare else 0
    cdef int64_t first = s.c.events
    cdef bint fetch_ref = ch.reference != NULL and (s.cfg.reseed or s.cfg.compare)
    cdef const int64_t* ahead_row
    cdef uint64_t ahead, home
    for i in range(n):
        # the reference row and the order-map slot of an event a few steps ahead miss the cache:
        # fetch them early (the compared cells, and the deepest level, which re-seeds nearly
        # always fill)
        if i + PREFETCH_AHEAD < n:
            if fetch_ref:
                ahead_row = &ch.reference[(i + PREFETCH_AHEAD) * ref_width]
                for k in range(0, compared, 8):  # one 64-byte line holds 8 cells
                    prefetch(&ahead_row[k])
                if s.cfg.reseed:
                    prefetch(&ahead_row[ref_width - 4])
            ahead = ch.order_id[i + PREFETCH_AHEAD]
            if ahead != 0:
                home = _slot_of(&s.orders, ahead)
                prefetch(&s.orders.slots[home])
                prefetch(&s.orders.slots[(home + 2) & s.orders.mask])
        if step(s, ch, i):
            if stream:
                stream_row(<long long*> &cells[row * width], <const long long*> s.row, width)
            else:
                memcpy(&cells[row * width], s.row, width * sizeof(int64_t))
            valid[row] = <uint8_t> s.flow.row_valid
            row_event[row] = first + i
            row += 1
    stream_fence()
    rows[0] = row
    return 0


# ------------------------------------------------------------------------------ the Python types

cdef class Block:
    """The rows one :meth:`Replayer.apply` emitted (views into the replayer's recycled buffers,
    valid while anything refers to them: a later ``apply`` writes into other buffers): ``cells`` ``int64[rows, 4N]`` (the cell layout of
    :mod:`obrecon_pipeline.book_schema`), ``valid`` ``uint8[rows]`` (book_valid) and
    ``row_event`` ``int64[rows]`` (the global arrival index of the event behind each row)."""

    cdef readonly Py_ssize_t rows
    cdef readonly object cells
    cdef readonly object valid
    cdef readonly object row_event

    def __cinit__(self, Py_ssize_t rows, cells, valid, row_event):
        self.rows = rows
        self.cells = cells
        self.valid = valid
        self.row_event = row_event

    def __repr__(self):
        return f"Block(rows={self.rows}, width={self.cells.shape[1]})"


def _decimals(scale: int) -> int:
    """``d`` with ``scale == 10**d`` (checksums rebuild the venue's decimal text from it)."""
    d = len(str(scale)) - 1
    if scale <= 0 or 10**d != scale:
        raise ReplayError(f"checksums need a power-of-ten scale, got {scale}")
    return d


cdef object _int64_array(const void* data, size_t nbytes):
    """A copy of ``nbytes`` of int64 fields as an ``int64`` array (checkpoints)."""
    out = np.empty(nbytes // sizeof(int64_t), dtype=np.int64)
    cdef int64_t[::1] view = out
    if nbytes:
        memcpy(&view[0], data, nbytes)
    return out


cdef int _load_int64(void* data, size_t nbytes, object values, str what) except -1:
    cdef int64_t[::1] view = np.ascontiguousarray(values, dtype=np.int64)
    if <size_t> view.shape[0] * sizeof(int64_t) != nbytes:
        raise ReplayError(f"replayer state: {what} has {view.shape[0]} fields, expected {nbytes // 8}")
    if nbytes:
        memcpy(data, &view[0], nbytes)
    return 0


def _natural(value: int, scale: int):
    return None if value == NULL_CELL else value / scale


def _optional_id(value: int):
    return None if value == NULL_ID else int(value)


cdef class Replayer:
    """A book rebuilt from normalized events, with all of its state across calls.

    ``Replayer(levels, options, reference_depth=0, reseed=True, price_scale=1, size_scale=1,
    max_failures=10_000, max_episodes=1_000, compare=True)``: rows carry the top ``levels`` levels;
    ``options`` (:class:`~obrecon_pipeline.streams.ReplayOptions`) say how to treat the venue's
    events; ``reference_depth`` is the depth of the reference rows that chunks may carry (0: none);
    with ``reseed`` the levels entering a bounded window are taken from the reference row of the
    same event (LOBSTER); with ``compare`` every row of a chunk that has reference rows is matched
    against its own (:meth:`match`); ``price_scale``/``size_scale`` are the events' scales (venue checksums
    rebuild decimal text from them; :meth:`rescale` raises them). The first ``max_failures``
    located failures and ``max_episodes`` crossed episodes are kept; their counts are complete.
    """

    cdef Core s
    cdef object _row            # int64[4N] owning s.row
    cdef object _ours           # int64[4N] owning s.drift.ours
    cdef object _cells, _valid, _row_event   # the current block's buffers
    cdef object _pool                        # buffers.Recycler per block buffer
    cdef int64_t[:, ::1] _cells_view
    cdef uint8_t[::1] _valid_view
    cdef int64_t[::1] _row_event_view
    cdef double _wall

    def __cinit__(self, *args, **kwargs):
        memset(&self.s, 0, sizeof(Core))
        self._pool = (buffers.Recycler(), buffers.Recycler(), buffers.Recycler())
        ladder_init(&self.s.bids)
        ladder_init(&self.s.asks)
        orders_init(&self.s.orders, 0)

    def __dealloc__(self):
        ladder_free(&self.s.bids)
        ladder_free(&self.s.asks)
        orders_free(&self.s.orders)
        records_free(&self.s.failures.records)
        records_free(&self.s.crossed.records)

    def __init__(self, Py_ssize_t levels, options: ReplayOptions, Py_ssize_t reference_depth=0,
                 bint reseed=True, price_scale=1, size_scale=1, Py_ssize_t max_failures=10_000,
                 Py_ssize_t max_episodes=1_000, bint compare=True):
        if levels < 1:
            raise ReplayError(f"levels must be >= 1, got {levels}")
        if options.emit not in ("event", "message"):
            raise ReplayError(f"emit must be 'event' or 'message', got {options.emit!r}")
        if options.window < 0 or reference_depth < 0 or max_failures < 0 or max_episodes < 0:
            raise ReplayError("window, reference_depth, max_failures and max_episodes must be >= 0")
        if price_scale < 1 or size_scale < 1:
            raise ReplayError(f"scales must be >= 1, got {price_scale} and {size_scale}")
        cdef Config* cfg = &self.s.cfg
        cfg.levels = levels
        cfg.window = options.window
        cfg.emit_every_event = options.emit == "event"
        cfg.strict_orders = options.strict_orders
        cfg.unseen_in_book = options.unseen_orders_in_book
        cfg.checksum_kind = kind_code(options.checksum)
        cfg.reseed = reseed
        cfg.depth = reference_depth
        cfg.compare = compare
        cfg.price_scale = price_scale
        cfg.size_scale = size_scale
        if cfg.checksum_kind:
            cfg.price_decimals = _decimals(price_scale)
            cfg.size_decimals = _decimals(size_scale)
        self.s.failures.st.limit = max_failures
        self.s.crossed.st.limit = max_episodes
        self._start()

    cdef _start(self):
        """Everything a fresh stream starts with, once the configuration is set."""
        counters_init(&self.s.c)
        self.s.flow.valid = True
        self.s.flow.prev_flags = F_END  # the first event starts a message
        self.s.flow.prev_update_id = NULL_ID
        self.s.match.levels_compared = min(self.s.cfg.levels, self.s.cfg.depth)
        self._allocate_rows()

    cdef _allocate_rows(self):
        cdef int64_t[::1] row, ours
        width = 4 * self.s.cfg.levels
        self._row = np.full(width, NULL_CELL, dtype=np.int64)
        self._ours = np.full(width, NULL_CELL, dtype=np.int64)
        row = self._row
        ours = self._ours
        self.s.row = &row[0]
        self.s.drift.ours = &ours[0]

    # ---------------------------------------------------------------------------- properties
    @property
    def levels(self) -> int:
        return self.s.cfg.levels

    @property
    def reference_depth(self) -> int:
        return self.s.cfg.depth

    @property
    def options(self) -> ReplayOptions:
        checksum = Checksum(self.s.cfg.checksum_kind)
        return ReplayOptions(window=self.s.cfg.window, emit="event" if self.s.cfg.emit_every_event else "message",
                             strict_orders=bool(self.s.cfg.strict_orders),
                             unseen_orders_in_book=bool(self.s.cfg.unseen_in_book),
                             checksum=None if checksum is Checksum.NONE else checksum.name.lower())

    @property
    def scales(self) -> tuple:
        """``(price_scale, size_scale)`` of the prices and sizes held."""
        return int(self.s.cfg.price_scale), int(self.s.cfg.size_scale)

    @property
    def events(self) -> int:
        """Events consumed so far: the global arrival index of the next event."""
        return self.s.c.events

    @property
    def rows(self) -> int:
        """Rows emitted so far: the global index of the next row."""
        return self.s.c.rows

    @property
    def last_row(self):
        """The latest emitted row, ``int64[4N]`` (a view, overwritten by the next row)."""
        return self._row

    @property
    def last_row_valid(self) -> bool:
        return bool(self.s.flow.row_valid)

    # ------------------------------------------------------------------------------- feeding
    def seed(self, row):
        """Load the book from a reference row (``int64[4*depth]``); the next event is not applied,
        its row is this book (LOBSTER: orderbook row 0 is the book after message 0)."""
        cdef const int64_t[::1] ref = np.ascontiguousarray(row, dtype=np.int64)
        depth = ref.shape[0] // 4
        if depth == 0 or ref.shape[0] != 4 * depth:
            raise ReplayError(f"a seed row needs 4 cells per level, got {ref.shape[0]}")
        seed_side(&self.s.bids, &ref[0], depth, 0, SIDE_BID)
        seed_side(&self.s.asks, &ref[0], depth, 2, SIDE_ASK)
        self.s.flow.seed_pending = True

    def apply(self, events: pl.DataFrame, reference=None) -> Block:
        """Replay one chunk of events in :data:`~obrecon_pipeline.events.EVENT_SCHEMA` whose
        ``arrival`` continues the stream (its first event is :attr:`events`); ``reference``:
        ``int64[n, 4*reference_depth]``, the venue's book after each event, or None."""
        n = events.height
        if n:
            arrival = events.get_column("arrival")
            if arrival[0] != self.s.c.events or arrival[n - 1] != self.s.c.events + n - 1:
                raise ReplayError(f"chunk covers arrival {arrival[0]}..{arrival[n - 1]}, "
                                  f"the replayer is at event {self.s.c.events}")
        return self.apply_arrays(*event_columns(events, self.s.cfg.checksum_kind != 0), reference=reference)

    def apply_arrays(self, const int8_t[::1] action, const int8_t[::1] side, const int64_t[::1] price,
                     const int64_t[::1] size, const uint64_t[::1] order_id, const uint8_t[::1] flags,
                     const int64_t[::1] checksum=None, const int64_t[::1] src_row=None,
                     const int64_t[::1] ts_event=None, const int64_t[::1] update_id=None,
                     reference=None) -> Block:
        """:meth:`apply` over contiguous columns (``checksum``/``update_id``: NULL_ID where absent;
        optional columns may be None)."""
        cdef Py_ssize_t n = action.shape[0], rows = 0, need
        cdef Chunk ch
        cdef const int64_t[:, ::1] ref
        _same_length(n, side.shape[0], "side")
        _same_length(n, price.shape[0], "price")
        _same_length(n, size.shape[0], "size")
        _same_length(n, order_id.shape[0], "order_id")
        _same_length(n, flags.shape[0], "flags")
        if checksum is not None:
            _same_length(n, checksum.shape[0], "checksum")
        if src_row is not None:
            _same_length(n, src_row.shape[0], "src_row")
        if ts_event is not None:
            _same_length(n, ts_event.shape[0], "ts_event")
        if update_id is not None:
            _same_length(n, update_id.shape[0], "update_id")
        memset(&ch, 0, sizeof(Chunk))
        ch.n = n
        if n == 0:
            return self._block(0)
        ch.action = &action[0]
        ch.side = &side[0]
        ch.price = &price[0]
        ch.size = &size[0]
        ch.order_id = &order_id[0]
        ch.flags = &flags[0]
        if checksum is not None:
            ch.checksum = &checksum[0]
        if src_row is not None:
            ch.src_row = &src_row[0]
        if ts_event is not None:
            ch.ts_event = &ts_event[0]
        if update_id is not None:
            ch.update_id = &update_id[0]
        if reference is not None:
            ref = self._reference(reference, n)
            ch.reference = &ref[0, 0]
        need = n if self.s.cfg.emit_every_event else _ends(flags) + (1 if self.s.flow.seed_pending else 0)
        self._reserve(need)
        t0 = time.perf_counter()
        with nogil:
            run(&self.s, &ch, &self._cells_view[0, 0], &self._valid_view[0], &self._row_event_view[0], &rows,
                need * 4 * self.s.cfg.levels * sizeof(int64_t) >= STREAM_BYTES)
        self._wall += time.perf_counter() - t0
        return self._block(rows)

    def apply_one(self, int action, int side, int64_t price, int64_t size, uint64_t order_id=0,
                  int flags=F_END, int64_t checksum=NULL_ID, int64_t ts_event=0, reference_row=None,
                  int64_t update_id=NULL_ID, int64_t src_row=0) -> bool:
        """One event (a live feed); True when it emitted a row, then readable as :attr:`last_row`."""
        cdef int8_t a = action, sd = side
        cdef uint8_t f = flags
        cdef Chunk ch
        memset(&ch, 0, sizeof(Chunk))
        ch.n = 1
        ch.action = &a
        ch.side = &sd
        ch.price = &price
        ch.size = &size
        ch.order_id = &order_id
        ch.flags = &f
        ch.checksum = &checksum
        ch.src_row = &src_row
        ch.ts_event = &ts_event
        ch.update_id = &update_id
        cdef Py_buffer view
        if reference_row is None:
            return step(&self.s, &ch, 0) == 1
        # the buffer protocol directly: a typed memoryview would cost more than the event itself
        PyObject_GetBuffer(reference_row, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT)
        try:
            if (view.itemsize != sizeof(int64_t) or view.format == NULL or view.format[0] not in (b"l", b"q")
                    or self.s.cfg.depth == 0 or view.len != <Py_ssize_t> (4 * self.s.cfg.depth * sizeof(int64_t))):
                raise ReplayError(f"a reference row must be {4 * self.s.cfg.depth} contiguous int64 cells")
            ch.reference = <const int64_t*> view.buf
            return step(&self.s, &ch, 0) == 1
        finally:
            PyBuffer_Release(&view)

    def rescale(self, price_factor: int, size_factor: int):
        """Multiply every price and size held (ladders, frontiers, resting orders, the book kept for
        a snapshot comparison, the first drift disagreement) by exact integer factors: the feed
        met more decimals and its later events come at the finer scale."""
        if price_factor < 1 or size_factor < 1:
            raise ReplayError(f"rescale factors must be >= 1, got {price_factor} and {size_factor}")
        cdef int64_t pf = price_factor, sf = size_factor
        new_price_scale, new_size_scale = self.s.cfg.price_scale * pf, self.s.cfg.size_scale * sf
        if new_price_scale > INT64_MAX or new_size_scale > INT64_MAX:
            raise ReplayError("rescaled scales do not fit an int64")
        cdef DriftStats* d = &self.s.drift.st
        cells = self._ours
        known = (cells != NULL_CELL) & (cells != UNKNOWN_CELL)
        held = np.array([d.first_ours_price, d.first_theirs_price], dtype=np.int64)
        sizes = np.array([d.first_ours_size, d.first_theirs_size], dtype=np.int64)
        factors = np.tile(np.array([pf, sf, pf, sf], dtype=np.int64), self.s.cfg.levels)
        if (not ladder_rescalable(&self.s.bids, pf, sf) or not ladder_rescalable(&self.s.asks, pf, sf)
                or not orders_rescalable(&self.s.orders, pf, sf)
                or np.any(np.abs(cells[known]) > INT64_MAX // factors[known])
                or np.any(np.abs(held[held != NULL_CELL]) > INT64_MAX // pf)
                or np.any(np.abs(sizes[sizes != NULL_CELL]) > INT64_MAX // sf)):
            raise ReplayError(f"rescaling by {price_factor} / {size_factor} overflows an int64 price or size")
        checksum_decimals = None
        if self.s.cfg.checksum_kind:
            checksum_decimals = _decimals(new_price_scale), _decimals(new_size_scale)
        ladder_rescale(&self.s.bids, pf, sf)
        ladder_rescale(&self.s.asks, pf, sf)
        orders_rescale(&self.s.orders, pf, sf)
        cells[known] *= factors[known]
        if d.first_ours_price != NULL_CELL:
            d.first_ours_price *= pf
            d.first_ours_size *= sf
        d.first_theirs_price *= pf  # a disagreement always has the snapshot's level
        d.first_theirs_size *= sf
        self.s.cfg.price_scale = new_price_scale
        self.s.cfg.size_scale = new_size_scale
        if checksum_decimals is not None:
            self.s.cfg.price_decimals, self.s.cfg.size_decimals = checksum_decimals

    # -------------------------------------------------------------------------------- buffers
    def reserve(self, Py_ssize_t rows):
        """Allocate and touch the block buffers for ``rows`` rows now (the first ``apply`` of a
        chunk that size then pays no page faults)."""
        self._reserve(rows)
        self._cells.fill(NULL_CELL)

    cdef const int64_t[:, ::1] _reference(self, reference, Py_ssize_t n):
        if self.s.cfg.depth == 0:
            raise ReplayError("a reference needs a replayer made with reference_depth > 0")
        ref = np.ascontiguousarray(reference, dtype=np.int64)
        if ref.ndim != 2 or ref.shape[0] != n or ref.shape[1] != 4 * self.s.cfg.depth:
            raise ReplayError(f"reference has shape {ref.shape} for {n} events of depth {self.s.cfg.depth}")
        return ref

    cdef _reserve(self, Py_ssize_t rows):
        """Block buffers for ``rows`` rows, recycled (:class:`~obrecon_pipeline.buffers.Recycler`):
        the previous block's own when nothing refers to it any more, else another, so a block stays
        valid for as long as its consumer holds it (a writer thread converting it while the next
        chunk is replayed) and a run still touches its pages once."""
        rows = max(rows, 1)
        self._cells_view = None
        self._valid_view = None
        self._row_event_view = None
        self._cells = self._valid = self._row_event = None
        cells, valid, row_event = self._pool
        self._cells = cells.take((rows, 4 * self.s.cfg.levels), np.int64)
        self._valid = valid.take((rows,), np.uint8)
        self._row_event = row_event.take((rows,), np.int64)
        self._cells_view = self._cells
        self._valid_view = self._valid
        self._row_event_view = self._row_event

    cdef Block _block(self, Py_ssize_t rows):
        if self._cells is None:
            self._reserve(0)
        return Block(rows, self._cells[:rows], self._valid[:rows], self._row_event[:rows])

    # ------------------------------------------------------------------------------- results
    def counters(self) -> dict:
        """``report.json``'s replayer counters (the keys of ``replay()``'s counters), the first
        failure / checksum mismatch / crossed book located, failing events per kind, and
        ``reference`` (the cell-by-cell match, None without reference rows), ``crossed_books``
        (episodes, pre-open vs continuous) and ``snapshot_drift``."""
        cdef Counters* c = &self.s.c
        out = {
            "events": c.events,
            "rows": c.rows,
            "unknown_cells": c.unknown_cells,
            "reseeds": c.reseeds,
            "crossed_rows": c.crossed_rows,
            "locked_rows": c.locked_rows,
            "invalid_rows": c.invalid_rows,
            "integrity_errors": c.integrity_errors,
            "unknown_order_ids": c.unknown_order_ids,
            "outside_window_events": c.outside_window_events,
            "snapshots": c.snapshots,
            "resyncs": c.resyncs,
            "checksum_ok": c.checksum_ok,
            "checksum_failed": c.checksum_failed,
            "replay_wall_s": self._wall,
            "events_per_s": c.events / self._wall if self._wall > 0 else float("inf"),
        }
        if c.integrity_errors:
            out["first_integrity_error"] = {
                "event": c.first_integrity_event,
                "ts_event": c.first_integrity_ts,
                "src_row": c.first_integrity_src_row,
                "kind": IntegrityKind(c.first_integrity_kind).label,
            }
        if c.checksum_failed:
            out["first_checksum_failure"] = {
                "event": c.first_checksum_event,
                "ts_event": c.first_checksum_ts,
                "src_row": c.first_checksum_src_row,
                "update_id": _optional_id(c.first_checksum_update_id),
                "checksum": c.first_checksum_value,
            }
        if c.crossed_rows + c.locked_rows:
            out["first_crossed"] = {
                "event": c.first_crossed_event,
                "ts_event": c.first_crossed_ts,
                "src_row": c.first_crossed_src_row,
            }
        out["integrity_error_kinds"] = {kind.label: self.s.failures.st.by_kind[int(kind)] for kind in IntegrityKind}
        out["reference"] = self.match()
        out["crossed_books"] = self.crossed_books()
        out["snapshot_drift"] = self.snapshot_drift()
        return out

    def match(self):
        """The reference match so far (the fields of ``integrity.reference.Match`` and its
        ``match_rate``), or None when no row was compared."""
        cdef MatchStats* m = &self.s.match
        if m.rows_compared == 0:
            return None
        j = m.first_mismatch_cell
        return {
            "rows_compared": m.rows_compared,
            "levels_compared": m.levels_compared,
            "cells_compared": m.cells_compared,
            "cells_matched": m.cells_matched,
            "unknown_cells": m.unknown_cells,
            "mismatched_rows": m.mismatched_rows,
            "first_mismatch_row": m.first_mismatch_row if m.mismatched_rows else None,
            "first_mismatch_column": f"{FIELDS[j % 4]}_{j // 4 + 1}" if m.mismatched_rows else None,
            "match_rate": <double> m.cells_matched / m.cells_compared if m.cells_compared else 1.0,
        }

    def crossed_episodes(self) -> list:
        """The kept episodes, then the open one (no end) if there is room: dicts of
        ``integrity.crossed.EPISODE_SCHEMA``'s fields."""
        cdef CrossedStats* x = &self.s.crossed.st
        cdef Py_ssize_t k
        out = []
        for k in range(x.kept):
            r = [self.s.crossed.records.rec[k * EPISODE_FIELDS + f] for f in range(EPISODE_FIELDS)]
            out.append(dict(zip(EPISODE_KEYS, [k, CrossedKind(episode_kind(r[6], r[7])).label, *r])))
        if x.open and x.closed < x.limit:
            out.append(dict(zip(EPISODE_KEYS, [x.closed, CrossedKind.CONTINUOUS.label, x.rows, x.first_seq,
                                               x.last_seq, None, x.first_ts, x.last_ts, x.trades_while, 0])))
        return out

    def crossed_books(self) -> dict:
        """The keys of ``integrity.crossed.CrossedBooks.as_report`` (an open episode counts as
        continuous; ``locked_rows`` here counts emitted rows, as that report does)."""
        cdef CrossedStats* x = &self.s.crossed.st
        episodes = x.closed + x.open
        return {
            "crossed_rows_classified": x.crossed_rows,
            "crossed_rows_pre_open": x.rows_pre_open,
            "crossed_rows_continuous": x.crossed_rows - x.rows_pre_open,
            "crossed_episodes": episodes,
            "crossed_episodes_pre_open": x.closed_pre_open,
            "crossed_episodes_continuous": episodes - x.closed_pre_open,
            "crossed_episode_list": self.crossed_episodes(),
            "locked_rows": x.locked_rows,
        }

    def snapshot_drift(self) -> dict:
        """Mid-stream snapshots against the rebuilt book just before them (see :mod:`._drift`)."""
        cdef DriftStats* d = &self.s.drift.st
        price_scale, size_scale = self.scales
        first = None
        if d.disagree:
            first = {
                "row": d.first_row,
                "event": d.first_event,
                "ts_event": d.first_ts,
                "update_id": _optional_id(d.first_update_id),
                "level": d.first_level,
                "side": Side(d.first_side).name.lower(),
                "ours_price": _natural(d.first_ours_price, price_scale),
                "ours_size": _natural(d.first_ours_size, size_scale),
                "theirs_price": _natural(d.first_theirs_price, price_scale),
                "theirs_size": _natural(d.first_theirs_size, size_scale),
            }
        return {
            "snapshots_compared": d.compared,
            "snapshots_agree": d.agree,
            "snapshots_disagree": d.disagree,
            "snapshots_not_comparable": d.not_comparable,
            "snapshots_back_to_back": d.back_to_back,
            "first_snapshot_disagreement": first,
        }

    def integrity_failures(self) -> pl.DataFrame:
        """The kept located failures: event, src_row, ts_event, update_id (null where absent),
        kind (:class:`~obrecon_pipeline.codes.IntegrityKind` label); ``counters()`` has the counts."""
        cdef Py_ssize_t kept = self.s.failures.st.kept
        rec = (_int64_array(self.s.failures.records.rec, kept * FAILURE_FIELDS * sizeof(int64_t)).reshape(kept, FAILURE_FIELDS)
               if kept else np.empty((0, FAILURE_FIELDS), dtype=np.int64))
        labels = {int(k): k.label for k in IntegrityKind}
        frame = pl.DataFrame({name: rec[:, k] for k, name in enumerate(FAILURE_SCHEMA)})
        return frame.with_columns(
            pl.when(pl.col("update_id") != NULL_ID).then(pl.col("update_id")).alias("update_id"),
            pl.col("kind").replace_strict(labels, return_dtype=pl.String),
        ).cast(FAILURE_SCHEMA)

    # ---------------------------------------------------------------------------- checkpoints
    def state(self) -> bytes:
        """The whole state as bytes (an ``.npz`` archive of integer arrays; no pickle)."""
        cdef Core* s = &self.s
        arrays = {
            "version": np.array([STATE_VERSION], dtype=np.int64),
            "config": _int64_array(&s.cfg, sizeof(Config)),
            "flow": _int64_array(&s.flow, sizeof(Flow)),
            "counters": _int64_array(&s.c, sizeof(Counters)),
            "failures": _int64_array(&s.failures.st, sizeof(FailureStats)),
            "failure_records": _int64_array(s.failures.records.rec, s.failures.st.kept * FAILURE_FIELDS * sizeof(int64_t)),
            "crossed": _int64_array(&s.crossed.st, sizeof(CrossedStats)),
            "episodes": _int64_array(s.crossed.records.rec, s.crossed.st.kept * EPISODE_FIELDS * sizeof(int64_t)),
            "match": _int64_array(&s.match, sizeof(MatchStats)),
            "drift": _int64_array(&s.drift.st, sizeof(DriftStats)),
            "drift_book": np.array(self._ours, copy=True),
            "row": np.array(self._row, copy=True),
            "wall": np.array([self._wall], dtype=np.float64),
        }
        cdef Ladder* lad
        for name in ("bids", "asks"):
            lad = &s.bids if name == "bids" else &s.asks
            arrays[name] = np.array([lad.count, lad.bounded, lad.frontier], dtype=np.int64)
            arrays[name + "_key"] = _int64_array(lad.key, lad.count * sizeof(int64_t))
            arrays[name + "_size"] = _int64_array(lad.size, lad.count * sizeof(int64_t))
        arrays.update(self._orders_state())
        out = io.BytesIO()
        np.savez(out, **arrays)
        return out.getvalue()

    cdef dict _orders_state(self):
        cdef OrderMap* m = &self.s.orders
        cdef Py_ssize_t j, k = 0
        pos = np.empty(m.count, dtype=np.int64)
        ids = np.empty(m.count, dtype=np.uint64)
        fields = np.empty((m.count, 3), dtype=np.int64)  # price, size, side
        cdef int64_t[::1] vpos = pos
        cdef uint64_t[::1] vids = ids
        cdef int64_t[:, ::1] vf = fields
        for j in range(m.cap):
            if m.slots[j].id != 0:
                vpos[k] = j
                vids[k] = m.slots[j].id
                vf[k, 0] = m.slots[j].price
                vf[k, 1] = m.slots[j].size
                vf[k, 2] = m.slots[j].side
                k += 1
        return {"orders": np.array([m.cap], dtype=np.int64), "order_slot": pos, "order_id": ids, "order_fields": fields}

    @classmethod
    def from_state(cls, data: bytes):
        """A replayer in exactly the state :meth:`state` saved."""
        try:
            z = np.load(io.BytesIO(data), allow_pickle=False)
            arrays = {name: z[name] for name in z.files}
        except Exception as err:  # noqa: BLE001 - anything unreadable is the same error to a caller
            raise ReplayError(f"replayer state: not a replayer checkpoint ({err})") from None
        if arrays.get("version", np.zeros(1))[0] != STATE_VERSION:
            raise ReplayError(f"replayer state: version {arrays.get('version')} is not {STATE_VERSION}")
        cdef Replayer r = cls.__new__(cls)
        r._restore(arrays)
        return r

    cdef _restore(self, dict a):
        cdef Core* s = &self.s
        cdef Ladder* lad
        cdef OrderMap* m = &s.orders
        cdef Py_ssize_t j, k
        _load_int64(&s.cfg, sizeof(Config), a["config"], "config")
        _load_int64(&s.flow, sizeof(Flow), a["flow"], "flow")
        _load_int64(&s.c, sizeof(Counters), a["counters"], "counters")
        _load_int64(&s.failures.st, sizeof(FailureStats), a["failures"], "failures")
        _load_int64(&s.crossed.st, sizeof(CrossedStats), a["crossed"], "crossed")
        _load_int64(&s.match, sizeof(MatchStats), a["match"], "match")
        _load_int64(&s.drift.st, sizeof(DriftStats), a["drift"], "drift")
        self._allocate_rows()
        width = 4 * s.cfg.levels
        for name in ("drift_book", "row"):
            if a[name].shape != (width,):
                raise ReplayError(f"replayer state: {name} has {a[name].shape[0]} cells, expected {width}")
        self._ours[:] = a["drift_book"]
        self._row[:] = a["row"]
        self._wall = float(a["wall"][0])
        kept = s.failures.st.kept
        records_reserve(&s.failures.records, kept, FAILURE_FIELDS)
        _load_int64(s.failures.records.rec, kept * FAILURE_FIELDS * sizeof(int64_t), a["failure_records"],
                    "failure records")
        kept = s.crossed.st.kept
        records_reserve(&s.crossed.records, kept, EPISODE_FIELDS)
        _load_int64(s.crossed.records.rec, kept * EPISODE_FIELDS * sizeof(int64_t), a["episodes"], "episodes")
        for name in ("bids", "asks"):
            lad = &s.bids if name == "bids" else &s.asks
            count, bounded, frontier = (int(v) for v in a[name])
            ladder_reset(lad, count)
            lad.bounded = bounded
            lad.frontier = frontier
            _load_int64(lad.key, count * sizeof(int64_t), a[name + "_key"], name)
            _load_int64(lad.size, count * sizeof(int64_t), a[name + "_size"], name)
        cap = int(a["orders"][0])
        if cap < 1 or cap & (cap - 1):
            raise ReplayError(f"replayer state: order map capacity {cap} is not a power of two")
        orders_free(m)
        orders_init(m, cap)
        if m.cap != cap:
            raise ReplayError(f"replayer state: order map capacity {cap} is below the minimum")
        pos = np.ascontiguousarray(a["order_slot"], dtype=np.int64)
        ids = np.ascontiguousarray(a["order_id"], dtype=np.uint64)
        fields = np.ascontiguousarray(a["order_fields"], dtype=np.int64)
        if not (pos.shape[0] == ids.shape[0] == fields.shape[0]) or (pos.size and (pos.min() < 0 or pos.max() >= cap)):
            raise ReplayError("replayer state: order map slots do not fit its capacity")
        cdef int64_t[::1] vpos = pos
        cdef uint64_t[::1] vids = ids
        cdef int64_t[:, ::1] vf = fields
        for k in range(pos.shape[0]):
            j = vpos[k]
            m.slots[j].id = vids[k]
            m.slots[j].price = vf[k, 0]
            m.slots[j].size = vf[k, 1]
            m.slots[j].side = <int8_t> vf[k, 2]
        m.count = pos.shape[0]


cdef inline int _same_length(Py_ssize_t n, Py_ssize_t got, str name) except -1:
    if got != n:
        raise ReplayError(f"column {name} has {got} entries for {n} events")
    return 0


cdef Py_ssize_t _ends(const uint8_t[::1] flags) noexcept nogil:
    """END_OF_MESSAGE events among ``flags``."""
    cdef Py_ssize_t i, k = 0
    for i in range(flags.shape[0]):
        k += flags[i] & F_END
    return k


def event_columns(events: pl.DataFrame, checksums: bool = True) -> list:
    """The columns :meth:`Replayer.apply_arrays` takes, from events in
    :data:`~obrecon_pipeline.events.EVENT_SCHEMA`: action, side, price, size, order_id, flags,
    checksum (None unless ``checksums``), src_row, ts_event, update_id, as contiguous arrays;
    zero-copy where a column has no nulls; an optional column that is all null is None (NULL_ID
    for checksum/update_id, 0 for src_row/ts_event), other nulls are filled the same way."""

    def column(name: str, dtype, fill, optional: bool = False):
        col = events.get_column(name)
        nulls = col.null_count()
        if nulls:
            if optional and nulls == col.len():
                return None
            col = col.fill_null(fill)
        return np.ascontiguousarray(col.to_numpy(), dtype=dtype)

    return [
        column("action", np.int8, 0), column("side", np.int8, 0), column("price", np.int64, 0),
        column("size", np.int64, 0), column("order_id", np.uint64, 0), column("flags", np.uint8, 0),
        column("checksum", np.int64, NULL_ID, True) if checksums else None,
        column("src_row", np.int64, 0, True), column("ts_event", np.int64, 0, True),
        column("update_id", np.int64, NULL_ID, True),
    ]
