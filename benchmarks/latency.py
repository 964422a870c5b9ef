"""Single-event latency of the stateful replayer: event in, book row out, through ``apply_one``.

The LOBSTER GOOG level-10 day of 2012-06-21 (147,916 messages) is replayed ``--passes`` times
(default 7: 1,035,412 events), each pass by a fresh :class:`Replayer` seeded from orderbook row 0,
one event at a time from Python, as a live feed handler would call it. For every event the wall
time of ``apply_one(...)`` plus reading :attr:`Replayer.last_row` is taken with
``time.perf_counter_ns`` around the call; the distribution (p50 / p99 / p99.9 / max) is printed
beside the timer's own cost (two back-to-back clock reads, the floor of what can be measured this
way) and the per-event time of the chunked path (``Replayer.apply`` over 65,536-event chunks) on
the same events. Modes: ``noref`` (no reference: nothing re-seeded) and ``reseed`` (each event with
its reference row: re-seeding and the in-loop comparison).

Usage: ``python benchmarks/latency.py [--passes 7]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _harness import ROOT, peak_rss_mib

GOOG = ROOT / "data" / "raw" / "lobster" / "2012-06-21" / "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
LEVELS = 10
CHUNK = 65_536


def one_by_one(loaded, columns, rows, passes: int) -> np.ndarray:
    """ns per event of every apply_one call over ``passes`` replays of the day."""
    from obrecon_pipeline.replay import Replayer

    clock = time.perf_counter_ns
    n = loaded.events.height
    out = np.empty(passes * n, dtype=np.int64)
    k = 0
    for _ in range(passes):
        r = Replayer(LEVELS, loaded.options, reference_depth=LEVELS, reseed=rows is not None)
        r.seed(loaded.reference[0])
        apply_one = r.apply_one
        for i, (a, s, p, q, oid, f, ts, src) in enumerate(columns):
            ref = None if rows is None else rows[i]
            t0 = clock()
            apply_one(a, s, p, q, oid, f, ts_event=ts, reference_row=ref, src_row=src)
            r.last_row
            out[k] = clock() - t0
            k += 1
    return out


def chunked_ns(loaded, with_reference: bool) -> float:
    from obrecon_pipeline.replay import Replayer, message_chunks

    events = loaded.events
    spans = message_chunks(events["flags"].to_numpy(), CHUNK)
    chunks = [(events.slice(a, b - a), loaded.reference[a:b]) for a, b in spans]
    best = float("inf")
    for _ in range(5):
        r = Replayer(LEVELS, loaded.options, reference_depth=LEVELS, reseed=with_reference)
        r.seed(loaded.reference[0])
        r.reserve(CHUNK)
        t0 = time.perf_counter_ns()
        for ev, ref in chunks:
            r.apply(ev, ref if with_reference else None)
        best = min(best, time.perf_counter_ns() - t0)
    return best / events.height


def timer_floor(n: int = 1_000_000) -> np.ndarray:
    clock = time.perf_counter_ns
    out = np.empty(n, dtype=np.int64)
    for k in range(n):
        t0 = clock()
        out[k] = clock() - t0
    return out


def main() -> None:
    from obrecon_pipeline.feeds.lobster import load_files

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--passes", type=int, default=7)
    args = p.parse_args()
    loaded = load_files(GOOG)
    ev = loaded.events
    columns = list(zip(*(ev[c].to_list() for c in ("action", "side", "price", "size", "order_id", "flags",
                                                     "ts_event", "src_row"))))
    rows = [loaded.reference[i] for i in range(ev.height)]
    floor = timer_floor()
    print(f"GOOG level-10 x {args.passes} = {args.passes * ev.height:,} events through apply_one, ns per event "
          f"(timer floor p50 {np.percentile(floor, 50):.0f} ns, included)")
    print(f"{'mode':<8} {'p50':>7} {'p99':>7} {'p99.9':>7} {'max':>9} {'chunked path':>13}")
    for mode, reference in (("noref", None), ("reseed", rows)):
        ns = one_by_one(loaded, columns, reference, args.passes)
        q50, q99, q999 = np.percentile(ns, [50, 99, 99.9])
        print(f"{mode:<8} {q50:>7.0f} {q99:>7.0f} {q999:>7.0f} {ns.max():>9,} {chunked_ns(loaded, reference is not None):>13.1f}")
    print(f"peak RSS {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
