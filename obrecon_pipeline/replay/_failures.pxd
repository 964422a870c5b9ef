# cython: language_level=3
"""The located integrity failures: one record per failing event, the first ``limit`` kept.

A record is ``event, src_row, ts_event, update_id, kind`` (``kind`` = the event's last
:class:`~obrecon_pipeline.codes.IntegrityKind` code, so a checksum mismatch at the end of a message
names the message's last event ``checksum_mismatch``). The count of failing events and the count
per kind are complete whatever the limit; memory is bounded by it.
"""

from libc.stdint cimport int64_t
from libc.stdlib cimport realloc, free

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
    int64_t* rec            # FAILURE_FIELDS per kept record
    int64_t cap             # records allocated


cdef inline int failures_reserve(FailureLog* log, int64_t records) except -1 nogil:
    cdef int64_t* grown
    if records <= log.cap:
        return 0
    grown = <int64_t*> realloc(log.rec, records * FAILURE_FIELDS * sizeof(int64_t))
    if grown == NULL:
        with gil:
            raise MemoryError()
    log.rec = grown
    log.cap = records
    return 0


cdef inline int failures_note(FailureLog* log, int64_t event, int64_t src_row, int64_t ts_event,
                              int64_t update_id, int64_t kind) except -1 nogil:
    cdef int64_t* r
    cdef int64_t want
    log.st.events += 1
    if 0 <= kind < FAILURE_KIND_SLOTS:
        log.st.by_kind[kind] += 1
    if log.st.kept >= log.st.limit:
        return 0
    if log.st.kept == log.cap:  # grow geometrically up to the limit
        want = 2 * log.cap if log.cap >= 32 else 64
        failures_reserve(log, want if want < log.st.limit else log.st.limit)
    r = &log.rec[log.st.kept * FAILURE_FIELDS]
    r[0] = event
    r[1] = src_row
    r[2] = ts_event
    r[3] = update_id
    r[4] = kind
    log.st.kept += 1
    return 0


cdef inline void failures_free(FailureLog* log) noexcept nogil:
    free(log.rec)
    log.rec = NULL
    log.cap = 0
