"""Simulator throughput: Cython simulated LOBSTER level-10 days beside the pure-Python reference.

For each day size (1 M and 10 M messages; 50 M with ``--big``), plain CSV and, with ``--gzip``,
``.csv.gz`` too, a fresh subprocess writes the day with :func:`obrecon_pipeline.simulate.simulate_day`
into a temporary directory (``--dir``, deleted afterwards) and reports

* ``events/s``: messages written per second of ``simulate_day`` (pre-open burn-in, formatting and
  writing included; the files are in the page cache, and the kernel throttles the writer to the
  disk's pace once dirty pages pass its limit);
* ``flushed events/s``: the same including an fsync of both files (the data is on disk);
* MB written, the CPU seconds of all its threads (user + system: on a busy machine the wall
  time says more about the neighbours than about the simulator) and the process's peak RSS.

The pure-Python reference (``obrecon_pipeline/simulate/pymodel.py``) simulates a smaller day
(``--python-events``, default 20,000) into memory; its events/s does not depend on the length.

Usage: ``python benchmarks/simulate.py [--big] [--gzip] [--dir DIR] [--python-events N]``
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

from _harness import emit, in_subprocess, peak_rss_mib, print_speedups

LEVELS = 10
SIZES = {"1M": 1_000_000, "10M": 10_000_000, "50M": 50_000_000}


def _cython(events: int, compress: bool, directory: str | None) -> dict:
    from obrecon_pipeline.simulate import simulate_day

    with tempfile.TemporaryDirectory(prefix="obrecon-simulate-", dir=directory) as tmp:
        cpu0 = _cpu_s()
        r = simulate_day(tmp, "SIM", "2024-01-02", events=events, levels=LEVELS, seed=1, compress=compress)
        cpu = _cpu_s() - cpu0
        t0 = time.perf_counter()
        for path in (r.message_file, r.orderbook_file):
            fd = os.open(path, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
        flush = time.perf_counter() - t0
    return {"best_wall_s": r.seconds, "events_per_s": r.events_per_s, "flushed_events_per_s": events / (r.seconds + flush),
            "mb": r.bytes_written / 1e6, "steps": r.steps, "cpu_s": cpu}


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _python(events: int) -> dict:
    from obrecon_pipeline.simulate.params import ModelParams, tables
    from obrecon_pipeline.simulate.pymodel import simulate_bytes

    t0 = time.perf_counter()
    simulate_bytes(tables(ModelParams()), LEVELS, events, 1)
    wall = time.perf_counter() - t0
    return {"best_wall_s": wall, "events_per_s": events / wall}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--big", action="store_true", help="also the 50 M-message day (~13.5 GB of CSV, written and deleted)")
    p.add_argument("--gzip", action="store_true", help="also every size as .csv.gz")
    p.add_argument("--dir", help="where the temporary days are written (default: the system's temporary directory)")
    p.add_argument("--python-events", type=int, default=20_000)
    p.add_argument("--phase", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.phase:
        if args.phase == "reference":
            row = _python(args.python_events)
        else:
            size, _, packed = args.phase.partition("-")
            row = _cython(SIZES[size], packed == "gz", args.dir)
        row.update(phase=args.phase, peak_rss_mib=peak_rss_mib())
        emit(row)
        return
    sizes = [s for s in SIZES if args.big or s != "50M"]
    names = ["reference"] + sizes + ([f"{s}-gz" for s in sizes] if args.gzip else [])
    extra = ["--python-events", args.python_events] + (["--dir", args.dir] if args.dir else [])
    rows = [in_subprocess(__file__, "--phase", name, *extra) for name in names]
    print(f"level-{LEVELS} days (reference: {args.python_events:,} messages, pure Python, into memory)")
    print_speedups(rows, "events")
    print(f"\n{'phase':<10} {'MB written':>11} {'flushed events/s':>17} {'CPU s':>7} {'events/CPU-s':>13} {'market events/msg':>18}")
    for r in rows[1:]:
        n = SIZES[r["phase"].split("-")[0]]
        print(f"{r['phase']:<10} {r['mb']:>11,.0f} {r['flushed_events_per_s']:>17,.0f} {r['cpu_s']:>7.1f} "
              f"{n / r['cpu_s']:>13,.0f} {r['steps'] / n:>18.2f}")


if __name__ == "__main__":
    main()
