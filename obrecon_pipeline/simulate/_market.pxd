# cython: language_level=3
"""The market's book: a price-time-priority limit order book on a tick grid, as C structs.

* ``level[t]``: the resting orders at tick ``t`` as a FIFO (doubly linked through the order
  pool) and their total size. A tick holds bids or asks, never both (the book is never crossed),
  so one array serves both sides.
* ``bits[side]``: one occupancy bit per tick and side; the next level in either direction is a
  ``clz`` / ``ctz`` away.
* per side: ``best`` tick (kept as the side's reference price while it is empty), ``count`` of
  levels, and ``lth``, the tick of its ``window``-th best level (valid while ``count >=
  window``), kept up to date on every level change, so "is this level among the best L?" is one
  comparison.
* ``live``: the resting orders in a dense list (appended on entry, a removed order's place
  taken by the last one): resting order number j for a uniform cancellation.
"""

from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport free

from obrecon_pipeline.memory cimport resized, zeroed

cdef extern from *:
    int __builtin_clzll(unsigned long long) noexcept nogil
    int __builtin_ctzll(unsigned long long) noexcept nogil

cdef enum:
    BID = 0
    ASK = 1

cdef extern from *:
    """
    #define OBRECON_EMPTY_ASK 9999999999LL
    #define OBRECON_EMPTY_BID (-9999999999LL)
    """
    const int64_t EMPTY_ASK "OBRECON_EMPTY_ASK"  # LOBSTER's empty ask level
    const int64_t EMPTY_BID "OBRECON_EMPTY_BID"  # LOBSTER's empty bid level

cdef struct Order:
    int64_t id
    int64_t size
    int32_t tick
    int32_t side
    int32_t prev
    int32_t next
    int32_t live

cdef struct Level:
    int64_t size
    int32_t head
    int32_t tail

cdef struct Book:
    Level* level
    uint64_t* bits[2]
    int32_t grid
    int32_t words
    int32_t best[2]
    int32_t count[2]
    int32_t lth[2]
    int32_t window
    Order* order
    int32_t* live
    int32_t cap
    int32_t free_list
    int32_t nlive


cdef inline int direction(int side) noexcept nogil:
    """LOBSTER's direction: 1 buy, -1 sell."""
    return 1 if side == BID else -1


cdef inline bint is_better(int side, int32_t a, int32_t b) noexcept nogil:
    return a > b if side == BID else a < b


cdef inline int32_t highest_below(const uint64_t* bits, int32_t t) noexcept nogil:
    """The highest set bit below ``t``, or -1."""
    cdef int32_t w = t >> 6
    cdef uint64_t m = bits[w] & ((<uint64_t>1 << (t & 63)) - 1)
    while m == 0:
        w -= 1
        if w < 0:
            return -1
        m = bits[w]
    return (w << 6) + 63 - __builtin_clzll(m)


cdef inline int32_t lowest_above(const uint64_t* bits, int32_t t, int32_t words) noexcept nogil:
    """The lowest set bit above ``t``, or -1."""
    cdef int32_t w = t >> 6
    cdef uint64_t m = bits[w] & ((~<uint64_t>1) << (t & 63))
    while m == 0:
        w += 1
        if w >= words:
            return -1
        m = bits[w]
    return (w << 6) + __builtin_ctzll(m)


cdef inline int32_t worse(const Book* b, int side, int32_t t) noexcept nogil:
    """The side's next level behind tick ``t`` (-1: none)."""
    if side == BID:
        return highest_below(b.bits[BID], t)
    return lowest_above(b.bits[ASK], t, b.words)


cdef inline int32_t better(const Book* b, int side, int32_t t) noexcept nogil:
    """The side's next level in front of tick ``t`` (-1: none)."""
    if side == BID:
        return lowest_above(b.bits[BID], t, b.words)
    return highest_below(b.bits[ASK], t)


cdef inline bint in_window(const Book* b, int side, int32_t t) noexcept nogil:
    """Whether the existing level at ``t`` is among the side's best ``window``."""
    return b.count[side] <= b.window or not is_better(side, b.lth[side], t)


cdef inline int book_init(Book* b, int32_t grid, int32_t window, int32_t bid, int32_t ask) except -1 nogil:
    b.grid = grid
    b.words = grid >> 6
    b.window = window
    b.level = <Level*> zeroed(grid, sizeof(Level))
    b.bits[BID] = <uint64_t*> zeroed(b.words, sizeof(uint64_t))
    b.bits[ASK] = <uint64_t*> zeroed(b.words, sizeof(uint64_t))
    b.cap = 0
    b.order = NULL
    b.live = NULL
    b.free_list = -1
    b.nlive = 0
    b.best[BID] = bid
    b.best[ASK] = ask
    b.count[BID] = b.count[ASK] = 0
    b.lth[BID] = b.lth[ASK] = 0
    return 0


cdef inline void book_free(Book* b) noexcept nogil:
    free(b.level)
    free(b.bits[BID])
    free(b.bits[ASK])
    free(b.order)
    free(b.live)
    b.level = NULL
    b.bits[BID] = b.bits[ASK] = NULL
    b.order = NULL
    b.live = NULL


cdef inline int32_t order_new(Book* b) except -1 nogil:
    """A free slot of the order pool (the pool doubles when full)."""
    cdef int32_t cap, i
    if b.free_list < 0:
        cap = 2 * b.cap if b.cap else 1024
        b.order = <Order*> resized(b.order, cap * sizeof(Order))
        b.live = <int32_t*> resized(b.live, cap * sizeof(int32_t))
        for i in range(b.cap, cap - 1):
            b.order[i].next = i + 1
        b.order[cap - 1].next = -1
        b.free_list = b.cap
        b.cap = cap
    i = b.free_list
    b.free_list = b.order[i].next
    return i


cdef inline int32_t nth_level(const Book* b, int side, int32_t n) noexcept nogil:
    """The tick of the side's n-th best level (the side holds at least n)."""
    cdef int32_t t = b.best[side]
    cdef int32_t k
    for k in range(n - 1):
        t = worse(b, side, t)
    return t


cdef inline int book_add(Book* b, int side, int32_t t, int64_t size, int64_t oid) except -1 nogil:
    """Rest a new order at the back of its level; returns 1 when the level is among the best
    ``window`` of its side afterwards."""
    cdef int32_t i = order_new(b)
    cdef Order* o = &b.order[i]
    cdef Level* lv = &b.level[t]
    cdef int32_t before
    cdef int visible
    o.id = oid
    o.size = size
    o.tick = t
    o.side = side
    o.next = -1
    if lv.size == 0:
        before = b.count[side]
        b.bits[side][t >> 6] |= <uint64_t>1 << (t & 63)
        b.count[side] = before + 1
        o.prev = -1
        lv.head = i
        if before == 0 or is_better(side, t, b.best[side]):
            b.best[side] = t
        if before < b.window:
            visible = 1
            if before + 1 == b.window:
                b.lth[side] = nth_level(b, side, b.window)
        else:
            visible = is_better(side, t, b.lth[side])
            if visible:
                b.lth[side] = better(b, side, b.lth[side])
    else:
        visible = in_window(b, side, t)
        o.prev = lv.tail
        b.order[lv.tail].next = i
    lv.tail = i
    lv.size += size
    o.live = b.nlive
    b.live[b.nlive] = i
    b.nlive += 1
    return visible


cdef inline void level_remove(Book* b, int side, int32_t t) noexcept nogil:
    """Take the emptied level at ``t`` off its side."""
    cdef int32_t before = b.count[side]
    b.bits[side][t >> 6] &= ~(<uint64_t>1 << (t & 63))
    b.count[side] = before - 1
    if before > b.window and not is_better(side, b.lth[side], t):
        b.lth[side] = worse(b, side, b.lth[side])
    if t == b.best[side] and before > 1:
        b.best[side] = worse(b, side, t)


cdef inline int book_reduce(Book* b, int32_t i, int64_t size) noexcept nogil:
    """Take ``size`` off resting order ``i`` (removing it at 0); returns 1 when its level was
    among the best ``window`` of its side before."""
    cdef Order* o = &b.order[i]
    cdef int side = o.side
    cdef int32_t t = o.tick
    cdef Level* lv = &b.level[t]
    cdef int visible = in_window(b, side, t)
    cdef int32_t last
    o.size -= size
    lv.size -= size
    if o.size == 0:
        if o.prev >= 0:
            b.order[o.prev].next = o.next
        else:
            lv.head = o.next
        if o.next >= 0:
            b.order[o.next].prev = o.prev
        else:
            lv.tail = o.prev
        last = b.live[b.nlive - 1]
        b.live[o.live] = last
        b.order[last].live = o.live
        b.nlive -= 1
        o.next = b.free_list
        b.free_list = i
        if lv.size == 0:
            level_remove(b, side, t)
    return visible


cdef inline void book_side(const Book* b, int64_t* row, int side, int64_t tick) noexcept nogil:
    """One side's top ``window`` levels into a row of LOBSTER's orderbook layout (per level ask
    price, ask size, bid price, bid size; an empty level is EMPTY_ASK / EMPTY_BID with size 0)."""
    cdef int off = 2 if side == BID else 0
    cdef int32_t n = b.count[side] if b.count[side] < b.window else b.window
    cdef int32_t t = b.best[side]
    cdef int32_t k
    for k in range(b.window):
        if k < n:
            if k > 0:
                t = worse(b, side, t)
            row[4 * k + off] = t * tick
            row[4 * k + off + 1] = b.level[t].size
        else:
            row[4 * k + off] = EMPTY_BID if side == BID else EMPTY_ASK
            row[4 * k + off + 1] = 0
