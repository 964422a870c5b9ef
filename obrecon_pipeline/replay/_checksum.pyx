# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Exchange book checksums computed from scaled integers, digit for digit as the venue does.

Both venues checksum a text built from the *decimal strings* of the top levels; with a price held
as ``p`` units of ``10**-d`` the string's digits are recovered exactly from ``p`` and ``d``, so the
book never needs a float or a string.

* **Kraken** (``book`` channel, WebSocket API v1, "Book checksum"): for the 10 best asks (price
  ascending) then the 10 best bids (price descending), price then volume, each decimal string with
  the ``.`` removed and leading zeros stripped; CRC32 of the concatenation, unsigned. Kraken
  sends a fixed number of decimals per pair (volumes: 8), so the text is ``str(p)`` at the scale of
  those decimals.
* **OKX** (``books`` channel, v5 "Checksum"): for i = 1..25, ``bid_px:bid_sz`` of the i-th best bid
  then ``ask_px:ask_sz`` of the i-th best ask (a side that has run out is skipped), all joined with
  ``:``; CRC32 read as a signed 32-bit integer. OKX writes decimals without trailing zeros, so each
  value is formatted canonically (``30316``, ``0.08``).

* **Bitget** (``books`` channel, v1 "Checksum"): the OKX layout (``bid_px:bid_sz:ask_px:ask_sz`` for
  i = 1..25, signed CRC32) over the strings *as sent*; Bitget writes every price and size of a
  symbol with a fixed number of decimals, trailing zeros kept (``"0.00003530"``, ``"135.0000"``),
  so each value is formatted with exactly the book's decimals.

CRC32 is the IEEE 802.3 polynomial (reflected ``0xEDB88320``), as in zlib.

Ladders are passed in the replayer's layout (:mod:`obrecon_pipeline.replay._book`): keys sorted
ascending with the best level last, ``key = price`` for bids and ``-price`` for asks.
"""

from libc.stdint cimport int64_t, uint32_t, int32_t

import numpy as np

from obrecon_pipeline.codes cimport CHECKSUM_NONE, CHECKSUM_KRAKEN, CHECKSUM_OKX, CHECKSUM_BITGET
from obrecon_pipeline.codes import Checksum

cdef uint32_t CRC_TABLE[256]

cdef void _init_table() noexcept:
    cdef uint32_t c, k, n
    for n in range(256):
        c = n
        for k in range(8):
            if c & 1:
                c = (<uint32_t>0xEDB88320U) ^ (c >> 1)
            else:
                c = c >> 1
        CRC_TABLE[n] = c

_init_table()

cdef enum:
    BUF = 8192

cdef inline uint32_t crc32(const char* data, Py_ssize_t n) noexcept nogil:
    cdef uint32_t ones = ~(<uint32_t>0)
    cdef uint32_t c = ones
    cdef Py_ssize_t i
    for i in range(n):
        c = CRC_TABLE[(c ^ <unsigned char>data[i]) & 0xFF] ^ (c >> 8)
    return c ^ ones


cdef inline Py_ssize_t put_digits(char* out, Py_ssize_t pos, unsigned long long v) noexcept nogil:
    """Decimal digits of ``v`` (no leading zeros; nothing for 0)."""
    cdef char tmp[24]
    cdef int k = 0
    while v > 0:
        tmp[k] = <char>(48 + v % 10)
        v //= 10
        k += 1
    while k > 0:
        k -= 1
        out[pos] = tmp[k]
        pos += 1
    return pos


cdef inline Py_ssize_t put_number(char* out, Py_ssize_t pos, int64_t v, int decimals, bint fixed) noexcept nogil:
    """Decimal text of ``v * 10**-decimals``: with exactly ``decimals`` fraction digits when ``fixed``
    (trailing zeros kept), else canonical (no trailing zeros, no trailing point)."""
    cdef unsigned long long u, frac, scale = 1
    cdef int d, width = decimals
    if v < 0:
        out[pos] = 45  # '-'
        pos += 1
        u = <unsigned long long>(-(v + 1)) + 1
    else:
        u = <unsigned long long>v
    for d in range(decimals):
        scale *= 10
    frac = u % scale
    if u < scale:
        out[pos] = 48  # whole part 0
        pos += 1
    else:
        pos = put_digits(out, pos, u // scale)
    if not fixed:  # drop trailing zeros (all of them when frac == 0)
        while width > 0 and frac % 10 == 0:
            frac //= 10
            width -= 1
    if width > 0:
        out[pos] = 46  # '.'
        pos += 1
        for d in range(width - 1, -1, -1):
            out[pos + d] = <char>(48 + frac % 10)
            frac //= 10
        pos += width
    return pos


cdef inline Py_ssize_t put_interleaved(char* buf, const int64_t* bid_key, const int64_t* bid_size, Py_ssize_t n_bids,
                                       const int64_t* ask_key, const int64_t* ask_size, Py_ssize_t n_asks,
                                       int price_decimals, int size_decimals, bint fixed) noexcept nogil:
    """``bid_px:bid_sz:ask_px:ask_sz:...`` over the best 25 levels, a side skipped once it runs out
    (OKX: numbers as sent, fewest decimals; Bitget: the instrument's fixed decimals)."""
    cdef Py_ssize_t pos = 0, r, ib, ia
    for r in range(25):
        ib = n_bids - 1 - r
        ia = n_asks - 1 - r
        if ib >= 0:
            if pos > 0:
                buf[pos] = 58  # ':'
                pos += 1
            pos = put_number(buf, pos, bid_key[ib], price_decimals, fixed)
            buf[pos] = 58
            pos += 1
            pos = put_number(buf, pos, bid_size[ib], size_decimals, fixed)
        if ia >= 0:
            if pos > 0:
                buf[pos] = 58
                pos += 1
            pos = put_number(buf, pos, -ask_key[ia], price_decimals, fixed)
            buf[pos] = 58
            pos += 1
            pos = put_number(buf, pos, ask_size[ia], size_decimals, fixed)
    return pos


cdef int64_t book_checksum(int kind,
                           const int64_t* bid_key, const int64_t* bid_size, Py_ssize_t n_bids,
                           const int64_t* ask_key, const int64_t* ask_size, Py_ssize_t n_asks,
                           int price_decimals, int size_decimals) noexcept nogil:
    """The venue checksum of a book (``kind`` = CHECKSUM_KRAKEN / CHECKSUM_OKX), else -1."""
    cdef char buf[BUF]
    cdef Py_ssize_t pos = 0, r, ib, ia
    cdef int32_t signed_crc
    if kind == CHECKSUM_KRAKEN:
        for r in range(10):
            ia = n_asks - 1 - r
            if ia < 0:
                break
            pos = put_digits(buf, pos, <unsigned long long>(-ask_key[ia]))
            pos = put_digits(buf, pos, <unsigned long long>ask_size[ia])
        for r in range(10):
            ib = n_bids - 1 - r
            if ib < 0:
                break
            pos = put_digits(buf, pos, <unsigned long long>bid_key[ib])
            pos = put_digits(buf, pos, <unsigned long long>bid_size[ib])
        return <int64_t>crc32(buf, pos)
    if kind == CHECKSUM_OKX or kind == CHECKSUM_BITGET:
        pos = put_interleaved(buf, bid_key, bid_size, n_bids, ask_key, ask_size, n_asks,
                              price_decimals, size_decimals, kind == CHECKSUM_BITGET)
        signed_crc = <int32_t>crc32(buf, pos)
        return <int64_t>signed_crc
    return -1


def kind_code(name):
    """The code of a checksum algorithm name (``None`` -> no checksum); ``ValueError`` if unknown."""
    try:
        return int(Checksum.of(name))
    except KeyError:
        known = ", ".join(c.name.lower() for c in Checksum if c is not Checksum.NONE)
        raise ValueError(f"unknown checksum algorithm {name!r}; known: {known}") from None


def checksum(name, bid_price, bid_size, ask_price, ask_size, int price_decimals, int size_decimals):
    """Checksum of a book given best-first scaled-integer levels (for tests and tools)."""
    bp = np.ascontiguousarray(np.asarray(bid_price, dtype=np.int64)[::-1])
    bs = np.ascontiguousarray(np.asarray(bid_size, dtype=np.int64)[::-1])
    ak = np.ascontiguousarray(-np.asarray(ask_price, dtype=np.int64)[::-1])
    az = np.ascontiguousarray(np.asarray(ask_size, dtype=np.int64)[::-1])
    if bp.shape[0] != bs.shape[0] or ak.shape[0] != az.shape[0]:
        raise ValueError("price and size arrays differ in length")
    cdef int64_t[::1] vbp = bp if bp.shape[0] else np.zeros(1, np.int64)
    cdef int64_t[::1] vbs = bs if bs.shape[0] else np.zeros(1, np.int64)
    cdef int64_t[::1] vak = ak if ak.shape[0] else np.zeros(1, np.int64)
    cdef int64_t[::1] vaz = az if az.shape[0] else np.zeros(1, np.int64)
    return book_checksum(kind_code(name), &vbp[0], &vbs[0], bp.shape[0], &vak[0], &vaz[0], ak.shape[0],
                         price_decimals, size_decimals)
