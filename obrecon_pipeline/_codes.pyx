# cython: language_level=3
"""The values of :file:`codes.pxd` as Python dicts, so a test can hold them against
:mod:`obrecon_pipeline.codes` (the module exists for that comparison only)."""

from obrecon_pipeline.codes cimport *

PXD = {
    "Action": {"ADD": A_ADD, "CANCEL": A_CANCEL, "DELETE": A_DELETE, "EXECUTE": A_EXECUTE,
               "HIDDEN_EXECUTE": A_HIDDEN_EXECUTE, "HALT": A_HALT, "SET_LEVEL": A_SET_LEVEL,
               "CLEAR": A_CLEAR, "MODIFY": A_MODIFY, "TRADE": A_TRADE, "FILL": A_FILL},
    "Side": {"BID": SIDE_BID, "ASK": SIDE_ASK, "NONE": SIDE_NONE},
    "Flag": {"END_OF_MESSAGE": F_END, "SNAPSHOT": F_SNAPSHOT, "BAD_BOOK": F_BAD_BOOK},
    "IntegrityKind": {"NEGATIVE_SIZE": I_NEGATIVE_SIZE, "UNKNOWN_ORDER_ID": I_UNKNOWN_ORDER,
                      "DUPLICATE_ORDER_ID": I_DUPLICATE_ORDER, "VENUE_BAD_BOOK": I_VENUE_BAD_BOOK,
                      "CHECKSUM_MISMATCH": I_CHECKSUM, "SEQUENCE_REGRESSION": I_SEQUENCE_REGRESSION,
                      "SEQUENCE_GAP": I_SEQUENCE_GAP},
    "MessageStatus": {"UNSEEN": S_UNSEEN, "APPLIED": S_APPLIED, "REORDERED": S_REORDERED,
                      "STALE": S_STALE, "DUPLICATE": S_DUPLICATE, "UNSYNCED": S_UNSYNCED,
                      "SNAPSHOT": S_SNAPSHOT},
    "Link": {"NONE": LINK_NONE, "FIRST": LINK_FIRST, "PREV": LINK_PREV},
    "Resync": {"SNAPSHOT": RESYNC_SNAPSHOT, "CONTINUE": RESYNC_CONTINUE},
    "Checksum": {"NONE": CHECKSUM_NONE, "KRAKEN": CHECKSUM_KRAKEN, "OKX": CHECKSUM_OKX,
                 "BITGET": CHECKSUM_BITGET},
    "CrossedKind": {"CONTINUOUS": CROSSED_CONTINUOUS, "PRE_OPEN": CROSSED_PRE_OPEN},
}
SENTINELS = {"NULL_CELL": NULL_CELL, "UNKNOWN_CELL": UNKNOWN_CELL, "NULL_ID": NULL_ID}
