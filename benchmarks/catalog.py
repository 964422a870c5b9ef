"""The catalog of the landing zone on a simulated year: what a sensor tick costs with nothing new,
with one new small file and with one new capture, beside the single-table catalog it replaces
(today's code before the split, run from git) on the same tree in the same run.

The simulated landing zone (``--days`` consecutive days from 2023-01-01, default 365) holds per day
149 small valid files made from the first lines of shipped files (``data/raw``): for cryptofeed
the first 60 lines of 15 venues' websocket captures (:data:`CAPTURES`), 2 REST captures and a
README; 50 LOBSTER level-10 message + orderbook CSVs; 20 Tardis incremental CSVs and a README; 10
Bybit history zips: 54,385 files for a year. Phases, each in its own subprocess (peak RSS its own):

* ``ref-build``: the reference catalog's first refresh (``obrecon_pipeline/catalog.py`` of
  ``--baseline``, default the last commit that had it; every file hashed and read by its feed's
  ``holds``), in ``.obrecon/reference-catalog``;
* ``migrate``: the reference tables copied to ``.obrecon/catalog`` and opened by this tree's catalog
  (the single-table layout migrated, nothing read) plus its first tick (every day folder listed once);
* ``ref-tick`` / ``tick``: a sensor tick with nothing new (load, refresh, the data versions; this
  tree's is the sensor's rolling walk, ``refresh(full=False)``), best of ``--repeat``; ``full``:
  this tree's full pass (``obrecon catalog refresh``);
* ``ref-new-lobster`` / ``new-lobster``, ``ref-new-capture`` / ``new-capture``: a tick after one new
  file landed in an existing day (the middle one, :func:`_middle_day`): a LOBSTER zip (its central directory read) or a
  213 KB cryptofeed capture (read whole, see :func:`obrecon_pipeline.feeds.cryptofeed.book_symbols`),
  beside the time of that file's ``holds`` and hash alone (best of ``--repeat``; the file is
  removed again, and a tick run, between repeats).

Usage::

    python benchmarks/catalog.py [--days 365] [--dir DIR [--reuse]] [--repeat 5] [--baseline REF]

``--reuse`` keeps the simulated zone and both catalogs in ``DIR`` from an earlier run (built when
missing), so a rerun costs the ticks alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import ROOT, best_of, emit, in_subprocess, peak_rss_mib  # noqa: E402

SHIPPED = ROOT / "data" / "raw"
PHASES = ("ref-build", "migrate", "ref-tick", "tick", "full", "ref-new-lobster", "new-lobster", "ref-new-capture",
          "new-capture")
OLD = "obrecon_pipeline/catalog.py"  # the single-table catalog, before the split into a package


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
    """Write the simulated landing zone under ``raw``; the number of files. Every file and day
    folder gets its day's date (23:00 UTC) as modification time, as if it had landed then: a
    zone written a minute ago would be all recent, and every tick would list it whole."""
    t, n = _templates(), 0
    start = dt.date(2023, 1, 1)
    for k in range(days):
        day = start + dt.timedelta(days=k)
        landed = int(dt.datetime(day.year, day.month, day.day, 23, tzinfo=dt.timezone.utc).timestamp()) * 10**9
        for rel, data in _day_files(day.isoformat(), t).items():
            path = raw / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.utime(path, ns=(landed, landed))
            n += 1
        for source in ("cryptofeed", "lobster", "tardis", "bybit"):
            os.utime(raw / source / day.isoformat(), ns=(landed, landed))
    return n


def _middle_day(raw: Path) -> str:
    """The simulated day the new file lands in: its month's tables are rewritten."""
    days = sorted(os.listdir(raw / "lobster"))
    return days[len(days) // 2]


def _baseline() -> str:
    """The last commit that had the single-table ``catalog.py`` (the parent of the one that removed it)."""
    removed = subprocess.run(["git", "rev-list", "-1", "HEAD", "--", OLD], check=True, capture_output=True, text=True,
                             cwd=ROOT).stdout.strip()
    probe = subprocess.run(["git", "cat-file", "-e", f"{removed}:{OLD}"], cwd=ROOT, capture_output=True)
    return removed if probe.returncode == 0 else f"{removed}^"


def _reference_module(base: Path, ref: str):
    """``catalog.py`` of ``ref`` as a module (it imports this tree's feeds, streams and atomic)."""
    path = base / "reference_catalog.py"
    path.write_text(subprocess.run(["git", "show", f"{ref}:{OLD}"], check=True, capture_output=True, text=True,
                                   cwd=ROOT).stdout)
    spec = importlib.util.spec_from_file_location("reference_catalog", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _ticker(raw: Path, reference):
    """A sensor tick: the reference catalog's (in ``.obrecon/reference-catalog``) or this tree's rolling walk."""
    if reference is not None:
        home = raw.parent / ".obrecon" / "reference-catalog"

        def tick():
            catalog = reference.Catalog(raw, home)
            catalog.refresh()
            return catalog, catalog.versions()
    else:
        from obrecon_pipeline.catalog import Catalog

        def tick():
            catalog = Catalog(raw)
            catalog.refresh(full=False)
            return catalog, catalog.versions()
    return tick


def _new_file(raw: Path, tick, rel: str, data: bytes, repeat: int) -> dict:
    """Best tick after ``rel`` landed (removed again after each), and its ``holds`` and hash alone."""
    from obrecon_pipeline.catalog import file_sha256
    from obrecon_pipeline.feeds import get_feed

    path = raw / rel
    best, cpu, read = float("inf"), float("inf"), None
    for _ in range(repeat):
        path.write_bytes(data)
        t0, c0 = time.perf_counter(), time.process_time()
        catalog, _ = tick()
        best, cpu = min(best, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
        read = [p.relative_to(raw).as_posix() for p in catalog.read]
        path.unlink()
        tick()
    path.write_bytes(data)
    source, day = rel.split("/")[:2]
    stamp = iter(range(10**9, 2 * 10**9))

    def holds():
        os.utime(path, ns=(next(stamp),) * 2)  # a new stamp: no parse cached by (path, size, mtime)
        return get_feed(source).holds(path, day)

    holds_s, held = best_of(holds, repeat)
    sha_s, _ = best_of(lambda: file_sha256(path), repeat)
    path.unlink()
    tick()
    return {"best_wall_s": best, "best_cpu_s": cpu, "read": read, "holds_s": holds_s, "sha256_s": sha_s, "bytes": len(data),
            "streams": len(held)}


def run_phase(phase: str, raw: Path, repeat: int, baseline: str) -> dict:
    cpu = time.process_time
    reference = _reference_module(raw.parent, baseline) if phase.startswith("ref-") else None
    tick = _ticker(raw, reference)
    if phase == "ref-build":
        shutil.rmtree(raw.parent / ".obrecon" / "reference-catalog", ignore_errors=True)
        c0 = cpu()
        wall, (catalog, versions) = best_of(tick, 1)
        row = {"best_wall_s": wall, "best_cpu_s": cpu() - c0, "streams": len(versions), "files": catalog.files.height,
               "read": len(catalog.read)}
    elif phase == "migrate":
        home = raw.parent / ".obrecon" / "catalog"
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(raw.parent / ".obrecon" / "reference-catalog", home)
        c0 = cpu()
        wall, (catalog, versions) = best_of(tick, 1)
        row = {"best_wall_s": wall, "best_cpu_s": cpu() - c0, "streams": len(versions), "files": catalog.files.height,
               "read": len(catalog.read)}
    elif phase in ("ref-tick", "tick", "full"):
        if phase == "full":
            from obrecon_pipeline.catalog import Catalog

            def tick():
                catalog = Catalog(raw)
                catalog.refresh()
                return catalog, catalog.versions()
        wall, (catalog, versions) = best_of(tick, repeat)
        row = {"best_wall_s": wall, "best_cpu_s": best_of(tick, repeat, cpu)[0], "streams": len(versions),
               "files": catalog.files.height, "read": len(catalog.read)}
    else:
        day = _middle_day(raw)
        if phase.endswith("new-lobster"):
            name = f"NEW_{day}_34200000_57600000_message_10.csv"
            rel, data = f"lobster/{day}/LOBSTER_SampleFile_NEW_{day}_10.zip", _zip(name, _templates()["message"])
        else:
            rel, data = f"cryptofeed/{day}/KRAKEN.ws.9.0.gz", (SHIPPED / "cryptofeed" / "2021-04-17" / "KRAKEN.ws.50.0.gz").read_bytes()
        row = _new_file(raw, tick, rel, data, repeat)
    return {"phase": phase, **row, "peak_rss_mib": peak_rss_mib()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--dir", type=Path, help="where the simulated data root goes (default: a temporary folder, removed)")
    p.add_argument("--reuse", action="store_true", help="keep and reuse the simulated zone and catalogs in --dir")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--baseline", help="git ref of the reference catalog.py (default: the last commit that had it)")
    p.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    p.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.reuse and args.dir is None:
        p.error("--reuse needs --dir")
    baseline = args.baseline or _baseline()
    if args.phase:
        emit(run_phase(args.phase, args.raw, args.repeat, baseline))
        return
    base = args.dir or Path(tempfile.mkdtemp(prefix="obrecon-catalog-"))
    raw, marker = base / "sim" / "raw", base / "sim" / "simulated.json"
    try:
        made = json.loads(marker.read_text()) if marker.exists() else {}
        reused = args.reuse and made.get("days") == args.days and made.get("aged", False)
        if reused:
            n = made["files"]
            print(f"reusing the simulated landing zone: {n:,} files over {args.days} days ({raw})")
        else:
            shutil.rmtree(base / "sim", ignore_errors=True)
            t0 = time.perf_counter()
            n = simulate(raw, args.days)
            print(f"simulated landing zone: {n:,} files over {args.days} days in {time.perf_counter() - t0:.1f} s ({raw})")
        built = reused and (base / "sim" / ".obrecon" / "reference-catalog" / "files.parquet").exists()
        phases = [ph for ph in PHASES if not (built and ph == "ref-build")]
        rows = [in_subprocess(__file__, "--phase", ph, "--raw", raw, "--repeat", args.repeat, "--baseline", baseline)
                for ph in phases]
        if not built:
            marker.write_text(json.dumps({"days": args.days, "files": n, "aged": True}))
        _print(rows, f"simulated landing zone ({n:,} files, {args.days} days); reference: {OLD} of {baseline}")
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)


def _print(rows: list[dict], title: str) -> None:
    print(f"\n{title}")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall time includes waiting for a CPU; CPU s is this process's)")
    print(f"{'phase':<16} {'wall s':>9} {'CPU s':>8} {'streams':>8} {'files read':>11} {'peak RSS MiB':>13}  detail")
    by = {r["phase"]: r for r in rows}
    for r in rows:
        read = r["read"] if isinstance(r.get("read"), int) else len(r.get("read", []))
        ref = by.get(f"ref-{r['phase']}")
        detail = ""
        if r["phase"].startswith(("new-", "ref-new-")):
            detail = (f"{r['read']}: holds {r['holds_s'] * 1e3:.2f} ms + sha256 {r['sha256_s'] * 1e3:.2f} ms "
                      f"of {r['bytes']:,} bytes")
        if ref is not None:
            detail += (f"; {ref['best_wall_s'] / r['best_wall_s']:.1f}x faster than the reference in wall time, "
                       f"{ref['best_cpu_s'] / r['best_cpu_s']:.1f}x in CPU time")
        print(f"{r['phase']:<16} {r['best_wall_s']:>9.4f} {r['best_cpu_s']:>8.4f} {r.get('streams', ''):>8} {read:>11} "
              f"{r['peak_rss_mib']:>13.1f}  {detail}")
    if "ref-tick" in by and by["ref-tick"]["streams"] != by["tick"]["streams"]:
        print(f"MISMATCH: the catalog lists {by['tick']['streams']} stream-days, the reference {by['ref-tick']['streams']}")


if __name__ == "__main__":
    main()
