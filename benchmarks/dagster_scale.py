"""Dagster at any size: a simulated LOBSTER level-10 day materialized through the ``reconstruct`` job
(every asset and every check), with the peak RSS and the wall time of each step.

The day is written once with :func:`obrecon_pipeline.simulate.simulate_day` into a fresh data root
(``--dir``, deleted afterwards); the job then runs in a child process (``assets.execution.execute_uncaptured``
on an ephemeral instance, the steps one after another as ``assets.materialize`` runs them) while a thread
samples the child's resident set size every 50 ms. Each step's wall time comes from its
``STEP_START``/``STEP_SUCCESS`` events, its peak RSS is the largest sample inside that window; the
process's own ``ru_maxrss`` is the overall peak. Beside it, in the same run, the reference: the
CLI's ``obrecon replay`` of the same day (process start to Parquet written, ``os.wait4``), the core
path alone. Target: the whole job under 2 GB peak RSS at 50 M events.

Usage: ``python benchmarks/dagster_scale.py [--events 50M] [--dir DIR] [--keep]`` (``--keep``: the
data root, with the warehouse the job wrote, is left in place for profiling single steps)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _harness import ROOT, scratch

KEY = "lobster/SIM-L10/{day}"
DAY = "2024-01-02"

CHILD = r"""
import json, os, resource, sys, threading, time, warnings
warnings.simplefilter("ignore")
samples = []
def sample():
    page = os.sysconf("SC_PAGE_SIZE")
    while True:
        with open("/proc/self/statm") as fh:
            samples.append((time.time(), int(fh.read().split()[1]) * page))
        time.sleep(0.05)
threading.Thread(target=sample, daemon=True).start()
import dagster as dg
from assets.definitions import defs
from assets.execution import execute_uncaptured
from assets.partitions import partition_key, register
key = sys.argv[1]
instance = dg.DagsterInstance.ephemeral()
register(instance, [key])
t0 = time.time()
result = execute_uncaptured(defs.resolve_job_def("reconstruct"), partition_key(key), instance,
                            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}})
wall = time.time() - t0
starts, steps = {}, []
for entry in instance.all_logs(result.run_id):
    e = entry.dagster_event
    if e is None:
        continue
    if e.event_type_value == "STEP_START":
        starts[e.step_key] = entry.timestamp
    elif e.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and e.step_key in starts:
        lo, hi = starts[e.step_key], entry.timestamp
        peak = max((r for t, r in samples if lo <= t <= hi), default=0)
        steps.append({"step": e.step_key, "wall_s": hi - lo, "peak_rss_mib": peak / 2**20,
                      "ok": e.event_type_value == "STEP_SUCCESS"})
failures = [e.event_specific_data.error.message.strip().splitlines()[0] for e in result.all_events if e.is_step_failure]
checks = result.get_asset_check_evaluations() if result.success else []
print(json.dumps({"success": result.success, "wall_s": wall, "steps": steps,
                  "checks": len(checks), "failures": failures,
                  "checks_not_passed": [c.check_name for c in checks if not c.passed], "checks_passed": sum(c.passed for c in checks),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _count(text: str) -> int:
    return int(float(text[:-1]) * 1_000_000) if text.upper().endswith("M") else int(text)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", default="50M", help="events of the simulated day (50M, 10M, 2000000, ...)")
    p.add_argument("--dir", type=Path, default=None, help="where to put the data root (default: a temporary dir)")
    p.add_argument("--keep", action="store_true", help="keep the data root (simulated day and warehouse) afterwards")
    args = p.parse_args()
    n = _count(args.events)
    base = scratch("obrecon-dagster-scale-", args.dir)
    try:
        from obrecon_pipeline.simulate.day import simulate_day

        root = base / "data"
        t0 = time.perf_counter()
        day = simulate_day(root, "SIM", DAY, events=n, levels=10, seed=7)
        print(f"simulated {n:,} events (LOBSTER level 10) in {time.perf_counter() - t0:.1f} s: {day.bytes_written / 2**30:.2f} GiB")
        env = {**os.environ, "OBRECON_DATA_DIR": str(root), "PYTHONPATH": str(ROOT)}

        ref_wall, ref_rss = _wait4([sys.executable, "-m", "obrecon_pipeline.cli", "replay", "--format", "lobster",
                                    str(day.message_file), "--out", str(base / "cli.parquet")], env)
        wall, rss = _wait4([sys.executable, "-c", CHILD, KEY.format(day=DAY)], env, keep=base / "child.json")
        row = json.loads((base / "child.json").read_text().strip().splitlines()[-1])
        print(f"\nreconstruct job, {n:,} events: {'ok' if row['success'] else 'FAILED'}, checks {row['checks_passed']}"
              f"/{row['checks']} passed; wall {wall:.1f} s, peak RSS {rss:,.0f} MiB (target < 2,048 MiB)")
        if row["checks_not_passed"]:
            print(f"   not passed: {', '.join(row['checks_not_passed'])}")
        for line in row["failures"]:
            print(f"   {line}")
        print(f"{'step':<28} {'wall s':>9} {'peak RSS MiB':>13}")
        for s in row["steps"]:
            print(f"{s['step']:<28} {s['wall_s']:>9.1f} {s['peak_rss_mib']:>13,.0f}{'' if s['ok'] else '  FAILED'}")
        print(f"\nreference, same day: obrecon replay (book written, reference compared): wall {ref_wall:.1f} s "
              f"({n / ref_wall / 1e6:.2f} M events/s end to end), peak RSS {ref_rss:,.0f} MiB")
        print(f"job: {n / wall / 1e6:.2f} M events/s end to end over every asset and check")
        return 0 if row["success"] else 1
    finally:
        if args.keep:
            print(f"data root kept: {base / 'data'}")
        else:
            shutil.rmtree(base, ignore_errors=True)


def _wait4(cmd: list[str], env: dict, keep: Path | None = None) -> tuple[float, float]:
    """(wall s, peak RSS MiB) of a child process; its stdout goes to ``keep`` when given."""
    out = open(keep, "w") if keep else subprocess.DEVNULL
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if keep:
        out.close()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed:\n{err.decode()[-3000:]}")
    return wall, usage.ru_maxrss / 1024


if __name__ == "__main__":
    sys.exit(main())
