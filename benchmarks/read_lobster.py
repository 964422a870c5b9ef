"""The LOBSTER reader on a level-10 day of ~5 M events: chunked (``Feed.open``) beside Polars'
typed CSV reader and the whole-day reader (this tree's, or a ref's with ``--baseline``), each phase in
its own subprocess (its own peak RSS).

Phases:

* ``whole``: ``feeds.lobster.load_files`` (whole files, string lists cast), on a day of
  ``--baseline-events`` (default 1 M: the old reader's memory grows with the day);
* ``polars``: ``pl.read_csv`` of both files with a typed schema (Int64; the time as text), the
  reference the issue quotes; no validation, no cell layout;
* ``chunked``: this tree's ``LobsterSource.chunks(--chunk)`` with the reference (both files);
* ``chunked_noref``: the same without the reference (the orderbook file's row 0 only).

MB/s counts the bytes of the files the phase reads. The days are made by
``benchmarks/scale_inputs.py`` (the GOOG day repeated) in a temporary folder, deleted at the end.
Usage::

    python benchmarks/read_lobster.py [--events 5000000] [--baseline-events 1000000] [--chunk 1048576]
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from _baseline import arguments, compare, print_rows
from _harness import emit, peak_rss_mib

PHASES = ("polars", "chunked", "chunked_noref")


def _phase(name: str, message: Path, chunk: int, baseline: str | None) -> dict:
    import obrecon_pipeline

    if baseline:
        assert obrecon_pipeline.__file__.startswith(baseline), obrecon_pipeline.__file__
    orderbook = message.with_name(message.name.replace("_message_", "_orderbook_"))
    size = message.stat().st_size + (orderbook.stat().st_size if name != "chunked_noref" else 0)
    t0, cpu0 = time.perf_counter(), time.process_time()
    if name == "whole":
        from obrecon_pipeline.feeds.lobster import load_files

        n = load_files(message).events.height
    elif name == "polars":
        import polars as pl

        names = ["time", "type", "order_id", "size", "price", "direction"]
        msgs = pl.read_csv(message, has_header=False, new_columns=names,
                           schema={n: (pl.String if n == "time" else pl.Int64) for n in names})
        book = pl.read_csv(orderbook, has_header=False, schema={f"c{i}": pl.Int64 for i in range(40)})
        n = msgs.height
        assert book.height == n
    else:
        from obrecon_pipeline.feeds.lobster import open_stream
        from obrecon_pipeline.streams import Stream

        source = open_stream(Stream("lobster", "GOOG-L10", "2012-06-21", (message,)), name == "chunked")
        n = sum(c.events.height for c in source.chunks(chunk))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"phase": name, "events": n, "wall_s": wall, "cpu_s": cpu, "events_per_s": n / wall, "mb_per_s": size / wall / 1e6,
            "peak_rss_mib": peak_rss_mib()}


def main() -> None:
    args = arguments(__doc__, PHASES, events=5_000_000, baseline_events=1_000_000)
    if args.phase:
        emit(_phase(args.phase, args.file, args.chunk, args.baseline_dir))
        return
    from scale_inputs import lobster_day

    scratch = Path(tempfile.mkdtemp(prefix="obrecon-lobster-"))
    try:
        small = lobster_day(scratch / "small", args.baseline_events)
        big = lobster_day(scratch / "big", args.events)
        rows = compare(__file__, args, small, big, PHASES)
    finally:
        shutil.rmtree(scratch)
    print(f"GOOG level-10 days: whole = {args.baseline}'s reader on {rows[0]['events']:,} events; "
          f"the others on {rows[1]['events']:,}")
    print_rows(rows, "events")


if __name__ == "__main__":
    main()
