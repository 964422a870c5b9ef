# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""LOBSTER CSV text from the simulator's binary blocks, formatted without the GIL.

Integers are written two digits at a time from a 200-byte table. The orderbook file repeats
itself from row to row (a message changes one or two levels), so :class:`BookText` keeps the text
of every ``price,size`` pair of the previous row and copies it when the same pair appears again at
the same level or one level up or down (a level entering or leaving above it shifts the rest).

With ``gzip=True`` the writers also deflate what they write (:mod:`._deflate`): a reused pair, a
repeated message field or the common start of two time stamps is an LZ77 copy from the row
before, the rest literals; :attr:`packed` holds the deflate bytes of the last :meth:`format`,
:meth:`finish` the stream's end (the gzip header and trailer are the caller's).
"""

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport free

from obrecon_pipeline.memory cimport zeroed
from libc.string cimport memcpy

from obrecon_pipeline.simulate._deflate cimport (
    Codes, Deflate, codes_init, copy, end_block, flush_copy, literals, put, start,
)

import numpy as np

from obrecon_pipeline.simulate.huffman import CODES

cdef const char* DIGITS = (
    b"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    b"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    b"8081828384858687888990919293949596979899"
)

cdef enum:
    MESSAGE_MAX = 128  # bytes: 15 (time) + 5 integers of up to 20 characters + separators
    TIME_MAX = 16
    PAIR_TEXT = 40
    PAIR_COPY = 40  # longest pair text: 11 (price) + 20 (size) + 2 separators


cdef inline int ndigits(uint64_t v) noexcept nogil:
    cdef int n = 1
    while v >= 10000:
        v //= 10000
        n += 4
    if v >= 100:
        return n + 3 if v >= 1000 else n + 2
    return n + 1 if v >= 10 else n


cdef inline char* put_digits(char* end, uint64_t v, int n) noexcept nogil:
    """Write exactly ``n`` digits of ``v`` (zero-padded) ending before ``end``; returns the start."""
    cdef uint64_t k
    while n >= 2:
        k = (v % 100) * 2
        v //= 100
        end -= 2
        end[0] = DIGITS[k]
        end[1] = DIGITS[k + 1]
        n -= 2
    if n:
        end -= 1
        end[0] = <char>(48 + v % 10)
    return end


cdef inline char* put_uint(char* p, uint64_t v) noexcept nogil:
    cdef int n = ndigits(v)
    put_digits(p + n, v, n)
    return p + n


cdef inline char* put_int(char* p, int64_t v) noexcept nogil:
    if v < 0:
        p[0] = b'-'
        return put_uint(p + 1, <uint64_t>(-v))
    return put_uint(p, <uint64_t>v)


cdef inline char* put_time(char* p, int64_t ns) noexcept nogil:
    """Seconds after midnight with up to 9 decimals, trailing zeros dropped (as LOBSTER writes)."""
    cdef int64_t frac = ns % 1000000000
    cdef char* end
    p = put_uint(p, <uint64_t>(ns // 1000000000))
    if frac == 0:
        return p
    p[0] = b'.'
    put_digits(p + 10, <uint64_t>frac, 9)
    end = p + 10
    while (end - 1)[0] == b'0':
        end -= 1
    return end


cdef class _Text:
    """A text buffer and, with gzip, the deflate stream of everything written into it."""

    cdef object array
    cdef unsigned char[::1] buf
    cdef bint gzip
    cdef Codes codes
    cdef Deflate d
    cdef object packed_array
    cdef unsigned char[::1] packed_buf
    cdef Py_ssize_t packed_len
    cdef bint header_pending  # the block header's bytes wait in the buffer for the first format()

    cdef int setup(self, Py_ssize_t capacity, bint gzip) except -1:
        cdef uint32_t[::1] lit, dist
        cdef int[::1] lit_n, dist_n
        self.array = np.empty(capacity, dtype=np.uint8)
        self.buf = self.array
        self.gzip = gzip
        # deflate: at most 31 bits for 3 bytes (a copy), 9 bits for one (a literal)
        self.packed_array = np.empty(2 * capacity + 64 if gzip else 1, dtype=np.uint8)
        self.packed_buf = self.packed_array
        if gzip:
            lit = np.array(CODES.literal_codes, dtype=np.uint32)
            lit_n = np.array(CODES.literal_lengths, dtype=np.intc)
            dist = np.array(CODES.distance_codes, dtype=np.uint32)
            dist_n = np.array(CODES.distance_lengths, dtype=np.intc)
            codes_init(&self.codes, &lit[0], &lit_n[0], &dist[0], &dist_n[0])
            self.d.out = &self.packed_buf[0]
            start(&self.d)
            for value, bits in CODES.header:  # the block header: it is the stream's first bytes
                put(&self.d, value, bits)
            self.header_pending = True
        return 0

    cdef object done(self, char* start, char* end):
        """The text written (a view of the buffer); with gzip, ends the block's pending copy."""
        if self.gzip:
            flush_copy(&self.d, &self.codes)
            self.packed_len = self.d.out - &self.packed_buf[0]
        return self.array[:end - start]

    cdef inline void rewind(self) noexcept nogil:
        """Start a block: the previous block's deflate bytes have been taken."""
        if not self.header_pending:
            self.d.out = &self.packed_buf[0]
        self.header_pending = False

    @property
    def packed(self):
        """The deflate bytes of the last :meth:`format` (gzip only)."""
        return self.packed_array[:self.packed_len]

    def finish(self) -> bytes:
        """The deflate stream's last bytes: the end of its block (gzip only)."""
        if not self.gzip:
            raise ValueError("not a gzip writer")
        self.rewind()
        end_block(&self.d, &self.codes)
        return bytes(self.packed_array[:self.d.out - &self.packed_buf[0]])


cdef inline int common_prefix(const char* a, const char* b, int n) noexcept nogil:
    cdef int k = 0
    while k < n and a[k] == b[k]:
        k += 1
    return k


cdef class MessageText(_Text):
    """Message rows -> ``time,type,order_id,size,price,direction`` lines."""

    cdef int64_t prev[6]  # the previous row's values ...
    cdef int32_t prev_off[7]  # ... where its fields start (and its end) ...
    cdef char prev_time[TIME_MAX]  # ... its time text
    cdef int64_t prev_pos  # uncompressed position of its start (gzip)
    cdef bint has_prev

    def __cinit__(self, Py_ssize_t rows, bint gzip=False):
        self.setup(rows * MESSAGE_MAX, gzip)

    def format(self, const int64_t[:, ::1] messages, Py_ssize_t rows):
        """The text of the first ``rows`` rows (a view of this object's buffer)."""
        cdef Py_ssize_t r
        cdef int f, n
        cdef int32_t off[7]
        cdef char* start = <char*>&self.buf[0]
        cdef char* p = start
        cdef char* row
        cdef const int64_t* m
        cdef int64_t pos
        cdef Deflate d  # a local copy, so that its fields stay in registers
        cdef const Codes* codes = &self.codes
        if rows * MESSAGE_MAX > self.buf.shape[0] or messages.shape[1] != 6:
            raise ValueError("message block does not fit the text buffer")
        with nogil:
            self.rewind()
            d = self.d
            for r in range(rows):
                m = &messages[r, 0]
                row = p
                p = put_time(p, m[0])
                p[0] = b','
                off[1] = p + 1 - row
                p[1] = <char>(48 + m[1])
                p[2] = b','
                off[2] = p + 3 - row
                p = put_uint(p + 3, <uint64_t>m[2])
                p[0] = b','
                off[3] = p + 1 - row
                p = put_uint(p + 1, <uint64_t>m[3])
                p[0] = b','
                off[4] = p + 1 - row
                p = put_uint(p + 1, <uint64_t>m[4])
                p[0] = b','
                off[5] = p + 1 - row
                p = put_int(p + 1, m[5])
                p[0] = b'\n'
                p += 1
                off[6] = p - row
                if self.gzip:
                    pos = d.pos
                    # the time: its common start with the previous one; the other fields when equal
                    n = common_prefix(row, self.prev_time, off[1]) if self.has_prev else 0
                    if n:
                        copy(&d, codes, <unsigned char*>row, n, self.prev_pos)
                    literals(&d, codes, <unsigned char*>row + n, off[1] - n)
                    for f in range(1, 6):
                        if self.has_prev and m[f] == self.prev[f]:
                            copy(&d, codes, <unsigned char*>row + off[f], off[f + 1] - off[f],
                                 self.prev_pos + self.prev_off[f])
                        else:
                            literals(&d, codes, <unsigned char*>row + off[f], off[f + 1] - off[f])
                    memcpy(self.prev_time, row, TIME_MAX)
                    for f in range(1, 7):
                        self.prev_off[f] = off[f]
                    for f in range(6):
                        self.prev[f] = m[f]
                    self.prev_pos = pos
                    self.has_prev = True
            self.d = d
        return self.done(start, p)


cdef struct Pair:
    char text[PAIR_TEXT]  # "price,size," (first, so that copies of a Pair and of its text align)
    int64_t price
    int64_t size
    int32_t length
    int32_t offset  # where the pair starts in its row


cdef inline bint same(const Pair* pair, const int64_t* cells) noexcept nogil:
    return pair.price == cells[0] and pair.size == cells[1]


cdef class BookText(_Text):
    """Orderbook rows -> ``ask_price_1,ask_size_1,bid_price_1,bid_size_1,...`` lines."""

    cdef int pairs
    cdef Pair* cache  # 2 x pairs: the previous row's pairs and the current row's
    cdef int current
    cdef int64_t prev_pos  # uncompressed position of the previous row's start (gzip)

    def __cinit__(self, int levels, Py_ssize_t rows, bint gzip=False):
        cdef int j
        self.pairs = 2 * levels
        self.cache = <Pair*> zeroed(2 * self.pairs, sizeof(Pair))
        for j in range(2 * self.pairs):
            self.cache[j].price = -9223372036854775807 - 1  # matches no pair
        self.setup(rows * self.pairs * PAIR_COPY + PAIR_COPY, gzip)

    def __dealloc__(self):
        free(self.cache)

    def format(self, const int64_t[:, ::1] book, Py_ssize_t rows):
        """The text of the first ``rows`` rows (a view of this object's buffer)."""
        cdef Py_ssize_t r
        cdef int j, k, last = self.pairs - 1
        cdef char* start = <char*>&self.buf[0]
        cdef char* p = start
        cdef char* q
        cdef char* row
        cdef const int64_t* cells
        cdef Pair* prev
        cdef Pair* cur
        cdef Pair* e
        cdef int64_t pos, n
        cdef Deflate d  # a local copy, so that its fields stay in registers
        cdef const Codes* codes = &self.codes
        if book.shape[1] != 2 * self.pairs or rows * self.pairs * PAIR_COPY + PAIR_COPY > self.buf.shape[0]:
            raise ValueError("orderbook block does not fit the text buffer")
        with nogil:
            self.rewind()
            d = self.d
            for r in range(rows):
                cells = &book[r, 0]
                prev = self.cache + self.current * self.pairs
                self.current ^= 1
                cur = self.cache + self.current * self.pairs
                row = p
                pos = d.pos
                for j in range(self.pairs):
                    e = &cur[j]
                    k = -1
                    if same(&prev[j], cells + 2 * j):
                        k = j
                    elif j >= 2 and same(&prev[j - 2], cells + 2 * j):
                        k = j - 2
                    elif j + 2 < self.pairs and same(&prev[j + 2], cells + 2 * j):
                        k = j + 2
                    if k >= 0:
                        memcpy(p, prev[k].text, PAIR_COPY)
                        memcpy(e, &prev[k], sizeof(Pair))
                    else:
                        e.price = cells[2 * j]
                        e.size = cells[2 * j + 1]
                        q = put_int(p, e.price)
                        q[0] = b','
                        q = put_int(q + 1, e.size)
                        q[0] = b','
                        e.length = <int32_t>(q + 1 - p)
                        memcpy(e.text, p, PAIR_COPY)
                    e.offset = <int32_t>(p - row)
                    n = e.length
                    if j == last:
                        p[n - 1] = b'\n'
                    if self.gzip:
                        if k < 0:
                            literals(&d, codes, <unsigned char*>p, n)
                        elif (k == last) == (j == last):
                            copy(&d, codes, <unsigned char*>p, n, self.prev_pos + prev[k].offset)
                        else:  # the same pair, but a ',' where the row before ended with '\n' or back
                            copy(&d, codes, <unsigned char*>p, n - 1, self.prev_pos + prev[k].offset)
                            literals(&d, codes, <unsigned char*>p + n - 1, 1)
                    p += n
                self.prev_pos = pos
            self.d = d
        return self.done(start, p)
