# cython: language_level=3
"""A deflate (RFC 1951) encoder for text that repeats its previous row, as C structs.

The CSV writers know, while formatting, which pieces of a row repeat a piece of the row before
(an unchanged orderbook level, a repeated message field): they emit those as LZ77 copies and the
rest as literals, in one dynamic-Huffman block whose codes and header come from
:mod:`obrecon_pipeline.simulate.huffman`. No searching, so it runs at formatting speed; zlib
inflates it like any deflate stream.

Copies that follow one another at the same distance merge into one (up to 258 bytes a code), also
across rows; a copy shorter than 3 bytes goes out as literals.
"""

from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.string cimport memcpy

cdef extern from *:
    int __builtin_clzll(unsigned long long) noexcept nogil

cdef enum:
    MAX_MATCH = 258
    MIN_MATCH = 3
    MAX_DISTANCE = 32768

cdef struct Codes:
    uint32_t lit[256]  # bit-reversed Huffman code of each literal byte ...
    int lit_n[256]  # ... and its length in bits (0: a byte the text never holds)
    uint32_t len[MAX_MATCH + 1]  # length code and extra bits of each match length
    int len_n[MAX_MATCH + 1]
    uint32_t dist[30]  # bit-reversed distance codes
    int dist_n[30]
    uint32_t end
    int end_n

cdef struct Deflate:
    uint64_t acc  # bits of the byte not yet complete (fewer than 8), the oldest lowest
    int nbits
    unsigned char* out
    int64_t pos  # uncompressed bytes so far
    int64_t copy_dist  # the pending copy: distance ...
    int64_t copy_len  # ... and length so far (0: none)
    const unsigned char* copy_text  # its bytes in the current text (for a copy too short to code)


cdef inline void codes_init(Codes* c, const uint32_t* codes, const int* lengths,
                            const uint32_t* dist, const int* dist_lengths) noexcept nogil:
    """The tables from a literal/length code (symbols 0..285) and a distance code (0..29), both
    bit-reversed; match lengths as in RFC 1951, 3.2.5."""
    cdef int v, base = 3, extra, k, symbol, length
    for v in range(256):
        c.lit[v] = codes[v]
        c.lit_n[v] = lengths[v]
    c.end = codes[256]
    c.end_n = lengths[256]
    for symbol in range(257, 286):
        extra = 0 if symbol < 265 or symbol == 285 else (symbol - 261) // 4
        if symbol == 285:
            base = 258
        for k in range(1 << extra):
            length = base + k
            if length <= MAX_MATCH:
                c.len[length] = codes[symbol] | (<uint32_t>k << lengths[symbol])
                c.len_n[length] = lengths[symbol] + extra
        base += 1 << extra
    for v in range(30):
        c.dist[v] = dist[v]
        c.dist_n[v] = dist_lengths[v]


cdef inline void put(Deflate* d, uint64_t bits, int n) noexcept nogil:
    """Append ``n`` <= 31 bits. Branch-free: the whole accumulator is stored at every call (the
    buffer keeps 8 bytes of slack) and the output advances by the bytes completed."""
    d.acc |= bits << d.nbits
    d.nbits += n
    memcpy(d.out, &d.acc, 8)  # little-endian: the oldest bits first
    d.out += d.nbits >> 3
    d.acc >>= d.nbits & 56
    d.nbits &= 7


cdef inline void start(Deflate* d) noexcept nogil:
    d.acc = 0
    d.nbits = 0
    d.pos = 0
    d.copy_len = 0


cdef inline void put_distance(Deflate* d, const Codes* c, int64_t dist) noexcept nogil:
    cdef uint64_t x = <uint64_t>(dist - 1)
    cdef int top, extra, code
    if x < 4:
        put(d, c.dist[x], c.dist_n[x])
        return
    top = 63 - __builtin_clzll(x)  # x in [2**top, 2**(top+1)): codes 2*top and 2*top + 1
    extra = top - 1
    code = 2 * top + <int>((x >> extra) & 1)
    put(d, c.dist[code] | ((x & ((<uint64_t>1 << extra) - 1)) << c.dist_n[code]), c.dist_n[code] + extra)


cdef inline void put_literals(Deflate* d, const Codes* c, const unsigned char* text, int64_t n) noexcept nogil:
    cdef int64_t k
    for k in range(n):
        put(d, c.lit[text[k]], c.lit_n[text[k]])


cdef inline void flush_copy(Deflate* d, const Codes* c) noexcept nogil:
    """Code the pending copy (as literals when shorter than 3 bytes)."""
    cdef int64_t left = d.copy_len
    cdef int64_t n
    if left < MIN_MATCH:
        put_literals(d, c, d.copy_text, left)
    else:
        while left > 0:
            n = MAX_MATCH if left > MAX_MATCH else left
            if 0 < left - n < MIN_MATCH:
                n = left - MIN_MATCH
            put(d, c.len[n], c.len_n[n])
            put_distance(d, c, d.copy_dist)
            left -= n
    d.copy_len = 0


cdef inline void literals(Deflate* d, const Codes* c, const unsigned char* text, int64_t n) noexcept nogil:
    """The next ``n`` bytes (at ``text``) as they are."""
    if d.copy_len:
        flush_copy(d, c)
    put_literals(d, c, text, n)
    d.pos += n


cdef inline void copy(Deflate* d, const Codes* c, const unsigned char* text, int64_t n, int64_t source) noexcept nogil:
    """The next ``n`` bytes (at ``text``) repeat the bytes at uncompressed position ``source``."""
    cdef int64_t dist = d.pos - source
    if dist > MAX_DISTANCE:
        literals(d, c, text, n)
        return
    if d.copy_len and dist != d.copy_dist:
        flush_copy(d, c)
    if d.copy_len == 0:
        d.copy_dist = dist
        d.copy_text = text
    d.copy_len += n
    d.pos += n


cdef inline void end_block(Deflate* d, const Codes* c) noexcept nogil:
    """The end-of-block code and the last bits, padded to a whole byte."""
    if d.copy_len:
        flush_copy(d, c)
    put(d, c.end, c.end_n)
    if d.nbits:
        d.out[0] = <unsigned char>d.acc
        d.out += 1
    d.acc = 0
    d.nbits = 0
