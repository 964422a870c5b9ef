# cython: language_level=3
"""A growable array of fixed-width ``int64`` records that never grows past a limit: the kept
located failures (:mod:`._failures`) and crossed episodes (:mod:`._crossed`). Memory is bounded by
``limit * fields`` whatever the length of the stream."""

from libc.stdint cimport int64_t
from libc.stdlib cimport free

from obrecon_pipeline.memory cimport resized


cdef struct Records:
    int64_t* rec        # ``fields`` int64 per record
    int64_t cap         # records allocated


cdef inline int records_reserve(Records* r, int64_t records, int64_t fields) except -1 nogil:
    """Room for at least ``records`` records."""
    if records <= r.cap:
        return 0
    r.rec = <int64_t*> resized(r.rec, records * fields * sizeof(int64_t))
    r.cap = records
    return 0


cdef inline int64_t* records_slot(Records* r, int64_t kept, int64_t limit, int64_t fields) except? NULL nogil:
    """Where record number ``kept`` goes (capacity doubled as needed, up to ``limit``), or NULL
    when ``limit`` records are already kept."""
    cdef int64_t want
    if kept >= limit:
        return NULL
    if kept == r.cap:
        want = 2 * r.cap if r.cap >= 32 else 32
        records_reserve(r, want if want < limit else limit, fields)
    return &r.rec[kept * fields]


cdef inline void records_free(Records* r) noexcept nogil:
    free(r.rec)
    r.rec = NULL
    r.cap = 0
