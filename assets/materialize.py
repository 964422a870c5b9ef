"""``obrecon-materialize``: run the main job on every partition of the landing zone, from the shell.

Prepares the Dagster instance in ``$DAGSTER_HOME`` (default ``<OBRECON_DATA_DIR>/.dagster``;
:func:`resources.deployment.prepare_instance`: SQLite, or PostgreSQL when
``OBRECON_DAGSTER_PG_URL`` is set), refreshes the catalog of the landing zone
(:mod:`obrecon_pipeline.catalog`), registers the stream-days it lists in ``<OBRECON_DATA_DIR>/raw``
and records their raw data versions, executes the ``reconstruct`` job in-process for each
partition in a few worker processes (these runs take no slot of the instance's run queue), and
shows a progress bar with ETA on stderr. It records the runs' check results and rebuilds the DuckDB
warehouse (:mod:`assets.warehouse`). It prints where the outputs went, every check that did
not pass, and a tally of passed, failed, warning and skipped (not judged) checks; ``--all-checks``
prints every result. Exit status 1 if a run failed: a run whose blocking integrity check failed
(:mod:`assets.breaker`) prints that check with what it blocked. ``--force`` runs the
``force_downstream`` job instead: the assets downstream of ``book`` from the stored book, past
failed blocking checks.

The workers die with this process (``PR_SET_PDEATHSIG``: a killed ``materialize`` leaves no worker
rewriting files). On start, runs of an earlier ``materialize`` that was killed (its worker's pid,
tagged on each run, is gone) are marked failed in the instance, and each partition's warehouse is
recovered (:meth:`obrecon_pipeline.storage.warehouse.PartitionStore.recover`: the committed set
rolled forward or kept, the killed run's files removed).
"""

from __future__ import annotations

import argparse
import ctypes
import multiprocessing
import os
import signal
import socket
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from resources import data_root, work_dir

_job = _instance = None
#: tags of every run started here: which process ran it (a dead pid marks a killed run)
PID_TAG, HOST_TAG = "obrecon/pid", "obrecon/host"
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (prctl ``PR_SET_PDEATHSIG``); exit at
    once if the parent is already gone."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown is all there is
        pass
    if os.getppid() != parent:
        os._exit(1)


def _quiet() -> None:
    # Dagster marks partitioned asset checks as a preview and warns about its own deprecations.
    # Neither is actionable for someone running the pipeline.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec")
    warnings.filterwarnings("ignore", message="Function `observable_source_asset` is currently in beta")


def _start_worker(job: str, parent: int) -> None:
    global _job, _instance
    _die_with_parent(parent)
    _quiet()
    import dagster as dg

    from assets.definitions import defs

    _job = defs.resolve_job_def(job)
    _instance = dg.DagsterInstance.get()


def _run(key: str) -> dict:
    """Execute the job for one partition (stream-day id); a plain summary the parent can print."""
    import dagster as dg

    from assets.execution import execute_uncaptured
    from assets.partitions import partition_key

    t0 = time.perf_counter()
    result = execute_uncaptured(_job, partition_key(key), _instance,
                                tags={PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()},
                                run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})
    planned = len(_instance.get_records_for_run(
        result.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED, limit=1000).records)
    summary = {"key": key, "run": result.run_id, "run_id": result.run_id[:8], "wall": time.perf_counter() - t0,
               "success": result.success, "errors": [], "checks": [], "skipped": 0, "forced": []}
    for e in result.get_asset_check_evaluations():
        severity = "FAIL" if e.severity == dg.AssetCheckSeverity.ERROR else "WARN"
        summary["checks"].append({"name": f"{e.asset_key.to_user_string()}.{e.check_name}", "passed": e.passed,
                                  "severity": severity, "summary": _summary(e)})
    forced = {f"{f['check']} (run {f['run_id'][:8]})" for e in result.get_asset_materialization_events()
              if "forced_despite_failed_checks" in e.materialization.metadata
              for f in e.materialization.metadata["forced_despite_failed_checks"].value}
    summary["forced"] = sorted(forced)
    if not result.success:
        # a failed blocking check fails the run (assets.breaker): its result is printed with the error
        summary["errors"] = [f"{e.step_key}: {_root_cause(e.event_specific_data.error)}"
                             for e in result.all_events if e.is_step_failure]
        summary["checks"] = [c for c in summary["checks"] if not c["passed"]]
        return summary
    summary["skipped"] = planned - len(summary["checks"])
    return summary


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # no /proc: os.kill said it exists
        return True


def fail_killed_runs(instance) -> list[str]:
    """Mark failed every run started by a ``materialize`` on this host whose process is gone (it
    was killed: nothing else would end it); their ids."""
    import dagster as dg

    host = socket.gethostname()
    unfinished = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING,
                                                           dg.DagsterRunStatus.NOT_STARTED],
                                                 tags={HOST_TAG: host}))
    killed = [r for r in unfinished if PID_TAG in r.tags and not _pid_alive(int(r.tags[PID_TAG]))]
    for run in killed:
        instance.report_run_failed(run, message=f"its process (pid {run.tags[PID_TAG]}) was killed before the run ended")
    return [r.run_id for r in killed]


def recover_warehouse(instance, landing_zone, keys: list[str]) -> int:
    """Roll each partition's warehouse forward or back (runs not finished in ``instance`` are left
    to finish); how many files and run directories were removed or rolled forward."""
    from assets.book import run_alive
    from assets.partitions import partition_key

    changed = 0
    for key in keys:
        done = landing_zone.store(str(partition_key(key))).recover(lambda run_id: run_alive(instance, run_id))
        changed += len(done["removed"]) + len(done["rolled_forward"])
    return changed


def _root_cause(error) -> str:
    """The innermost error's first line (Dagster wraps what the asset raised); for a failed
    blocking check, the line naming the checks too."""
    while error.cause is not None:
        error = error.cause
    lines = error.message.strip().splitlines()
    if error.cls_name == "DagsterAssetCheckFailedError":
        return " ".join([lines[0].split(": ", 1)[-1], *lines[1:]])
    return lines[0]


def _summary(evaluation) -> str:
    """The metadata a person reads first: the reason, or value vs threshold with n."""
    md = {k: v.value for k, v in evaluation.metadata.items()}
    if "reason" in md:
        return str(md["reason"])
    keys = [k for k in ("value", "match_rate", "threshold", "n", "crossed_rows_continuous", "gaps",
                        "checksum_failed", "first_mismatch_message", "first_continuous_cross_message",
                        "first_gap_time", "blocked_assets") if k in md]
    return ", ".join(f"{k}={md[k]}" for k in keys) or (evaluation.description or "")


#: sources whose books have a reference to match run first: their checks say the most
FIRST = ("lobster", "databento", "bybit", "tardis")


def _warehouse_name(key: str) -> str:
    """Where the Parquet IO manager puts a stream-day: ``<stream>/<day>``."""
    from assets.partitions import DAY_DIM, STREAM_DIM, partition_key

    dims = partition_key(key).keys_by_dimension
    return f"{dims[STREAM_DIM]}/{dims[DAY_DIM]}"


def _display_order(key: str) -> tuple:
    source = key.split("/", 1)[0]
    return (FIRST.index(source) if source in FIRST else len(FIRST), key)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="obrecon-materialize", description=__doc__.split("\n\n")[0])
    p.add_argument("--partition", action="append", help="only this stream-day id, <source>/<stream>/<YYYY-MM-DD> (repeatable)")
    p.add_argument("--source", action="append", help="only partitions of this source (repeatable)")
    p.add_argument("--workers", type=int, default=3, help="worker processes (default 3)")
    p.add_argument("--all-checks", action="store_true", help="print every check result, not only those that did not pass")
    p.add_argument("--force", action="store_true",
                   help="run the force_downstream job: the assets downstream of book, from the stored book, past "
                        "failed blocking checks (their results carry forced_despite_failed_checks)")
    args = p.parse_args(argv)

    root = data_root()
    os.environ.setdefault("DAGSTER_HOME", str(work_dir(root) / ".dagster"))
    home = Path(os.environ["DAGSTER_HOME"])

    _quiet()
    import dagster as dg

    from assets.landing import observations, observed_versions
    from assets.partitions import register
    from assets.progress import RunProgress, raw_weights
    from resources import resources_for
    from resources.deployment import prepare_instance

    prepare_instance(home)
    landing_zone = resources_for(root)["landing_zone"]
    catalog = landing_zone.catalog()
    catalog.refresh()
    streams = catalog.streams()
    if args.source:
        streams = [s for s in streams if s.source in args.source]
    if args.partition:
        unknown = sorted(set(args.partition) - {s.partition_key for s in streams})
        if unknown:
            print(f"obrecon-materialize: error: no such partition(s) in {landing_zone.raw}: {', '.join(unknown)}", file=sys.stderr)
            return 2
        streams = [s for s in streams if s.partition_key in args.partition]
    if not streams:
        print(f"obrecon-materialize: error: no partitions found under {landing_zone.raw}", file=sys.stderr)
        return 2
    keys = sorted((s.partition_key for s in streams), key=_display_order)
    chosen = set(keys)

    instance = dg.DagsterInstance.get()
    register(instance, keys)
    versions = {k: v for k, v in catalog.versions().items() if k in chosen}
    seen = observed_versions(instance)
    for event in observations({k: v for k, v in versions.items() if seen.get(k) != v}):
        instance.report_runless_asset_event(event)
    killed = fail_killed_runs(instance)
    recovered = recover_warehouse(instance, landing_zone, keys)
    if killed or recovered:
        print(f"{len(killed)} run(s) of a killed materialize marked failed; {recovered} leftover(s) of killed runs "
              "cleaned from the warehouse", flush=True)
    storage = "PostgreSQL" if type(instance.run_storage).__name__.startswith("Postgres") else "SQLite"
    print(f"{len(keys)} partitions; tables are committed per partition and read at {root / 'warehouse'}/<asset>/<stream>/<day>.parquet, "
          f"run reports to {root / 'reports'}/<source>/<stream>/<day>/report.json; runs recorded in {storage} "
          f"(DAGSTER_HOME={home})", flush=True)

    failed_runs, tally, runs = 0, {"PASS": 0, "FAIL": 0, "WARN": 0, "SKIPPED": 0}, []
    workers = max(1, min(args.workers, len(keys)))
    bar = RunProgress(raw_weights(streams), file=sys.stderr)
    job = "force_downstream" if args.force else "reconstruct"
    # spawned, not forked: this process has run Polars (the catalog), whose thread pool a forked
    # child inherits locked (the worker then waits forever on a futex)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                             initargs=(job, os.getpid())) as pool:
        futures = [pool.submit(_run, key) for key in keys]
        for future in as_completed(futures):
            s = future.result()
            runs.append(s["run"])
            bar.advance(s["key"])
            progress = f"[{bar.status()}]"
            if not s["success"]:
                failed_runs += 1
                bar.write(f"\n{progress} {s['key']}: run {s['run_id']} FAILED ({s['wall']:.1f} s)")
                for line in s["errors"]:
                    bar.write(f"   {line}")
                for c in s["checks"]:
                    bar.write(f"   {c['severity']} {c['name']}: {c['summary']}")
                tally["FAIL"] += sum(c["severity"] == "FAIL" for c in s["checks"])
                tally["WARN"] += sum(c["severity"] == "WARN" for c in s["checks"])
                continue
            bad = [c for c in s["checks"] if not c["passed"]]
            counts = {v: sum(1 for c in bad if c["severity"] == v) for v in ("FAIL", "WARN")}
            tally["PASS"] += len(s["checks"]) - len(bad)
            tally["FAIL"] += counts["FAIL"]
            tally["WARN"] += counts["WARN"]
            tally["SKIPPED"] += s["skipped"]
            lines = [f"\n{progress} {s['key']}: run {s['run_id']} ok ({s['wall']:.1f} s); checks: {len(s['checks']) - len(bad)} "
                     f"passed, {counts['FAIL']} failed, {counts['WARN']} warnings, {s['skipped']} not judged",
                     f"   book    {root / 'warehouse' / 'book' / _warehouse_name(s['key'])}.parquet",
                     f"   report  {root / 'reports' / s['key'] / 'report.json'}"]
            if s["forced"]:
                lines.append(f"   forced past failed blocking checks: {', '.join(s['forced'])}")
            shown = s["checks"] if args.all_checks else bad
            for c in sorted(shown, key=lambda c: (c["passed"], c["severity"])):
                lines.append(f"   {'PASS' if c['passed'] else c['severity']} {c['name']}: {c['summary']}")
            bar.write("\n".join(lines))
    bar.close()
    from assets.warehouse import rebuild

    try:
        views = rebuild(instance, landing_zone.local_root, runs)
        print(f"\nDuckDB warehouse {root / 'warehouse' / 'obrecon.duckdb'}: {len(views)} views ({', '.join(views)})")
    except ValueError as exc:
        print(f"\nno DuckDB warehouse: {exc}")
    print(f"\n{len(keys) - failed_runs} of {len(keys)} partitions materialized; checks: {tally['PASS']} passed, "
          f"{tally['FAIL']} failed, {tally['WARN']} warnings, {tally['SKIPPED']} not judged (too few observations, "
          f"or nothing to compare). Dagster instance: {home}")
    return 1 if failed_runs else 0


if __name__ == "__main__":
    sys.exit(main())
