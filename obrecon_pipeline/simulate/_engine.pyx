# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The simulator's hot loop: order flow, matching and the level-L window, with no Python object
touched per event. It fills blocks of binary rows (one message row and one orderbook row per
written message) that :mod:`obrecon_pipeline.simulate._csv` turns into text. The time stamps come
from a separate generator (:class:`Clock`), so they are drawn where the message file is written,
in parallel with the market.

The model and the exact sequence of draws are defined in :mod:`obrecon_pipeline.simulate.pymodel`
(the pure-Python reference, which writes the same bytes).
"""

from libc.math cimport expm1, log
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport free

from obrecon_pipeline.memory cimport resized
from libc.string cimport memcpy, memset

from obrecon_pipeline.simulate._market cimport (
    ASK, BID, Book, book_add, book_free, book_init, book_reduce, book_side, direction,
)
from obrecon_pipeline.simulate._rng cimport (
    Table, Xoshiro, below, pick, search, table_free, table_init, xoshiro_next, xoshiro_seed,
)

import numpy as np

cdef int64_t SESSION_START_NS = 34200 * 1000000000
cdef double SESSION_NS = 23400e9
cdef double TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53

cdef enum:
    FIELDS = 6  # time (ns after midnight), type, order id, size, price, direction

MESSAGE_FIELDS = FIELDS

# LOBSTER message types
cdef enum:
    SUBMIT = 1
    CANCEL = 2
    DELETE = 3
    EXECUTE = 4
    HIDDEN = 5

cdef struct Flow:
    Table limit  # lambda(1..D)
    uint64_t lam  # their sum
    uint64_t market
    uint64_t hidden
    uint64_t cancel
    uint64_t partial
    Table size
    int64_t* sizes
    Table sweep

cdef struct Sim:
    Book book
    Flow flow
    Xoshiro rng  # the order flow's draws (the Clock has its own generator)
    int64_t tick
    int64_t n
    int64_t written
    int64_t next_id
    int64_t steps
    bint event_written  # the current event has written a message
    bint writing
    int64_t* msg_out
    int64_t* book_out
    int64_t* last  # the book row of the last message written
    Py_ssize_t rows
    int64_t counts[6]


cdef inline void emit(Sim* s, int kind, int64_t oid, int64_t size, int32_t t, int side, bint changed) noexcept nogil:
    """Write message ``kind`` on ``side`` (which it ``changed``) and the book after it. Only that
    side is rebuilt: the other one's best levels cannot have changed since the last message, as
    any change to them is a message of its own."""
    cdef int64_t* m
    cdef int width = 4 * s.book.window
    if not s.writing or s.written == s.n:
        return
    m = s.msg_out + FIELDS * s.rows
    m[0] = not s.event_written  # the Clock turns this into the time stamp
    s.event_written = True
    m[1] = kind
    m[2] = oid
    m[3] = size
    m[4] = t * s.tick
    m[5] = direction(side)
    if changed:
        book_side(&s.book, s.last, side, s.tick)
    memcpy(s.book_out + width * s.rows, s.last, width * sizeof(int64_t))
    s.rows += 1
    s.written += 1
    s.counts[kind] += 1


cdef inline bint in_grid(const Sim* s, int64_t t) noexcept nogil:
    return 1 <= t < s.book.grid


cdef inline int64_t draw_size(Sim* s) noexcept nogil:
    return s.flow.sizes[pick(&s.rng, &s.flow.size)]


cdef inline int rest(Sim* s, int side, int32_t t, int64_t size, int64_t oid) except -1 nogil:
    if book_add(&s.book, side, t, size, oid):
        emit(s, SUBMIT, oid, size, t, side, True)
    return 0


cdef inline void reduce(Sim* s, int32_t i, int64_t size, int kind) noexcept nogil:
    cdef int64_t oid = s.book.order[i].id
    cdef int32_t t = s.book.order[i].tick
    cdef int side = s.book.order[i].side
    if book_reduce(&s.book, i, size):
        emit(s, kind, oid, size, t, side, True)


cdef inline int limit_order(Sim* s, int side, int32_t distance) except -1 nogil:
    cdef int64_t size = draw_size(s)
    cdef int64_t t = <int64_t>s.book.best[1 - side] - direction(side) * distance
    cdef int64_t oid
    if in_grid(s, t):
        oid = s.next_id
        s.next_id += 1
        rest(s, side, <int32_t>t, size, oid)
    return 0


cdef inline int market_order(Sim* s, int side) except -1 nogil:
    cdef int64_t size = draw_size(s)
    cdef int32_t through = <int32_t>pick(&s.rng, &s.flow.sweep)
    cdef int other = 1 - side
    cdef int dirn = direction(side)
    cdef int64_t limit, oid, done
    cdef int32_t i
    if s.book.count[other] == 0:
        return 0
    limit = <int64_t>s.book.best[other] + dirn * through
    if not in_grid(s, limit):
        return 0
    oid = s.next_id
    s.next_id += 1
    while size > 0 and s.book.count[other] > 0 and dirn * (limit - s.book.best[other]) >= 0:
        i = s.book.level[s.book.best[other]].head
        done = size if size < s.book.order[i].size else s.book.order[i].size
        size -= done
        reduce(s, i, done, EXECUTE)
    if size > 0:
        rest(s, side, <int32_t>limit, size, oid)
    return 0


cdef inline void hidden_execution(Sim* s, int side) noexcept nogil:
    cdef int64_t size = draw_size(s)
    cdef bint both = s.book.count[BID] > 0 and s.book.count[ASK] > 0
    cdef uint64_t spread = <uint64_t>(s.book.best[ASK] - s.book.best[BID]) if both else 1
    cdef int32_t j = <int32_t>below(&s.rng, spread)
    if both:
        emit(s, HIDDEN, 0, size, s.book.best[BID] + j if side == BID else s.book.best[ASK] - j, side, False)


cdef inline void cancellation(Sim* s, int32_t i) noexcept nogil:
    cdef bint partial = xoshiro_next(&s.rng) < s.flow.partial
    cdef int64_t size = s.book.order[i].size
    if partial and size >= 2:
        reduce(s, i, 1 + <int64_t>below(&s.rng, <uint64_t>(size - 1)), CANCEL)
    else:
        reduce(s, i, size, DELETE)


cdef inline int step(Sim* s) except -1 nogil:
    """One event of the chain."""
    cdef Flow* f = &s.flow
    cdef uint64_t base = 2 * f.lam + 2 * f.market + 2 * f.hidden
    cdef uint64_t r = below(&s.rng, base + f.cancel * <uint64_t>s.book.nlive)
    s.event_written = False
    s.steps += 1
    if r < 2 * f.lam:
        if r < f.lam:
            limit_order(s, BID, <int32_t>search(&f.limit, r) + 1)
        else:
            limit_order(s, ASK, <int32_t>search(&f.limit, r - f.lam) + 1)
    elif r < 2 * f.lam + 2 * f.market:
        market_order(s, BID if r < 2 * f.lam + f.market else ASK)
    elif r < base:
        hidden_execution(s, BID if r < 2 * f.lam + 2 * f.market + f.hidden else ASK)
    else:
        cancellation(s, s.book.live[(r - base) // f.cancel])
    return 0


cdef class Clock:
    """The time stamps of a day's ``n`` messages: a Poisson process on the session conditioned on
    ``n`` points, drawn in order, ``u_k = u_{k-1} + (1 - u_{k-1}) * (1 - V**(1/(n-k+1)))``; the
    messages of one event share the time of its first. Seeded by :class:`Simulator`."""

    cdef Xoshiro g
    cdef int64_t n, k, last
    cdef double u

    def __cinit__(self, int64_t messages):
        self.n = messages

    def stamp(self, int64_t[:, ::1] messages, Py_ssize_t rows):
        """Replace the event-start flags in the time column of the next ``rows`` messages by
        their times, ns after midnight."""
        cdef Py_ssize_t r
        cdef double v
        if rows > messages.shape[0] or self.k + rows > self.n:
            raise ValueError("more rows than the day has messages")
        with nogil:
            for r in range(rows):
                v = <double>((xoshiro_next(&self.g) >> 11) + 1) * TWO_M53
                self.u = self.u + (1.0 - self.u) * (-expm1(log(v) / <double>(self.n - self.k)))
                self.k += 1
                if messages[r, 0]:
                    self.last = SESSION_START_NS + <int64_t>(self.u * SESSION_NS)
                messages[r, 0] = self.last


cdef class Simulator:
    """One day of one symbol: ``Simulator(tables, levels, messages, day_seed)``; then
    :meth:`fill` until :attr:`done`. The pre-open burn-in runs in the constructor."""

    cdef Sim s
    cdef uint64_t[::1] limit_cum, size_cum, sweep_cum
    cdef int64_t[::1] sizes
    cdef readonly int levels
    cdef readonly Py_ssize_t block_slack
    cdef readonly Clock clock

    def __cinit__(self, tables, int levels, int64_t messages, uint64_t day_seed):
        cdef uint64_t state = day_seed
        cdef int64_t k, burn_in = tables.burn_in
        cdef Flow* f = &self.s.flow
        if levels < 1 or messages < 1:
            raise ValueError("levels and messages must be positive")
        memset(&self.s, 0, sizeof(Sim))
        self.levels = levels
        self.block_slack = tables.max_event_messages
        book_init(&self.s.book, tables.grid, levels, tables.start_tick - 1, tables.start_tick + 1)
        self.limit_cum = np.array(tables.limit_cum, dtype=np.uint64)
        self.size_cum = np.array(tables.size_cum, dtype=np.uint64)
        self.sweep_cum = np.array(tables.sweep_cum, dtype=np.uint64)
        self.sizes = np.array(tables.sizes, dtype=np.int64)
        table_init(&f.limit, &self.limit_cum[0], self.limit_cum.shape[0])
        f.lam = f.limit.total
        f.market = tables.market
        f.hidden = tables.hidden
        f.cancel = tables.cancel
        f.partial = tables.partial
        table_init(&f.size, &self.size_cum[0], self.size_cum.shape[0])
        f.sizes = &self.sizes[0]
        table_init(&f.sweep, &self.sweep_cum[0], self.sweep_cum.shape[0])
        self.s.tick = tables.tick
        self.s.n = messages
        self.s.next_id = 1
        xoshiro_seed(&self.s.rng, &state)
        self.clock = Clock(messages)
        xoshiro_seed(&self.clock.g, &state)
        with nogil:
            for k in range(burn_in):
                step(&self.s)
            while self.s.book.count[BID] == 0 or self.s.book.count[ASK] == 0:
                step(&self.s)
        self.s.last = <int64_t*> resized(NULL, 4 * levels * sizeof(int64_t))
        book_side(&self.s.book, self.s.last, BID, self.s.tick)
        book_side(&self.s.book, self.s.last, ASK, self.s.tick)
        self.s.writing = True
        self.s.steps = 0

    def __dealloc__(self):
        book_free(&self.s.book)
        free(self.s.last)
        table_free(&self.s.flow.limit)
        table_free(&self.s.flow.size)
        table_free(&self.s.flow.sweep)

    def fill(self, int64_t[:, ::1] messages, int64_t[:, ::1] book, Py_ssize_t rows):
        """Run the day until ``rows`` more messages are written (or it ends): one row per message
        in ``messages`` (time, type, order id, size, price, direction) and ``book`` (the top
        ``levels`` after it); the time column holds 1 where an event begins, 0 where it goes on,
        until :meth:`Clock.stamp`. The arrays hold ``rows + block_slack`` rows, since the event in
        progress at the ``rows``-th message is completed. Returns the rows written."""
        if messages.shape[1] != FIELDS or book.shape[1] != 4 * self.levels:
            raise ValueError("block arrays have the wrong width")
        if messages.shape[0] < rows + self.block_slack or book.shape[0] < rows + self.block_slack:
            raise ValueError(f"block arrays need {rows + self.block_slack} rows")
        self.s.msg_out = &messages[0, 0]
        self.s.book_out = &book[0, 0]
        self.s.rows = 0
        with nogil:
            while self.s.written < self.s.n and self.s.rows < rows:
                step(&self.s)
        return self.s.rows

    @property
    def done(self) -> bool:
        return self.s.written == self.s.n

    @property
    def written(self) -> int:
        return self.s.written

    @property
    def steps(self) -> int:
        """Events of the chain since 09:30, written to the file or not."""
        return self.s.steps

    @property
    def type_counts(self) -> dict:
        """Messages written per LOBSTER type."""
        return {k: self.s.counts[k] for k in range(1, 6)}
