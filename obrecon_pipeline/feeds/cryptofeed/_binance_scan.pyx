# cython: boundscheck=False, wraparound=False, cdivision=True
"""Binance diff-depth and bookTicker payloads parsed straight into contiguous buffers (no ``json.loads``).

A payload ``{"stream": "<sym>@depth...", "data": {"e": "depthUpdate", "E": .., "s": .., "U": .., "u": ..,
"pu": .., "b": [[price, qty], ...], "a": [...]}}`` (Binance "Diff. Depth Stream") gives, per
message, the symbol (an index into the ``symbols`` list, in order of first appearance), ``E``
(ms; ``NO_ID`` when absent), ``U``, ``u``, ``pu`` (``NO_ID`` when absent) and its levels, bids then
asks as ``cryptofeed.binance`` orders them, each price and size as an exact pair
``(mantissa, decimals)``: ``"0.00002290"`` is ``(2290, 8)``, so ``value = mantissa * 10**-decimals``
and the value at scale ``10**d`` is ``mantissa * 10**(d - decimals)`` — the scaling rule of
:mod:`obrecon_pipeline.feeds.decimals` (``decimals`` = the digits written after the point).

The whole payload is checked against JSON's grammar as it is read (strings, numbers, literals,
nesting), so a payload accepted here is one ``json.loads`` reads to the same values. Only the
common, exact shape is taken: a payload with anything else — a string escape or a non-ASCII byte,
a decimal not written ``digits[.digits]`` (sign, exponent, ``.5``, leading zeros, more than 18
digits), a number where a string belongs, an id that is not an int64 integer, a member given
twice — is returned *unparsed* (``ok = 0``) for the reader's per-line path, which decides
(quarantine, a located error, or its own translation), so every accepted line means exactly what
it meant before.

A bookTicker payload ``{"stream": "<sym>@bookTicker", "data": {"u": .., "s": .., "b": .., "B": ..,
"a": .., "A": .., ...}}`` (Binance "Individual Symbol Book Ticker Streams") gives the symbol, ``u``
and the four price and size strings as they are written (:func:`parse_tickers`), under the same
checks: the per-line reader keeps them as text too.
"""

import numpy as np

from libc.stdint cimport int64_t
from libc.string cimport memchr, memcmp

from obrecon_pipeline.feeds.cryptofeed._level_columns cimport LevelColumns
from obrecon_pipeline.feeds.cryptofeed._json_scan cimport (
    PLAIN, _first, _integer, _is, _member, _next, _text, _value, _word, _ws, read_levels)


cdef int64_t NO_ID = -9223372036854775807 - 1
#: the largest event time in ms whose ns fit int64
cdef int64_t MAX_E_MS = 9223372036854


cdef inline int _key(const unsigned char* p, Py_ssize_t s, Py_ssize_t e) nogil:
    """Which data member the key text ``p[s:e]`` names: 0 E, 1 s, 2 U, 3 u, 4 pu, 5 b, 6 a, -1 other."""
    cdef Py_ssize_t n = e - s
    if n == 1:
        if p[s] == 69: return 0
        if p[s] == 115: return 1
        if p[s] == 85: return 2
        if p[s] == 117: return 3
        if p[s] == 98: return 5
        if p[s] == 97: return 6
    elif n == 2 and p[s] == 112 and p[s + 1] == 117:
        return 4
    return -1


cdef Py_ssize_t _data(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, bint ticker, int64_t* ids, Py_ssize_t* spans) nogil:
    """The ``data`` object at ``i``. Of a diff: ``ids`` = E, U, u, pu (``NO_ID`` when absent),
    ``spans`` = the symbol's text and the ``b`` / ``a`` values' starts (-1 when absent); of a
    bookTicker (``ticker``): ``ids[0]`` = u, ``spans`` = the text spans of ``s``, ``b``, ``B``, ``a``,
    ``A`` (``spans[2k]``, ``spans[2k + 1]``). Its end, or -1 (a member missing or given twice, a
    value of another type)."""
    cdef Py_ssize_t ks, ke, f
    cdef int key, seen = 0, more = _first(p, &i, e, 123)
    while more == 1:
        i = _member(p, i, e, &ks, &ke)
        if i < 0:
            return -1
        key = _ticker_key(p, ks + 1, ke - 1) if ticker else _key(p, ks + 1, ke - 1)
        if key >= 0:
            if seen & (1 << key):
                return -1  # a member given twice
            seen |= 1 << key
        if key < 0:
            i = _value(p, i, e, 1)
        elif ticker:
            if key == 1:
                i = _integer(p, i, e, &ids[0])
            else:
                f = 0 if key == 0 else key - 1
                i = _text(p, i, e, &spans[2 * f], &spans[2 * f + 1])
        elif key == 0 or key == 2 or key == 3 or key == 4:
            i = _integer(p, i, e, &ids[0 if key == 0 else key - 1])
        elif key == 1:
            i = _text(p, i, e, &spans[0], &spans[1])
        else:  # b, a
            spans[key - 3] = i
            i = _value(p, i, e, 1)
        more = _next(p, &i, e, 125)
    if more < 0:
        return -1
    if ticker:
        return i if seen == 63 else -1  # s, u, b, B, a, A
    if not (seen & 2) or not (seen & 4) or not (seen & 8):
        return -1  # no symbol, U or u: the per-line path says what is wrong
    return i


def parse_depth(const unsigned char[::1] buf, const int64_t[::1] body, const int64_t[::1] end,
                dict symbols, Py_ssize_t capacity):
    """Parse the diff-depth payloads ``buf[body[k]:end[k]]``.

    Returns ``(ok, sym, E, U, u, pu, n_levels, levels)``: per payload int8 ``ok`` (0: left to the
    per-line path, nothing else of it is valid), the symbol's index in ``symbols`` (a dict
    ``bytes -> index`` extended in order of first appearance), the ids (int64, ``NO_ID`` absent),
    the number of its levels; ``levels`` = dict of ``side`` (int8: 1 bid, -1 ask), ``price_m``,
    ``price_f``, ``size_m``, ``size_f`` for the levels of the payloads parsed, in order. At most
    ``capacity`` levels are read (a payload beyond is left unparsed)."""
    cdef Py_ssize_t n = body.shape[0], k, i, e, lv0
    cdef const unsigned char* p = &buf[0]
    ok_a = np.zeros(n, dtype=np.int8)
    sym_a = np.full(n, -1, dtype=np.int64)
    ids_a = np.full((4, n), NO_ID, dtype=np.int64)
    count_a = np.zeros(n, dtype=np.int64)
    cdef signed char[::1] ok = ok_a
    cdef int64_t[::1] sym = sym_a, count = count_a
    cdef int64_t[:, ::1] ids_v = ids_a
    cdef int64_t ids[4]
    cdef Py_ssize_t spans[4]
    cdef Py_ssize_t last_s0 = -1, last_s1 = -1
    cdef int64_t last_sym = -1
    cdef LevelColumns out = LevelColumns(capacity)
    cdef bint good
    for k in range(n):
        i, e = body[k], end[k]
        with nogil:
            ids[0] = ids[1] = ids[2] = ids[3] = NO_ID
            spans[0] = spans[1] = spans[2] = spans[3] = -1
            good = _payload(p, i, e, False, ids, spans)
            if good and ids[0] != NO_ID and not -MAX_E_MS <= ids[0] <= MAX_E_MS:
                good = False  # E in ns would not fit int64
            lv0 = out.lv.n
            if good and spans[2] >= 0:
                good = read_levels(p, spans[2], e, 1, &out.lv, PLAIN) >= 0
            if good and spans[3] >= 0:
                good = read_levels(p, spans[3], e, -1, &out.lv, PLAIN) >= 0
            if not good:
                out.lv.n = lv0
        if not good:
            continue
        if last_sym < 0 or spans[1] - spans[0] != last_s1 - last_s0 or \
                memcmp(p + spans[0], p + last_s0, spans[1] - spans[0]) != 0:
            name = (<const char*>p)[spans[0]:spans[1]]
            last_sym = symbols.setdefault(name, len(symbols))
            last_s0, last_s1 = spans[0], spans[1]
        ok[k] = 1
        sym[k] = last_sym
        ids_v[0, k], ids_v[1, k], ids_v[2, k], ids_v[3, k] = ids[0], ids[1], ids[2], ids[3]
        count[k] = out.lv.n - lv0
    levels = out.written()
    return ok_a, sym_a, ids_a[0], ids_a[1], ids_a[2], ids_a[3], count_a, levels


cdef inline bint _depth_stream(const unsigned char* p, Py_ssize_t s, Py_ssize_t e) nogil:
    """Whether the stream name ``p[s:e]`` is a depth stream: what follows its first ``@`` begins
    ``depth`` (``nknusdt@depth@100ms``; ``cryptofeed.binance._stream_kind``)."""
    while s < e and p[s] != 64:
        s += 1
    return _word(p, s + 1, e, b"depth", 5)


cdef bint _payload(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, bint ticker, int64_t* ids, Py_ssize_t* spans) nogil:
    """The whole payload ``{"stream": "...", "data": {...}, ...}`` checked, ``data`` read: of a depth
    stream (:func:`_data`) or, ``ticker``, of a bookTicker stream (:func:`_ticker_data`, ``u`` in
    ``ids[0]``)."""
    cdef Py_ssize_t ks, ke
    cdef int more
    cdef bint has_stream = False, has_data = False
    i = _ws(p, i, e)
    more = _first(p, &i, e, 123)
    while more == 1:
        i = _member(p, i, e, &ks, &ke)
        if i < 0:
            return False
        if _is(p, ks, ke, b"stream", 6):
            if has_stream:
                return False
            has_stream = True
            i = _text(p, i, e, &ks, &ke)
            if i < 0 or not (_ticker_stream(p, ks, ke) if ticker else _depth_stream(p, ks, ke)):
                return False
        elif _is(p, ks, ke, b"data", 4):
            if has_data:
                return False
            has_data = True
            i = _data(p, i, e, ticker, ids, spans)
        else:
            i = _value(p, i, e, 1)
        more = _next(p, &i, e, 125)
    return more == 0 and has_stream and has_data and _ws(p, i, e) == e


cdef inline bint _ticker_stream(const unsigned char* p, Py_ssize_t s, Py_ssize_t e) nogil:
    """Whether the stream name ``p[s:e]`` is a bookTicker stream: exactly ``bookTicker`` after its
    first ``@`` (``btcusdt@bookTicker``; ``cryptofeed.binance._stream_kind``)."""
    while s < e and p[s] != 64:
        s += 1
    return e - s - 1 == 10 and _word(p, s + 1, e, b"bookTicker", 10)


cdef const char* TICKER_KEYS = b"subBaA"


cdef inline int _ticker_key(const unsigned char* p, Py_ssize_t s, Py_ssize_t e) nogil:
    """Which bookTicker member the key text ``p[s:e]`` names: its place in :data:`TICKER_KEYS`
    (0 s, 1 u, 2 b, 3 B, 4 a, 5 A), -1 other."""
    cdef const void* hit
    if e - s != 1 or p[s] == 0:
        return -1
    hit = memchr(TICKER_KEYS, p[s], 6)
    return <int>(<const char*>hit - TICKER_KEYS) if hit != NULL else -1


def parse_tickers(const unsigned char[::1] buf, const int64_t[::1] body, const int64_t[::1] end, dict symbols):
    """Parse the bookTicker payloads ``buf[body[k]:end[k]]`` (the same checks as :func:`parse_depth`:
    what is not taken exactly is left to the per-line path).

    Returns ``(ok, sym, u, text)``: per payload int8 ``ok``, the symbol's index in ``symbols`` (a dict
    ``bytes -> index``, extended in order of first appearance), ``u`` (int64), and ``text``: dict of
    ``b``, ``B``, ``a``, ``A`` as ``(offsets, data)`` of the parsed payloads in order — int64 offsets
    into one uint8 buffer of the strings' bytes (an Arrow large-string layout)."""
    cdef Py_ssize_t n = body.shape[0], k, i, e, f
    cdef const unsigned char* p = &buf[0] if buf.shape[0] else NULL
    ok_a = np.zeros(n, dtype=np.int8)
    sym_a = np.full(n, -1, dtype=np.int64)
    u_a = np.zeros(n, dtype=np.int64)
    spans_a = np.zeros((n, 10), dtype=np.int64)
    cdef signed char[::1] ok = ok_a
    cdef int64_t[::1] sym = sym_a, u = u_a
    cdef int64_t[:, ::1] sp = spans_a
    cdef Py_ssize_t spans[10]
    cdef int64_t uid
    cdef bint good
    for k in range(n):
        i, e = body[k], end[k]
        with nogil:
            uid = 0
            good = _payload(p, i, e, True, &uid, spans)
        if not good:
            continue
        name = (<const char*>p)[spans[0]:spans[1]]
        ok[k] = 1
        sym[k] = symbols.setdefault(name, len(symbols))
        u[k] = uid
        for f in range(10):
            sp[k, f] = spans[f]
    good_rows = np.flatnonzero(ok_a == 1)
    text = {}
    cdef Py_ssize_t m = len(good_rows), r, at, w, c
    cdef int64_t[::1] rows = good_rows.astype(np.int64)
    cdef int64_t[::1] off
    cdef unsigned char[::1] data
    for f, field in enumerate(("b", "B", "a", "A")):
        off_a = np.zeros(m + 1, dtype=np.int64)
        data_a = np.empty(int(np.sum(spans_a[good_rows, 2 * f + 3] - spans_a[good_rows, 2 * f + 2])), dtype=np.uint8)
        off, data = off_a, data_a
        at = 0
        for r in range(m):
            w = rows[r]
            for c in range(sp[w, 2 * f + 2], sp[w, 2 * f + 3]):
                data[at] = p[c]
                at += 1
            off[r + 1] = at
        text[field] = (off_a, data_a)
    return ok_a, sym_a, u_a, text
