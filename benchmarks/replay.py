"""Replay throughput: the Cython replayer beside the pure-Python model, in one run.

Workloads (top-10 book written after every event):

* ``goog``: LOBSTER GOOG level-10, 2012-06-21 (147,916 messages), seeded from orderbook row 0 and
  re-seeding levels that enter the window from the reference (the default mode);
* ``goog-noref``: the same without re-seeds (unknown levels written as null);
* ``synthetic``: a synthetic L3 day of 5,000,000 events (``benchmarks/synthetic.py``), strict order
  ids, full depth.

For each workload and implementation a fresh subprocess reports

* ``core``: events/s of the replay loop alone (``replay_arrays`` over contiguous buffers into a
  preallocated, already-touched output matrix), best of ``--repeat``;
* ``first``: the same loop on freshly allocated output (page faults included), first run;
* ``end_to_end``: events/s of :func:`obrecon_pipeline.replay.replay`, i.e. including output
  allocation and the conversion to the public Float64 book table, best of ``--repeat``;
* peak RSS of the process.

The pure-Python model (``obrecon_pipeline/replay/pymodel.py``) replays the whole GOOG day and,
unless ``--python-events`` says otherwise, the first 500,000 events of the synthetic day (at its
speed the full day takes minutes; its events/s does not depend on the length).

Usage: ``python benchmarks/replay.py [--repeat 5] [--python-events 500000] [--databento]``
"""

from __future__ import annotations

import argparse
import sys
import time

from _harness import ROOT, best_of, emit, in_subprocess, peak_rss_mib

GOOG = ROOT / "data" / "raw" / "lobster" / "2012-06-21" / "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
LEVELS = 10
WORKLOADS = ("goog", "goog-noref", "synthetic")


def _workload(name: str, events_limit: int | None = None):
    """(events, options, reference, seed, reseed) for a workload."""
    from obrecon_pipeline.streams import ReplayOptions
    from obrecon_pipeline.feeds.lobster import load_files

    if name.startswith("goog"):
        loaded = load_files(GOOG)
        events, reference = loaded.events, loaded.reference
        if events_limit:
            events, reference = events.head(events_limit), reference[:events_limit]
        return events, loaded.options, reference, True, name == "goog"
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synthetic import synthetic_day

    events = synthetic_day(5_000_000)
    if events_limit:
        events = events.head(events_limit)
    return events, ReplayOptions(strict_orders=True), None, False, False


def _cython(name: str, repeat: int) -> dict:
    import numpy as np

    from obrecon_pipeline.replay import _column, buffers, replay
    from obrecon_pipeline.replay._core import replay_arrays

    events, options, reference, seed, reseed = _workload(name)
    n = events.height
    cols = [_column(events, c, t) for c, t in (("action", np.int8), ("side", np.int8), ("price", np.int64),
                                               ("size", np.int64), ("order_id", np.uint64), ("flags", np.uint8))]
    ref = reference if reference is not None else np.empty((0, 0), dtype=np.int64)

    def core(cells, valid, rows):
        t0 = time.perf_counter()
        replay_arrays(*cols, LEVELS, options.window, True, options.strict_orders, ref, seed, reseed, cells, valid, rows)
        return time.perf_counter() - t0

    def fresh():  # allocated as replay() allocates them
        return buffers.empty((n, 4 * LEVELS), np.int64), np.empty(n, np.uint8), np.empty(n, np.int64)

    first = core(*fresh())
    buffers = fresh()
    buffers[0].fill(0)
    best = min(core(*buffers) for _ in range(repeat))
    del buffers  # the end-to-end runs allocate their own, as a user's would
    end_to_end, _ = best_of(lambda: replay(events, LEVELS, options, reference=reference, seed=seed, reseed=reseed),
                            repeat)
    return {"events": n, "core": n / best, "first": n / first, "end_to_end": n / end_to_end}


def _python(name: str, limit: int) -> dict:
    from obrecon_pipeline.codes import NULL_CELL as NULL
    from obrecon_pipeline.replay.pymodel import replay_python

    events, options, reference, seed, reseed = _workload(name, None if name.startswith("goog") else limit)
    tuples = list(zip(*(events[c].to_list() for c in ("action", "side", "price", "size", "order_id", "flags"))))
    ref_rows = None
    if reference is not None:
        ref_rows = [[None if v == NULL else v for v in row] for row in reference.tolist()]
    t0 = time.perf_counter()
    replay_python(tuples, LEVELS, window=options.window, strict_orders=options.strict_orders,
                  reference=ref_rows, seed=seed, reseed=reseed)
    wall = time.perf_counter() - t0
    return {"events": len(tuples), "core": len(tuples) / wall}


def _child(impl: str, name: str, repeat: int, limit: int) -> None:
    row = _cython(name, repeat) if impl == "cython" else _python(name, limit)
    row.update(impl=impl, workload=name, peak_rss_mib=peak_rss_mib())
    emit(row)


def run(repeat: int, limit: int) -> list[dict]:
    rows = []
    for name in WORKLOADS:
        for impl in ("cython", "python"):
            if impl == "python" and name == "goog-noref":
                continue
            rows.append(in_subprocess(__file__, "--child", impl, name, "--repeat", repeat, "--python-events", limit))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--python-events", type=int, default=500_000)
    p.add_argument("--databento", action="store_true", help="also run benchmarks/replay_databento.py")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        _child(*args.child, args.repeat, args.python_events)
        return
    rows = run(args.repeat, args.python_events)
    print(f"top-{LEVELS} book written after every event; events/s (M = million); peak RSS per process")
    print(f"{'workload':<12} {'impl':<7} {'events':>10} {'core':>9} {'first run':>10} {'end-to-end':>11} {'peak RSS MiB':>13}")
    for r in rows:
        fmt = lambda key: f"{r[key] / 1e6:.2f}M" if key in r else "-"  # noqa: E731
        print(f"{r['workload']:<12} {r['impl']:<7} {r['events']:>10,} {fmt('core'):>9} {fmt('first'):>10} "
              f"{fmt('end_to_end'):>11} {r['peak_rss_mib']:>13.0f}")
    for name in ("goog", "synthetic"):
        c = next(r for r in rows if r["workload"] == name and r["impl"] == "cython")
        py = next(r for r in rows if r["workload"] == name and r["impl"] == "python")
        print(f"{name}: Cython core is {c['core'] / py['core']:.0f}x the pure-Python model")
    if args.databento:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import replay_databento

        print("\nDatabento MBO (ESH4 2023-12-25), top-10 at every F_LAST:")
        for r in replay_databento.run(repeat=args.repeat):
            print(f"  {r['phase']:<10} {r['events_per_s'] / 1e6:.2f}M events/s  peak RSS {r['peak_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
