# cython: language_level=3
"""Fast-I/O helpers of the replay loop: streaming row stores, their fence, and a prefetch.

A book row is written once into the output block; when the block is too big to be read back
from the cache (a whole day in one block), it is streamed past the cache (SSE2 non-temporal
stores, 16 bytes at a time when the row is 16-byte aligned: rows are ``4N`` int64, a multiple of
16 bytes); :func:`stream_fence` makes the streamed rows visible before the block is handed out. Without SSE2 both fall back to ``memcpy``
and nothing. :func:`prefetch` is GCC/Clang's ``__builtin_prefetch`` (read, high locality).
"""

cdef extern from *:
    """
    #if defined(__SSE2__)
    #include <emmintrin.h>
    static inline void obrecon_stream_row(long long *dst, const long long *src, Py_ssize_t n) {
        Py_ssize_t k = 0;
        if (((size_t)dst & 15) == 0) {
            for (; k + 1 < n; k += 2)
                _mm_stream_si128((__m128i *)(dst + k), _mm_loadu_si128((const __m128i *)(src + k)));
        }
        for (; k < n; k++) _mm_stream_si64(dst + k, src[k]);
    }
    static inline void obrecon_stream_fence(void) { _mm_sfence(); }
    #else
    #include <string.h>
    static inline void obrecon_stream_row(long long *dst, const long long *src, Py_ssize_t n) {
        memcpy(dst, src, (size_t)n * sizeof(long long));
    }
    static inline void obrecon_stream_fence(void) {}
    #endif
    """
    void prefetch "__builtin_prefetch"(const void* addr) noexcept nogil
    void stream_row "obrecon_stream_row"(long long* dst, const long long* src, Py_ssize_t n) noexcept nogil
    void stream_fence "obrecon_stream_fence"() noexcept nogil
