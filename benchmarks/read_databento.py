"""The Databento reader on a >= 10 M-record MBO stream: chunked (``Feed.open``) beside the whole-file
reader (this tree's, or another commit's with ``--baseline REF``), each phase in its own subprocess
(its own peak RSS).

Phases:

* ``whole``: ``feeds.databento.load`` (whole body decompressed, one event table);
* ``chunked``: this tree's ``DatabentoSource.chunks(--chunk)``, every chunk built and dropped;
* ``decode``: this tree's ``DbnReader`` blocks only (zstd + record validation: the floor).

Then the same stream end to end through ``obrecon replay --format databento`` as its own process
(process start to Parquet written; ``os.wait4`` gives wall, CPU seconds and peak RSS, as in
``benchmarks/end_to_end.py``), its ``report.json`` giving the core's events/s.

The stream is made by ``benchmarks/scale_inputs.py`` (ESH4 repeated, rebased) in a temporary
folder, deleted at the end. Usage::

    python benchmarks/read_databento.py [--records 10000000] [--chunk 1048576] [--baseline REF]
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _baseline import arguments, compare, print_rows
from _harness import emit, peak_rss_mib
from end_to_end import timed

RECORD_BYTES = 56
PHASES = ("chunked", "decode")


def _phase(name: str, path: Path, chunk: int, baseline: str | None) -> dict:
    import obrecon_pipeline
    from obrecon_pipeline.feeds.databento import from_files

    if baseline:
        assert obrecon_pipeline.__file__.startswith(baseline), obrecon_pipeline.__file__
    (stream,) = from_files([path])
    t0, cpu0 = time.perf_counter(), time.process_time()
    if name == "whole":
        from obrecon_pipeline.feeds.databento import load

        n = load(stream).events.height
    elif name == "chunked":
        from obrecon_pipeline.feeds.databento import open_stream

        n = sum(c.events.height for c in open_stream(stream, False).chunks(chunk))
    else:
        from obrecon_pipeline.feeds.dbn import DbnReader

        n = 0
        with DbnReader(path) as reader:
            while (block := reader.read()).shape[0]:
                n += block.shape[0]
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"phase": name, "records": n, "wall_s": wall, "cpu_s": cpu, "records_per_s": n / wall,
            "mb_per_s": n * RECORD_BYTES / wall / 1e6, "peak_rss_mib": peak_rss_mib()}


def main() -> None:
    args = arguments(__doc__, PHASES, records=10_000_000)
    if args.phase:
        emit(_phase(args.phase, args.file, args.chunk, args.baseline_dir))
        return
    from scale_inputs import databento_stream

    scratch = Path(tempfile.mkdtemp(prefix="obrecon-dbn-"))
    try:
        path = databento_stream(scratch, args.records)
        size = path.stat().st_size
        rows = compare(__file__, args, path, path, PHASES)
        report = scratch / "report.json"
        e2e = timed([sys.executable, "-m", "obrecon_pipeline.cli", "replay", "--format", "databento", str(path),
                     "--out", str(scratch / "book.parquet"), "--report", str(report)])
        rep = json.loads(report.read_text())
    finally:
        shutil.rmtree(scratch)
    print(f"{path.name}: {rows[0]['records']:,} records, {size / 1e6:.0f} MB zstd; whole = {args.baseline or 'this tree'}'s reader")
    print_rows(rows, "records", "MB/s (body)")
    n = rep["events"]
    print(f"\nobrecon replay --format databento, end to end: {n:,} events, {rep['rows']:,} book rows")
    print(f"{'end-to-end ev/s':>16} {'ev/CPU-s':>10} {'core ev/s':>10} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13}")
    print(f"{n / e2e['wall_s']:>16,.0f} {n / e2e['cpu_s']:>10,.0f} {rep['events_per_s']:>10,.0f} {e2e['wall_s']:>8.1f} "
          f"{e2e['cpu_s']:>8.1f} {e2e['peak_rss_mib']:>13,.0f}")


if __name__ == "__main__":
    main()
