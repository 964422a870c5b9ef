"""End to end at any size: ``obrecon replay`` on simulated LOBSTER level-10 days of 1 M, 10 M and 50 M
events, process start to Parquet written, beside the replay core and the whole-day path.

For each day (written once with ``obrecon simulate`` into ``--dir``, deleted afterwards) and each
reference mode, ``obrecon replay`` runs as its own process (``os.wait4`` gives its wall time, CPU
seconds and peak RSS):

* ``with reference``: ``--reference reseed`` (the default: the orderbook file is read chunk by chunk,
  levels entering the window are re-seeded from it, every cell is compared);
* ``without``: ``--reference ignore`` (the orderbook file is read for its first row only);

and the report gives the core's events/s (``replay_wall_s``: the Replayer's own time). The
reference in the same run is the whole-day path of before (``feed.load`` + ``replay_stream`` +
one ``write_parquet``), on the 1 M day only: its memory grows with the day (2.1 KB per event).
``--baseline TREE`` (a built checkout, e.g. ``main``'s) runs the same command there too, right
before this tree's on the same day, and checks that both wrote the same book (row group by row
group); the machine's load average is printed beside every run, since on a shared machine the
wall rates are what a share of it gave (events per CPU-second is the steadier figure).

Usage: ``python benchmarks/end_to_end.py [--sizes 1M,10M,50M] [--dir DIR] [--chunk-events N] [--baseline TREE]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _harness import ROOT, scratch

from obrecon_pipeline.pipeline import RunOptions

LEVELS = 10
SIZES = {"1M": 1_000_000, "10M": 10_000_000, "50M": 50_000_000}
MODES = {"with reference": "reseed", "without": "ignore"}

WHOLE_DAY = """
import sys, time
from pathlib import Path
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.pipeline import replay_stream
feed = get_feed("lobster")
(stream,) = feed.streams_in([Path(sys.argv[1])])
run = replay_stream("lobster", feed.load(stream), 10)
run.result.book.write_parquet(sys.argv[2], compression="lz4")
"""


def timed(cmd: list[str], cwd: str | Path = ROOT) -> dict:
    """Run ``cmd`` in ``cwd`` (``python -m`` imports the package found there); its wall time, CPU
    seconds and peak RSS (MiB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1M,10M,50M")
    p.add_argument("--dir", default=None, help="scratch directory (default: the system's temporary directory)")
    p.add_argument("--chunk-events", type=int, default=RunOptions.chunk_events)
    p.add_argument("--baseline", default=None, help="a built checkout to run the same command with, first")
    args = p.parse_args()
    trees = ([(f"baseline {args.baseline}", Path(args.baseline))] if args.baseline else []) + [("this tree", ROOT)]
    rows = []
    for label in args.sizes.split(","):
        n = SIZES[label]
        tmp = scratch("obrecon-e2e-", args.dir)
        try:
            subprocess.run([sys.executable, "-m", "obrecon_pipeline.cli", "simulate", "--root", str(tmp),
                            "--symbol", "SIM", "--start", "2024-01-02", "--events", str(n), "--levels", str(LEVELS),
                            "--seed", "1"], cwd=ROOT, check=True, capture_output=True)
            (message,) = (tmp / "raw" / "lobster" / "2024-01-02").glob("*_message_10.csv")
            for mode, flag in MODES.items():
                books = []
                for tree_label, tree in trees:
                    out, report = tmp / f"book{len(books)}.parquet", tmp / "report.json"
                    load = os.getloadavg()[0]
                    r = timed([sys.executable, "-m", "obrecon_pipeline.cli", "replay", "--format", "lobster",
                               str(message), "--out", str(out), "--report", str(report), "--reference", flag,
                               "--chunk-events", str(args.chunk_events)], cwd=tree)
                    rep = json.loads(report.read_text())
                    path = f"chunked, {mode}" + (f" ({tree_label})" if args.baseline else "")
                    rows.append({"day": label, "path": path, "events": rep["events"], **r,
                                 "core_events_per_s": rep["events_per_s"], "book_mb": out.stat().st_size / 1e6,
                                 "load": (load, os.getloadavg()[0])})
                    books.append(out)
                if len(books) == 2:
                    print(f"{label} {mode}: books identical: {_same_book(*books)}")
                for out in books:
                    out.unlink()
            if label == "1M":
                r = timed([sys.executable, "-c", WHOLE_DAY, str(message), str(tmp / "whole.parquet")])
                rows.append({"day": label, "path": "whole day (before), with reference", "events": n, **r,
                             "core_events_per_s": None, "book_mb": (tmp / "whole.parquet").stat().st_size / 1e6,
                             "load": (None, os.getloadavg()[0])})
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _print(rows)
    return 0


SAME_BOOK = """
import sys
import pyarrow.parquet as pq
fa, fb = pq.ParquetFile(sys.argv[1]), pq.ParquetFile(sys.argv[2])
same = fa.schema_arrow.equals(fb.schema_arrow) and fa.metadata.num_rows == fb.metadata.num_rows
ra, rb = fa.iter_batches(batch_size=1 << 16), fb.iter_batches(batch_size=1 << 16)
print(same and all(x.equals(y) for x, y in zip(ra, rb)))
"""


def _same_book(a: Path, b: Path) -> bool:
    """Whether two Parquet books hold the same schema and rows (compared batch by batch), in a
    process of its own: a child's peak RSS starts from its parent's size, so the reading must not
    grow this process."""
    out = subprocess.run([sys.executable, "-c", SAME_BOOK, str(a), str(b)], check=True, capture_output=True, text=True)
    return out.stdout.strip() == "True"


def _print(rows: list[dict]) -> None:
    width = max(len(r["path"]) for r in rows)
    print(f"\n{'day':<4} {'path':<{width}} {'end-to-end ev/s':>16} {'core ev/s':>12} {'ev/CPU-s':>10} "
          f"{'wall s':>8} {'CPU s':>7} {'peak RSS MiB':>13} {'book MB':>8} {'load before/after':>18}")
    for r in rows:
        core = f"{r['core_events_per_s']:,.0f}" if r["core_events_per_s"] else "-"
        before, after = r["load"]
        load = f"{'-' if before is None else f'{before:.1f}'} / {after:.1f}"
        print(f"{r['day']:<4} {r['path']:<{width}} {r['events'] / r['wall_s']:>16,.0f} {core:>12} "
              f"{r['events'] / r['cpu_s']:>10,.0f} {r['wall_s']:>8.1f} {r['cpu_s']:>7.1f} {r['peak_rss_mib']:>13,.0f} "
              f"{r['book_mb']:>8.0f} {load:>18}")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
