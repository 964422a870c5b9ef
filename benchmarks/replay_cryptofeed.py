"""Throughput of the cryptofeed path on the Kraken capture (10 pairs, 4,269 checksums), beside a
pure-Python reference.

Phases, each in a fresh subprocess so that its peak RSS is its own:

* ``parse``: capture -> book messages -> sequenced, normalized events for every pair;
* ``replay``: events -> top-10 book after every message with the Kraken CRC32 verified in the loop;
* ``pipeline``: both;
* ``reference``: ``tests/reference/kraken_book.py`` (Decimal dict books on the venue's strings, CRC32
  of the documented checksum string after every message).

events/s = book messages / best wall time over ``--repeat`` runs (the reference has no event table,
so all phases count venue messages). Usage::

    python benchmarks/replay_cryptofeed.py [--repeat 5] [--file KRAKEN.ws.N.0[.gz]]
"""

from __future__ import annotations

import sys
from pathlib import Path

from _harness import ROOT, best_of, phase_main, phase_result

DEFAULT_FILE = ROOT / "data" / "raw" / "cryptofeed" / "2021-04-17" / "KRAKEN.ws.50.0.gz"
LEVELS = 10
PHASES = ("parse", "replay", "pipeline", "reference")


def _phase(name: str, path: Path, repeat: int) -> dict:
    from obrecon_pipeline.feeds.cryptofeed import from_files, load
    from obrecon_pipeline.feeds.cryptofeed.capture import _read_capture
    from obrecon_pipeline.replay import replay

    streams = from_files([path])

    def parse():
        _read_capture.cache_clear()
        return [load(s) for s in streams]

    def replay_all(loaded):
        return sum(replay(ls.events, LEVELS, ls.options).counters["checksum_ok"] for ls in loaded)

    if name == "parse":
        wall, loaded = best_of(parse, repeat)
    elif name == "replay":
        loaded = parse()
        wall, _ = best_of(lambda: replay_all(loaded), repeat)
    elif name == "pipeline":
        wall, loaded = best_of(lambda: (lambda ls: (replay_all(ls), ls)[1])(parse()), repeat)
    else:  # "reference" (argparse allows only PHASES)
        sys.path.insert(0, str(ROOT / "tests" / "reference"))
        from kraken_book import replay_kraken

        wall, rows = best_of(lambda: replay_kraken(path, LEVELS), repeat)
        n = sum(len(r) for r in rows.values())
    if name != "reference":
        n = sum(int(ls.stats["messages"]) for ls in loaded)
    return phase_result(name, "messages", n, wall)


if __name__ == "__main__":
    phase_main(__file__, __doc__, PHASES, DEFAULT_FILE, _phase, "messages",
               lambda path, rows: f"cryptofeed {path.name}: {rows[0]['messages']:,} book messages, top-{LEVELS} + checksum per message")
