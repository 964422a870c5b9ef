# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The replay loop: normalized events in, top-N book after every event (or message) out.

Inputs are contiguous NumPy columns of the normalized event table; the output is a preallocated
row-major ``int64[rows, 4N]`` matrix in the cell layout of :mod:`obrecon_pipeline.book_schema`
(``NULL`` = empty or unknown). No Python object is touched per event.
"""

from libc.stdint cimport int8_t, uint8_t, int64_t, uint64_t

cdef extern from *:
    """
    #if defined(__SSE2__)
    #include <emmintrin.h>
    /* rows are written once and read only after the replay: stream them past the cache */
    static inline void obrecon_stream_row(long long *dst, const long long *src, Py_ssize_t n) {
        Py_ssize_t k = 0;
        if (((size_t)dst & 15) == 0) {  /* rows are 4N int64 = a multiple of 16 bytes */
            for (; k + 1 < n; k += 2)
                _mm_stream_si128((__m128i *)(dst + k), _mm_loadu_si128((const __m128i *)(src + k)));
        }
        for (; k < n; k++) _mm_stream_si64(dst + k, src[k]);
    }
    static inline void obrecon_stream_fence(void) { _mm_sfence(); }
    #else
    #include <string.h>
    static inline void obrecon_stream_row(long long *dst, const long long *src, Py_ssize_t n) {
        memcpy(dst, src, (size_t)n * sizeof(long long));
    }
    static inline void obrecon_stream_fence(void) {}
    #endif
    """
    void __builtin_prefetch(const void* addr) noexcept nogil
    void obrecon_stream_row(long long* dst, const long long* src, Py_ssize_t n) noexcept nogil
    void obrecon_stream_fence() noexcept nogil

from obrecon_pipeline.replay._book cimport (
    Ladder, OrderMap, OrderSlot, _slot_of,
    ladder_init, ladder_free, ladder_add, ladder_set, ladder_truncate, ladder_clear, ladder_knows,
    ladder_insert_at,
    orders_init, orders_free, orders_find, orders_insert, orders_remove_slot, orders_clear_side,
)

from obrecon_pipeline.codes cimport *
from obrecon_pipeline.replay._checksum cimport book_checksum

import numpy as np

cdef enum:
    PREFETCH_AHEAD = 16


cdef struct Counters:
    int64_t rows
    int64_t unknown_cells
    int64_t reseeds
    int64_t crossed_rows
    int64_t locked_rows
    int64_t first_crossed_event
    int64_t integrity_errors
    int64_t first_integrity_event
    int64_t first_integrity_kind
    int64_t unknown_order_ids
    int64_t outside_window_events
    int64_t snapshots
    int64_t resyncs
    int64_t invalid_rows
    int64_t last_integrity_kind
    int64_t checksum_ok
    int64_t checksum_failed
    int64_t first_checksum_event


cdef inline int64_t key_of(int8_t side, int64_t price) noexcept nogil:
    return price if side > 0 else -price


cdef inline void note_failure(Counters* c, int64_t event, int kind) noexcept nogil:
    c.integrity_errors += 1
    c.last_integrity_kind = kind
    if c.first_integrity_event < 0:
        c.first_integrity_event = event
        c.first_integrity_kind = kind


cdef inline OrderSlot* find_order(OrderMap* orders, uint64_t oid, bint strict, Counters* c, int64_t event) noexcept nogil:
    """The resting order ``oid``, or NULL: counted, and an integrity failure when ``strict``."""
    cdef OrderSlot* slot = orders_find(orders, oid) if oid != 0 else NULL
    if slot == NULL:
        c.unknown_order_ids += 1
        if strict:
            note_failure(c, event, I_UNKNOWN_ORDER)
    return slot


cdef inline int apply_delta(Ladder* lad, int8_t side, int64_t price, int64_t delta,
                            Counters* c, int64_t event) except -1 nogil:
    """Change the level at ``price`` by ``delta`` if it lies in the known part of the side.

    Returns 1 when this broke the book (a level would go negative).
    """
    cdef int64_t key = key_of(side, price)
    cdef int64_t before, after
    if not ladder_knows(lad, key):
        c.outside_window_events += 1
        return 0
    if ladder_add(lad, key, delta, &before, &after):
        note_failure(c, event, I_NEGATIVE_SIZE)
        return 1
    return 0


cdef inline void write_side(const Ladder* lad, int64_t* row, Py_ssize_t levels, Py_ssize_t offset,
                            int8_t side, Counters* c) noexcept nogil:
    """Top ``levels`` of one side into a row (price at 4r+offset, size at 4r+offset+1)."""
    cdef Py_ssize_t r
    cdef Py_ssize_t idx = lad.count - 1
    for r in range(levels):
        if idx >= 0:
            row[4 * r + offset] = lad.key[idx] if side > 0 else -lad.key[idx]
            row[4 * r + offset + 1] = lad.size[idx]
            idx -= 1
        else:
            if lad.bounded:
                row[4 * r + offset] = UNKNOWN_CELL
                row[4 * r + offset + 1] = UNKNOWN_CELL
                c.unknown_cells += 2
            else:
                row[4 * r + offset] = NULL_CELL
                row[4 * r + offset + 1] = NULL_CELL


cdef inline int reseed_side(Ladder* lad, const int64_t* ref, Py_ssize_t depth, Py_ssize_t offset,
                            int8_t side, Counters* c) except -1 nogil:
    """Fill the levels a bounded side cannot see from the reference row, one by one.

    Only levels worse than the frontier are taken (everything at or better than the frontier is
    replayed, never copied); an empty reference level means the side has no more levels at all.
    """
    cdef Py_ssize_t r
    cdef int64_t price, key
    while lad.bounded and lad.count < depth:
        r = lad.count
        price = ref[4 * r + offset]
        if price == NULL_CELL:
            lad.bounded = False
            return 0
        key = key_of(side, price)
        if key >= lad.frontier:
            # the reference disagrees with a level we know: leave it to the comparison
            return 0
        ladder_insert_at(lad, 0, key, ref[4 * r + offset + 1])
        lad.frontier = key
        c.reseeds += 1
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
    lad.bounded = True
    lad.frontier = lad.key[0]
    return 0


def replay_arrays(
    const int8_t[::1] action,
    const int8_t[::1] side,
    const int64_t[::1] price,
    const int64_t[::1] size,
    const uint64_t[::1] order_id,
    const uint8_t[::1] flags,
    Py_ssize_t levels,
    Py_ssize_t window,
    bint emit_every_event,
    bint strict_orders,
    const int64_t[:, ::1] reference,
    bint seed,
    bint reseed,
    int64_t[:, ::1] cells,
    uint8_t[::1] valid_out,
    int64_t[::1] row_event,
    int8_t[::1] failure_kind=None,
    const int64_t[::1] checksum=None,
    int checksum_kind=0,
    int price_decimals=0,
    int size_decimals=0,
):
    """Replay ``n`` events; fill ``cells``, ``valid_out`` and ``row_event``; return the counters.

    ``failure_kind`` (optional, ``int8[n]`` of zeros) receives at each event that caused an
    integrity failure the kind of (the last) failure: 1 negative size, 2 unknown order id,
    3 duplicate order id, 4 venue bad-book flag.

    ``reference`` is ``int64[n, 4*depth]`` aligned to the events (or shape ``(0, 0)``). With
    ``seed`` the book is loaded from reference row 0 and the replay starts at event 1 (row 0 is the
    seeded book); with ``reseed`` levels entering a bounded window are taken from the reference row
    of the same event.
    """
    cdef Py_ssize_t n = action.shape[0]
    cdef Py_ssize_t depth = reference.shape[1] // 4 if reference.shape[0] > 0 else 0
    cdef bint has_ref = depth > 0
    cdef Ladder bids, asks
    cdef Ladder* lad
    cdef OrderMap orders
    cdef OrderSlot* slot
    cdef Counters c
    cdef Py_ssize_t i, start = 0, row = 0
    cdef int8_t s, a
    cdef uint8_t f
    cdef int64_t p, q, before
    cdef uint64_t oid
    cdef bint valid = True, resyncing = False, broken = False
    cdef int64_t* out
    cdef int64_t[::1] scratch = np.empty(4 * levels, dtype=np.int64)
    cdef int64_t* tmp = &scratch[0]
    cdef int64_t bb, ba
    cdef int64_t errors_before
    cdef bint locate = failure_kind is not None

    if has_ref and reference.shape[0] != n:
        raise ValueError(f"reference has {reference.shape[0]} rows for {n} events")
    if seed and not has_ref:
        raise ValueError("seeding needs a reference book")
    if cells.shape[1] != 4 * levels:
        raise ValueError("cells has the wrong width")
    if locate and failure_kind.shape[0] != n:
        raise ValueError(f"failure_kind has {failure_kind.shape[0]} entries for {n} events")

    c = Counters(0, 0, 0, 0, 0, -1, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1)
    if checksum_kind != 0 and (checksum is None or checksum.shape[0] != n):
        raise ValueError("checksum verification needs one checksum entry per event")
    ladder_init(&bids)
    ladder_init(&asks)
    orders_init(&orders, 0)
    try:
        with nogil:
            if seed and n > 0:
                seed_side(&bids, &reference[0, 0], depth, 0, 1)
                seed_side(&asks, &reference[0, 0], depth, 2, -1)
                start = 1
                out = &cells[0, 0]
                write_side(&bids, out, levels, 0, 1, &c)
                write_side(&asks, out, levels, 2, -1, &c)
                valid_out[0] = 1
                row_event[0] = 0
                row = 1
            for i in range(start, n):
                # the reference row and the order-map slot of an event a few steps ahead are
                # touched sparsely and miss the cache: fetch them early
                if i + PREFETCH_AHEAD < n:
                    if has_ref and reseed:
                        # re-seeds nearly always fill the deepest level: fetch its cache line
                        __builtin_prefetch(&reference[i + PREFETCH_AHEAD, 4 * depth - 4])
                    if order_id[i + PREFETCH_AHEAD] != 0:
                        __builtin_prefetch(&orders.slots[_slot_of(&orders, order_id[i + PREFETCH_AHEAD])])
                a = action[i]
                s = side[i]
                p = price[i]
                q = size[i]
                oid = order_id[i]
                f = flags[i]
                lad = &bids if s > 0 else &asks
                errors_before = c.integrity_errors

                if f & F_BAD_BOOK:
                    note_failure(&c, i, I_VENUE_BAD_BOOK)
                    broken = True

                if a == A_ADD:
                    if oid != 0:
                        if orders_find(&orders, oid) != NULL:
                            if strict_orders:
                                note_failure(&c, i, I_DUPLICATE_ORDER)
                                broken = True
                        orders_insert(&orders, oid, s, p, q)
                    if apply_delta(lad, s, p, q, &c, i):
                        broken = True
                elif a == A_CANCEL or a == A_EXECUTE or a == A_DELETE:
                    slot = find_order(&orders, oid, strict_orders, &c, i)
                    if slot == NULL:
                        broken = broken or strict_orders
                    else:
                        if a == A_DELETE or slot.size <= q:
                            orders_remove_slot(&orders, slot)
                        else:
                            slot.size -= q
                    if apply_delta(lad, s, p, -q, &c, i):
                        broken = True
                elif a == A_MODIFY:
                    slot = find_order(&orders, oid, strict_orders, &c, i)
                    if slot == NULL:
                        broken = broken or strict_orders
                        orders_insert(&orders, oid, s, p, q)
                        if apply_delta(lad, s, p, q, &c, i):
                            broken = True
                    else:
                        if apply_delta(&bids if slot.side > 0 else &asks, slot.side, slot.price, -slot.size, &c, i):
                            broken = True
                        if apply_delta(lad, s, p, q, &c, i):
                            broken = True
                        if q > 0:
                            slot.side = s
                            slot.price = p
                            slot.size = q
                        else:
                            orders_remove_slot(&orders, slot)
                elif a == A_SET_LEVEL:
                    if ladder_set(lad, key_of(s, p), q, &before):
                        note_failure(&c, i, I_NEGATIVE_SIZE)
                        broken = True
                elif a == A_CLEAR:
                    if s >= 0:
                        ladder_clear(&bids)
                    if s <= 0:
                        ladder_clear(&asks)
                    orders_clear_side(&orders, s)
                    if f & F_SNAPSHOT:
                        resyncing = True
                # HIDDEN_EXECUTE, HALT, TRADE, FILL: no book change

                if locate and c.integrity_errors != errors_before:
                    failure_kind[i] = <int8_t> c.last_integrity_kind

                if window > 0:
                    ladder_truncate(&bids, window)
                    ladder_truncate(&asks, window)

                if f & F_END:
                    if resyncing:
                        resyncing = False
                        c.snapshots += 1
                        if broken or not valid:
                            c.resyncs += 1
                        broken = False
                        valid = True
                    elif broken:
                        valid = False
                    # venue checksum of the complete message (replay._checksum); a mismatch makes
                    # the book invalid until the next snapshot
                    if checksum_kind != 0 and checksum[i] != NULL_CELL:
                        if book_checksum(checksum_kind, bids.key, bids.size, bids.count,
                                         asks.key, asks.size, asks.count,
                                         price_decimals, size_decimals) == checksum[i]:
                            c.checksum_ok += 1
                        else:
                            c.checksum_failed += 1
                            if c.first_checksum_event < 0:
                                c.first_checksum_event = i
                            note_failure(&c, i, I_CHECKSUM)
                            if locate:
                                failure_kind[i] = I_CHECKSUM
                            broken = True
                            valid = False
                    if reseed and has_ref:
                        reseed_side(&bids, &reference[i, 0], depth, 0, 1, &c)
                        reseed_side(&asks, &reference[i, 0], depth, 2, -1, &c)
                    if bids.count > 0 and asks.count > 0:
                        bb = bids.key[bids.count - 1]
                        ba = -asks.key[asks.count - 1]
                        if bb >= ba:
                            if bb > ba:
                                c.crossed_rows += 1
                            else:
                                c.locked_rows += 1
                            if c.first_crossed_event < 0:
                                c.first_crossed_event = i
                elif broken:
                    valid = False

                if emit_every_event or (f & F_END):
                    write_side(&bids, tmp, levels, 0, 1, &c)
                    write_side(&asks, tmp, levels, 2, -1, &c)
                    obrecon_stream_row(<long long*>&cells[row, 0], <const long long*>tmp, 4 * levels)
                    valid_out[row] = 1 if (valid and not resyncing) else 0
                    if not valid_out[row]:
                        c.invalid_rows += 1
                    row_event[row] = i
                    row += 1
            obrecon_stream_fence()
        c.rows = row
    finally:
        ladder_free(&bids)
        ladder_free(&asks)
        orders_free(&orders)
    return c
