"""The ``obrecon`` command line (a public interface: flags are only ever added).

``obrecon simulate ...`` writes simulated LOBSTER days into the landing zone
(:mod:`obrecon_pipeline.simulate.cli`).

``obrecon replay --format FORMAT FILE [FILE ...] [--symbol SYM] --levels N --out PATH
[--report report.json] [--no-reference]``

One stream: ``--out`` is the book Parquet file. Several streams in the files (and no
``--symbol``): ``--out`` is a directory with one ``<stream>.parquet`` per stream and the report
holds one entry per stream under ``streams``. Bad input exits with status 2 and one line naming
the file, row and reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from obrecon_pipeline import atomic
from obrecon_pipeline.errors import ObreconError
from obrecon_pipeline.feeds import FEEDS, load_builtin_feeds, get_feed
from obrecon_pipeline.pipeline import replay_stream
from obrecon_pipeline.simulate import cli as simulate_cli


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
        help="never copy cells from the reference book: levels the feed cannot show are written as null",
    )
    simulate_cli.add_parser(sub)
    return p


def _replay(args: argparse.Namespace) -> dict:
    feed = get_feed(args.format)
    streams = feed.streams_in(list(args.files))
    if args.symbol is not None:
        streams = [s for s in streams if s.symbol == args.symbol or s.name == args.symbol]
        if not streams:
            raise ObreconError(f"no stream for symbol {args.symbol!r} in {', '.join(map(str, args.files))}")
    if args.levels < 1:
        raise ObreconError("--levels must be at least 1")
    reports = {}
    for stream in streams:
        run = replay_stream(args.format, feed.load(stream), args.levels, use_reference=not args.no_reference)
        dest = args.out if len(streams) == 1 else args.out / f"{stream.name}.parquet"
        atomic.write_parquet(run.result.book, dest)
        reports[stream.name] = run.report
        print(f"{stream.partition_key}: {run.report['rows']} rows -> {dest}", file=sys.stderr)
    return next(iter(reports.values())) if len(reports) == 1 else {"streams": reports}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "simulate":
            return simulate_cli.run(args)
        report = _replay(args)
    except (ObreconError, KeyError) as exc:
        print(f"obrecon: error: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
        return 2
    if args.report:
        atomic.write_json(report, args.report)
    print(json.dumps({k: report[k] for k in list(report)[:13]} if "streams" not in report else {"streams": list(report["streams"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
