# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""DBN MBO records -> the normalized event columns in one pass over the records (no GIL).

Reads each 56-byte record at the field offsets :mod:`obrecon_pipeline.feeds.dbn` takes from
databento-dbn's own layout and writes ``ts_event``, ``ts_recv`` (int64; ``undef_ts`` is counted so
the caller can null it), ``action``/``side`` through 256-entry tables, ``price`` (0 for a clear or
a "none" record, whose price is UNDEF_PRICE), ``size``, ``order_id``, ``update_id`` (the
``sequence``) and ``flags`` through a table of the raw flag byte. Also counts raw flag bits.
"""

from libc.stdint cimport int8_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy


cdef inline uint64_t u64(const uint8_t* r, Py_ssize_t off) noexcept nogil:
    cdef uint64_t v
    memcpy(&v, r + off, 8)
    return v


cdef inline uint32_t u32(const uint8_t* r, Py_ssize_t off) noexcept nogil:
    cdef uint32_t v
    memcpy(&v, r + off, 4)
    return v


def normalize_records(const uint8_t[:, ::1] rec, dict offsets, const int8_t[::1] action_of, const int8_t[::1] side_of,
                      const uint8_t[::1] flags_of, int clear_action, int halt_action, uint64_t undef_ts,
                      uint8_t snapshot_bit, uint8_t bad_ts_recv_bit, uint8_t maybe_bad_bit,
                      int64_t[::1] ts_event, int64_t[::1] ts_recv, int8_t[::1] action, int8_t[::1] side,
                      int64_t[::1] price, int64_t[::1] size, uint64_t[::1] order_id, int64_t[::1] update_id,
                      uint8_t[::1] flags):
        """Fill the columns from ``rec`` (``uint8[n, 56]``); ``(undefined ts_event, undefined
        ts_recv, snapshot, bad ts_recv, maybe-bad-book)`` record counts."""
        cdef Py_ssize_t n = rec.shape[0], k
        cdef Py_ssize_t o_ts = offsets["ts_event"], o_oid = offsets["order_id"], o_px = offsets["price"]
        cdef Py_ssize_t o_sz = offsets["size"], o_fl = offsets["flags"], o_act = offsets["action"]
        cdef Py_ssize_t o_side = offsets["side"], o_recv = offsets["ts_recv"], o_seq = offsets["sequence"]
        cdef const uint8_t* r
        cdef uint64_t t
        cdef uint8_t raw
        cdef int8_t a
        cdef Py_ssize_t undef_event = 0, undef_recv = 0, snapshots = 0, bad_recv = 0, maybe_bad = 0
        with nogil:
            for k in range(n):
                r = &rec[k, 0]
                t = u64(r, o_ts)
                undef_event += t == undef_ts
                ts_event[k] = <int64_t>t
                t = u64(r, o_recv)
                undef_recv += t == undef_ts
                ts_recv[k] = <int64_t>t
                a = action_of[r[o_act]]
                action[k] = a
                side[k] = side_of[r[o_side]]
                price[k] = 0 if a == clear_action or a == halt_action else <int64_t>u64(r, o_px)
                size[k] = u32(r, o_sz)
                order_id[k] = u64(r, o_oid)
                update_id[k] = u32(r, o_seq)
                raw = r[o_fl]
                flags[k] = flags_of[raw]
                snapshots += (raw & snapshot_bit) != 0
                bad_recv += (raw & bad_ts_recv_bit) != 0
                maybe_bad += (raw & maybe_bad_bit) != 0
        return undef_event, undef_recv, snapshots, bad_recv, maybe_bad
