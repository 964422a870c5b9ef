"""The catalog of the landing zone on a simulated year: what a sensor tick costs with nothing new
and with one new file, beside discovery without a catalog on the same tree.

The simulated landing zone (``--days`` consecutive days from 2023-01-01, default 365) holds per day
149 small valid files made from the first lines of shipped files (``data/raw``): for cryptofeed
the first 60 lines of 15 venues' websocket captures (:data:`CAPTURES`), 2 REST captures and a
README; 50 LOBSTER level-10 message + orderbook CSVs; 20 Tardis incremental CSVs and a README; 10
Bybit history zips: 54,385 files for a year. Phases, each in its own subprocess (peak RSS its own):

* ``reference``: discovery without a catalog, as ``discover_streams`` did before it: every feed's
  ``discover`` over every day folder (a tick also hashed the files, from a cache; not counted;
  run twice: once for wall time, once for CPU time);
* ``build``: the first refresh, every file new (hashed, and read by its feed's ``holds``);
* ``tick``: a sensor tick with nothing new: load the catalog, refresh, the data versions
  (best of ``--repeat``);
* ``new-lobster`` / ``new-capture``: a tick after one new file landed (a LOBSTER zip: its
  central directory is read; a cryptofeed capture: read whole, see
  :func:`obrecon_pipeline.feeds.cryptofeed.book_symbols`), beside the time of that file's
  ``holds`` and hash alone (best of ``--repeat``; the file is removed again between repeats).

Usage::

    python benchmarks/catalog.py [--days 365] [--dir DIR] [--repeat 5]

Then the same ``reference`` and ``tick`` on a copy of the shipped landing zone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import ROOT, best_of, emit, in_subprocess, peak_rss_mib  # noqa: E402

SHIPPED = ROOT / "data" / "raw"
PHASES = ("reference", "build", "tick", "new-lobster", "new-capture")
NEW_DAY = "2022-12-31"  # a day before the simulated year: the new file's folder


def _head(path: Path, lines: int) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return b"".join(fh.readline() for _ in range(lines))


#: websocket captures (venue, shipped day, file) whose first lines make the simulated ones
CAPTURES = (("BINANCE", "2021-10-12", "BINANCE.ws.1.0.gz"), ("BINANCE_US", "2021-10-12", "BINANCE_US.ws.1.0.gz"),
            ("BINANCE_FUTURES", "2021-07-22", "BINANCE_FUTURES.ws.1.0.gz"),
            ("BINANCE_DELIVERY", "2021-07-22", "BINANCE_DELIVERY.ws.1.0.gz"), ("KRAKEN", "2021-04-17", "KRAKEN.ws.50.0.gz"),
            ("COINBASE", "2021-04-17", "COINBASE.ws.28.0.gz"), ("OKX", "2022-05-13", "OKX.ws.1.0.gz"),
            ("GEMINI", "2021-06-24", "GEMINI.ws.1.0.gz"), ("BITSTAMP", "2022-01-05", "BITSTAMP.ws.1.0.gz"),
            ("KUCOIN", "2021-04-25", "KUCOIN.ws.1.0.gz"), ("GATEIO", "2021-04-22", "GATEIO.ws.1.0.gz"),
            ("BITMEX", "2021-07-22", "BITMEX.ws.1.0.gz"), ("DERIBIT", "2021-07-22", "DERIBIT.ws.1.0.gz"),
            ("POLONIEX", "2022-08-21", "POLONIEX.ws.1.0.gz"), ("DYDX", "2021-10-28", "DYDX.ws.1.0.gz"))


def _templates() -> dict[str, bytes]:
    crypto = SHIPPED / "cryptofeed"
    gz = lambda data: gzip.compress(data, mtime=0)  # noqa: E731
    t = {name: gz(_head(crypto / day / ws, 60)) for name, day, ws in CAPTURES}
    t.update({
        "BINANCE.http": gz(_head(crypto / "2021-10-12" / "BINANCE.http.0.0.gz", 2)),
        "BINANCE_US.http": gz(_head(crypto / "2021-10-12" / "BINANCE_US.http.0.0.gz", 2)),
        "message": _head(SHIPPED / "lobster" / "2012-06-21" / "AAPL_2012-06-21_34200000_57600000_message_10.csv.gz", 20),
        "orderbook": _head(SHIPPED / "lobster" / "2012-06-21" / "AAPL_2012-06-21_34200000_57600000_orderbook_10.csv.gz", 20),
        "tardis": _head(SHIPPED / "tardis" / "2020-04-01" / "tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv", 6),
        "readme": b"simulated landing zone for benchmarks/catalog.py\n",
    })
    with zipfile.ZipFile(SHIPPED / "bybit" / "2024-12-01" / "xrpusdt-ob500.data.zip") as zf:
        t["bybit"] = b"".join(zf.open(zf.namelist()[0]).readline() for _ in range(3))
    return t


def _zip(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


def _day_files(day: str, t: dict[str, bytes]) -> dict[str, bytes]:
    """``{"<source>/<day>/<file>": bytes}`` of one simulated day (149 files)."""
    files = {}
    for venue, _, _ in CAPTURES:
        files[f"cryptofeed/{day}/{venue}.ws.1.0.gz"] = t[venue]
    files[f"cryptofeed/{day}/BINANCE.http.0.0.gz"] = t["BINANCE.http"]
    files[f"cryptofeed/{day}/BINANCE_US.http.0.0.gz"] = t["BINANCE_US.http"]
    files[f"cryptofeed/{day}/README.md"] = t["readme"]
    for i in range(50):
        for kind in ("message", "orderbook"):
            files[f"lobster/{day}/T{i:02d}_{day}_34200000_57600000_{kind}_10.csv"] = t[kind]
    for i in range(20):
        files[f"tardis/{day}/tardis_deribit_incremental_book_L2_SYM{i:02d}-PERPETUAL.csv"] = t["tardis"]
    files[f"tardis/{day}/README.md"] = t["readme"]
    for i in range(10):
        name = f"{day}_SYM{i:02d}USDT_ob500.data"
        files[f"bybit/{day}/{name}.zip"] = _zip(name, t["bybit"])
    return files


def simulate(raw: Path, days: int) -> int:
    """Write the simulated landing zone under ``raw``; the number of files."""
    t, n = _templates(), 0
    start = dt.date(2023, 1, 1)
    for k in range(days):
        for rel, data in _day_files((start + dt.timedelta(days=k)).isoformat(), t).items():
            path = raw / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            n += 1
    return n


def _discover_without_catalog(raw: Path) -> list:
    from obrecon_pipeline.catalog import DAY_RE
    from obrecon_pipeline.feeds import FEEDS, load_builtin_feeds

    load_builtin_feeds()
    streams = []
    for source_dir in sorted(p for p in raw.iterdir() if p.is_dir() and p.name in FEEDS):
        for day_dir in sorted(p for p in source_dir.iterdir() if p.is_dir() and DAY_RE.match(p.name)):
            streams.extend(FEEDS[source_dir.name].discover(day_dir, day_dir.name))
    return streams


def _tick(raw: Path):
    from obrecon_pipeline.catalog import Catalog

    catalog = Catalog(raw)
    catalog.refresh()
    return catalog, catalog.versions()


def _new_file(raw: Path, rel: str, data: bytes, repeat: int) -> dict:
    """Best tick after ``rel`` landed (removed again after each), and its ``holds`` and hash alone."""
    from obrecon_pipeline.catalog import file_sha256
    from obrecon_pipeline.feeds import get_feed

    path = raw / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    best, cpu, read = float("inf"), float("inf"), None
    for _ in range(repeat):
        path.write_bytes(data)
        os.utime(path)
        t0, c0 = time.perf_counter(), time.process_time()
        catalog, _ = _tick(raw)
        best, cpu = min(best, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
        read = [p.relative_to(raw).as_posix() for p in catalog.read]
        path.unlink()
        _tick(raw)
    path.write_bytes(data)
    source, day = rel.split("/")[:2]
    stamp = iter(range(10**9, 2 * 10**9))

    def holds():
        os.utime(path, ns=(next(stamp),) * 2)  # a new stamp: no parse cached by (path, size, mtime)
        return get_feed(source).holds(path, day)

    holds_s, held = best_of(holds, repeat)
    sha_s, _ = best_of(lambda: file_sha256(path), repeat)
    path.unlink()
    _tick(raw)
    return {"best_wall_s": best, "best_cpu_s": cpu, "read": read, "holds_s": holds_s, "sha256_s": sha_s, "bytes": len(data),
            "streams": len(held)}


def run_phase(phase: str, raw: Path, repeat: int) -> dict:
    cpu = time.process_time
    if phase == "reference":
        wall, streams = best_of(lambda: _discover_without_catalog(raw), 1)
        row = {"best_wall_s": wall, "best_cpu_s": best_of(lambda: _discover_without_catalog(raw), 1, cpu)[0],
               "streams": len(streams)}
    elif phase == "build":
        shutil.rmtree(raw.parent / ".obrecon", ignore_errors=True)
        c0 = cpu()
        wall, (catalog, versions) = best_of(lambda: _tick(raw), 1)
        row = {"best_wall_s": wall, "best_cpu_s": cpu() - c0, "streams": len(catalog.streams()),
               "files": catalog.files.height, "read": len(catalog.read)}
    elif phase == "tick":
        wall, (catalog, versions) = best_of(lambda: _tick(raw), repeat)
        row = {"best_wall_s": wall, "best_cpu_s": best_of(lambda: _tick(raw), repeat, cpu)[0], "streams": len(versions),
               "files": catalog.files.height, "read": len(catalog.read)}
    else:
        t = _templates()
        if phase == "new-lobster":
            name = f"NEW_{NEW_DAY}_34200000_57600000_message_10.csv"
            rel, data = f"lobster/{NEW_DAY}/LOBSTER_SampleFile_NEW_{NEW_DAY}_10.zip", _zip(name, t["message"])
        else:
            rel, data = f"cryptofeed/{NEW_DAY}/KRAKEN.ws.9.0.gz", (SHIPPED / "cryptofeed" / "2021-04-17" / "KRAKEN.ws.50.0.gz").read_bytes()
        row = _new_file(raw, rel, data, repeat)
    return {"phase": phase, **row, "peak_rss_mib": peak_rss_mib()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--dir", type=Path, help="where the simulated data root goes (default: a temporary folder, removed)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    p.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.phase:
        emit(run_phase(args.phase, args.raw, args.repeat))
        return
    base = args.dir or Path(tempfile.mkdtemp(prefix="obrecon-catalog-"))
    try:
        t0 = time.perf_counter()
        n = simulate(base / "sim" / "raw", args.days)
        print(f"simulated landing zone: {n:,} files over {args.days} days in {time.perf_counter() - t0:.1f} s "
              f"({base / 'sim' / 'raw'})")
        rows = [in_subprocess(__file__, "--phase", ph, "--raw", base / "sim" / "raw", "--repeat", args.repeat) for ph in PHASES]
        _print(rows, f"simulated landing zone ({n:,} files, {args.days} days)")
        shutil.copytree(SHIPPED, base / "shipped" / "raw")
        rows = [in_subprocess(__file__, "--phase", ph, "--raw", base / "shipped" / "raw", "--repeat", args.repeat)
                for ph in ("reference", "build", "tick")]
        _print(rows, "shipped landing zone (data/raw)")
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)


def _print(rows: list[dict], title: str) -> None:
    print(f"\n{title}")
    print(f"{'phase':<12} {'wall s':>10} {'CPU s':>8} {'streams':>8} {'files read':>11} {'peak RSS MiB':>13}  detail")
    ref = rows[0]["best_wall_s"]
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall time includes waiting for a CPU; CPU s is this process's)")
    if rows[0]["streams"] != rows[1]["streams"]:
        print(f"MISMATCH: the catalog lists {rows[1]['streams']} streams, discovery {rows[0]['streams']}")
    for r in rows:
        read = r["read"] if isinstance(r.get("read"), int) else len(r.get("read", []))
        detail = (f"{ref / r['best_wall_s']:,.0f}x faster than reference in wall time, "
                  f"{rows[0]['best_cpu_s'] / r['best_cpu_s']:,.0f}x in CPU time") if r["phase"] == "tick" else ""
        if r["phase"].startswith("new-"):
            detail = (f"{r['read']}: holds {r['holds_s'] * 1e3:.2f} ms + sha256 {r['sha256_s'] * 1e3:.2f} ms "
                      f"of {r['bytes']:,} bytes; the rest is the listing")
        print(f"{r['phase']:<12} {r['best_wall_s']:>10.4f} {r['best_cpu_s']:>8.4f} {r.get('streams', ''):>8} {read:>11} "
              f"{r['peak_rss_mib']:>13.1f}  {detail}")


if __name__ == "__main__":
    main()
