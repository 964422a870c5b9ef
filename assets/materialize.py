"""``obrecon-materialize``: run the main job on every partition of the landing zone, from the shell.

Registers the partitions found in ``<OBRECON_DATA_DIR>/raw`` with the Dagster instance in
``$DAGSTER_HOME`` (default ``<OBRECON_DATA_DIR>/.dagster``, so ``dagster dev`` with the same
``DAGSTER_HOME`` shows these runs; a new instance gets a ``dagster.yaml`` that runs at most two
launched runs at a time), executes the ``reconstruct`` job for each, and prints where the
outputs went and every asset-check result. Exit status 1 if a run failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from resources import data_root

#: launched runs (UI materializations, backfills, sensor requests) queue and run two at a time
INSTANCE_CONFIG = """run_queue:
  max_concurrent_runs: 2
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="obrecon-materialize", description=__doc__.split("\n\n")[0])
    p.add_argument("--partition", action="append", help="only this partition key (repeatable)")
    p.add_argument("--source", action="append", help="only partitions of this source (repeatable)")
    args = p.parse_args(argv)

    root = data_root()
    os.environ.setdefault("DAGSTER_HOME", str(root / ".dagster"))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(INSTANCE_CONFIG)

    import dagster as dg

    from assets.partitions import STREAM_DAYS, discover_streams
    from obrecon_pipeline.definitions import defs

    keys = [s.partition_key for s in discover_streams(root / "raw")]
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
    job = defs.resolve_job_def("reconstruct")
    failed = 0
    for key in keys:
        result = job.execute_in_process(
            partition_key=key,
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
        status = "ok" if result.success else "FAILED"
        print(f"\n== {key}: run {result.run_id[:8]} {status}")
        if not result.success:
            failed += 1
            for event in result.all_events:
                if event.is_failure and event.event_specific_data is not None:
                    error = getattr(event.event_specific_data, "error", None)
                    if error is not None:
                        print(f"   error: {error.message.strip().splitlines()[0]}")
            continue
        for mat in result.get_asset_materialization_events():
            asset = mat.asset_key.to_user_string()
            print(f"   {asset:<24} {root / 'warehouse' / asset / key}.parquet")
        for evaluation in result.get_asset_check_evaluations():
            verdict = "PASS" if evaluation.passed else f"FAIL ({evaluation.severity.value})"
            shown = {k: v.value for k, v in evaluation.metadata.items() if not isinstance(v.value, (dict, list)) and len(str(v.value)) < 80}
            print(f"   check {evaluation.asset_key.to_user_string()}.{evaluation.check_name}: {verdict} {shown}")
        print(f"   report   {root / 'reports' / key / 'report.json'}")
    print(f"\n{len(keys) - failed} of {len(keys)} partitions materialized; Dagster instance: {os.environ['DAGSTER_HOME']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
