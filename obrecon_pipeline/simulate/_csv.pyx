# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""LOBSTER CSV text from the simulator's binary blocks, formatted without the GIL.

Integers are written two digits at a time from a 200-byte table. The orderbook file repeats
itself from row to row (a message changes one or two levels), so :class:`BookText` keeps the text
of every ``price,size`` pair of the previous row and copies it when the same pair appears again at
the same level or one level up or down (a level entering or leaving above it shifts the rest).
"""

from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy

import numpy as np

cdef const char* DIGITS = (
    b"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    b"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    b"8081828384858687888990919293949596979899"
)

cdef enum:
    MESSAGE_MAX = 128  # bytes: 15 (time) + 5 integers of up to 20 characters + separators
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


cdef class MessageText:
    """Message rows -> ``time,type,order_id,size,price,direction`` lines."""

    cdef unsigned char[::1] buf
    cdef object array

    def __cinit__(self, Py_ssize_t rows):
        self.array = np.empty(rows * MESSAGE_MAX, dtype=np.uint8)
        self.buf = self.array

    def format(self, const int64_t[:, ::1] messages, Py_ssize_t rows):
        """The text of the first ``rows`` rows (a view of this object's buffer)."""
        cdef Py_ssize_t r
        cdef char* start = <char*>&self.buf[0]
        cdef char* p = start
        cdef const int64_t* m
        if rows * MESSAGE_MAX > self.buf.shape[0] or messages.shape[1] != 6:
            raise ValueError("message block does not fit the text buffer")
        with nogil:
            for r in range(rows):
                m = &messages[r, 0]
                p = put_time(p, m[0])
                p[0] = b','
                p[1] = <char>(48 + m[1])
                p[2] = b','
                p = put_uint(p + 3, <uint64_t>m[2])
                p[0] = b','
                p = put_uint(p + 1, <uint64_t>m[3])
                p[0] = b','
                p = put_uint(p + 1, <uint64_t>m[4])
                p[0] = b','
                p = put_int(p + 1, m[5])
                p[0] = b'\n'
                p += 1
        return self.array[:p - start]


cdef struct Pair:
    char text[PAIR_TEXT]  # "price,size," (first, so that copies of a Pair and of its text align)
    int64_t price
    int64_t size
    int32_t length


cdef inline bint same(const Pair* pair, const int64_t* cells) noexcept nogil:
    return pair.price == cells[0] and pair.size == cells[1]


cdef class BookText:
    """Orderbook rows -> ``ask_price_1,ask_size_1,bid_price_1,bid_size_1,...`` lines."""

    cdef int pairs
    cdef Pair* cache  # 2 x pairs: the previous row's pairs and the current row's
    cdef unsigned char[::1] buf
    cdef object array
    cdef int current

    def __cinit__(self, int levels, Py_ssize_t rows):
        cdef int j
        self.pairs = 2 * levels
        self.cache = <Pair*> calloc(2 * self.pairs, sizeof(Pair))
        if self.cache == NULL:
            raise MemoryError()
        for j in range(2 * self.pairs):
            self.cache[j].price = -9223372036854775807 - 1  # matches no pair
        self.array = np.empty(rows * self.pairs * PAIR_COPY + PAIR_COPY, dtype=np.uint8)
        self.buf = self.array
        self.current = 0

    def __dealloc__(self):
        free(self.cache)

    def format(self, const int64_t[:, ::1] book, Py_ssize_t rows):
        """The text of the first ``rows`` rows (a view of this object's buffer)."""
        cdef Py_ssize_t r
        cdef int j
        cdef char* start = <char*>&self.buf[0]
        cdef char* p = start
        cdef char* q
        cdef const int64_t* row
        cdef Pair* prev
        cdef Pair* cur
        cdef Pair* src
        cdef Pair* e
        if book.shape[1] != 2 * self.pairs or rows * self.pairs * PAIR_COPY + PAIR_COPY > self.buf.shape[0]:
            raise ValueError("orderbook block does not fit the text buffer")
        with nogil:
            for r in range(rows):
                row = &book[r, 0]
                prev = self.cache + self.current * self.pairs
                self.current ^= 1
                cur = self.cache + self.current * self.pairs
                for j in range(self.pairs):
                    src = NULL
                    if same(&prev[j], row + 2 * j):
                        src = &prev[j]
                    elif j >= 2 and same(&prev[j - 2], row + 2 * j):
                        src = &prev[j - 2]
                    elif j + 2 < self.pairs and same(&prev[j + 2], row + 2 * j):
                        src = &prev[j + 2]
                    if src != NULL:
                        memcpy(p, src.text, PAIR_COPY)
                        p += src.length
                        memcpy(&cur[j], src, sizeof(Pair))
                    else:
                        e = &cur[j]
                        e.price = row[2 * j]
                        e.size = row[2 * j + 1]
                        q = put_int(p, e.price)
                        q[0] = b','
                        q = put_int(q + 1, e.size)
                        q[0] = b','
                        e.length = <int32_t>(q + 1 - p)
                        memcpy(e.text, p, PAIR_COPY)
                        p = q + 1
                (p - 1)[0] = b'\n'
        return self.array[:p - start]
