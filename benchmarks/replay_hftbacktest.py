"""Throughput of the hftbacktest path on a Binance capture, beside the cost of decoding its JSON alone.

Phases, each in a fresh subprocess so that its peak RSS is its own:

* ``parse``: capture -> records -> Binance translation -> sequenced, normalized events;
* ``replay``: events -> top-10 book after every message;
* ``tickers``: the bookTickers that end an applied diff compared with the rebuilt top of book;
* ``pipeline``: all three (``replay_stream``);
* ``reference``: gunzip and ``json.loads`` of every line and nothing else (the floor of any reader
  that decodes the capture's JSON in Python).

lines/s = capture lines / best wall time over ``--repeat`` runs. Usage::

    python benchmarks/replay_hftbacktest.py [--repeat 3] [--file [<market>_]<symbol>_<YYYYMMDD>.gz]
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from _harness import ROOT, best_of, phase_main, phase_result

DEFAULT_FILE = ROOT / "data" / "raw" / "hftbacktest" / "2024-08-08" / "usdm_btcusdt_20240808.gz"
LEVELS = 10
PHASES = ("parse", "replay", "tickers", "pipeline", "reference")


def _clear() -> None:
    from obrecon_pipeline.feeds import hftbacktest
    from obrecon_pipeline.feeds.cryptofeed import binance_lines

    binance_lines._cache.clear()
    hftbacktest._messages.cache_clear()


def _phase(name: str, path: Path, repeat: int) -> dict:
    from obrecon_pipeline.feeds import get_feed
    from obrecon_pipeline.pipeline import replay_stream
    from obrecon_pipeline.replay import replay

    feed = get_feed("hftbacktest")
    (stream,) = feed.from_files([path])
    with gzip.open(path, "rb") as fh:
        n = sum(1 for _ in fh)

    def parse():
        _clear()
        return feed.load(stream)

    if name == "parse":
        wall, _ = best_of(parse, repeat)
    elif name == "replay":
        loaded = parse()
        wall, _ = best_of(lambda: replay(loaded.events, LEVELS, loaded.options), repeat)
    elif name == "tickers":
        loaded = parse()
        wall, _ = best_of(lambda: list(feed.reference_tickers(stream)), repeat)
    elif name == "pipeline":
        wall, _ = best_of(lambda: replay_stream("hftbacktest", parse(), LEVELS), repeat)
    else:  # "reference" (argparse allows only PHASES)
        def decode():
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                return sum(1 for line in fh if json.loads(line.split(" ", 1)[1], parse_float=str))

        wall, _ = best_of(decode, repeat)
    return phase_result(name, "lines", n, wall)


if __name__ == "__main__":
    phase_main(__file__, __doc__, PHASES, DEFAULT_FILE, _phase, "lines",
               lambda path, rows: f"hftbacktest {path.name}: {rows[0]['lines']:,} capture lines, top-{LEVELS} book per depth diff")
