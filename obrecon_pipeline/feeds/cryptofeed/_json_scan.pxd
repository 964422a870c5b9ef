"""JSON read straight from bytes, for the capture parsers (:mod:`._binance_scan`, :mod:`._book_scan`).

Every function takes the bytes ``p``, a position ``i`` and the end ``e`` of the payload and returns
the position after what it read, or -1 when the text there is not the JSON it expects *in the
exact form the parsers take*; an object or array is walked with :func:`_first` and :func:`_next`::

    more = _first(p, &i, e, 123)  # '{'
    while more == 1:
        ...  # a member at i: i set to its end, -1 when refused
        more = _next(p, &i, e, 125)  # '}'
    # more == 0: i past the '}'; -1: refused

The JSON it takes: strings without an escape or a byte outside printable ASCII;
decimals written ``(0|[1-9]\\d*)(\\.\\d+)?`` with at most 18 digits (``"0.00002290"`` is the pair
``(mantissa, decimals)`` = ``(2290, 8)``, ``value = mantissa * 10**-decimals``, the scaling rule of
:mod:`obrecon_pipeline.feeds.decimals`); integers within int64. Anything refused is left to the
per-line path (``json.loads`` and the venue module), which decides, so a value accepted here is
the one ``json.loads`` reads.

:func:`read_levels` reads an array of levels into a :c:type:`Levels` buffer (int64 / int8 columns
owned by the caller).
"""

from libc.stdint cimport int64_t, uint64_t
from libc.string cimport memcmp


cdef enum:
    MAX_DEPTH = 64


cdef inline Py_ssize_t _ws(const unsigned char* p, Py_ssize_t i, Py_ssize_t e) nogil:
    while i < e and (p[i] == 32 or p[i] == 9 or p[i] == 10 or p[i] == 13):
        i += 1
    return i


cdef inline Py_ssize_t _string(const unsigned char* p, Py_ssize_t i, Py_ssize_t e) nogil:
    """End (after the closing quote) of the string opening at ``i``; -1 for an escape, a control
    or non-ASCII byte, or no closing quote."""
    if i >= e or p[i] != 34:
        return -1
    i += 1
    while i < e:
        if p[i] == 34:
            return i + 1
        if p[i] == 92 or p[i] < 32 or p[i] >= 128:
            return -1
        i += 1
    return -1


cdef inline Py_ssize_t _colon(const unsigned char* p, Py_ssize_t i, Py_ssize_t e) nogil:
    """Start of a member's value after its key ends at ``i`` (``ws : ws``), -1 without the colon."""
    i = _ws(p, i, e)
    if i >= e or p[i] != 58:
        return -1
    return _ws(p, i + 1, e)


cdef inline bint _is(const unsigned char* p, Py_ssize_t ks, Py_ssize_t ke, const char* w, Py_ssize_t n) nogil:
    """Whether the string ``p[ks:ke]`` (quotes included) is ``"w"``."""
    return ke - ks == n + 2 and memcmp(p + ks + 1, w, n) == 0


cdef inline Py_ssize_t _text(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, Py_ssize_t* s0, Py_ssize_t* s1) nogil:
    """End of the string at ``i``, its text (no quotes) at ``[s0, s1)``; -1 if none."""
    cdef Py_ssize_t end = _string(p, i, e)
    if end >= 0:
        s0[0] = i + 1
        s1[0] = end - 1
    return end


cdef inline Py_ssize_t _member(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, Py_ssize_t* ks,
                               Py_ssize_t* ke) nogil:
    """A member's key opening at ``i``: its span ``[ks, ke)`` quotes included; returns the start of
    its value (:func:`_colon`), -1 for a key that is not a plain string or no colon."""
    ks[0] = i
    i = _string(p, i, e)
    if i < 0:
        return -1
    ke[0] = i
    return _colon(p, i, e)


cdef inline int _first(const unsigned char* p, Py_ssize_t* at, Py_ssize_t e, unsigned char open) nogil:
    """The object or array (``open``: ``{`` or ``[``) opening at ``at[0]``: 1 with ``at`` on its
    first member or item, 0 when it is empty (``at`` past it), -1 when ``open`` is not there."""
    cdef Py_ssize_t i = at[0]
    if i >= e or p[i] != open:
        return -1
    i = _ws(p, i + 1, e)
    if i < e and p[i] == open + 2:  # '}' / ']'
        at[0] = i + 1
        return 0
    at[0] = i
    return 1


cdef inline int _next(const unsigned char* p, Py_ssize_t* at, Py_ssize_t e, unsigned char close) nogil:
    """After a member or item ending at ``at[0]``: 1 for a comma (``at`` on the next one), 0 for
    ``close`` (``at`` past it), -1 for anything else or a member refused (``at[0]`` -1)."""
    cdef Py_ssize_t i
    if at[0] < 0:
        return -1
    i = _ws(p, at[0], e)
    if i < e and p[i] == 44:
        at[0] = _ws(p, i + 1, e)
        return 1
    if i < e and p[i] == close:
        at[0] = i + 1
        return 0
    return -1


cdef inline Py_ssize_t _digits(const unsigned char* p, Py_ssize_t i, Py_ssize_t e) nogil:
    """End of the run of one or more digits at ``i``, -1 if there is none."""
    cdef Py_ssize_t q = i
    while i < e and 48 <= p[i] <= 57:
        i += 1
    return i if i > q else -1


cdef inline Py_ssize_t _number(const unsigned char* p, Py_ssize_t i, Py_ssize_t e) nogil:
    """End of the JSON number at ``i`` (``-?(0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?``), -1 if none."""
    if i < e and p[i] == 45:
        i += 1
    if i >= e or not (48 <= p[i] <= 57):
        return -1
    if p[i] == 48:
        i += 1
    else:
        while i < e and 48 <= p[i] <= 57:
            i += 1
    if i < e and p[i] == 46:
        i = _digits(p, i + 1, e)
        if i < 0:
            return -1
    if i < e and (p[i] == 101 or p[i] == 69):
        i += 1
        if i < e and (p[i] == 43 or p[i] == 45):
            i += 1
        i = _digits(p, i, e)
    return i


cdef inline bint _word(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, const char* w, Py_ssize_t n) nogil:
    cdef Py_ssize_t k
    if e - i < n:
        return False
    for k in range(n):
        if p[i + k] != <unsigned char>w[k]:
            return False
    return True


cdef inline Py_ssize_t _value(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, int depth) nogil:
    """End of the JSON value at ``i`` (checked, not kept); -1 when it is not one we accept (nested
    deeper than ``MAX_DEPTH``)."""
    cdef unsigned char c
    cdef int more
    cdef Py_ssize_t ks, ke
    if depth > MAX_DEPTH or i >= e:
        return -1
    c = p[i]
    if c == 34:
        return _string(p, i, e)
    if c == 123 or c == 91:
        more = _first(p, &i, e, c)
        while more == 1:
            if c == 123:
                i = _member(p, i, e, &ks, &ke)
                if i < 0:
                    return -1
            i = _value(p, i, e, depth + 1)
            more = _next(p, &i, e, c + 2)
        return i if more == 0 else -1
    if c == 116:
        return i + 4 if _word(p, i, e, b"true", 4) else -1
    if c == 102:
        return i + 5 if _word(p, i, e, b"false", 5) else -1
    if c == 110:
        return i + 4 if _word(p, i, e, b"null", 4) else -1
    return _number(p, i, e)


cdef inline Py_ssize_t _integer(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, int64_t* out) nogil:
    """End of an integer literal in int64 (``-2**63`` excluded: the null id) at ``i``, its value in
    ``out``; -1 for anything else (a fraction, an exponent, out of range)."""
    cdef Py_ssize_t end = _number(p, i, e), k
    cdef bint neg = p[i] == 45 if i < e else False
    cdef uint64_t v = 0
    if end < 0:
        return -1
    k = i + 1 if neg else i
    while k < end:
        if not (48 <= p[k] <= 57):
            return -1
        if v > 922337203685477580ULL:
            return -1
        v = v * 10 + (p[k] - 48)
        if v > 9223372036854775807ULL:
            return -1
        k += 1
    out[0] = -<int64_t>v if neg else <int64_t>v
    return end


cdef inline Py_ssize_t _accumulate(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, int64_t* v, int* digits) nogil:
    """Append the run of digits at ``i`` to ``v`` (``digits`` counting all so far): the run's end;
    -1 for no digit or beyond 18 digits in all (``v`` then would not be exact in int64)."""
    cdef Py_ssize_t q = i
    while i < e and 48 <= p[i] <= 57:
        v[0] = v[0] * 10 + (p[i] - 48)
        digits[0] += 1
        i += 1
        if digits[0] > 18:
            return -1
    return i if i > q else -1


cdef inline Py_ssize_t _decimal(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, int64_t* m, signed char* f) nogil:
    """End of a string ``"(0|[1-9]\\d*)(\\.\\d+)?"`` of at most 18 digits at ``i``: its mantissa and
    decimals in ``m`` / ``f``; -1 for any other string or value."""
    cdef int64_t v = 0
    cdef int digits = 0, whole
    if i >= e or p[i] != 34:
        return -1
    i += 1
    if i < e and p[i] == 48 and i + 1 < e and 48 <= p[i + 1] <= 57:
        return -1  # a leading zero: not canonical
    i = _accumulate(p, i, e, &v, &digits)
    whole = digits
    if i >= 0 and i < e and p[i] == 46:
        i = _accumulate(p, i + 1, e, &v, &digits)
    if i < 0 or i >= e or p[i] != 34:
        return -1
    m[0] = v
    f[0] = digits - whole
    return i + 1


cdef struct Levels:
    # a growing run of parsed levels: row k is side[k], price_m[k] / price_f[k], size_m[k] / size_f[k]
    signed char* side
    int64_t* price_m
    signed char* price_f
    int64_t* size_m
    signed char* size_f
    Py_ssize_t n
    Py_ssize_t cap


cdef enum:
    PLAIN = 0  # a level is [price, size, further values checked and not kept]
    SIDED = 1  # a level is ["buy" | "sell", price, size] (exactly three members)


cdef inline Py_ssize_t _side(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, signed char* side) nogil:
    """End of the string ``"buy"`` (``side`` 1) or ``"sell"`` (``side`` -1) at ``i``; -1 for any other value."""
    if _word(p, i, e, b'"buy"', 5):
        side[0] = 1
        return i + 5
    if _word(p, i, e, b'"sell"', 6):
        side[0] = -1
        return i + 6
    return -1


cdef inline Py_ssize_t read_levels(const unsigned char* p, Py_ssize_t i, Py_ssize_t e, signed char side,
                                   Levels* out, int layout) nogil:
    """The levels array at ``i`` appended to ``out``: every level (``PLAIN``, each of side ``side``),
    or (``SIDED``) the levels whose side member is ``side`` (1 ``"buy"``, -1 ``"sell"``; the others
    checked, not kept). Its end, or -1 (``out.n`` then is not to be kept)."""
    cdef int64_t m
    cdef signed char f, s
    cdef Py_ssize_t k
    cdef int more = _first(p, &i, e, 91)
    while more == 1:
        if out.n >= out.cap or _first(p, &i, e, 91) != 1:
            return -1  # full, or not a level of one member or more
        k = out.n
        s = side
        if layout == SIDED:
            i = _side(p, i, e, &s)
            if _next(p, &i, e, 93) != 1:
                return -1
        i = _decimal(p, i, e, &m, &f)
        if _next(p, &i, e, 93) != 1:
            return -1
        out.price_m[k] = m
        out.price_f[k] = f
        i = _decimal(p, i, e, &m, &f)
        more = _next(p, &i, e, 93)
        while layout == PLAIN and more == 1:  # a level's further members: checked, not kept
            i = _value(p, i, e, 1)
            more = _next(p, &i, e, 93)
        if more != 0:
            return -1  # a refused size or member; SIDED: more than three members
        out.size_m[k] = m
        out.size_f[k] = f
        out.side[k] = s
        if s == side:
            out.n = k + 1
        more = _next(p, &i, e, 93)
    return i if more == 0 else -1
