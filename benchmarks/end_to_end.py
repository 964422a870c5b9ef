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

Usage: ``python benchmarks/end_to_end.py [--sizes 1M,10M,50M] [--dir DIR] [--chunk-events N]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import ROOT

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
    args = p.parse_args()
    rows = []
    for label in args.sizes.split(","):
        n = SIZES[label]
        tmp = Path(tempfile.mkdtemp(prefix="obrecon-e2e-", dir=args.dir))
        try:
            subprocess.run([sys.executable, "-m", "obrecon_pipeline.cli", "simulate", "--root", str(tmp),
                            "--symbol", "SIM", "--start", "2024-01-02", "--events", str(n), "--levels", str(LEVELS),
                            "--seed", "1"], cwd=ROOT, check=True, capture_output=True)
            (message,) = (tmp / "raw" / "lobster" / "2024-01-02").glob("*_message_10.csv")
            for mode, flag in MODES.items():
                out, report = tmp / "book.parquet", tmp / "report.json"
                r = timed([sys.executable, "-m", "obrecon_pipeline.cli", "replay", "--format", "lobster", str(message),
                           "--out", str(out), "--report", str(report), "--reference", flag,
                           "--chunk-events", str(args.chunk_events)])
                rep = json.loads(report.read_text())
                rows.append({"day": label, "path": f"chunked, {mode}", "events": rep["events"], **r,
                             "core_events_per_s": rep["events_per_s"], "book_mb": out.stat().st_size / 1e6})
            if label == "1M":
                r = timed([sys.executable, "-c", WHOLE_DAY, str(message), str(tmp / "whole.parquet")])
                rows.append({"day": label, "path": "whole day (before), with reference", "events": n, **r,
                             "core_events_per_s": None, "book_mb": (tmp / "whole.parquet").stat().st_size / 1e6})
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _print(rows)
    return 0


def _print(rows: list[dict]) -> None:
    print(f"\n{'day':<4} {'path':<38} {'end-to-end ev/s':>16} {'core ev/s':>12} {'ev/CPU-s':>10} "
          f"{'wall s':>8} {'peak RSS MiB':>13} {'book MB':>8}")
    for r in rows:
        core = f"{r['core_events_per_s']:,.0f}" if r["core_events_per_s"] else "-"
        print(f"{r['day']:<4} {r['path']:<38} {r['events'] / r['wall_s']:>16,.0f} {core:>12} "
              f"{r['events'] / r['cpu_s']:>10,.0f} {r['wall_s']:>8.1f} {r['peak_rss_mib']:>13,.0f} {r['book_mb']:>8.0f}")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
