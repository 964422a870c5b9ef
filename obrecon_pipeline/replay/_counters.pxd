# cython: language_level=3
"""The replayer's counters (``report.json``'s names) and the first event of each kind of trouble.

Every field is an ``int64``, so a checkpoint stores the struct as an ``int64`` array. A ``first_*``
group is meaningful once its count is non-zero (``integrity_errors``, ``checksum_failed``,
``crossed_rows + locked_rows``).
"""

from libc.stdint cimport int64_t
from libc.string cimport memset


cdef struct Counters:
    int64_t events                  # events consumed (= global arrival index of the next event)
    int64_t rows                    # rows emitted (= global index of the next row)
    int64_t unknown_cells           # cells written UNKNOWN (bounded side, level not observable)
    int64_t reseeds                 # levels taken from the reference row (LOBSTER window)
    int64_t crossed_rows            # end-of-message books with best bid > best ask
    int64_t locked_rows             # end-of-message books with best bid == best ask
    int64_t invalid_rows
    int64_t integrity_errors        # integrity failures (an event may cause several)
    int64_t unknown_order_ids
    int64_t outside_window_events   # events beyond a bounded side's frontier (not applied)
    int64_t snapshots               # snapshot messages applied
    int64_t resyncs                 # snapshots that repaired a broken / invalid book
    int64_t checksum_ok
    int64_t checksum_failed
    int64_t last_integrity_kind     # kind of the latest failure (an event's failure kind)
    # the first integrity failure: its event, kind, time and raw-file row
    int64_t first_integrity_event
    int64_t first_integrity_kind
    int64_t first_integrity_ts
    int64_t first_integrity_src_row
    # the first checksum mismatch
    int64_t first_checksum_event
    int64_t first_checksum_ts
    int64_t first_checksum_src_row
    int64_t first_checksum_update_id
    int64_t first_checksum_value
    # the first crossed or locked end-of-message book
    int64_t first_crossed_event
    int64_t first_crossed_ts
    int64_t first_crossed_src_row


cdef inline void counters_init(Counters* c) noexcept nogil:
    memset(c, 0, sizeof(Counters))


cdef inline void note_failure(Counters* c, int64_t event, int kind) noexcept nogil:
    """Count an integrity failure of ``kind`` (an :class:`IntegrityKind` code) at ``event``."""
    if c.integrity_errors == 0:
        c.first_integrity_event = event
        c.first_integrity_kind = kind
    c.integrity_errors += 1
    c.last_integrity_kind = kind
