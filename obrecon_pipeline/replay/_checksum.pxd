# cython: language_level=3
from libc.stdint cimport int64_t, uint32_t

cdef int64_t book_checksum(int kind,
                           const int64_t* bid_key, const int64_t* bid_size, Py_ssize_t n_bids,
                           const int64_t* ask_key, const int64_t* ask_size, Py_ssize_t n_asks,
                           int price_decimals, int size_decimals) noexcept nogil
