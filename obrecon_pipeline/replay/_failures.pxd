# cython: language_level=3
"""The located integrity failures: one record per failing event, the first ``limit`` kept.

A record is ``event, src_row, ts_event, update_id, kind`` (``kind`` = the event's last
:class:`~obrecon_pipeline.codes.IntegrityKind` code, so a checksum mismatch at the end of a message
names the message's last event ``checksum_mismatch``). The count of failing events and the count
per kind are complete whatever the limit; memory is bounded by it.
"""

from libc.stdint cimport int64_t

from obrecon_pipeline.replay._records cimport Records, records_slot

cdef enum:
    FAILURE_FIELDS = 5      # event, src_row, ts_event, update_id, kind
    FAILURE_KIND_SLOTS = 16 # room for every IntegrityKind code (they are small positive integers)


cdef struct FailureStats:
    int64_t events          # failing events, complete
    int64_t kept            # records held (<= limit)
    int64_t limit
    int64_t by_kind[FAILURE_KIND_SLOTS]


cdef struct FailureLog:
    FailureStats st
    Records records


cdef inline int failures_note(FailureLog* log, int64_t event, int64_t src_row, int64_t ts_event,
                              int64_t update_id, int64_t kind) except -1 nogil:
    cdef int64_t* r
    log.st.events += 1
    if 0 <= kind < FAILURE_KIND_SLOTS:
        log.st.by_kind[kind] += 1
    r = records_slot(&log.records, log.st.kept, log.st.limit, FAILURE_FIELDS)
    if r == NULL:
        return 0
    r[0] = event
    r[1] = src_row
    r[2] = ts_event
    r[3] = update_id
    r[4] = kind
    log.st.kept += 1
    return 0
