# cython: boundscheck=False, wraparound=False, cdivision=True
"""One pass over the bytes of a capture: line boundaries, received-message times and JSON payload
spans, and the ``stream`` channel of combined-stream messages — no ``json.loads``.

Two line layouts: cryptofeed's (``CRYPTOFEED``, :mod:`.capture`: ``<seconds>[.<fraction>]: <json>``)
and hftbacktest's collector's (``HFTBACKTEST``, :mod:`obrecon_pipeline.feeds.hftbacktest`:
``<ns> <json>``). For each line of a block of whole lines this finds:

* ``kind``: ``BLANK`` (cryptofeed: only ASCII whitespace, the recorder's trailing blank lines,
  skipped as :func:`.capture._parsed` skips them; hftbacktest: an empty line), ``RECV`` (a received
  message in the layout, its time exact in int64 ns) or ``OTHER`` (any other line, and a received
  line whose time does not fit: read by the layout's per-line reader, which decides);
* ``ts``: the receive time in ns: cryptofeed ``int(whole) * 10**9 + fraction digits`` (beyond 9
  truncated: :func:`.capture.seconds_to_ns`), hftbacktest the integer itself;
* ``body`` / ``end``: the payload's span (the line without its trailing ``\\r``/``\\n``);
* ``chan`` / ``chan_end``: the span of the ``stream`` value when the payload begins
  ``{"stream":"`` and the value has no escape (-1 otherwise): the symbol and channel of a Binance
  combined-stream message (``nknusdt@depth@100ms``).
"""

import numpy as np

from libc.stdint cimport int64_t, uint64_t
from libc.string cimport memchr, memcmp


cdef enum:
    _BLANK = 0
    _RECV = 1
    _OTHER = 2

BLANK, RECV, OTHER = _BLANK, _RECV, _OTHER

cdef enum:
    _CRYPTOFEED = 0
    _HFTBACKTEST = 1

CRYPTOFEED, HFTBACKTEST = _CRYPTOFEED, _HFTBACKTEST

cdef const char* STREAM_KEY = b'{"stream":"'
cdef uint64_t MAX_NS = 9223372036854775807ULL


cdef inline bint _space(unsigned char c) nogil:
    # bytes.strip()'s whitespace
    return c == 32 or c == 9 or c == 10 or c == 13 or c == 11 or c == 12


cdef inline void _channel(const unsigned char* p, Py_ssize_t j, Py_ssize_t e, int64_t* chan, int64_t* chan_end) noexcept nogil:
    # the span of the "stream" value of a payload p[j:e] that begins {"stream":" (no escape in it)
    cdef Py_ssize_t q
    if e - j > 11 and memcmp(p + j, STREAM_KEY, 11) == 0:
        q = j + 11
        while q < e and p[q] != 34 and p[q] != 92:
            q += 1
        if q < e and p[q] == 34:
            chan[0] = j + 11
            chan_end[0] = q


def count_lines(const unsigned char[::1] buf):
    """Lines in ``buf`` (a final line without its newline counts)."""
    cdef Py_ssize_t n = buf.shape[0], i = 0, lines = 0
    cdef const unsigned char* p = &buf[0] if n else NULL
    cdef const void* hit
    while i < n:
        hit = memchr(p + i, 10, n - i)
        lines += 1
        if hit == NULL:
            break
        i = <const unsigned char*>hit - p + 1
    return lines


def scan_lines(const unsigned char[::1] buf, int layout=_CRYPTOFEED):
    """``dict`` of int64 arrays ``start``, ``end``, ``body``, ``ts``, ``chan``, ``chan_end`` and int8
    ``kind``, one item per line of ``buf`` in ``layout`` (see the module docstring); ``start`` is
    the line's offset in ``buf``, ``end`` the end of its text without the trailing ``\\r``/``\\n``."""
    cdef Py_ssize_t n = buf.shape[0]
    cdef Py_ssize_t lines = count_lines(buf)
    start_a = np.empty(lines, dtype=np.int64)
    end_a = np.empty(lines, dtype=np.int64)
    body_a = np.full(lines, -1, dtype=np.int64)
    ts_a = np.zeros(lines, dtype=np.int64)
    chan_a = np.full(lines, -1, dtype=np.int64)
    chan_end_a = np.full(lines, -1, dtype=np.int64)
    kind_a = np.empty(lines, dtype=np.int8)
    cdef int64_t[::1] start = start_a, end = end_a, body = body_a, ts = ts_a, chan = chan_a, chan_end = chan_end_a
    cdef signed char[::1] kind = kind_a
    cdef const unsigned char* p = &buf[0] if n else NULL
    cdef Py_ssize_t i = 0, k = 0, s, e, j, q, nl
    cdef const void* hit
    cdef uint64_t whole, frac, scale
    cdef int digits
    cdef bint blank, ok
    with nogil:
        while k < lines:
            s = i
            hit = memchr(p + i, 10, n - i)
            nl = (<const unsigned char*>hit - p) if hit != NULL else n
            i = nl + 1
            e = nl
            while e > s and p[e - 1] == 13:  # rstrip("\r\n"): the newline is already off
                e -= 1
            start[k] = s
            end[k] = e
            if layout == _CRYPTOFEED:
                blank = True
                for j in range(s, nl):
                    if not _space(p[j]):
                        blank = False
                        break
            else:
                blank = e == s
            if blank:
                kind[k] = _BLANK
                k += 1
                continue
            kind[k] = _OTHER
            if layout == _HFTBACKTEST:  # <digits>" ", the digits an int64 of ns
                j, whole, ok = s, 0, True
                while j < e and 48 <= p[j] <= 57:
                    if whole > (MAX_NS - (p[j] - 48)) // 10:
                        ok = False
                        break
                    whole = whole * 10 + (p[j] - 48)
                    j += 1
                if not ok or j == s or j >= e or p[j] != 32:
                    k += 1
                    continue
                kind[k] = _RECV
                ts[k] = <int64_t>whole
                j += 1
                body[k] = j
                _channel(p, j, e, &chan[k], &chan_end[k])
                k += 1
                continue
            # <digits>[.<digits>]": "
            j, whole, digits, ok = s, 0, 0, True
            while j < e and 48 <= p[j] <= 57:
                if whole > 9223372036ULL:
                    ok = False
                whole = whole * 10 + (p[j] - 48) if ok else whole
                digits += 1
                j += 1
            if digits == 0 or not ok or whole > 9223372036ULL:
                k += 1
                continue
            frac, scale = 0, 100000000
            if j < e and p[j] == 46:
                j += 1
                q = j
                while j < e and 48 <= p[j] <= 57:
                    if j - q < 9:
                        frac += (p[j] - 48) * scale
                        scale //= 10
                    j += 1
                if j == q:
                    k += 1
                    continue
            if j + 2 > e or p[j] != 58 or p[j + 1] != 32:
                k += 1
                continue
            if whole * 1000000000ULL + frac > MAX_NS:
                k += 1
                continue
            kind[k] = _RECV
            ts[k] = <int64_t>(whole * 1000000000ULL + frac)
            body[k] = j + 2
            _channel(p, j + 2, e, &chan[k], &chan_end[k])
            k += 1
    return {"start": start_a, "end": end_a, "body": body_a, "ts": ts_a, "chan": chan_a, "chan_end": chan_end_a,
            "kind": kind_a}
