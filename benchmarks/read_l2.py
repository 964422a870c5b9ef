"""A Binance diff-depth stream of >= 10 M events through ``obrecon replay`` (the one L2 path): end to
end (process start to Parquet written) beside the replay core, with peak RSS.

The stream is the shipped real capture ``BINANCE.ws.1.0.gz`` of 2021-10-12 (NKNUSDT, 150
``depthUpdate`` diffs after the REST snapshot in ``BINANCE.http.0.0.gz``) tiled: copy ``k`` of the
diffs has its update ids ``U``/``u`` moved by ``k * span`` (``span = u_last - U_first + 1``, so
copy ``k``'s first ``U`` is copy ``k - 1``'s last ``u`` + 1 and the stream stays in sync, no gap),
its event time ``E`` and receive time moved by ``k`` times the capture's duration. The other
symbols' lines are left out; the REST snapshot is the real one. The files are written plain (no
gzip) in a temporary folder, deleted afterwards.

``obrecon replay`` runs as its own process (``os.wait4`` gives its wall time, CPU seconds and peak
RSS, as in ``benchmarks/end_to_end.py``); its ``report.json`` gives the events and the core's
events/s (``events_per_s``: the Replayer's own time). ``--baseline TREE`` runs the same command on
the same files a second time in ``TREE`` (a checkout whose extensions are built, e.g. the main
checkout: ``python -m`` imports the package of the folder it runs in), the old path beside this
tree's in the same run, and says whether the two books are the same. Usage::

    python benchmarks/read_l2.py [--events 10000000] [--chunk-events N] [--dir DIR] [--baseline TREE]
                                 [--format cryptofeed|hftbacktest|tardis] [--symbols one|every] [--out-of-order]
                                 [--venue binance|coinbase|kraken|okx]

``--format hftbacktest`` tiles the shipped hftbacktest USD-M BTCUSDT capture instead, bookTickers
and trades included (:func:`tiled_hftbacktest`), and also compares the two runs' ``ticker_reference``.
``--symbols every`` tiles every symbol's diffs and bookTickers of the cryptofeed capture
(:func:`tiled_symbols`: NKNUSDT, BLZETH, LRCBTC, RUNEEUR on one connection) and replays NKNUSDT
from it, its bookTicker check included; ``--out-of-order`` writes every 10th line of each copy after
the next, so receive times go back (the reader orders them, :func:`tiled_symbols`). ``--venue
coinbase|kraken|okx`` tiles one symbol's snapshot and updates of that venue's shipped capture
instead (:func:`tiled_book`: SKL-USD, XMR/USD, BTC-USDT; a snapshot each copy).
``--format tardis`` tiles the shipped Tardis Deribit BTC-PERPETUAL ``incremental_book_L2`` sample
(:func:`tiled_tardis`: live updates in runs of one timestamp, a snapshot every 1,000th copy).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import polars as pl
from _harness import ROOT, scratch
from end_to_end import timed

DAY = ROOT / "tests" / "fixtures" / "raw" / "cryptofeed" / "2021-10-12"
SYMBOL = "NKNUSDT"
_LINE = re.compile(r'^(\d+)\.(\d+): (.*"E":)(\d+)(,"s":"NKNUSDT","U":)(\d+)(,"u":)(\d+)(,.*)$', re.S)


def _ns(whole: str, frac: str) -> int:
    return int(whole) * 1_000_000_000 + int((frac + "000000000")[:9])


def _stamp(ts: int) -> str:
    """A cryptofeed line's receive-time prefix, ``<seconds>.<9 digits>: ``."""
    return f"{ts // 1_000_000_000}.{ts % 1_000_000_000:09d}: "


def _write_copies(ws_file: Path, head: list[str], copies: int, copy) -> None:
    """``head``, then the lines ``copy(k)`` of each copy ``k``, written to ``ws_file``."""
    with ws_file.open("w", encoding="utf-8") as out:
        out.writelines(head)
        for k in range(copies):
            out.write("".join(copy(k)))


def tiled_capture(folder: Path, events: int) -> tuple[Path, Path, int]:
    """``(ws_file, rest_file, copies)``: the NKNUSDT diffs tiled until the stream holds ``events``."""
    with gzip.open(DAY / "BINANCE.ws.1.0.gz", "rt", encoding="utf-8") as fh:
        ws = fh.read().splitlines(keepends=True)
    with gzip.open(DAY / "BINANCE.http.0.0.gz", "rt", encoding="utf-8") as fh:
        rest = [line for line in fh if f"symbol={SYMBOL}&" in line]
    head = [line for line in ws if not line[0].isdigit()]  # connect / configuration lines
    diffs = [m.groups() for line in ws if (m := _LINE.match(line))]
    levels = sum(len(re.findall(r'\["', d[8])) for d in diffs)  # [price, size] pairs in one copy
    first_u, last_u = int(diffs[0][5]), int(diffs[-1][7])
    span = last_u - first_u + 1
    t0, t1 = _ns(*diffs[0][:2]), _ns(*diffs[-1][:2])
    e0, e1 = int(diffs[0][3]), int(diffs[-1][3])
    dt_ns, de_ms = t1 - t0 + 100_000_000, e1 - e0 + 100
    copies = -(-events // levels)
    ws_file, rest_file = folder / "BINANCE.ws.1.0", folder / "BINANCE.http.0.0"
    _write_copies(ws_file, head, copies, lambda k: [
        f"{_stamp(_ns(whole, frac) + k * dt_ns)}{pre}{int(e) + k * de_ms}{mid}{int(big_u) + k * span}{mid2}"
        f"{int(u) + k * span}{tail}" for whole, frac, pre, e, mid, big_u, mid2, u, tail in diffs])
    rest_file.write_text("".join(rest), encoding="utf-8")
    return ws_file, rest_file, copies


_STAMP = re.compile(r"^(\d+)\.(\d+): ")
_IDS = re.compile(r'"(E|U|u)":(\d+)')
_SYMBOL = re.compile(r'"s":"([A-Z0-9_]+)"')


def tiled_symbols(folder: Path, events: int, out_of_order: bool = False) -> tuple[Path, Path, int]:
    """``(ws_file, rest_file, copies)``: every symbol's ``depthUpdate`` and ``bookTicker`` lines of
    the capture tiled, in receive-time order, until NKNUSDT's stream holds ``events``: copy ``k``
    moves each symbol's update ids ``U``/``u`` (the bookTicker's ``u`` too) by ``k`` times that
    symbol's ``span`` (as :func:`tiled_capture`: each symbol stays in sync), ``E`` and the receive
    time by ``k`` times the capture's duration; the REST snapshots of every symbol are the real ones.
    ``out_of_order``: in each copy every 10th line is written after the line that follows it (its
    receive time later than the next line's)."""
    with gzip.open(DAY / "BINANCE.ws.1.0.gz", "rt", encoding="utf-8") as fh:
        ws = fh.read().splitlines(keepends=True)
    with gzip.open(DAY / "BINANCE.http.0.0.gz", "rt", encoding="utf-8") as fh:
        rest = fh.read()
    head = [line for line in ws if not line[0].isdigit()]
    book = [line for line in ws if line[0].isdigit() and ("@depth" in line or "@bookTicker" in line)]
    spans = {}
    for line in book:
        if "@depth" in line:
            sym, ids = _SYMBOL.search(line)[1], dict(_IDS.findall(line))
            first, last = spans.get(sym, (int(ids["U"]), 0))
            spans[sym] = (first, int(ids["u"]))
    span = {sym: last - first + 1 for sym, (first, last) in spans.items()}
    stamps = [_ns(*_STAMP.match(line).groups()) for line in book]
    dt_ns = stamps[-1] - stamps[0] + 100_000_000
    de_ms = dt_ns // 1_000_000
    # each line as its text around the numbers to move: (pieces, [(field, value)], symbol, time)
    parts = []
    for line, ts in zip(book, stamps):
        body = _STAMP.sub("", line, count=1)
        parts.append((_IDS.split(body)[::3], [(m[1], int(m[2])) for m in _IDS.finditer(body)],
                      _SYMBOL.search(body)[1], ts))
    nkn = sum(line.count('["') for line in book if '"s":"NKNUSDT","U"' in line)
    copies = -(-events // nkn)
    def copy(k: int) -> list[str]:
        lines = []
        for pieces, fields, sym, ts in parts:
            shift = {"E": k * de_ms, "U": k * span.get(sym, 0), "u": k * span.get(sym, 0)}
            text = [_stamp(ts + k * dt_ns), pieces[0]]
            for (name, value), piece in zip(fields, pieces[1:]):
                text.append(f'"{name}":{value + shift[name]}{piece}')
            lines.append("".join(text))
        if out_of_order:
            lines[0:-1:10], lines[1::10] = lines[1::10], lines[0:-1:10]
        return lines

    ws_file, rest_file = folder / "BINANCE.ws.1.0", folder / "BINANCE.http.0.0"
    _write_copies(ws_file, head, copies, copy)
    rest_file.write_text(rest, encoding="utf-8")
    return ws_file, rest_file, copies


#: ``--venue``: the shipped capture, the symbol replayed, how its lines name it and the venue time
#: to move with the receive time (a regex whose group 2 is the time, and its unit)
BOOK_VENUES = {
    "coinbase": (ROOT / "tests" / "fixtures" / "raw" / "cryptofeed" / "2021-04-17" / "COINBASE.ws.28.0.gz", "SKL-USD",
                 '"product_id":"SKL-USD"', re.compile(r'("time":")([^"]+)(Z")'), "iso"),
    "kraken": (ROOT / "tests" / "fixtures" / "raw" / "cryptofeed" / "2021-04-17" / "KRAKEN.ws.50.0.gz", "XMR/USD",
               '"XMR/USD"]', None, None),
    "okx": (ROOT / "tests" / "fixtures" / "raw" / "cryptofeed" / "2022-05-13" / "OKX.ws.1.0.gz", "BTC-USDT",
            '"channel":"books","instId":"BTC-USDT"', re.compile(r'("ts":")(\d+)(")'), "ms"),
}


def tiled_book(folder: Path, venue: str, events: int) -> tuple[Path, int]:
    """``(ws_file, copies)``: the ``--venue`` capture's book lines of its symbol (:data:`BOOK_VENUES`;
    its snapshot and updates) tiled until they hold ``events`` levels: copy ``k`` moves the receive
    time and the venue time (Coinbase ``time``, OKX ``ts``; Kraken has none) by ``k`` times the
    capture's duration, so each copy starts with the symbol's snapshot (the book resyncs, checksums
    verify) and receive times stay in order. Written plain under the capture's name."""
    path, _, named, venue_time, unit = BOOK_VENUES[venue]
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        text = fh.read().splitlines(keepends=True)
    head = [line for line in text if not line[0].isdigit()]
    book = [line for line in text if line[0].isdigit() and named in line]
    levels = sum(line.count('["') for line in book)
    stamps = [_ns(*_STAMP.match(line).groups()) for line in book]
    bodies = [_STAMP.sub("", line, count=1) for line in book]
    dt_ns = stamps[-1] - stamps[0] + 100_000_000
    copies = -(-events // levels)

    def shifted(body: str, k: int) -> str:
        if venue_time is None:
            return body
        def move(m):
            if unit == "ms":
                return f"{m[1]}{int(m[2]) + k * dt_ns // 1_000_000}{m[3]}"
            t = np.datetime64(m[2], "ns") + np.timedelta64(k * dt_ns, "ns")
            return f"{m[1]}{np.datetime_as_string(t, unit='us')}{m[3]}"
        return venue_time.sub(move, body, count=1)

    ws_file = folder / path.name.removesuffix(".gz")
    _write_copies(ws_file, head, copies, lambda k: [
        f"{_stamp(ts + k * dt_ns)}{shifted(body, k)}" for ts, body in zip(stamps, bodies)])
    return ws_file, copies


HFTBACKTEST = ROOT / "data" / "raw" / "hftbacktest" / "2024-08-08" / "usdm_btcusdt_20240808.gz"
_SHIFTED = re.compile(rb'"(U|u|pu|E|T)":(\d+)')


def tiled_hftbacktest(folder: Path, events: int) -> tuple[Path, int]:
    """``(file, copies)``: the shipped hftbacktest USD-M BTCUSDT capture (diffs, bookTickers, trades)
    tiled until its diffs hold ``events`` levels: copy ``k`` has its update ids ``U``/``u``/``pu``
    moved by ``k * span`` (``span = u_last - pu_first``, so copy ``k``'s first ``pu`` is copy
    ``k - 1``'s last ``u``: the stream stays in sync), ``E``/``T`` (ms) and receive times moved by
    ``k`` times the capture's duration; the REST snapshot only in copy 0. Written with gzip level 1
    under the collector's name."""
    with gzip.open(HFTBACKTEST, "rb") as fh:
        lines = fh.read().splitlines(keepends=True)
    depth = [line for line in lines if b"@depth" in line]
    levels = sum(line.count(b'["') for line in depth)
    first_pu = int(re.search(rb'"pu":(\d+)', depth[0])[1])
    span = int(re.search(rb',"u":(\d+)', depth[-1])[1]) - first_pu
    t0, t1 = int(lines[0].split(b" ", 1)[0]), int(lines[-1].split(b" ", 1)[0])
    dt_ns = t1 - t0 + 100_000_000
    de_ms = dt_ns // 1_000_000
    copies = -(-events // levels)
    out_file = folder / HFTBACKTEST.name
    with gzip.open(out_file, "wb", compresslevel=1) as out:
        for k in range(copies):
            shift = {b"U": k * span, b"u": k * span, b"pu": k * span, b"E": k * de_ms, b"T": k * de_ms}
            part = []
            for line in lines:
                if k and b"lastUpdateId" in line:
                    continue
                ts, body = line.split(b" ", 1)
                body = _SHIFTED.sub(lambda m: b'"%s":%d' % (m[1], int(m[2]) + shift[m[1]]), body)
                part.append(b"%d %s" % (int(ts) + k * dt_ns, body))
            out.write(b"".join(part))
    return out_file, copies


TARDIS = ROOT / "tests" / "fixtures" / "raw" / "tardis" / "2020-04-01" / "tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv"
#: copies of the Tardis sample written at a time
_TARDIS_COPIES = 1 << 16


def tiled_tardis(folder: Path, events: int) -> tuple[Path, int]:
    """``(file, copies)``: the Tardis sample (one snapshot of 15 asks at one timestamp) tiled until
    it holds ``events`` rows: copy ``k`` moves ``timestamp`` and ``local_timestamp`` by ``k``
    seconds, its row ``i`` further by ``i // 3`` µs (live updates of 3 rows at one timestamp), and
    is a snapshot again (``is_snapshot`` true, one timestamp: a reconnect) when ``k`` is a multiple
    of 1,000, else live rows. Written plain under the sample's name."""
    base = pl.read_csv(TARDIS, infer_schema=False).with_row_index("i")
    copies = -(-events // base.height)
    out_file = folder / TARDIS.name
    with out_file.open("wb") as out:
        out.write((",".join(base.columns[1:]) + "\n").encode())
        for lo in range(0, copies, _TARDIS_COPIES):
            k = pl.DataFrame({"k": range(lo, min(lo + _TARDIS_COPIES, copies))}, schema={"k": pl.Int64})
            snap = pl.col("k") % 1000 == 0
            shift = pl.col("k") * 1_000_000 + pl.when(snap).then(0).otherwise(pl.col("i").cast(pl.Int64) // 3)
            k.join(base, how="cross").select(
                "exchange", "symbol",
                timestamp=(pl.col("timestamp").cast(pl.Int64) + shift).cast(pl.String),
                local_timestamp=(pl.col("local_timestamp").cast(pl.Int64) + shift).cast(pl.String),
                is_snapshot=pl.when(snap).then(pl.lit("true")).otherwise(pl.lit("false")),
                side="side", price="price", amount="amount",
            ).write_csv(out, include_header=False)
    return out_file, copies


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=10_000_000)
    p.add_argument("--chunk-events", type=int, default=1 << 18)
    p.add_argument("--dir", default=None, help="scratch directory (default: the system's temporary directory)")
    p.add_argument("--baseline", default=None, help="a built checkout to run the same command with (the old path)")
    p.add_argument("--format", choices=("cryptofeed", "hftbacktest", "tardis"), default="cryptofeed",
                   help="the tiled capture: cryptofeed NKNUSDT (tiled_capture), hftbacktest USD-M BTCUSDT with "
                        "bookTickers (tiled_hftbacktest) or Tardis Deribit BTC-PERPETUAL incremental_book_L2 "
                        "(tiled_tardis)")
    p.add_argument("--symbols", choices=("one", "every"), default="one",
                   help="cryptofeed: NKNUSDT's lines only (tiled_capture) or every symbol's diffs and bookTickers "
                        "(tiled_symbols), NKNUSDT replayed")
    p.add_argument("--venue", choices=("binance", *BOOK_VENUES), default="binance",
                   help="cryptofeed: the Binance capture, or a Coinbase, Kraken or OKX one (tiled_book: one "
                        "symbol's snapshot and updates, --symbols one)")
    p.add_argument("--out-of-order", action="store_true",
                   help="--symbols every: every 10th line of each copy written after the next (receive times out of order)")
    args = p.parse_args()
    tmp = scratch("obrecon-l2-", args.dir)
    runs = []
    try:
        if args.format == "cryptofeed" and args.venue != "binance":
            ws_file, copies = tiled_book(tmp, args.venue, args.events)
            symbol = BOOK_VENUES[args.venue][1]
            inputs, what = [str(ws_file), "--symbol", symbol], f"{args.venue.upper()} {symbol} snapshot + updates"
        elif args.format == "cryptofeed":
            if args.symbols == "every":
                ws_file, rest_file, copies = tiled_symbols(tmp, args.events, args.out_of_order)
            else:
                ws_file, rest_file, copies = tiled_capture(tmp, args.events)
            inputs, what = [str(ws_file), str(rest_file), "--symbol", SYMBOL], f"BINANCE {SYMBOL} diff depth"
            if args.symbols == "every":
                what += " among every symbol's diffs and bookTickers" + (", every 10th line late" if args.out_of_order else "")
        elif args.format == "hftbacktest":
            ws_file, copies = tiled_hftbacktest(tmp, args.events)
            inputs, what = [str(ws_file)], "hftbacktest USD-M BTCUSDT diff depth + bookTickers"
        else:
            ws_file, copies = tiled_tardis(tmp, args.events)
            inputs, what = [str(ws_file)], "Tardis Deribit BTC-PERPETUAL incremental_book_L2"
        size = ws_file.stat().st_size
        for label, tree in (("this tree", None), (f"baseline {args.baseline}", args.baseline)):
            if label != "this tree" and tree is None:
                continue
            out, report = tmp / "book.parquet", tmp / "report.json"
            r = timed([sys.executable, "-m", "obrecon_pipeline.cli", "replay", "--format", args.format, *inputs,
                       "--out", str(out), "--report", str(report), "--chunk-events", str(args.chunk_events)],
                      cwd=tree or ROOT)
            rep = json.loads(report.read_text())
            rep = rep["streams"][next(iter(rep["streams"]))] if "streams" in rep else rep
            runs.append((label, r, rep, pl.read_parquet(out).hash_rows().sum()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep = runs[0][2]
    n = rep["events"]
    print(f"{what}, {copies:,} copies of the real capture: {n:,} events, {rep['rows']:,} book rows, "
          f"{size / 1e6:,.0f} MB capture; gaps {rep['gaps']}, invalid rows {rep['invalid_rows']}; "
          f"--chunk-events {args.chunk_events:,}; tickers {rep.get('ticker_reference')}")
    print(f"{'obrecon replay --format ' + args.format:<34} {'end-to-end ev/s':>16} {'core ev/s':>12} {'ev/CPU-s':>10} "
          f"{'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13}")
    for label, r, rep, _ in runs:
        print(f"{label:<34} {n / r['wall_s']:>16,.0f} {rep['events_per_s']:>12,.0f} "
              f"{n / r['cpu_s']:>10,.0f} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} {r['peak_rss_mib']:>13,.0f}")
    if len(runs) > 1:
        same = runs[0][3] == runs[1][3] and all(runs[0][2].get(k) == runs[1][2].get(k)
                                                for k in ("events", "ticker_reference"))
        print(f"books identical (row hashes) and same events: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
