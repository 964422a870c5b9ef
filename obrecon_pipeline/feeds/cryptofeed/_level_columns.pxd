# cython: language_level=3
from libc.stdint cimport int64_t

from obrecon_pipeline.feeds.cryptofeed._json_scan cimport Levels


cdef class LevelColumns:
    cdef public object side, price_m, price_f, size_m, size_f
    cdef signed char[::1] sd, pf, sf
    cdef int64_t[::1] pm, sm
    cdef Levels lv
