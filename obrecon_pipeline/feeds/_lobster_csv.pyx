# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""LOBSTER's header-less integer CSVs parsed straight into int64 columns (no Python object per row).

Both parsers read a span ``buf[pos:end]`` of complete lines (the caller guarantees that
``buf[end - 1]`` is ``\\n``, so no digit loop can run past the span) and write up to ``capacity``
rows into contiguous NumPy columns, without the GIL. They stop at the first row they cannot take
and leave a code for it (:data:`E_FIELDS`, ...) with the row's byte span, from which
:mod:`obrecon_pipeline.feeds.lobster` writes the located error: the fast path carries no error
text and never looks back.

Message row: ``time,type,order_id,size,price,direction[,participant]`` (7 fields when the file's
first row has 7). ``time`` is decimal seconds after midnight, read from its digits exactly into
int64 nanoseconds; digits beyond the ninth decimal (float noise in published sample files) are
rounded half to even on the decimal text and counted. Orderbook row: ``ask_price, ask_size,
bid_price, bid_size`` per level, written as the replayer's cells ``bid_px, bid_sz, ask_px, ask_sz``
with LOBSTER's empty-level prices (``empty_ask`` / ``empty_bid``) turned into ``NULL_CELL``.
"""

from libc.stdint cimport int8_t, int64_t, uint8_t, uint64_t

from obrecon_pipeline.codes cimport NULL_CELL

# why a row was refused (the Python side turns a code and the row's text into the message)
cdef enum:
    OK = 0
    E_FIELDS = 1           # wrong number of comma-separated fields
    E_NOT_INT = 2          # field is not an integer
    E_INT_RANGE = 3        # integer beyond int64
    E_TIME = 4             # time is not decimal seconds
    E_TIME_BEYOND_DAY = 5  # time >= 86400 s
    E_TYPE = 6             # unknown message type
    E_ORDER_NEGATIVE = 7
    E_ORDER_RANGE = 8      # order id beyond 2**64 - 1
    E_SIZE_NEGATIVE = 9
    E_PRICE_NONPOSITIVE = 10
    E_PRICE_SENTINEL = 11  # book message price at/above the empty-ask sentinel
    E_DIRECTION = 12
    E_PARTICIPANT = 13     # participant id is neither null nor 1-8 letters/digits

ERROR_CODES = {
    "fields": E_FIELDS, "not_int": E_NOT_INT, "int_range": E_INT_RANGE, "time": E_TIME,
    "time_beyond_day": E_TIME_BEYOND_DAY, "type": E_TYPE, "order_negative": E_ORDER_NEGATIVE,
    "order_range": E_ORDER_RANGE, "size_negative": E_SIZE_NEGATIVE,
    "price_nonpositive": E_PRICE_NONPOSITIVE, "price_sentinel": E_PRICE_SENTINEL,
    "direction": E_DIRECTION, "participant": E_PARTICIPANT,
}

cdef extern from *:
    """
    #define LOBSTER_NS_PER_S 1000000000LL
    #define LOBSTER_DAY_NS (86400LL * 1000000000LL)
    #define LOBSTER_PART_BYTES 8
    """
    const int64_t NS_PER_S "LOBSTER_NS_PER_S"
    const int64_t DAY_NS "LOBSTER_DAY_NS"
    const int PART_BYTES "LOBSTER_PART_BYTES"

#: bytes kept per participant id (LOBSTER's MPIDs have 4)
PARTICIPANT_BYTES = PART_BYTES

cdef extern from *:
    """
    #include <string.h>
    /* Up to 7 ASCII digits at p[i:] read 8 bytes at a time (SWAR, as in simdjson's
       parse_eight_digits_unrolled): the digit count, with the value in *out; 8 when there are 8
       or more digits or fewer than 8 readable bytes (the caller then reads digit by digit). */
    static inline int lobster_digits8(const unsigned char* p, Py_ssize_t i, Py_ssize_t safe, uint64_t* out) {
        uint64_t c, nd, x;
        int n;
        if (i + 8 > safe) return 8;
        memcpy(&c, p + i, 8);
        nd = ((c & 0xF0F0F0F0F0F0F0F0ULL) ^ 0x3030303030303030ULL)
           | (((c + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) ^ 0x3030303030303030ULL);
        if (nd == 0) return 8;
        n = __builtin_ctzll(nd) >> 3;
        if (n == 0) { *out = 0; return 0; }
        x = c << (8 * (8 - n));  /* the digits in the high bytes, zero bytes as leading zeros */
        x = ((x & 0x0F0F0F0F0F0F0F0FULL) * 2561) >> 8;
        x = ((x & 0x00FF00FF00FF00FFULL) * 6553601) >> 16;
        *out = ((x & 0x0000FFFF0000FFFFULL) * 42949672960001ULL) >> 32;
        return n;
    }
    """
    int digits8 "lobster_digits8"(const unsigned char* p, Py_ssize_t i, Py_ssize_t safe, uint64_t* out) noexcept nogil


cdef inline bint is_digit(unsigned char c) noexcept nogil:
    return <unsigned char>(c - 48) < 10


cdef inline Py_ssize_t read_u64(const unsigned char* p, Py_ssize_t i, Py_ssize_t safe, uint64_t* out, int* status) noexcept nogil:
    """Digits at ``p[i:]`` -> ``out``; status OK, E_NOT_INT (no digit) or E_INT_RANGE (> 2**64 - 1).
    ``p[:safe]`` is readable."""
    cdef uint64_t v = 0
    cdef Py_ssize_t start = i
    cdef unsigned char d
    cdef int n = digits8(p, i, safe, out)
    if n < 8:
        status[0] = OK if n else E_NOT_INT
        return i + n
    while True:
        d = p[i] - 48
        if d > 9:
            break
        if i - start >= 19 and (v > 1844674407370955161ULL or (v == 1844674407370955161ULL and d > 5)):
            status[0] = E_INT_RANGE
            return i
        v = v * 10 + d
        i += 1
    status[0] = OK if i > start else E_NOT_INT
    out[0] = v
    return i


cdef inline Py_ssize_t read_i64(const unsigned char* p, Py_ssize_t i, Py_ssize_t safe, int64_t* out, int* status) noexcept nogil:
    """An optionally negative int64 at ``p[i:]``."""
    cdef bint negative = p[i] == 45  # '-'
    cdef uint64_t v
    if negative:
        i += 1
    i = read_u64(p, i, safe, &v, status)
    if status[0] == OK:
        if v > (9223372036854775808ULL if negative else 9223372036854775807ULL):
            status[0] = E_INT_RANGE
        elif negative:
            out[0] = -(<int64_t>(v - 1)) - 1
        else:
            out[0] = <int64_t>v
    return i


cdef inline Py_ssize_t field_end(const unsigned char* p, Py_ssize_t i, Py_ssize_t end) noexcept nogil:
    """Index of the ``,``/``\\r``/``\\n`` that ends the field at ``i``."""
    while i < end and p[i] != 44 and p[i] != 10 and p[i] != 13:
        i += 1
    return i


cdef inline bint at_line_end(const unsigned char* p, Py_ssize_t i) noexcept nogil:
    return p[i] == 10 or (p[i] == 13 and p[i + 1] == 10)


cdef inline Py_ssize_t skip_line_end(const unsigned char* p, Py_ssize_t i) noexcept nogil:
    return i + 2 if p[i] == 13 else i + 1


cdef inline Py_ssize_t read_cell(const unsigned char* p, Py_ssize_t i, Py_ssize_t safe, int64_t* out, int* status, bint last) noexcept nogil:
    """An int64 field and its separator: ``,`` (returns the index after it) or, for the last field
    of a row, the line end (returns its index)."""
    i = read_i64(p, i, safe, out, status)
    if status[0] == OK:
        if last:
            if not at_line_end(p, i):
                status[0] = E_NOT_INT
        elif p[i] == 44:
            i += 1
        else:
            status[0] = E_NOT_INT
    return i


cdef Py_ssize_t line_end(const unsigned char* p, Py_ssize_t i, Py_ssize_t end) noexcept nogil:
    while i < end and p[i] != 10:
        i += 1
    return i


cdef Py_ssize_t count_fields(const unsigned char* p, Py_ssize_t i, Py_ssize_t end) noexcept nogil:
    cdef Py_ssize_t n = 1
    while i < end and p[i] != 10:
        if p[i] == 44:
            n += 1
        i += 1
    return n


cdef class RowParser:
    """What both parsers share: the file's field count, the rows parsed before the current call,
    and the refused row (``error`` code, 0-based ``error_field``, its byte span)."""

    cdef public int fields
    cdef public int64_t rows_done
    cdef public int error, error_field
    cdef public Py_ssize_t error_start, error_end, error_fields_found

    cdef Py_ssize_t refuse(self, const unsigned char* p, Py_ssize_t start, Py_ssize_t end, int code, int field) noexcept nogil:
        """Record the refused row starting at ``start`` (a wrong field count wins over the field's
        own reason); the position to stop at (the row's start)."""
        self.error_start = start
        self.error_end = line_end(p, start, end)
        self.error_fields_found = count_fields(p, start, end)
        self.error = E_FIELDS if self.error_fields_found != self.fields else code
        self.error_field = field
        return start


cdef class MessageParser(RowParser):
    """Message rows -> ``ts_event`` (epoch ns), ``action``, ``side``, ``price``, ``size``,
    ``order_id`` (uint64) and, in 7-field files, the participant id (``PARTICIPANT_BYTES`` per
    row, length 0 = null). Counters and the previous time run across calls (resumable through
    :meth:`get_state` / :meth:`set_state`)."""

    cdef public int64_t midnight_ns
    cdef int8_t[8] action_of_type  # 0: unknown type
    cdef uint8_t[8] book_type
    cdef int64_t empty_ask
    # running state
    cdef public int64_t prev_time, time_regressions, times_rounded
    cdef public int64_t first_regression_row, first_regression_prev, first_regression_time
    def __init__(self, int64_t midnight_ns, action_of_type, book_types, int64_t empty_ask):
        self.midnight_ns = midnight_ns
        self.fields = 0
        for k in range(8):
            self.action_of_type[k] = action_of_type[k]
            self.book_type[k] = 1 if k in book_types else 0
        self.empty_ask = empty_ask
        self.rows_done = 0
        self.prev_time = -1
        self.time_regressions = 0
        self.times_rounded = 0
        self.first_regression_row = 0
        self.first_regression_prev = 0
        self.first_regression_time = 0
        self.error = OK

    def get_state(self) -> dict:
        return {name: int(getattr(self, name)) for name in (
            "fields", "rows_done", "prev_time", "time_regressions", "times_rounded",
            "first_regression_row", "first_regression_prev", "first_regression_time")}

    def set_state(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    def detect_fields(self, const unsigned char[::1] buf, Py_ssize_t pos, Py_ssize_t end) -> int:
        """The file's field count from its first row: 7 when it has 7 (participant ids), else 6."""
        self.fields = 7 if count_fields(&buf[0], pos, end) == 7 else 6
        return self.fields

    def parse(self, const unsigned char[::1] buf, Py_ssize_t pos, Py_ssize_t end,
              int64_t[::1] ts, int8_t[::1] action, int8_t[::1] side, int64_t[::1] price,
              int64_t[::1] size, uint64_t[::1] order_id, uint8_t[:, ::1] participant,
              uint8_t[::1] participant_len, Py_ssize_t fill, Py_ssize_t capacity):
        """Parse rows of ``buf[pos:end]`` into the columns from row ``fill`` until ``capacity``
        rows are there, the span ends, or a row is refused (``self.error``);
        ``(new pos, new fill)``."""
        cdef const unsigned char* p = &buf[0]
        cdef Py_ssize_t safe = buf.shape[0]
        cdef Py_ssize_t i = pos, start = pos, j, k
        cdef int st = OK, code = OK, fld = 0
        cdef uint64_t sec, frac, digit = 0, oid
        cdef int64_t t, typ, sz, px, direction
        cdef int ndec
        cdef bint rest_nonzero
        cdef int fields
        if self.fields == 0 and pos < end:
            self.detect_fields(buf, pos, end)
        fields = self.fields
        with nogil:
            while fill < capacity and i < end:
                start = i
                # time: seconds '.' decimals
                fld = 0
                i = read_u64(p, i, safe, &sec, &st)
                if st != OK:
                    code = E_TIME if st == E_NOT_INT else E_TIME_BEYOND_DAY
                    break
                frac = 0
                ndec = 0
                rest_nonzero = False
                if p[i] == 46:  # '.'
                    i += 1
                    while is_digit(p[i]):
                        if ndec < 9:
                            frac = frac * 10 + (p[i] - 48)
                        elif ndec == 9:
                            digit = p[i] - 48
                        elif p[i] != 48:
                            rest_nonzero = True
                        ndec += 1
                        i += 1
                    if ndec == 0:
                        code = E_TIME
                        break
                    for k in range(ndec, 9):
                        frac *= 10
                if p[i] != 44:
                    code = E_TIME
                    break
                if sec >= 86400:
                    code = E_TIME_BEYOND_DAY
                    break
                if ndec > 9:
                    # half to even on the decimal text: the tenth decimal, then whether any follows
                    if digit != 0 or rest_nonzero:
                        self.times_rounded += 1
                    if digit > 5 or (digit == 5 and (rest_nonzero or frac & 1)):
                        frac += 1
                t = <int64_t>sec * NS_PER_S + <int64_t>frac
                if t >= DAY_NS:
                    code = E_TIME_BEYOND_DAY
                    break
                i += 1
                # type
                fld = 1
                i = read_cell(p, i, safe, &typ, &st, False)
                if st != OK:
                    code = st
                    break
                if typ < 1 or typ > 7 or self.action_of_type[typ] == 0:
                    code = E_TYPE
                    break
                # order id (uint64)
                fld = 2
                if p[i] == 45:
                    code = E_ORDER_NEGATIVE
                    break
                i = read_u64(p, i, safe, &oid, &st)
                if st != OK or p[i] != 44:
                    code = E_ORDER_RANGE if st == E_INT_RANGE else E_NOT_INT
                    break
                i += 1
                # size
                fld = 3
                i = read_cell(p, i, safe, &sz, &st, False)
                if st != OK:
                    code = st
                    break
                if sz < 0:
                    code = E_SIZE_NEGATIVE
                    break
                # price
                fld = 4
                i = read_cell(p, i, safe, &px, &st, False)
                if st != OK:
                    code = st
                    break
                if self.book_type[typ]:
                    if px <= 0:
                        code = E_PRICE_NONPOSITIVE
                        break
                    if px >= self.empty_ask:
                        code = E_PRICE_SENTINEL
                        break
                # direction
                fld = 5
                i = read_i64(p, i, safe, &direction, &st)
                if st != OK:
                    code = st
                    break
                if fields == 7:
                    if p[i] != 44:
                        code = E_FIELDS if at_line_end(p, i) else E_NOT_INT
                        break
                    if direction != 1 and direction != -1:
                        code = E_DIRECTION
                        break
                    i += 1
                    fld = 6
                    j = field_end(p, i, end)
                    if not at_line_end(p, j):
                        code = E_FIELDS if p[j] == 44 else E_PARTICIPANT
                        break
                    if j - i == 4 and p[i] == 110 and p[i + 1] == 117 and p[i + 2] == 108 and p[i + 3] == 108:
                        participant_len[fill] = 0  # "null"
                    elif 0 < j - i <= PART_BYTES:
                        for k in range(j - i):
                            if not (is_digit(p[i + k]) or (65 <= p[i + k] <= 90) or (97 <= p[i + k] <= 122)):
                                code = E_PARTICIPANT
                                break
                            participant[fill, k] = p[i + k]
                        if code != OK:
                            break
                        participant_len[fill] = <uint8_t>(j - i)
                    else:
                        code = E_PARTICIPANT
                        break
                    i = j
                elif not at_line_end(p, i):
                    code = E_FIELDS if p[i] == 44 else E_NOT_INT
                    break
                elif direction != 1 and direction != -1:
                    code = E_DIRECTION
                    break
                i = skip_line_end(p, i)
                # the row is good
                if t < self.prev_time:
                    if self.time_regressions == 0:
                        self.first_regression_row = self.rows_done + fill + 1
                        self.first_regression_prev = self.prev_time
                        self.first_regression_time = t
                    self.time_regressions += 1
                self.prev_time = t
                ts[fill] = self.midnight_ns + t
                action[fill] = self.action_of_type[typ]
                side[fill] = <int8_t>direction
                price[fill] = px
                size[fill] = sz
                order_id[fill] = oid
                fill += 1
            if code != OK:
                i = self.refuse(p, start, end, code, fld)
        return i, fill


cdef class OrderbookParser(RowParser):
    """Orderbook rows (``4 * levels`` integers) -> ``int64[rows, 4 * levels]`` cells."""

    cdef public int levels
    cdef int64_t empty_ask, empty_bid

    def __init__(self, int levels, int64_t empty_ask, int64_t empty_bid):
        self.levels = levels
        self.fields = 4 * levels
        self.empty_ask = empty_ask
        self.empty_bid = empty_bid
        self.rows_done = 0
        self.error = OK

    def parse(self, const unsigned char[::1] buf, Py_ssize_t pos, Py_ssize_t end,
              int64_t[:, ::1] cells, Py_ssize_t fill, Py_ssize_t capacity):
        """Like :meth:`MessageParser.parse`, into ``cells``; ``(new pos, new fill)``."""
        cdef const unsigned char* p = &buf[0]
        cdef Py_ssize_t safe = buf.shape[0]
        cdef Py_ssize_t i = pos, start = pos
        cdef int st = OK, code = OK, fld = 0, level
        cdef int64_t ask_px, ask_sz, bid_px, bid_sz
        cdef int64_t* row
        cdef int levels = self.levels
        cdef int64_t empty_ask = self.empty_ask, empty_bid = self.empty_bid
        with nogil:
            while fill < capacity and i < end:
                start = i
                row = &cells[fill, 0]
                for level in range(levels):
                    fld = 4 * level
                    i = read_cell(p, i, safe, &ask_px, &st, False)
                    if st != OK:
                        break
                    fld += 1
                    i = read_cell(p, i, safe, &ask_sz, &st, False)
                    if st != OK:
                        break
                    fld += 1
                    i = read_cell(p, i, safe, &bid_px, &st, False)
                    if st != OK:
                        break
                    fld += 1
                    i = read_cell(p, i, safe, &bid_sz, &st, level + 1 == levels)
                    if st != OK:
                        break
                    if bid_px == empty_bid:
                        row[0] = NULL_CELL
                        row[1] = NULL_CELL
                    else:
                        row[0] = bid_px
                        row[1] = bid_sz
                    if ask_px == empty_ask:
                        row[2] = NULL_CELL
                        row[3] = NULL_CELL
                    else:
                        row[2] = ask_px
                        row[3] = ask_sz
                    row += 4
                if st != OK:
                    code = st
                    break
                i = skip_line_end(p, i)
                fill += 1
            if code != OK:
                i = self.refuse(p, start, end, code, fld)
        return i, fill
