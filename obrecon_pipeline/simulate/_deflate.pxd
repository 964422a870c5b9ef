# cython: language_level=3
"""A deflate (RFC 1951) encoder for text that repeats its previous row, as C structs.

The CSV writers know, while formatting, which pieces of a row repeat a piece of the row before
(an unchanged orderbook level, a repeated message field): they emit those as LZ77 copies and the
rest as literals, with deflate's fixed Huffman codes (one block, ``BFINAL`` set). No searching,
so it runs at formatting speed; zlib inflates it like any deflate stream.

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
    uint32_t lit[256]  # bit-reversed fixed Huffman code of each literal byte ...
    int lit_n[256]  # ... and its length in bits
    uint32_t len[MAX_MATCH + 1]  # length code and extra bits of each match length
    int len_n[MAX_MATCH + 1]
    uint32_t dist5[32]  # bit-reversed 5-bit distance codes

cdef struct Deflate:
    uint64_t acc  # bits not yet written, the oldest in the low bits
    int nbits
    unsigned char* out
    int64_t pos  # uncompressed bytes so far
    int64_t copy_dist  # the pending copy: distance ...
    int64_t copy_len  # ... and length so far (0: none)
    const unsigned char* copy_text  # its bytes in the current text (for a copy too short to code)


cdef inline uint32_t reverse(uint32_t code, int n) noexcept nogil:
    cdef uint32_t r = 0
    cdef int k
    for k in range(n):
        r = (r << 1) | ((code >> k) & 1)
    return r


cdef inline void codes_init(Codes* c) noexcept nogil:
    """The fixed Huffman codes (RFC 1951, 3.2.6) and length codes (3.2.5)."""
    cdef int v, code, base, extra, k, symbol, length, n
    for v in range(256):
        if v < 144:
            c.lit[v] = reverse(0x30 + v, 8)
            c.lit_n[v] = 8
        else:
            c.lit[v] = reverse(0x190 + v - 144, 9)
            c.lit_n[v] = 9
    # length codes 257..285: (base length, extra bits)
    base = 3
    for symbol in range(257, 286):
        extra = 0 if symbol < 265 or symbol == 285 else (symbol - 261) // 4
        if symbol == 285:
            base = 258
        for k in range(1 << extra):
            length = base + k
            if length > MAX_MATCH:
                break
            code = symbol - 256 if symbol < 280 else 0xC0 + symbol - 280
            n = 7 if symbol < 280 else 8
            c.len[length] = reverse(code, n) | (<uint32_t>k << n)
            c.len_n[length] = n + extra
        base += 1 << extra
    for v in range(32):
        c.dist5[v] = reverse(v, 5)


cdef inline void put(Deflate* d, uint64_t bits, int n) noexcept nogil:
    cdef uint32_t word
    d.acc |= bits << d.nbits
    d.nbits += n
    if d.nbits >= 32:
        word = <uint32_t>d.acc
        memcpy(d.out, &word, 4)  # little-endian: the oldest bits first
        d.out += 4
        d.acc >>= 32
        d.nbits -= 32


cdef inline void start(Deflate* d) noexcept nogil:
    """A stream of one fixed-Huffman block: BFINAL = 1, BTYPE = 01."""
    d.acc = 0
    d.nbits = 0
    d.pos = 0
    d.copy_len = 0
    put(d, 0b011, 3)


cdef inline void put_distance(Deflate* d, const Codes* c, int64_t dist) noexcept nogil:
    cdef uint64_t x = <uint64_t>(dist - 1)
    cdef int top, extra
    if x < 4:
        put(d, c.dist5[x], 5)
        return
    top = 63 - __builtin_clzll(x)  # x in [2**top, 2**(top+1)): codes 2*top and 2*top + 1
    extra = top - 1
    put(d, c.dist5[2 * top + ((x >> extra) & 1)] | ((x & ((<uint64_t>1 << extra) - 1)) << 5), 5 + extra)


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
    put(d, 0, 7)  # end of block: code 256, seven zero bits
    while d.nbits > 0:
        d.out[0] = <unsigned char>(d.acc & 0xFF)
        d.out += 1
        d.acc >>= 8
        d.nbits -= 8
    d.nbits = 0
