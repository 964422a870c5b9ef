# cython: language_level=3
"""The book: per-side sorted integer price ladders plus an L3 order map, as C structs.

Everything is ``cdef inline`` so that every Cython module that cimports this file (the replay loop,
the checksum verifiers) compiles the operations into its own hot loop without a call boundary.

Ladder
    A side is a contiguous array of levels sorted by ``key`` ascending with the **best level last**
    (``key = price`` for bids, ``key = -price`` for asks), so the top of book is at
    ``key[count-1]`` and inserts near the touch move only a few entries.

    The levels sit inside a larger buffer with free slots at both ends (``key`` points at the worst
    level, ``base`` slots into the buffer): an insert or a removal moves the shorter of the two runs
    of levels beside it, so dropping the worst level (a visibility window) or adding a new worst
    level (re-seeding from a reference row) moves nothing. When the end a move needs is full, the
    levels are re-centred in the buffer, which doubles first once they fill half of it (so each
    re-centring leaves a quarter of the buffer free at each end: amortised O(1) per level).
    The shorter run is nearly always short (99.5 % of the moves of the ladder-only loop over the GOOG day are 0-4 levels), so a
    move of up to 4 levels is two 16-byte copies in line (:func:`move_levels`), not a ``memmove``
    call, whose call and size dispatch cost more than the copy.

    A side can be *bounded*: the feed shows only a window of levels (LOBSTER's level-N files), so
    the book is known exactly only for keys ``>= frontier`` (the worst level we are sure about);
    anything worse than the frontier is unknown and is not stored.

    Every change notes which part of the side's row image (:mod:`._rows`) it makes stale, by rank
    from the best level (0): ``stale``, the first rank from which levels moved (an insert, a
    removal, the window, the bounded flag: every rank after it may differ too), and ``resized``,
    the rank of one level whose size alone changed. :func:`._rows.refresh_side` rewrites only
    those cells, so writing the top N after an event costs what the event changed, not N levels.

Order map
    Open addressing with linear probing and backward-shift deletion, keyed by the venue's uint64
    order id (0 means "no order" and is never stored), holding side, price and remaining size.
"""

from libc.stdint cimport int8_t, int64_t, uint64_t, INT64_MAX
from libc.stdlib cimport free
from libc.string cimport memcpy, memmove, memset

from obrecon_pipeline.memory cimport resized, zeroed

cdef extern from *:
    """
    #include <string.h>
    /* n int64 from src to dst, which may overlap: up to 4 by two 16-byte copies (both loads before
       both stores, so an overlap is safe), more by memmove */
    static inline void obrecon_move_levels(int64_t *dst, const int64_t *src, Py_ssize_t n) {
        if (n > 4) {
            memmove(dst, src, (size_t)n * sizeof(int64_t));
        } else if (n >= 2) {
            unsigned char a[16], b[16];
            memcpy(a, src, 16);
            memcpy(b, src + n - 2, 16);
            memcpy(dst, a, 16);
            memcpy(dst + n - 2, b, 16);
        } else if (n == 1) {
            dst[0] = src[0];
        }
    }
    """
    void move_levels "obrecon_move_levels"(int64_t* dst, const int64_t* src, Py_ssize_t n) noexcept nogil

cdef enum:
    LADDER_MIN_CAP = 64
    ORDERS_MIN_CAP = 1024
    ROW_CURRENT = 0x7fffffff  # ``Ladder.stale`` when no rank of the row image is stale

cdef struct Ladder:
    int64_t* key          # level i (0 = worst) at key[i] and size[i], 0 <= i < count
    int64_t* size
    int64_t* key_buf      # the buffers: key == key_buf + base
    int64_t* size_buf
    Py_ssize_t base
    Py_ssize_t count
    Py_ssize_t cap        # slots per buffer
    bint bounded
    int64_t frontier
    Py_ssize_t stale      # the row image is stale from this rank on (ROW_CURRENT: nothing moved)
    Py_ssize_t resized    # the rank of a level whose size alone changed since (-1: none)

cdef struct OrderSlot:
    uint64_t id
    int64_t price
    int64_t size
    int8_t side

cdef struct OrderMap:
    OrderSlot* slots
    Py_ssize_t cap
    Py_ssize_t count
    uint64_t mask


# ---------------------------------------------------------------------------------------- ladder

cdef inline int ladder_init(Ladder* lad) except -1 nogil:
    lad.key_buf = <int64_t*> resized(NULL, LADDER_MIN_CAP * sizeof(int64_t))
    lad.size_buf = <int64_t*> resized(NULL, LADDER_MIN_CAP * sizeof(int64_t))
    lad.cap = LADDER_MIN_CAP
    ladder_clear(lad)
    return 0

cdef inline void ladder_free(Ladder* lad) noexcept nogil:
    free(lad.key_buf)
    free(lad.size_buf)
    lad.key_buf = lad.size_buf = lad.key = lad.size = NULL
    lad.count = 0

cdef inline void _ladder_place(Ladder* lad, Py_ssize_t base) noexcept nogil:
    lad.base = base
    lad.key = lad.key_buf + base
    lad.size = lad.size_buf + base

cdef inline void ladder_moved(Ladder* lad, Py_ssize_t rank) noexcept nogil:
    """Levels from ``rank`` (0 = best) on moved or changed: that part of the row image is stale."""
    if rank < lad.stale:
        lad.stale = rank

cdef inline void ladder_resized(Ladder* lad, Py_ssize_t rank) noexcept nogil:
    """Only the size of the level at ``rank`` changed."""
    if lad.resized < 0 or lad.resized == rank:
        lad.resized = rank
    else:  # a second one: fold both into the stale part
        ladder_moved(lad, rank if rank < lad.resized else lad.resized)

cdef inline int ladder_recentre(Ladder* lad) except -1 nogil:
    """Room at both ends: the levels moved to the middle of the buffer, which doubles first while
    they would fill more than half of it."""
    cdef Py_ssize_t cap = lad.cap, base
    cdef int64_t* key_buf
    cdef int64_t* size_buf
    while 2 * (lad.count + 1) > cap:
        cap *= 2
    base = (cap - lad.count) // 2
    if cap != lad.cap:
        key_buf = <int64_t*> resized(NULL, cap * sizeof(int64_t))
        size_buf = <int64_t*> resized(NULL, cap * sizeof(int64_t))
        memcpy(key_buf + base, lad.key, lad.count * sizeof(int64_t))
        memcpy(size_buf + base, lad.size, lad.count * sizeof(int64_t))
        free(lad.key_buf)
        free(lad.size_buf)
        lad.key_buf = key_buf
        lad.size_buf = size_buf
        lad.cap = cap
    else:
        memmove(lad.key_buf + base, lad.key, lad.count * sizeof(int64_t))
        memmove(lad.size_buf + base, lad.size, lad.count * sizeof(int64_t))
    _ladder_place(lad, base)
    return 0

cdef inline int ladder_reset(Ladder* lad, Py_ssize_t count) except -1 nogil:
    """Room for exactly ``count`` levels, their contents to be written by the caller (a
    checkpoint restore); not bounded."""
    ladder_clear(lad)
    while 2 * (count + 1) > lad.cap:
        lad.cap *= 2
        lad.key_buf = <int64_t*> resized(lad.key_buf, lad.cap * sizeof(int64_t))
        lad.size_buf = <int64_t*> resized(lad.size_buf, lad.cap * sizeof(int64_t))
    _ladder_place(lad, (lad.cap - count) // 2)
    lad.count = count
    return 0

cdef inline Py_ssize_t ladder_search(const Ladder* lad, int64_t key) noexcept nogil:
    """Index of ``key`` if present, else ``-(insertion point) - 1``.

    Most activity is at the touch, so the search starts with a short linear scan from the best
    level and falls back to bisection for deep books.
    """
    cdef Py_ssize_t i = lad.count - 1
    cdef Py_ssize_t stop = lad.count - 8
    cdef Py_ssize_t lo, hi, mid
    if stop < 0:
        stop = 0
    while i >= stop:
        if lad.key[i] == key:
            return i
        if lad.key[i] < key:
            return -(i + 1) - 1
        i -= 1
    if stop == 0:
        return -1
    lo = 0
    hi = stop
    while lo < hi:
        mid = (lo + hi) >> 1
        if lad.key[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    if lo < lad.count and lad.key[lo] == key:
        return lo
    return -lo - 1

cdef inline int ladder_insert_at(Ladder* lad, Py_ssize_t pos, int64_t key, int64_t size) except -1 nogil:
    """A new level at index ``pos``: the levels below it move down a slot, or those above it up,
    whichever are fewer."""
    cdef Py_ssize_t above = lad.count - pos
    if pos <= above:
        if lad.base == 0:
            ladder_recentre(lad)
        move_levels(lad.key - 1, lad.key, pos)
        move_levels(lad.size - 1, lad.size, pos)
        _ladder_place(lad, lad.base - 1)
    else:
        if lad.base + lad.count == lad.cap:
            ladder_recentre(lad)
        move_levels(lad.key + pos + 1, lad.key + pos, above)
        move_levels(lad.size + pos + 1, lad.size + pos, above)
    lad.key[pos] = key
    lad.size[pos] = size
    lad.count += 1
    ladder_moved(lad, above)
    return 0

cdef inline void ladder_remove_at(Ladder* lad, Py_ssize_t pos) noexcept nogil:
    """Remove the level at index ``pos``, closing the gap from the shorter side."""
    cdef Py_ssize_t above = lad.count - 1 - pos
    if pos < above:
        move_levels(lad.key + 1, lad.key, pos)
        move_levels(lad.size + 1, lad.size, pos)
        _ladder_place(lad, lad.base + 1)
    else:
        move_levels(lad.key + pos, lad.key + pos + 1, above)
        move_levels(lad.size + pos, lad.size + pos + 1, above)
    lad.count -= 1
    ladder_moved(lad, above)

cdef inline bint ladder_knows(const Ladder* lad, int64_t key) noexcept nogil:
    """True when ``key`` lies in the part of the side we know exactly."""
    return not lad.bounded or key >= lad.frontier

cdef inline void ladder_bound(Ladder* lad, int64_t frontier) noexcept nogil:
    """The side is known only from ``frontier`` on (the levels past those held are unknown)."""
    if not lad.bounded:
        ladder_moved(lad, lad.count)  # the cells past the held levels turn unknown
        lad.bounded = True
    lad.frontier = frontier

cdef inline void ladder_unbound(Ladder* lad) noexcept nogil:
    """The side holds all of its levels (the cells past them are empty, not unknown)."""
    if lad.bounded:
        ladder_moved(lad, lad.count)
        lad.bounded = False

cdef inline int ladder_add(Ladder* lad, int64_t key, int64_t delta, int64_t* before, int64_t* after) except -1 nogil:
    """Add ``delta`` (may be negative) to the level at ``key``; report the size before and after.

    Returns 1 when the level would go negative (it is removed and ``after`` is the negative
    value that was refused), else 0.
    """
    cdef Py_ssize_t i = ladder_search(lad, key)
    cdef int64_t s
    if i >= 0:
        before[0] = lad.size[i]
        s = lad.size[i] + delta
        after[0] = s
        if s > 0:
            lad.size[i] = s
            ladder_resized(lad, lad.count - 1 - i)
            return 0
        ladder_remove_at(lad, i)
        return 1 if s < 0 else 0
    before[0] = 0
    after[0] = delta
    if delta > 0:
        ladder_insert_at(lad, -i - 1, key, delta)
        return 0
    return 1 if delta < 0 else 0

cdef inline int ladder_set(Ladder* lad, int64_t key, int64_t size, int64_t* before) except -1 nogil:
    """Set the level at ``key`` to ``size`` (0 removes it); return 1 for a negative size."""
    cdef Py_ssize_t i = ladder_search(lad, key)
    if i >= 0:
        before[0] = lad.size[i]
        if size > 0:
            lad.size[i] = size
            ladder_resized(lad, lad.count - 1 - i)
        else:
            ladder_remove_at(lad, i)
    else:
        before[0] = 0
        if size > 0:
            ladder_insert_at(lad, -i - 1, key, size)
    return 1 if size < 0 else 0

cdef inline void ladder_truncate(Ladder* lad, Py_ssize_t window) noexcept nogil:
    """Apply a visibility window of ``window`` levels.

    Keep the best ``window`` levels; once the side fills the window, events beyond its worst level
    are not in the feed, so the side becomes bounded at that level. Dropping levels moves nothing.
    """
    cdef Py_ssize_t drop = lad.count - window
    if drop < 0:
        return
    if drop > 0:
        _ladder_place(lad, lad.base + drop)
        lad.count = window
        ladder_moved(lad, window)
    ladder_bound(lad, lad.key[0])

cdef inline void ladder_clear(Ladder* lad) noexcept nogil:
    _ladder_place(lad, lad.cap // 2)
    lad.count = 0
    lad.bounded = False
    lad.frontier = 0
    lad.stale = 0
    lad.resized = -1

cdef inline bint ladder_rescalable(const Ladder* lad, int64_t price_factor, int64_t size_factor) noexcept nogil:
    """True when every key, size and the frontier stays an int64 after :func:`ladder_rescale`."""
    cdef Py_ssize_t i
    cdef int64_t pmax = INT64_MAX // price_factor, smax = INT64_MAX // size_factor
    if lad.frontier > pmax or lad.frontier < -pmax:
        return False
    for i in range(lad.count):
        if lad.key[i] > pmax or lad.key[i] < -pmax or lad.size[i] > smax or lad.size[i] < -smax:
            return False
    return True

cdef inline void ladder_rescale(Ladder* lad, int64_t price_factor, int64_t size_factor) noexcept nogil:
    """Multiply every price (key, frontier) and size by positive factors: the order is kept."""
    cdef Py_ssize_t i
    for i in range(lad.count):
        lad.key[i] *= price_factor
        lad.size[i] *= size_factor
    lad.frontier *= price_factor
    ladder_moved(lad, 0)


# ------------------------------------------------------------------------------------- order map

cdef inline uint64_t _slot_of(const OrderMap* m, uint64_t oid) noexcept nogil:
    # Fibonacci hashing: multiply by 2^64 / golden ratio, keep the high bits via the mask after a shift
    return ((oid * <uint64_t>11400714819323198485ULL) >> 17) & m.mask

cdef inline int orders_init(OrderMap* m, Py_ssize_t cap) except -1 nogil:
    cdef Py_ssize_t c = ORDERS_MIN_CAP
    while c < cap:
        c <<= 1
    m.slots = <OrderSlot*> zeroed(c, sizeof(OrderSlot))
    m.cap = c
    m.count = 0
    m.mask = <uint64_t>(c - 1)
    return 0

cdef inline void orders_free(OrderMap* m) noexcept nogil:
    free(m.slots)
    m.slots = NULL
    m.cap = 0
    m.count = 0

cdef inline OrderSlot* orders_find(const OrderMap* m, uint64_t oid) noexcept nogil:
    cdef uint64_t i = _slot_of(m, oid)
    while m.slots[i].id != 0:
        if m.slots[i].id == oid:
            return &m.slots[i]
        i = (i + 1) & m.mask
    return NULL

cdef inline int orders_rehash(OrderMap* m, Py_ssize_t cap) except -1 nogil:
    cdef OrderSlot* old = m.slots
    cdef Py_ssize_t old_cap = m.cap
    cdef Py_ssize_t j
    cdef uint64_t i
    orders_init(m, cap)
    for j in range(old_cap):
        if old[j].id != 0:
            i = _slot_of(m, old[j].id)
            while m.slots[i].id != 0:
                i = (i + 1) & m.mask
            m.slots[i] = old[j]
            m.count += 1
    free(old)
    return 0

cdef inline OrderSlot* orders_insert(OrderMap* m, uint64_t oid, int8_t side, int64_t price, int64_t size) except NULL nogil:
    """Insert or overwrite ``oid`` (``count`` grows only for an id not resting: callers tell a
    duplicate by it); keeps the load factor at or below 1/2."""
    cdef uint64_t i
    if 2 * (m.count + 1) > m.cap:
        orders_rehash(m, m.cap * 2)
    i = _slot_of(m, oid)
    while m.slots[i].id != 0 and m.slots[i].id != oid:
        i = (i + 1) & m.mask
    if m.slots[i].id == 0:
        m.count += 1
    m.slots[i].id = oid
    m.slots[i].side = side
    m.slots[i].price = price
    m.slots[i].size = size
    return &m.slots[i]

cdef inline void orders_remove_slot(OrderMap* m, OrderSlot* slot) noexcept nogil:
    """Backward-shift deletion: no tombstones, probe chains stay short."""
    cdef uint64_t hole = <uint64_t>(slot - m.slots)
    cdef uint64_t j = hole
    cdef uint64_t home
    while True:
        j = (j + 1) & m.mask
        if m.slots[j].id == 0:
            break
        home = _slot_of(m, m.slots[j].id)
        # move j into the hole unless its home lies cyclically in (hole, j]
        if (j > hole and (home <= hole or home > j)) or (j < hole and (home <= hole and home > j)):
            m.slots[hole] = m.slots[j]
            hole = j
    m.slots[hole].id = 0
    m.count -= 1

cdef inline int orders_clear_side(OrderMap* m, int8_t side) except -1 nogil:
    """Forget every order of ``side`` (0 = all orders)."""
    cdef Py_ssize_t j
    if side == 0:
        memset(m.slots, 0, m.cap * sizeof(OrderSlot))
        m.count = 0
        return 0
    for j in range(m.cap):
        if m.slots[j].id != 0 and m.slots[j].side == side:
            m.slots[j].id = 0
            m.count -= 1
    # removing in place breaks probe chains: rebuild from the survivors
    orders_rehash(m, m.cap)
    return 0

cdef inline bint orders_rescalable(const OrderMap* m, int64_t price_factor, int64_t size_factor) noexcept nogil:
    cdef Py_ssize_t j
    cdef int64_t pmax = INT64_MAX // price_factor, smax = INT64_MAX // size_factor
    for j in range(m.cap):
        if m.slots[j].id != 0 and (m.slots[j].price > pmax or m.slots[j].price < -pmax
                                   or m.slots[j].size > smax or m.slots[j].size < -smax):
            return False
    return True

cdef inline void orders_rescale(OrderMap* m, int64_t price_factor, int64_t size_factor) noexcept nogil:
    """Multiply every resting order's price and size (ids and slots stay where they are)."""
    cdef Py_ssize_t j
    for j in range(m.cap):
        if m.slots[j].id != 0:
            m.slots[j].price *= price_factor
            m.slots[j].size *= size_factor
