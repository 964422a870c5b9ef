"""Throughput of the cryptofeed path on the Kraken capture (10 pairs, 4,269 checksums), beside a
pure-Python reference.

Phases, each in a fresh subprocess so that its peak RSS is its own:

* ``parse``: capture -> book messages -> sequenced, normalized events for every pair;
* ``replay``: events -> top-10 book after every message with the Kraken CRC32 verified in the loop;
* ``pipeline``: both;
* ``reference``: ``tests/reference/kraken_book.py`` (Decimal dict books on the venue's strings, CRC32
  of the documented checksum string after every message).

events/s = book messages / best wall time over ``--repeat`` runs (the reference has no event table,
so all phases count venue messages).

Then, in the same run, the capture's reader on a capture tiled :data:`TILE` times (each copy's
receive times shifted past the one before; plain text), capture -> normalized events of every
symbol (``from_files`` + ``load``):

* ``fast``: read by lines (:func:`.capture.scanned`): the Cython parser (:mod:`.binance_lines`
  for Binance, :mod:`.book_lines` for Coinbase, Kraken and OKX), the lines it leaves per message;
* ``per_message``: held parsed (``json.loads`` per line, the venue module per message).

Each prints normalized events, events/s (best wall time) and events per CPU-second (least
process CPU time over the runs). ``--file`` may be a cryptofeed websocket capture whose venue
needs no REST snapshot (Coinbase: ``COINBASE.ws.28.0.gz``; a Binance capture's tiled copy has no
snapshot file beside it, so the reader refuses it: Binance is measured by ``benchmarks/read_l2.py``).
Usage::

    python benchmarks/replay_cryptofeed.py [--repeat 5] [--file VENUE.ws.N.0[.gz]]
"""

from __future__ import annotations

import gzip
import re
import sys
import time
from pathlib import Path

from _harness import ROOT, best_of, phase_arguments, phase_main, phase_result, phases, scratch

DEFAULT_FILE = ROOT / "data" / "raw" / "cryptofeed" / "2021-04-17" / "KRAKEN.ws.50.0.gz"
LEVELS = 10
PHASES = ("parse", "replay", "pipeline", "reference")
READERS = ("fast", "per_message")
#: copies of the capture in the tiled one
TILE = 20
_RECV = re.compile(r"^(\d+(?:\.\d+)?): ")


def tiled(path: Path, copies: int, out: Path) -> Path:
    """``copies`` of the capture one after the other in a plain file named like it, each copy's
    received lines' times shifted by ``k * (span + 1 s)`` (the header lines copied as they are)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        text = fh.read().splitlines(keepends=True)
    times = [float(m.group(1)) for m in map(_RECV.match, text) if m]
    span = max(times) - min(times) + 1.0
    target = out / path.name.removesuffix(".gz")
    with open(target, "w", encoding="utf-8") as fh:
        for k in range(copies):
            shift = k * span
            fh.writelines(_RECV.sub(lambda m: f"{float(m.group(1)) + shift:.6f}: ", line, count=1) for line in text)
    return target


def _reader(name: str, path: Path, repeat: int) -> dict:
    from obrecon_pipeline.feeds import cryptofeed
    from obrecon_pipeline.feeds.cryptofeed import binance_lines, book_lines, capture, from_files, load

    capture.STREAM_ABOVE = 0 if name == "fast" else 1 << 62
    big = tiled(path, TILE, scratch("cf-tile-"))

    def read():
        capture._read_capture.cache_clear()
        cryptofeed._messages.cache_clear()
        binance_lines._cache.clear()
        book_lines._cache.clear()
        return [load(s) for s in from_files([big])]

    wall, loaded = best_of(read, repeat)
    cpu, _ = best_of(read, repeat, clock=time.process_time)
    n = sum(ls.events.height for ls in loaded)
    row = phase_result(name, "events", n, wall)
    row.update(cpu_s=cpu, events_per_cpu_s=n / cpu, messages=sum(int(ls.stats["messages"]) for ls in loaded))
    return row


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


def main() -> None:
    args = phase_arguments(__doc__, PHASES + READERS, DEFAULT_FILE)
    if args.phase in READERS:
        from _harness import emit

        emit(_reader(args.phase, args.file, args.repeat))
        return
    if "KRAKEN.ws" in args.file.name:  # the replay phases and the reference are Kraken's
        phase_main(__file__, __doc__, PHASES, DEFAULT_FILE, _phase, "messages",
                   lambda path, rows: f"cryptofeed {path.name}: {rows[0]['messages']:,} book messages, top-{LEVELS} + checksum per message")
        if args.phase:  # a child of phase_main: its row printed
            return
    rows = phases(__file__, READERS, "--file", args.file, "--repeat", args.repeat)
    print(f"reader, {args.file.name} tiled {TILE}x: {rows[0]['messages']:,} book messages, {rows[0]['events']:,} events")
    print(f"{'reader':<12} {'best wall s':>12} {'events/s':>12} {'best CPU s':>11} {'events/CPU-s':>13} {'peak RSS MiB':>13}")
    for r in rows:
        print(f"{r['phase']:<12} {r['best_wall_s']:>12.3f} {r['events_per_s']:>12,.0f} {r['cpu_s']:>11.3f} "
              f"{r['events_per_cpu_s']:>13,.0f} {r['peak_rss_mib']:>13.1f}")
    print(f"fast / per_message: {rows[0]['events_per_cpu_s'] / rows[1]['events_per_cpu_s']:.1f}x events per CPU-second")


if __name__ == "__main__":
    main()
