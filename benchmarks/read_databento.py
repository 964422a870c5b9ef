"""The Databento reader on a >= 10 M-record MBO stream: chunked (``Feed.open``) beside the whole-file
reader of another commit (``main`` by default), each phase in its own subprocess (its own peak RSS).

Phases:

* ``whole``: the ref's ``feeds.databento.load`` (whole body decompressed, one event table);
* ``chunked``: this tree's ``DatabentoSource.chunks(--chunk)``, every chunk built and dropped;
* ``decode``: this tree's ``DbnReader`` blocks only (zstd + record validation: the floor).

The stream is made by ``benchmarks/scale_inputs.py`` (ESH4 repeated, rebased) in a temporary
folder, deleted at the end. Usage::

    python benchmarks/read_databento.py [--records 10000000] [--chunk 1048576] [--baseline main]
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from _baseline import arguments, compare, print_rows
from _harness import emit, peak_rss_mib

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
    finally:
        shutil.rmtree(scratch)
    print(f"{path.name}: {rows[0]['records']:,} records, {size / 1e6:.0f} MB zstd; whole = {args.baseline}'s reader")
    print_rows(rows, "records", "MB/s (body)")


if __name__ == "__main__":
    main()
