"""Replay throughput: the stateful Cython replayer in chunks, beside a ladder-only ceiling loop and
the pure-Python model, in one run.

Workloads (top-10 book written after every event):

* ``goog``: LOBSTER GOOG level-10, 2012-06-21 (147,916 messages), seeded from orderbook row 0 and
  re-seeding levels that enter the window from the reference (the default mode);
* ``goog-noref``: the same without re-seeds (unknown levels written as null);
* ``synthetic``: a synthetic L3 day of 5,000,000 events (``benchmarks/synthetic.py``), strict order
  ids, full depth;
* ``simulated``: a LOBSTER level-10 day of 2,000,000 messages written
  by ``obrecon simulate``'s market (seed 1) into a scratch directory, re-seeding like ``goog``: the
  day the issue's end-to-end targets are set on, with about 17,000-33,000 orders resting (an order
  map of 2-4 MiB, beyond a core's 2 MiB L2 cache).

For each workload and implementation a fresh subprocess reports

* ``core``: events/s of :meth:`Replayer.apply` over chunks of ``--chunk`` events (cut at message
  boundaries, prepared before the clock starts) into the replayer's reusable block buffer,
  reserved (touched) beforehand; the reference rows go in only where re-seeding needs them; best
  of ``--repeat``;
* ``compare``: the same with every row compared with its reference row in the loop (the LOBSTER
  workloads; ``goog-noref`` then passes the reference for the comparison only), and the cost of
  that comparison in ns per event;
* ``ceiling``: :func:`obrecon_pipeline.replay._book.ladder_loop` over the same events and chunks:
  the same ladders, window and row writes, nothing else (no order map, no frontier check, no
  sync state, no counters) -- what a plain Cython loop over these structures reaches;
* ``end_to_end``: events/s of :func:`obrecon_pipeline.replay.replay` (the whole-day front:
  output allocation and the conversion to the public Float64 book table included);
* peak RSS of the process.

Times are wall-clock (``--clock wall``, the default) or, on a machine other jobs share, the
process's CPU time (``--clock cpu``: a single-threaded loop's CPU time is what it would take
alone, less the cache it shares); the header prints the load average of the run.

The pure-Python model (``obrecon_pipeline/replay/pymodel.py``) replays the whole GOOG day and,
unless ``--python-events`` says otherwise, the first 500,000 events of the synthetic day (at its
speed the full day takes minutes; its events/s does not depend on the length).

Usage: ``python benchmarks/replay.py [--repeat 5] [--chunk 65536] [--clock wall|cpu] [--python-events 500000]
[--workloads goog,goog-noref,synthetic,simulated]
[--databento]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from _harness import ROOT, best_of, emit, in_subprocess, peak_rss_mib, scratch

GOOG = ROOT / "data" / "raw" / "lobster" / "2012-06-21" / "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
LEVELS = 10
WORKLOADS = ("goog", "goog-noref", "synthetic", "simulated")
SIMULATED_EVENTS = 2_000_000


def _workload(name: str, events_limit: int | None = None):
    """(events, options, reference, seed, reseed) for a workload."""
    from obrecon_pipeline.feeds.lobster import load_files
    from obrecon_pipeline.streams import ReplayOptions

    if name.startswith("goog"):
        loaded = load_files(GOOG)
        events, reference = loaded.events, loaded.reference
        if events_limit:
            events, reference = events.head(events_limit), reference[:events_limit]
        return events, loaded.options, reference, True, name == "goog"
    if name == "simulated":
        return _simulated(events_limit or SIMULATED_EVENTS)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synthetic import synthetic_day

    events = synthetic_day(5_000_000)
    if events_limit:
        events = events.head(events_limit)
    return events, ReplayOptions(strict_orders=True), None, False, False


def _simulated(events: int):
    """The ``simulated`` workload: a day written by the simulator, read back by the LOBSTER reader."""
    import shutil

    from obrecon_pipeline.feeds.lobster import load_files
    from obrecon_pipeline.simulate.day import simulate_day

    root = scratch("obrecon-replay-bench-")
    try:
        day = simulate_day(root, "SIM", "2024-01-02", events=events, levels=LEVELS, seed=1)
        loaded = load_files(day.message_file, day.orderbook_file)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return loaded.events, loaded.options, loaded.reference, True, True


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _cython(name: str, repeat: int, chunk: int, clock) -> dict:
    import numpy as np

    from obrecon_pipeline.codes import Action
    from obrecon_pipeline.events import scales
    from obrecon_pipeline.replay import Replayer, message_chunks, replay
    from obrecon_pipeline.replay._book import ladder_loop

    events, options, reference, seed, reseed = _workload(name)
    n = events.height
    spans = message_chunks(events["flags"].to_numpy(), chunk)
    chunks = [events.slice(a, b - a) for a, b in spans]
    refs = [None if reference is None else reference[a:b] for a, b in spans]
    price_scale, size_scale = scales(events)

    def core(compare: bool) -> float:
        r = Replayer(LEVELS, options, reference_depth=0 if reference is None else reference.shape[1] // 4,
                     reseed=reseed, price_scale=price_scale, size_scale=size_scale, compare=compare)
        if seed:
            r.seed(reference[0])
        r.reserve(chunk if options.emit == "event" else chunk + 1)
        give = reseed or compare
        t0 = clock()
        for events_chunk, ref in zip(chunks, refs):
            r.apply(events_chunk, ref if give else None)
        return clock() - t0

    action = events["action"].to_numpy()
    size = events["size"].to_numpy()
    removes = np.isin(action, (Action.CANCEL, Action.DELETE, Action.EXECUTE))
    delta = np.where(action == Action.ADD, size, np.where(removes, -size, 0)).astype(np.int64)
    side = np.ascontiguousarray(events["side"].to_numpy())
    price = np.ascontiguousarray(events["price"].to_numpy())
    pieces = [(side[a:b], price[a:b], delta[a:b]) for a, b in spans]
    out = np.full((chunk, 4 * LEVELS), -1, dtype=np.int64)

    def ceiling() -> float:
        t0 = clock()
        for s, p, d in pieces:
            ladder_loop(s, p, d, out, options.window)
        return clock() - t0

    row = {"events": n, "chunk": chunk, "core": n / min(core(False) for _ in range(repeat)),
           "ceiling": n / min(ceiling() for _ in range(repeat))}
    if reference is not None:
        row["compare"] = n / min(core(True) for _ in range(repeat))
        row["compare_ns_per_event"] = 1e9 / row["compare"] - 1e9 / row["core"]
    end_to_end, _ = best_of(lambda: replay(events, LEVELS, options, reference=reference, seed=seed, reseed=reseed),
                            repeat, clock)
    row["end_to_end"] = n / end_to_end
    return row


def _python(name: str, limit: int, clock) -> dict:
    from obrecon_pipeline.codes import NULL_CELL as NULL
    from obrecon_pipeline.replay.pymodel import replay_python

    events, options, reference, seed, reseed = _workload(name, None if name.startswith("goog") else limit)
    tuples = list(zip(*(events[c].to_list() for c in ("action", "side", "price", "size", "order_id", "flags"))))
    ref_rows = None
    if reference is not None:
        ref_rows = [[None if v == NULL else v for v in row] for row in reference.tolist()]
    t0 = clock()
    replay_python(tuples, LEVELS, window=options.window, strict_orders=options.strict_orders,
                  reference=ref_rows, seed=seed, reseed=reseed)
    wall = clock() - t0
    return {"events": len(tuples), "core": len(tuples) / wall}


def _child(impl: str, name: str, repeat: int, chunk: int, limit: int, clock: str) -> None:
    row = _cython(name, repeat, chunk, CLOCKS[clock]) if impl == "cython" else _python(name, limit, CLOCKS[clock])
    row.update(impl=impl, workload=name, peak_rss_mib=peak_rss_mib())
    emit(row)


def run(repeat: int, chunk: int, limit: int, clock: str = "wall", workloads=WORKLOADS) -> list[dict]:
    rows = []
    for name in workloads:
        for impl in ("cython", "python"):
            if impl == "python" and name in ("goog-noref", "simulated"):
                continue
            rows.append(in_subprocess(__file__, "--child", impl, name, "--repeat", repeat, "--chunk", chunk,
                                      "--python-events", limit, "--clock", clock))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--chunk", type=int, default=65_536, help="events per apply() call")
    p.add_argument("--python-events", type=int, default=500_000)
    p.add_argument("--clock", choices=tuple(CLOCKS), default="wall", help="wall time, or this process's CPU time")
    p.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated, of " + ", ".join(WORKLOADS))
    p.add_argument("--databento", action="store_true", help="also run benchmarks/replay_databento.py")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        _child(*args.child, args.repeat, args.chunk, args.python_events, args.clock)
        return
    load = os.getloadavg()[0]
    workloads = tuple(w for w in args.workloads.split(",") if w)
    unknown = set(workloads) - set(WORKLOADS)
    if unknown:
        p.error(f"unknown workload(s) {', '.join(sorted(unknown))}; choose from {', '.join(WORKLOADS)}")
    rows = run(args.repeat, args.chunk, args.python_events, args.clock, workloads)
    print(f"top-{LEVELS} book written after every event; Replayer.apply in chunks of {args.chunk:,} events; "
          f"events/s (M = million) by {args.clock} time; peak RSS per process; load average {load:.1f} on "
          f"{os.cpu_count()} CPUs at the start")
    print(f"{'workload':<12} {'impl':<7} {'events':>10} {'core':>8} {'+compare':>9} {'compare ns/ev':>14} "
          f"{'ceiling':>8} {'end-to-end':>11} {'peak RSS MiB':>13}")
    for r in rows:
        fmt = lambda key: f"{r[key] / 1e6:.2f}M" if key in r else "-"  # noqa: E731
        cost = f"{r['compare_ns_per_event']:.1f}" if "compare_ns_per_event" in r else "-"
        print(f"{r['workload']:<12} {r['impl']:<7} {r['events']:>10,} {fmt('core'):>8} {fmt('compare'):>9} {cost:>14} "
              f"{fmt('ceiling'):>8} {fmt('end_to_end'):>11} {r['peak_rss_mib']:>13.0f}")
    for name in ("goog", "synthetic"):
        c = next((r for r in rows if r["workload"] == name and r["impl"] == "cython"), None)
        py = next((r for r in rows if r["workload"] == name and r["impl"] == "python"), None)
        if c is None or py is None:
            continue
        print(f"{name}: the replayer is {c['core'] / py['core']:.0f}x the pure-Python model and "
              f"{c['core'] / c['ceiling']:.2f}x the ladder-only ceiling")
    if args.databento:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import replay_databento

        print("\nDatabento MBO (ESH4 2023-12-25), top-10 at every F_LAST:")
        for r in replay_databento.run(repeat=args.repeat):
            print(f"  {r['phase']:<10} {r['events_per_s'] / 1e6:.2f}M events/s  peak RSS {r['peak_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
