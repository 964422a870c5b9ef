# cython: language_level=3
"""C allocation that fails as Python does: a refused ``malloc``/``realloc``/``calloc`` raises
``MemoryError`` (taking the GIL for it), so code that runs without the GIL needs no NULL test of its
own. Every C buffer of the replayer (ladders, order map, record arrays) and of the simulator (order
pool, level bitmaps, alias tables, CSV cache) is allocated through these two."""

from libc.stdlib cimport calloc, realloc


cdef inline void* resized(void* block, size_t nbytes) except NULL nogil:
    """``block`` grown or shrunk to ``nbytes`` (> 0), contents kept; ``block`` NULL: a new block."""
    cdef void* moved = realloc(block, nbytes)
    if moved == NULL:
        with gil:
            raise MemoryError()
    return moved


cdef inline void* zeroed(size_t count, size_t size) except NULL nogil:
    """A new block of ``count * size`` (> 0) bytes, all zero."""
    cdef void* block = calloc(count, size)
    if block == NULL:
        with gil:
            raise MemoryError()
    return block
