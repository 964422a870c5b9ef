"""``obrecon-materialize``: run the main job on every partition of the landing zone, from the shell.

Registers the partitions found in ``<OBRECON_DATA_DIR>/raw`` with the Dagster instance in
``$DAGSTER_HOME`` (default ``<OBRECON_DATA_DIR>/.dagster``, so ``dagster dev`` with the same
``DAGSTER_HOME`` shows these runs; a new instance gets a ``dagster.yaml`` that runs at most two
launched runs at a time and keeps no per-step log files), executes the ``reconstruct`` job for each
partition in a few worker processes, and prints where the outputs went and every check that did
not pass. Exit status 1 if a run failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from resources import data_root

#: launched runs (UI materializations, backfills, sensor requests) queue and run two at a time;
#: step stdout/stderr is not captured to files (one `tail` process per step made small runs slow)
INSTANCE_CONFIG = """run_queue:
  max_concurrent_runs: 2
telemetry:
  enabled: false
compute_logs:
  module: dagster.core.storage.noop_compute_log_manager
  class: NoOpComputeLogManager
"""

_job = _instance = None


def _quiet() -> None:
    # Dagster marks partitioned asset checks as a preview; dagster-polars uses deprecated
    # polars arguments. Neither is actionable for someone running the pipeline.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec")


def _start_worker() -> None:
    global _job, _instance
    _quiet()
    import dagster as dg

    from assets.definitions import defs

    _job = defs.resolve_job_def("reconstruct")
    _instance = dg.DagsterInstance.get()


def _run(key: str) -> dict:
    """Execute the job for one partition; a plain summary the parent can print."""
    import dagster as dg

    t0 = time.perf_counter()
    result = _job.execute_in_process(
        partition_key=key,
        instance=_instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
    )
    summary = {"key": key, "run_id": result.run_id[:8], "wall": time.perf_counter() - t0,
               "success": result.success, "errors": [], "checks": []}
    if not result.success:
        summary["errors"] = [f"{e.step_key}: {_root_cause(e.event_specific_data.error)}"
                             for e in result.all_events if e.is_step_failure]
        return summary
    for e in result.get_asset_check_evaluations():
        severity = "FAIL" if e.severity == dg.AssetCheckSeverity.ERROR else "WARN"
        summary["checks"].append({"name": f"{e.asset_key.to_user_string()}.{e.check_name}", "passed": e.passed,
                                  "severity": severity, "summary": _summary(e)})
    return summary


def _root_cause(error) -> str:
    """The innermost error's first line (Dagster wraps what the asset raised)."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[0]


def _summary(evaluation) -> str:
    """The metadata a person reads first: the reason, or value vs threshold with n."""
    md = {k: v.value for k, v in evaluation.metadata.items()}
    if "reason" in md:
        return str(md["reason"])
    keys = [k for k in ("value", "match_rate", "threshold", "n", "crossed_rows_continuous", "gaps",
                        "checksum_failed", "first_mismatch_message", "first_continuous_cross_message",
                        "first_gap_time") if k in md]
    return ", ".join(f"{k}={md[k]}" for k in keys) or (evaluation.description or "")


#: sources whose books have a reference to match run first: their checks say the most
FIRST = ("lobster", "databento", "bybit", "tardis")


def _display_order(key: str) -> tuple:
    source = key.split("/", 1)[0]
    return (FIRST.index(source) if source in FIRST else len(FIRST), key)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="obrecon-materialize", description=__doc__.split("\n\n")[0])
    p.add_argument("--partition", action="append", help="only this partition key (repeatable)")
    p.add_argument("--source", action="append", help="only partitions of this source (repeatable)")
    p.add_argument("--workers", type=int, default=3, help="worker processes (default 3)")
    args = p.parse_args(argv)

    root = data_root()
    os.environ.setdefault("DAGSTER_HOME", str(root / ".dagster"))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(INSTANCE_CONFIG)

    _quiet()
    import dagster as dg

    from assets.partitions import STREAM_DAYS, discover_streams

    keys = sorted((s.partition_key for s in discover_streams(root / "raw")), key=_display_order)
    if args.source:
        keys = [k for k in keys if k.split("/", 1)[0] in args.source]
    if args.partition:
        unknown = sorted(set(args.partition) - set(keys))
        if unknown:
            print(f"obrecon-materialize: error: no such partition(s) in {root / 'raw'}: {', '.join(unknown)}", file=sys.stderr)
            return 2
        keys = [k for k in keys if k in args.partition]
    if not keys:
        print(f"obrecon-materialize: error: no partitions found under {root / 'raw'}", file=sys.stderr)
        return 2

    instance = dg.DagsterInstance.get()
    known = set(instance.get_dynamic_partitions(STREAM_DAYS.name))
    instance.add_dynamic_partitions(STREAM_DAYS.name, [k for k in keys if k not in known])
    print(f"{len(keys)} partitions; tables go to {root / 'warehouse'}/<asset>/<partition>.parquet, "
          f"run reports to {root / 'reports'}/<partition>/report.json", flush=True)

    failed_runs, tally = 0, {"PASS": 0, "FAIL": 0, "WARN": 0}
    workers = max(1, min(args.workers, len(keys)))
    with ProcessPoolExecutor(workers, initializer=_start_worker) as pool:
        for i, s in enumerate(pool.map(_run, keys), 1):
            progress = f"[{i}/{len(keys)}]"
            if not s["success"]:
                failed_runs += 1
                print(f"\n{progress} {s['key']}: run {s['run_id']} FAILED ({s['wall']:.1f} s)")
                for line in s["errors"]:
                    print(f"   {line}")
                continue
            bad = [c for c in s["checks"] if not c["passed"]]
            counts = {v: sum(1 for c in bad if c["severity"] == v) for v in ("FAIL", "WARN")}
            tally["PASS"] += len(s["checks"]) - len(bad)
            tally["FAIL"] += counts["FAIL"]
            tally["WARN"] += counts["WARN"]
            print(f"\n{progress} {s['key']}: run {s['run_id']} ok ({s['wall']:.1f} s); checks: {len(s['checks']) - len(bad)} "
                  f"passed, {counts['FAIL']} failed, {counts['WARN']} warnings")
            print(f"   book    {root / 'warehouse' / 'book' / s['key']}.parquet")
            print(f"   report  {root / 'reports' / s['key'] / 'report.json'}")
            for c in sorted(bad, key=lambda c: c["severity"]):
                print(f"   {c['severity']} {c['name']}: {c['summary']}")
            sys.stdout.flush()
    print(f"\n{len(keys) - failed_runs} of {len(keys)} partitions materialized; checks: {tally['PASS']} passed, "
          f"{tally['FAIL']} failed, {tally['WARN']} warnings. Dagster instance: {home}")
    return 1 if failed_runs else 0


if __name__ == "__main__":
    sys.exit(main())
