"""The ``obrecon`` command line (a public interface: flags are only ever added).

``obrecon replay --format FORMAT FILE [FILE ...] [--symbol SYM] --levels N --out PATH
[--report report.json] [--no-reference] [--reference {reseed,compare,ignore}] [--chunk-events N]
[--checkpoint-every N]``

One stream: ``--out`` is the book Parquet file. Several streams in the files (and no
``--symbol``): ``--out`` is a directory with one ``<stream>.parquet`` per stream and the report
holds one entry per stream under ``streams``; they are written all or none (staged beside the
outputs, moved into place once every stream has been replayed); an ``--out`` named ``*.parquet``
is then refused with the streams' names (one corrupt byte can make a second stream), never made a
directory. ``--out`` and ``--report`` are checked before any work. The day is replayed in chunks
(:func:`obrecon_pipeline.pipeline.run_stream`): memory does not grow with its length, and a run
that was killed resumes from its last checkpoint when started again with the same arguments.
Bad input exits with status 2 and one line naming the file, row and reason.

``obrecon simulate ...`` writes simulated LOBSTER days into the landing zone
(:mod:`obrecon_pipeline.simulate.cli`).

``obrecon catalog {list,refresh,verify} [--root ROOT]``: the catalog of the landing zone
``<ROOT>/raw`` (default ``$OBRECON_DATA_DIR``, else ``./data``; :mod:`obrecon_pipeline.catalog`).
``list`` refreshes it and prints one line per stream-day (``--source``, ``--day`` narrow it,
``--files`` prints the files instead); ``refresh`` prints what changed; ``verify`` re-hashes every
catalogued file and prints each whose bytes differ from its row (``--update`` reads those again,
giving their stream-days new data versions). Exit status: 0 done (``verify``: every hash
matches), 1 ``verify`` found a mismatch, 2 bad input (one line naming file, row and reason).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import time
from pathlib import Path

from obrecon_pipeline import atomic
from obrecon_pipeline.catalog import Catalog
from obrecon_pipeline.errors import ObreconError
from obrecon_pipeline.feeds import FEEDS, get_feed, load_builtin_feeds
from obrecon_pipeline.pipeline import OutputPaths, RunOptions, run_stream
from obrecon_pipeline.simulate import cli as simulate_cli
from obrecon_pipeline.streams import Stream

#: ``--reference``: what the replay does with a feed's reference book
REFERENCE_MODES = {
    "reseed": dict(use_reference=True, compare=True),  # fill unobservable levels from it, measure the match
    "compare": dict(use_reference=False, compare=True),  # never copy a cell, measure the match
    "ignore": dict(use_reference=False, compare=False),  # read nothing of it beyond the seed row
}


def _parser() -> argparse.ArgumentParser:
    load_builtin_feeds()
    p = argparse.ArgumentParser(prog="obrecon", description="Rebuild limit order books from raw market data.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("replay", help="replay raw files into the top-N book after every event")
    r.add_argument("--format", required=True, choices=sorted(FEEDS), help="input format")
    r.add_argument("files", nargs="+", type=Path, help="raw input files (LOBSTER: MESSAGE_FILE [ORDERBOOK_FILE])")
    r.add_argument("--levels", type=int, default=10, help="levels per side in the output (default 10)")
    r.add_argument("--out", type=Path, required=True, help="book Parquet file (a directory for several streams)")
    r.add_argument("--report", type=Path, help="write the run's counters as JSON here")
    r.add_argument("--symbol", help="replay only this symbol's stream")
    r.add_argument(
        "--no-reference", action="store_true",
        help="never copy cells from the reference book: levels the feed cannot show are written as null "
             "(the match against the reference is still measured; same as --reference compare); a LOBSTER "
             "message file without its orderbook file is replayed from an empty book",
    )
    r.add_argument(
        "--reference", choices=sorted(REFERENCE_MODES), default=None,
        help="reseed (default): take levels the feed cannot show from the reference book; compare: never "
             "copy a cell, measure the match; ignore: do not read the reference beyond the seed row",
    )
    r.add_argument("--chunk-events", type=int, default=RunOptions.chunk_events,
                   help=f"events replayed per chunk (default {RunOptions.chunk_events:,})")
    r.add_argument("--checkpoint-every", type=int, default=RunOptions.checkpoint_every,
                   help=f"events between checkpoints, 0 for none (default {RunOptions.checkpoint_every:,})")
    simulate_cli.add_parser(sub)
    c = sub.add_parser("catalog", help="the catalog of the landing zone: list, refresh, verify")
    c.add_argument("action", choices=("list", "refresh", "verify"),
                   help="list: stream-days (refreshed first); refresh: bring up to date; verify: re-hash every file")
    c.add_argument("--root", type=Path, help="data root holding raw/ (default $OBRECON_DATA_DIR, else ./data)")
    c.add_argument("--source", help="list: only this source")
    c.add_argument("--day", help="list: only this day (YYYY-MM-DD)")
    c.add_argument("--files", action="store_true", help="list: the catalogued files, not the stream-days")
    c.add_argument("--update", action="store_true", help="verify: read mismatched files again (new data versions)")
    return p


def _catalog(args: argparse.Namespace) -> int:
    """``obrecon catalog ...`` (see the module docstring)."""
    root = args.root if args.root is not None else Path(os.environ.get("OBRECON_DATA_DIR", "data"))
    if not (root / "raw").is_dir():
        raise ObreconError(f"{root / 'raw'}: no landing zone there")
    catalog = Catalog(root / "raw", root / ".obrecon" / "catalog")
    if args.action == "verify":
        bad = catalog.verify(update=args.update)
        for m in bad:
            print(f"{m.path}: catalogued sha256 {m.catalogued[:16]}, found {m.found[:16] if m.found else 'no file'}")
        print(f"{catalog.files.height} files verified, {len(bad)} mismatched"
              + (" (read again, new data versions)" if bad and args.update else ""), file=sys.stderr)
        return 1 if bad else 0
    t0 = time.perf_counter()
    done = catalog.refresh()
    took = time.perf_counter() - t0
    if args.action == "refresh":
        print(f"{catalog.files.height} files ({len(done.new)} new, {len(done.changed)} changed, {len(done.touched)} "
              f"touched, {len(done.removed)} removed; {len(catalog.read)} read, {len(catalog.hashed)} hashed); "
              f"{catalog.table.height} stream-days ({len(done.stale)} new or changed, {len(done.gone)} gone) "
              f"in {took:.3f} s; catalog {catalog.home}")
        for sd in done.stale:
            print(f"stale {sd}")
        for sd in done.gone:
            print(f"gone  {sd}")
        return 0
    if args.files:
        t = Catalog.in_scope(catalog.files, args.source, args.day)
        for path, size, sha, held in t.select("path", "size", "sha256", "streams").iter_rows():
            print(f"{path}\t{size}\t{sha[:16]}\t{','.join(h['name'] for h in held)}")
        return 0
    t = Catalog.in_scope(catalog.table, args.source, args.day)
    for sd, files, version in t.select("stream_day", "files", "version").iter_rows():
        print(f"{sd}\t{len(files)} files\t{version[:16]}")
    return 0


def _options(args: argparse.Namespace) -> RunOptions:
    if args.no_reference and args.reference not in (None, "compare"):
        raise ObreconError(f"--no-reference contradicts --reference {args.reference}")
    mode = args.reference or ("compare" if args.no_reference else "reseed")
    if args.levels < 1:
        raise ObreconError("--levels must be at least 1")
    if args.chunk_events < 1 or args.checkpoint_every < 0:
        raise ObreconError("--chunk-events must be at least 1 and --checkpoint-every at least 0")
    return RunOptions(levels=args.levels, chunk_events=args.chunk_events, checkpoint_every=args.checkpoint_every,
                      **REFERENCE_MODES[mode])


def _check_writable(flag: str, path: Path, directory: bool = False) -> None:
    """A located error for an output path that cannot be written, before any work is done:
    ``path`` must be a file (``directory``: a directory) or not exist, and no existing ancestor
    may be a file."""
    if directory and path.exists() and not path.is_dir():
        raise ObreconError(f"{flag} {path}: the files hold several streams, so {flag} must be a directory, and it is a file")
    if not directory and path.is_dir():
        raise ObreconError(f"{flag} {path}: is a directory; {'one stream is written to one Parquet file' if flag == '--out' else 'it must name a file'}")
    for p in (path.parent, *path.parent.parents):
        if p.exists():
            if not p.is_dir():
                raise ObreconError(f"{flag} {path}: {p} is a file, not a directory")
            break


def _check_outputs(args: argparse.Namespace, streams: list[Stream]) -> None:
    several = len(streams) > 1
    if several and args.out.suffix == ".parquet" and not args.out.is_dir():
        # a corrupt file can look like several streams: never turn a file name into a directory
        names = ", ".join(s.name for s in streams[:5]) + (", ..." if len(streams) > 5 else "")
        raise ObreconError(f"--out {args.out}: the files hold {len(streams)} streams ({names}); pick one with "
                           f"--symbol, or give --out a directory for one Parquet file per stream")
    _check_writable("--out", args.out, directory=several)
    if args.report is not None:
        _check_writable("--report", args.report)


def _streams(args: argparse.Namespace) -> list[Stream]:
    streams = get_feed(args.format).streams_in(list(args.files))
    if args.symbol is not None:
        streams = [s for s in streams if s.symbol == args.symbol or s.name == args.symbol]
        if not streams:
            raise ObreconError(f"no stream for symbol {args.symbol!r} in {', '.join(map(str, args.files))}")
    if not streams:
        raise ObreconError(f"no stream in {', '.join(map(str, args.files))}")
    names = [s.name for s in streams]
    if len(set(names)) != len(names):
        raise ObreconError(f"the files hold two streams of one name: {sorted(n for n in names if names.count(n) > 1)}")
    return streams


def _replay(args: argparse.Namespace) -> dict:
    options = _options(args)
    streams = _streams(args)
    several = len(streams) > 1
    _check_outputs(args, streams)
    if not several:
        report = run_stream(args.format, streams[0], OutputPaths(args.out), options)
        print(f"{streams[0].partition_key}: {report['rows']} rows -> {args.out}", file=sys.stderr)
        return report
    # several streams: all or none, staged in a folder beside the outputs (its checkpoints included)
    staging = args.out / ".obrecon-staging"
    reports = {}
    try:
        for stream in streams:
            reports[stream.name] = run_stream(args.format, stream, OutputPaths(staging / f"{stream.name}.parquet"), options)
    except ObreconError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for stream in streams:
        os.replace(staging / f"{stream.name}.parquet", args.out / f"{stream.name}.parquet")
        print(f"{stream.partition_key}: {reports[stream.name]['rows']} rows -> {args.out / stream.name}.parquet",
              file=sys.stderr)
    shutil.rmtree(staging, ignore_errors=True)
    return {"streams": reports}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # the imported modules (Polars, Arrow, NumPy: ~10^5 objects) live for the whole process: keep
    # them out of the cyclic collector, which otherwise walked them ~6 % of a replay's CPU time
    gc.freeze()
    try:
        if args.command == "simulate":
            return simulate_cli.run(args)
        if args.command == "catalog":
            return _catalog(args)
        report = _replay(args)
        if args.report:
            atomic.write_json(report, args.report)
    except ObreconError as exc:
        print(f"obrecon: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("obrecon: interrupted; run the same command again to resume from the last checkpoint", file=sys.stderr)
        return 130
    print(json.dumps({k: report[k] for k in list(report)[:13]} if "streams" not in report else {"streams": list(report["streams"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
