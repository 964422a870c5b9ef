# cython: boundscheck=False, wraparound=False, cdivision=True
"""Book payloads of the venues whose levels are arrays of decimal strings, parsed straight into
contiguous buffers (no ``json.loads``): one reader for every shape, each shape a walk over its
members.

Per payload: the symbol (an index into ``symbols``, in order of first appearance), whether it is
a snapshot, the venue's event time in ns (``NO_ID``: none, the receive time is used), its checksum
(``NO_ID``: none) and its levels, bids then asks as the venue module orders them, each price and
size an exact ``(mantissa, decimals)`` pair (:mod:`._json_scan`). The shapes, each exactly as the
venue module (its docstring) reads it:

* ``KRAKEN`` (:mod:`.kraken`): ``[channelID, {payload}, [{payload},] "book-N", "PAIR"]``, payload
  members ``as``/``bs`` (a snapshot) or ``a``/``b`` with an optional ``c`` (a diff, ``c`` the CRC32
  as a string of digits); the two payloads of a diff merged;
* ``COINBASE`` (:mod:`.coinbase`): ``{"type": "snapshot", "product_id", "bids", "asks"}`` or
  ``{"type": "l2update", "product_id", "changes": [["buy"|"sell", price, size], ...], "time":
  "YYYY-MM-DDTHH:MM:SS[.f]Z"}`` (the buys, then the sells, each in the order sent);
* ``OKX`` (:mod:`.okx`, also OKCoin): ``{"arg": {"channel": "books", "instId"}, "action":
  "snapshot"|"update", "data": [{"bids", "asks", "ts": "<ms>", "checksum": <int>}]}``.

Members a venue module does not read are checked as JSON and skipped. Anything else — a
member given twice, a missing or mistyped member, a level not ``[decimal string, decimal string,
...]``, a second ``data`` item, an ``event`` member, a time not in that form, a string escape, a
decimal the JSON helpers refuse — leaves the payload *unparsed* (``ok = 0``) for the per-line path
(``json.loads`` and the venue module), which decides: quarantine, a located error or its own
translation. So every payload taken here means exactly what the venue module makes of it.
"""

import numpy as np

from libc.stdint cimport int64_t
from libc.string cimport memcmp

from obrecon_pipeline.feeds.cryptofeed._level_columns cimport LevelColumns
from obrecon_pipeline.feeds.cryptofeed._json_scan cimport (
    PLAIN, SIDED, _first, _integer, _is, _member, _next, _string, _text, _value, _word, _ws, read_levels)

cdef enum:
    _KRAKEN = 0
    _COINBASE = 1
    _OKX = 2

KRAKEN, COINBASE, OKX = _KRAKEN, _COINBASE, _OKX
SHAPES = {"KRAKEN": _KRAKEN, "COINBASE": _COINBASE, "OKX": _OKX}

cdef int64_t NO_ID = -9223372036854775807 - 1
#: the largest event time in ms whose ns fit int64
cdef int64_t MAX_MS = 9223372036854
#: the years whose every instant in ns fits int64 (1970 to 2262-04-11)
cdef int FIRST_YEAR = 1970, LAST_YEAR = 2261


cdef struct Msg:
    Py_ssize_t sym0, sym1  # the symbol's text
    Py_ssize_t bids, asks  # start of the bids / asks array (-1: none)
    int layout  # PLAIN, or SIDED (one array of sided changes at bids == asks)
    bint snapshot
    int64_t ts  # event time, ns (NO_ID: none)
    int64_t checksum  # NO_ID: none


cdef inline Py_ssize_t _unsigned(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, int64_t* out) nogil:
    """End of a string of 1 to 18 ASCII digits at ``i`` (leading zeros allowed: Python's ``int``
    reads them), its value in ``out``; -1 for any other value."""
    cdef Py_ssize_t q
    cdef int64_t v = 0
    if i >= e or p[i] != 34:
        return -1
    q = i + 1
    i = q
    while i < e and 48 <= p[i] <= 57:
        if i - q >= 18:
            return -1
        v = v * 10 + (p[i] - 48)
        i += 1
    if i == q or i >= e or p[i] != 34:
        return -1
    out[0] = v
    return i + 1


cdef inline int _num(const unsigned char* p, Py_ssize_t i, int n) nogil:
    """The ``n`` ASCII digits at ``i`` as a number, -1 if one is not a digit."""
    cdef int v = 0, k
    for k in range(n):
        if not 48 <= p[i + k] <= 57:
            return -1
        v = v * 10 + (p[i + k] - 48)
    return v


cdef inline int64_t _days(int y, int m, int d) nogil:
    """Days from 1970-01-01 to the civil date (proleptic Gregorian; H. Hinnant's days_from_civil)."""
    cdef int era, yoe, doy, doe
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return <int64_t>era * 146097 + doe - 719468


cdef int[13] MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


cdef inline Py_ssize_t _iso(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, int64_t* out) nogil:
    """End of a string ``"YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z"`` at ``i`` (a valid UTC instant of years
    :data:`FIRST_YEAR` to :data:`LAST_YEAR`), ns since the epoch in ``out``: what
    ``numpy.datetime64(text[:-1], "ns")`` gives (:func:`.coinbase.iso_ns`); -1 for any other value."""
    cdef int y, mo, d, h, mi, s, n = 0, dim
    cdef int64_t frac = 0
    cdef Py_ssize_t q
    if e - i < 22 or p[i] != 34:
        return -1
    i += 1
    if p[i + 4] != 45 or p[i + 7] != 45 or p[i + 10] != 84 or p[i + 13] != 58 or p[i + 16] != 58:
        return -1
    y, mo, d = _num(p, i, 4), _num(p, i + 5, 2), _num(p, i + 8, 2)
    h, mi, s = _num(p, i + 11, 2), _num(p, i + 14, 2), _num(p, i + 17, 2)
    if y < FIRST_YEAR or y > LAST_YEAR or mo < 1 or mo > 12 or h < 0 or h > 23 or mi < 0 or mi > 59 or s < 0 or s > 59:
        return -1
    dim = MONTH_DAYS[mo] + (1 if mo == 2 and (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 0)
    if d < 1 or d > dim:
        return -1
    i += 19
    if i < e and p[i] == 46:
        i += 1
        q = i
        while i < e and 48 <= p[i] <= 57:
            if i - q >= 9:
                return -1
            frac = frac * 10 + (p[i] - 48)
            i += 1
        n = <int>(i - q)
        if n == 0:
            return -1
        while n < 9:
            frac *= 10
            n += 1
    if i + 1 >= e or p[i] != 90 or p[i + 1] != 34:
        return -1
    out[0] = ((_days(y, mo, d) * 24 + h) * 60 + mi) * 60 * 1000000000 + <int64_t>s * 1000000000 + frac
    return i + 2


cdef Py_ssize_t _kraken_payload(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, Msg* m, int* seen) nogil:
    """One payload object of a Kraken book message (members ``as``, ``bs``, ``a``, ``b``, ``c``:
    bits 1, 2, 4, 8, 16 of ``seen``, shared by the message's payloads); its end or -1."""
    cdef Py_ssize_t ks, ke
    cdef int bit, more = _first(p, &i, e, 123)
    while more == 1:
        i = _member(p, i, e, &ks, &ke)
        if i < 0:
            return -1
        bit = 1 if _is(p, ks, ke, b"as", 2) else 2 if _is(p, ks, ke, b"bs", 2) else 4 if _is(p, ks, ke, b"a", 1) \
            else 8 if _is(p, ks, ke, b"b", 1) else 16 if _is(p, ks, ke, b"c", 1) else 0
        if bit & seen[0]:
            return -1  # a member given twice (in one payload or across the two)
        seen[0] |= bit
        if bit == 1 or bit == 4:
            m.asks = i
        elif bit == 2 or bit == 8:
            m.bids = i
        if bit == 16:
            i = _unsigned(p, i, e, &m.checksum)
        else:
            i = _value(p, i, e, 1)
        more = _next(p, &i, e, 125)
    return i if more == 0 else -1


cdef bint _kraken(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, Msg* m) nogil:
    cdef int seen = 0, payloads = 0
    cdef Py_ssize_t c0, c1
    i = _ws(p, i, e)
    if i >= e or p[i] != 91:
        return False
    i = _value(p, _ws(p, i + 1, e), e, 1)  # channelID
    while True:
        if i < 0 or _next(p, &i, e, 93) != 1:
            return False
        if i < e and p[i] != 123:
            break
        payloads += 1
        if payloads > 2:
            return False
        i = _kraken_payload(p, i, e, m, &seen)
    if payloads == 0:
        return False
    i = _text(p, i, e, &c0, &c1)  # the channel name, then the pair, then the end
    if i < 0 or not _word(p, c0, c1, b"book", 4) or _next(p, &i, e, 93) != 1:
        return False
    i = _text(p, i, e, &m.sym0, &m.sym1)
    if i < 0 or _next(p, &i, e, 93) != 0 or _ws(p, i, e) != e:
        return False
    if seen & 3:  # a snapshot: only as / bs
        m.snapshot = True
        return (seen & 28) == 0
    return (seen & 12) != 0  # a diff: a and / or b, perhaps c


cdef bint _coinbase(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, Msg* m) nogil:
    cdef Py_ssize_t ks, ke, changes = -1, time = -1
    cdef int seen = 0, bit, more, kind = 0
    i = _ws(p, i, e)
    more = _first(p, &i, e, 123)
    while more == 1:
        i = _member(p, i, e, &ks, &ke)
        if i < 0:
            return False
        bit = 1 if _is(p, ks, ke, b"type", 4) else 2 if _is(p, ks, ke, b"product_id", 10) \
            else 4 if _is(p, ks, ke, b"bids", 4) else 8 if _is(p, ks, ke, b"asks", 4) \
            else 16 if _is(p, ks, ke, b"changes", 7) else 32 if _is(p, ks, ke, b"time", 4) else 0
        if bit & seen:
            return False
        seen |= bit
        if bit == 1:
            ks = i
            i = _string(p, i, e)
            kind = 1 if i >= 0 and _is(p, ks, i, b"snapshot", 8) else 2 if i >= 0 and _is(p, ks, i, b"l2update", 8) else 0
        elif bit == 2:
            i = _text(p, i, e, &m.sym0, &m.sym1)
        else:
            if bit == 4:
                m.bids = i
            elif bit == 8:
                m.asks = i
            elif bit == 16:
                changes = i
            elif bit == 32:
                time = i
            i = _value(p, i, e, 1)
        more = _next(p, &i, e, 125)
    if more < 0 or _ws(p, i, e) != e or kind == 0 or not (seen & 2):
        return False
    if kind == 1:
        m.snapshot = True
        return True
    if changes < 0 or time < 0 or _iso(p, time, e, &m.ts) < 0:
        return False
    m.bids = m.asks = changes
    m.layout = SIDED
    return True


cdef Py_ssize_t _okx_arg(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, Msg* m) nogil:
    """The ``arg`` object: exactly ``channel`` = ``"books"`` and a string ``instId``; its end or -1."""
    cdef Py_ssize_t ks, ke
    cdef int seen = 0, more = _first(p, &i, e, 123)
    while more == 1:
        i = _member(p, i, e, &ks, &ke)
        if i < 0:
            return -1
        if _is(p, ks, ke, b"channel", 7) and not seen & 1:
            seen |= 1
            ks = i
            i = _string(p, i, e)
            if i < 0 or not _is(p, ks, i, b"books", 5):
                return -1
        elif _is(p, ks, ke, b"instId", 6) and not seen & 2:
            seen |= 2
            i = _text(p, i, e, &m.sym0, &m.sym1)
        else:
            return -1
        more = _next(p, &i, e, 125)
    return i if more == 0 and seen == 3 else -1


cdef Py_ssize_t _okx_data(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, Msg* m) nogil:
    """The ``data`` array of exactly one object (``bids``, ``asks``, ``ts`` required, ``checksum``);
    its end or -1."""
    cdef Py_ssize_t ks, ke
    cdef int seen = 0, bit, more
    cdef int64_t ms = 0
    if _first(p, &i, e, 91) != 1:
        return -1
    more = _first(p, &i, e, 123)
    while more == 1:
        i = _member(p, i, e, &ks, &ke)
        if i < 0:
            return -1
        bit = 1 if _is(p, ks, ke, b"bids", 4) else 2 if _is(p, ks, ke, b"asks", 4) \
            else 4 if _is(p, ks, ke, b"ts", 2) else 8 if _is(p, ks, ke, b"checksum", 8) else 0
        if bit & seen:
            return -1
        seen |= bit
        if bit == 4:
            i = _unsigned(p, i, e, &ms)
            if i >= 0 and ms > MAX_MS:
                return -1
            m.ts = ms * 1000000
        elif bit == 8:
            i = _integer(p, i, e, &m.checksum)
        else:
            if bit == 1:
                m.bids = i
            elif bit == 2:
                m.asks = i
            i = _value(p, i, e, 1)
        more = _next(p, &i, e, 125)
    if more < 0 or not seen & 4 or _next(p, &i, e, 93) != 0:
        return -1  # no ts, or a second item
    return i


cdef bint _okx(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, Msg* m) nogil:
    cdef Py_ssize_t ks, ke
    cdef int seen = 0, bit, more
    i = _ws(p, i, e)
    more = _first(p, &i, e, 123)
    while more == 1:
        i = _member(p, i, e, &ks, &ke)
        if i < 0:
            return False
        bit = 1 if _is(p, ks, ke, b"arg", 3) else 2 if _is(p, ks, ke, b"action", 6) \
            else 4 if _is(p, ks, ke, b"data", 4) else 8 if _is(p, ks, ke, b"event", 5) else 0
        if bit & seen or bit == 8:
            return False  # a member given twice; an event message (no book data)
        seen |= bit
        if bit == 1:
            i = _okx_arg(p, i, e, m)
        elif bit == 2:
            ks = i
            i = _string(p, i, e)
            if i >= 0 and _is(p, ks, i, b"snapshot", 8):
                m.snapshot = True
            elif i < 0 or not _is(p, ks, i, b"update", 6):
                return False
        elif bit == 4:
            i = _okx_data(p, i, e, m)
        else:
            i = _value(p, i, e, 1)
        more = _next(p, &i, e, 125)
    return more == 0 and seen == 7 and _ws(p, i, e) == e


def parse_books(const unsigned char[::1] buf, const int64_t[::1] body, const int64_t[::1] end, int shape,
                dict symbols, Py_ssize_t capacity):
    """Parse the book payloads ``buf[body[k]:end[k]]`` of ``shape`` (see the module docstring).

    Returns ``(ok, sym, snapshot, ts_event, checksum, n_levels, levels)``: per payload int8 ``ok``
    (0: left to the per-line path, nothing else of it is valid), the symbol's index in ``symbols``
    (a dict ``bytes -> index`` extended in order of first appearance), int8 ``snapshot``, int64
    ``ts_event`` (ns) and ``checksum`` (``NO_ID``: none), the number of its levels; ``levels`` =
    dict of ``side`` (int8: 1 bid, -1 ask), ``price_m``, ``price_f``, ``size_m``, ``size_f`` of
    the payloads parsed, in order. At most ``capacity`` levels are read (a payload beyond is left
    unparsed)."""
    cdef Py_ssize_t n = body.shape[0], k, i, e, lv0
    cdef const unsigned char* p = &buf[0] if buf.shape[0] else NULL
    ok_a = np.zeros(n, dtype=np.int8)
    sym_a = np.full(n, -1, dtype=np.int64)
    snap_a = np.zeros(n, dtype=np.int8)
    ts_a = np.full(n, NO_ID, dtype=np.int64)
    sum_a = np.full(n, NO_ID, dtype=np.int64)
    count_a = np.zeros(n, dtype=np.int64)
    cdef signed char[::1] ok = ok_a, snap = snap_a
    cdef int64_t[::1] sym = sym_a, ts = ts_a, sums = sum_a, count = count_a
    cdef Msg m
    cdef Py_ssize_t last_s0 = -1, last_s1 = -1
    cdef int64_t last_sym = -1
    cdef LevelColumns out = LevelColumns(capacity)
    cdef bint good
    if shape != _KRAKEN and shape != _COINBASE and shape != _OKX:
        raise ValueError(f"unknown book payload shape {shape}")
    for k in range(n):
        i, e = body[k], end[k]
        with nogil:
            m.sym0 = m.sym1 = m.bids = m.asks = -1
            m.layout = PLAIN
            m.snapshot = False
            m.ts = m.checksum = NO_ID
            if shape == _KRAKEN:
                good = _kraken(p, i, e, &m)
            elif shape == _COINBASE:
                good = _coinbase(p, i, e, &m)
            else:
                good = _okx(p, i, e, &m)
            lv0 = out.lv.n
            if good and m.bids >= 0:
                good = read_levels(p, m.bids, e, 1, &out.lv, m.layout) >= 0
            if good and m.asks >= 0:
                good = read_levels(p, m.asks, e, -1, &out.lv, m.layout) >= 0
            if not good:
                out.lv.n = lv0
        if not good:
            continue
        if last_sym < 0 or m.sym1 - m.sym0 != last_s1 - last_s0 or memcmp(p + m.sym0, p + last_s0, m.sym1 - m.sym0) != 0:
            name = (<const char*>p)[m.sym0:m.sym1]
            last_sym = symbols.setdefault(name, len(symbols))
            last_s0, last_s1 = m.sym0, m.sym1
        ok[k] = 1
        sym[k] = last_sym
        snap[k] = m.snapshot
        ts[k] = m.ts
        sums[k] = m.checksum
        count[k] = out.lv.n - lv0
    levels = out.written()
    return ok_a, sym_a, snap_a, ts_a, sum_a, count_a, levels
