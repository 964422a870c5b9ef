"""The DuckDB warehouse over many days: building the views, and one query across every day through
them, beside the same query as a Polars lazy scan over the same files.

The data: the GOOG level-10 LOBSTER day replayed once (147,916 rows) and its ``spreads`` table,
each stored as D trading days (``--days``, default 20) in the warehouse layout
``<root>/warehouse/<table>/GOOG-L10/<day>.parquet`` of a temporary data root (removed at the end).

Phases, each in a fresh subprocess (so each peak RSS is its own):

* ``build``: :func:`obrecon_pipeline.warehouse.build` (the views over both tables);
* ``reference``: mean L1 spread and book rows per day with ``pl.scan_parquet`` over the glob;
* ``duckdb``: the README's query (mean spread per stream and day) through the ``spreads`` view.

Printed per phase: best wall seconds of ``--repeat``, rows/s over the spread rows, the speed as a
multiple of the reference's, peak RSS. Usage::

    python benchmarks/warehouse.py [--days 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
from pathlib import Path

from _harness import ROOT, best_of, emit, in_subprocess, peak_rss_mib

DAY = ROOT / "tests" / "fixtures" / "raw" / "lobster" / "2012-06-21"
PHASES = ("build", "reference", "duckdb")
QUERY = """
SELECT stream, trading_day, count(*) AS book_rows,
       round(avg(spread_1), 6) AS mean_spread, round(avg(spread_bp_1), 4) AS mean_spread_bp
FROM spreads WHERE book_valid GROUP BY ALL ORDER BY ALL
"""


def land(root: Path, days: int) -> dict:
    """The GOOG book and its spreads stored as ``days`` partitions under ``root/warehouse``."""
    import polars as pl

    from obrecon_pipeline import warehouse
    from obrecon_pipeline.feeds import get_feed
    from obrecon_pipeline.metrics.spreads import spreads
    from obrecon_pipeline.pipeline import replay_stream

    feed = get_feed("lobster")
    (stream,) = [s for s in feed.discover(DAY, DAY.name) if s.name == "GOOG-L10"]
    book = replay_stream("lobster", feed.load(stream), 10).result.book
    table = spreads(book).collect()
    for d in range(days):
        day = (dt.date(2012, 6, 21) + dt.timedelta(days=d)).isoformat()
        for name, frame in (("book", book), ("spreads", table)):
            path = warehouse.partition_path(root, name, "GOOG-L10", day)
            path.parent.mkdir(parents=True, exist_ok=True)
            frame.write_parquet(path)
    return {"rows": days * table.height, "bytes": sum(p.stat().st_size for p in (root / "warehouse").rglob("*.parquet"))}


def phase(name: str, root: Path, repeat: int) -> dict:
    import duckdb
    import polars as pl

    from obrecon_pipeline import warehouse

    rows = pl.scan_parquet(root / "warehouse" / "spreads" / "*" / "*.parquet").select(pl.len()).collect().item()
    if name == "build":
        wall, views = best_of(lambda: warehouse.build(root), repeat)
        return {"phase": name, "rows": rows, "result": len(views), "best_wall_s": wall, "peak_rss_mib": peak_rss_mib()}
    if name == "reference":
        def run():
            scan = pl.scan_parquet(root / "warehouse" / "spreads" / "*" / "*.parquet", include_file_paths="path")
            return scan.filter("book_valid").group_by("path").agg(pl.len(), pl.col("spread_1").mean()).collect().height
    else:
        warehouse.build(root)

        def run():
            with duckdb.connect(str(warehouse.db_path(root)), read_only=True) as con:
                return len(con.execute(QUERY).fetchall())
    wall, out = best_of(run, repeat)
    return {"phase": name, "rows": rows, "result": out, "best_wall_s": wall, "peak_rss_mib": peak_rss_mib()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=int, default=20)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--phase", choices=PHASES + ("land",), help=argparse.SUPPRESS)
    p.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.phase:  # a child: one phase, its row as JSON
        emit(land(args.root, args.days) if args.phase == "land" else phase(args.phase, args.root, args.repeat))
        return
    root = Path(tempfile.mkdtemp(prefix="obrecon-warehouse-"))
    try:
        landed = in_subprocess(__file__, "--phase", "land", "--root", root, "--days", args.days)
        print(f"{args.days} days of GOOG level 10 (book and spreads): {landed['rows']:,} spread rows, "
              f"{landed['bytes'] / 2**20:,.0f} MiB of Parquet")
        rows = [in_subprocess(__file__, "--phase", name, "--root", root, "--repeat", args.repeat) for name in PHASES]
    finally:
        shutil.rmtree(root)
    reference = next(r["best_wall_s"] for r in rows if r["phase"] == "reference")
    for r in rows:  # build: views made; the queries: days in the answer
        speed = "" if r["phase"] == "build" else (
            f" ({r['rows'] / r['best_wall_s']:,.0f} rows/s, {reference / r['best_wall_s']:.2f} x the reference)")
        print(f"{r['phase']:<10} -> {r['result']:>3}: best {r['best_wall_s']:.4f} s{speed}, "
              f"peak RSS {r['peak_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
