# cython: language_level=3
"""Random numbers: SplitMix64 (Steele, Lea & Flood 2014) to seed, xoshiro256** (Blackman & Vigna
2018) to draw, and the integer draws the model is defined by (``pymodel`` mirrors them bit for bit).

``below(n)`` is ``(x * n) >> 64`` on the 128-bit product (Lemire's multiply-shift, without the
rejection step: the bias is below n / 2**64). A :c:type:`Table` draws from a cumulative integer
table: the entry is the one ``bisect_right`` finds, located through a guide table of about four
buckets per entry (Chen & Asau 1974), so a draw costs one or two comparisons.
"""

from libc.stdint cimport int32_t, uint64_t
from libc.stdlib cimport free

from obrecon_pipeline.memory cimport resized

cdef extern from *:
    """
    static inline uint64_t obrecon_mulhi64(uint64_t x, uint64_t n) {
        return (uint64_t)(((unsigned __int128)x * n) >> 64);
    }
    """
    uint64_t obrecon_mulhi64(uint64_t x, uint64_t n) noexcept nogil

cdef struct Xoshiro:
    uint64_t s0
    uint64_t s1
    uint64_t s2
    uint64_t s3


cdef inline uint64_t splitmix64(uint64_t* state) noexcept nogil:
    state[0] += <uint64_t>0x9E3779B97F4A7C15ULL
    cdef uint64_t z = state[0]
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline void xoshiro_seed(Xoshiro* g, uint64_t* state) noexcept nogil:
    g.s0 = splitmix64(state)
    g.s1 = splitmix64(state)
    g.s2 = splitmix64(state)
    g.s3 = splitmix64(state)


cdef inline uint64_t xoshiro_next(Xoshiro* g) noexcept nogil:
    cdef uint64_t x = g.s1 * 5
    cdef uint64_t result = ((x << 7) | (x >> 57)) * 9
    cdef uint64_t t = g.s1 << 17
    g.s2 ^= g.s0
    g.s3 ^= g.s1
    g.s1 ^= g.s2
    g.s0 ^= g.s3
    g.s2 ^= t
    g.s3 = (g.s3 << 45) | (g.s3 >> 19)
    return result


cdef inline uint64_t below(Xoshiro* g, uint64_t n) noexcept nogil:
    """Uniform integer in [0, n)."""
    return obrecon_mulhi64(xoshiro_next(g), n)


cdef struct Table:
    const uint64_t* cum  # cumulative weights
    int32_t* guide  # guide[b]: the first entry whose cumulative weight exceeds b << shift
    int32_t n
    int shift
    uint64_t total


cdef inline int table_init(Table* t, const uint64_t* cum, int32_t n) except -1:
    cdef Py_ssize_t b, buckets
    cdef int32_t j = 0
    t.cum = cum
    t.n = n
    t.total = cum[n - 1]
    t.shift = 0
    while (t.total >> t.shift) > <uint64_t>(4 * n):
        t.shift += 1
    buckets = ((t.total - 1) >> t.shift) + 1
    t.guide = <int32_t*> resized(NULL, buckets * sizeof(int32_t))
    for b in range(buckets):
        while cum[j] <= (<uint64_t>b << t.shift):
            j += 1
        t.guide[b] = j
    return 0


cdef inline void table_free(Table* t) noexcept nogil:
    free(t.guide)
    t.guide = NULL


cdef inline Py_ssize_t search(const Table* t, uint64_t r) noexcept nogil:
    """The entry for ``r < total``: the first j with ``r < cum[j]`` (``bisect_right``)."""
    cdef Py_ssize_t j = t.guide[r >> t.shift]
    while t.cum[j] <= r:
        j += 1
    return j


cdef inline Py_ssize_t pick(Xoshiro* g, const Table* t) noexcept nogil:
    """An entry, with probability proportional to its weight."""
    return search(t, below(g, t.total))
