# cython: language_level=3
# The Cython side of obrecon_pipeline/codes.py: the same codes, the same values (a test compares
# them). Modules of the core cimport from here; nothing else defines a code.

from libc.stdint cimport int64_t

cdef extern from *:
    """
    #include <stdint.h>
    #define OBRECON_NULL_CELL INT64_MIN
    #define OBRECON_UNKNOWN_CELL (INT64_MIN + 1)
    """
    const int64_t NULL_CELL "OBRECON_NULL_CELL"
    const int64_t UNKNOWN_CELL "OBRECON_UNKNOWN_CELL"
    const int64_t NULL_ID "OBRECON_NULL_CELL"

# Action
cdef enum:
    A_ADD = 1
    A_CANCEL = 2
    A_DELETE = 3
    A_EXECUTE = 4
    A_HIDDEN_EXECUTE = 5
    A_HALT = 6
    A_SET_LEVEL = 7
    A_CLEAR = 8
    A_MODIFY = 9
    A_TRADE = 10
    A_FILL = 11

# Side
cdef enum:
    SIDE_BID = 1
    SIDE_ASK = -1
    SIDE_NONE = 0

# Flag
cdef enum:
    F_END = 1
    F_SNAPSHOT = 2
    F_BAD_BOOK = 4

# IntegrityKind
cdef enum:
    I_NEGATIVE_SIZE = 1
    I_UNKNOWN_ORDER = 2
    I_DUPLICATE_ORDER = 3
    I_VENUE_BAD_BOOK = 4
    I_CHECKSUM = 5
    I_SEQUENCE_REGRESSION = 6
    I_SEQUENCE_GAP = 7

# MessageStatus
cdef enum:
    S_UNSEEN = -1
    S_APPLIED = 0
    S_REORDERED = 1
    S_STALE = 2
    S_DUPLICATE = 3
    S_UNSYNCED = 4
    S_SNAPSHOT = 5

# Link
cdef enum:
    LINK_NONE = 0
    LINK_FIRST = 1
    LINK_PREV = 2

# Resync
cdef enum:
    RESYNC_SNAPSHOT = 0
    RESYNC_CONTINUE = 1

# Checksum
cdef enum:
    CHECKSUM_NONE = 0
    CHECKSUM_KRAKEN = 1
    CHECKSUM_OKX = 2
    CHECKSUM_BITGET = 3

# CrossedKind
cdef enum:
    CROSSED_CONTINUOUS = 0
    CROSSED_PRE_OPEN = 1
