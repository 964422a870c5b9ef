"""Model features on a book of any length: the memory the query holds stays flat as the day grows.

The book: the GOOG level-10 LOBSTER day replayed once (147,916 rows) and written R times into one
Parquet file in a temporary directory (removed at the end), one row group per copy: copy r's
times are compressed R-fold into the r-th R-th of the session and its ``seq`` continues, so R
copies make one 6.5-hour day of R x 147,916 rows (R = 340: 50.3 M rows, 1.7 GB of Parquet).

Phases, each in a fresh subprocess (so each peak is its own), all reading ``pl.scan_parquet``:

* ``reference``: :func:`~obrecon_pipeline.metrics.features.features` on the small book
  (R = ``--small``) read as one batch, which is what a whole-table implementation holds;
* ``batched``: the same on the same book in batches of ``BATCH_ROWS`` (the default);
* ``large``: the default on the large book (R = ``--large``).

Printed per phase: book rows, grid points, wall and CPU seconds, rows/s, ``ru_maxrss`` (which also
counts the pages of the memory-mapped Parquet file the reader has touched: page cache, dropped
under pressure) and the peak anonymous RSS sampled every 20 ms (what the computation holds). Usage::

    python benchmarks/features.py [--small 10] [--large 340]
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

from _harness import ROOT, emit, in_subprocess, peak_rss_mib

DAY = ROOT / "data" / "raw" / "lobster" / "2012-06-21"
PHASES = ("reference", "batched", "large")


def build(copies: int, path: Path) -> dict:
    """Write the GOOG day ``copies`` times into ``path`` (see the module docstring)."""
    import polars as pl
    import pyarrow.parquet as pq

    from obrecon_pipeline.feeds import get_feed
    from obrecon_pipeline.pipeline import replay_stream

    feed = get_feed("lobster")
    (stream,) = [s for s in feed.discover(DAY, DAY.name) if s.name == "GOOG-L10"]
    book = replay_stream("lobster", feed.load(stream), 10).result.book
    first, span, n = book["ts_event"][0], book["ts_event"][-1] - book["ts_event"][0], book.height
    with pq.ParquetWriter(path, book.to_arrow().schema) as writer:
        for r in range(copies):
            copy = book.with_columns(
                (first + (pl.col("ts_event") - first) // copies + r * (span // copies)).alias("ts_event"),
                (pl.col("seq") + r * n).alias("seq"),
            )
            writer.write_table(copy.to_arrow(), row_group_size=n)
    return {"rows": copies * n, "bytes": path.stat().st_size}


class AnonPeak:
    """Peak ``RssAnon`` of this process, sampled every ``every_s`` seconds on a daemon thread."""

    def __init__(self, every_s: float = 0.02):
        self.peak_kib, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)

    def _run(self, every_s: float) -> None:
        while not self._stop.is_set():
            status = Path("/proc/self/status").read_text()
            self.peak_kib = max(self.peak_kib, int(re.search(r"RssAnon:\s+(\d+)", status).group(1)))
            time.sleep(every_s)

    def __enter__(self) -> AnonPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def phase(name: str, book: Path) -> dict:
    import polars as pl

    from obrecon_pipeline.metrics.features import BATCH_ROWS, features

    rows = pl.scan_parquet(book).select(pl.len()).collect().item()
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    with AnonPeak() as anon:
        grid = features(pl.scan_parquet(book), batch_rows=rows if name == "reference" else BATCH_ROWS).height
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"phase": name, "rows": rows, "grid_points": grid, "wall_s": wall, "cpu_s": cpu,
            "peak_rss_mib": peak_rss_mib(), "peak_anon_mib": anon.peak_kib / 1024}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--small", type=int, default=10, help="copies of the day in the small book")
    p.add_argument("--large", type=int, default=340, help="copies of the day in the large book")
    p.add_argument("--phase", choices=PHASES + ("build",), help=argparse.SUPPRESS)
    p.add_argument("--copies", type=int, help=argparse.SUPPRESS)
    p.add_argument("--book", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.phase == "build":
        emit(build(args.copies, args.book))
        return
    if args.phase:
        emit(phase(args.phase, args.book))
        return
    scratch = Path(tempfile.mkdtemp(prefix="obrecon-features-"))
    try:
        books = {}
        for label, copies in (("small", args.small), ("large", args.large)):
            books[label] = scratch / label / "book.parquet"
            books[label].parent.mkdir()
            built = in_subprocess(__file__, "--phase", "build", "--copies", copies, "--book", books[label])
            print(f"{label} book: {copies} copies of GOOG level 10, {built['rows']:,} rows, "
                  f"{built['bytes'] / 2**20:,.0f} MiB of Parquet")
        rows = [in_subprocess(__file__, "--phase", name, "--book", books["large" if name == "large" else "small"])
                for name in PHASES]
    finally:
        shutil.rmtree(scratch)
    print(f"{'phase':<10} {'book rows':>12} {'grid points':>12} {'wall s':>8} {'CPU s':>8} {'rows/s':>12} "
          f"{'ru_maxrss MiB':>14} {'anon peak MiB':>14}")
    for r in rows:
        print(f"{r['phase']:<10} {r['rows']:>12,} {r['grid_points']:>12,} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} "
              f"{r['rows'] / r['wall_s']:>12,.0f} {r['peak_rss_mib']:>14.0f} {r['peak_anon_mib']:>14.0f}")


if __name__ == "__main__":
    main()
