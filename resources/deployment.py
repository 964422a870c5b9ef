"""How runs are stored and executed, chosen by the environment (nothing in ``assets/`` changes).

* ``OBRECON_DAGSTER_PG_URL`` (a ``postgresql://`` URL): the instance keeps runs, event log and
  schedules in PostgreSQL (``dagster-postgres``); unset, SQLite files in ``$DAGSTER_HOME``.
* ``OBRECON_CELERY_BROKER`` (``redis://`` or ``amqp://``): every job's steps run on Celery workers
  (``dagster-celery``) listening on that broker; unset, each launched run executes its steps in
  subprocesses of the run worker.

``python3 -m resources.deployment`` writes ``$DAGSTER_HOME/dagster.yaml`` (and, with a broker,
``$DAGSTER_HOME/celery.yaml`` for the workers), creates the instance's storage, and prints what it
chose; ``assets.materialize``
does the same on start. A ``dagster.yaml`` without this module's first line is the user's and is
never overwritten.

The instance queues launched runs. Runs of a backfill run two at a time, and so do runs
requested by the landing-zone sensor and the daily schedule (tag ``obrecon/automation``); a run
launched from the UI by hand starts at once, and the shell command's in-process runs do not take
a slot (there is no global cap: ``max_concurrent_runs`` counts every run in progress, including the
shell's).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dagster as dg

PG_ENV, BROKER_ENV = "OBRECON_DAGSTER_PG_URL", "OBRECON_CELERY_BROKER"
MARKER = "# written by obrecon (resources/deployment.py); delete this line to keep your edits\n"
#: the tag the sensor and the schedule put on their runs (a queue limit applies to it)
AUTOMATION_TAG = "obrecon/automation"
#: runs of one backfill / of the automation at once
QUEUE_LIMIT = 2


def _broker(env) -> str | None:
    broker = env.get(BROKER_ENV) or None
    if broker and not broker.startswith(("redis://", "rediss://", "amqp://", "pyamqp://")):
        raise ValueError(f"{BROKER_ENV}={broker!r}: expected a redis:// or amqp:// URL")
    return broker


def _backend(broker: str) -> str:
    """Celery's result backend: the Redis broker itself, or RPC replies over AMQP."""
    return broker if broker.startswith("redis") else "rpc://"


def instance_yaml(env=os.environ) -> str:
    """The ``dagster.yaml`` for this environment."""
    pg = env.get(PG_ENV) or None
    if pg and not pg.startswith(("postgresql://", "postgres://")):
        raise ValueError(f"{PG_ENV}={pg!r}: expected a postgresql:// URL")
    lines = [
        MARKER,
        "run_queue:\n",
        "  max_concurrent_runs: -1\n",
        "  tag_concurrency_limits:\n",
        f"    - key: dagster/backfill\n      limit: {QUEUE_LIMIT}\n",
        f"    - key: {AUTOMATION_TAG}\n      limit: {QUEUE_LIMIT}\n",
        "telemetry:\n  enabled: false\n",
        # the daemon marks failed a run whose worker process died (killed, out of memory), so no
        # run stays STARTED forever; the shell's runs are checked by assets.materialize on start
        "run_monitoring:\n  enabled: true\n  poll_interval_seconds: 30\n",
        # a run's console (the `dagster dev` terminal) shows INFO and above: progress, skips,
        # warnings; every Dagster event (DEBUG) is still stored in the event log
        "python_logs:\n  python_log_level: INFO\n",
        # step stdout/stderr is not captured to files (one `tail` process per step made small runs slow)
        "compute_logs:\n  module: dagster.core.storage.noop_compute_log_manager\n  class: NoOpComputeLogManager\n",
    ]
    if pg:
        lines.append(f"storage:\n  postgres:\n    postgres_url:\n      env: {PG_ENV}\n")
    return "".join(lines)


def celery_yaml(env=os.environ) -> str | None:
    """The config file for ``dagster-celery worker start -y``, or None without a broker."""
    broker = _broker(env)
    if broker is None:
        return None
    return f"{MARKER}execution:\n  config:\n    broker: {broker}\n    backend: {_backend(broker)}\n"


def _write(path: Path, text: str | None) -> str:
    if text is None:
        return "not used"
    if path.exists() and not path.read_text().startswith(MARKER):
        return "kept (edited by hand)"
    if path.exists() and path.read_text() == text:
        return "unchanged"
    path.write_text(text)
    return "written"


def prepare_instance(home: Path, env=os.environ) -> dict[str, str]:
    """Write ``dagster.yaml`` (and ``celery.yaml``) into ``home``; what happened to each."""
    home.mkdir(parents=True, exist_ok=True)
    return {"dagster.yaml": _write(home / "dagster.yaml", instance_yaml(env)),
            "celery.yaml": _write(home / "celery.yaml", celery_yaml(env))}


def create_storage(home: Path) -> None:
    """Create the instance's run, event-log and schedule storage now, in one process.

    Every process started on the instance (each Celery worker, the webserver, the daemon) creates
    missing tables when it starts; started together against a new PostgreSQL database they race,
    and dagster-postgres gives up after five retries, taking the process down with it. Run once
    here, before the others start, they find the tables in place.
    """
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)


def executor_for(env=os.environ) -> dg.ExecutorDefinition | None:
    """The Celery executor when a broker is configured, else None (Dagster's default)."""
    broker = _broker(env)
    if broker is None:
        return None
    from dagster_celery import celery_executor

    return celery_executor.configured({"broker": {"env": BROKER_ENV}, "backend": _backend(broker)})


def main() -> int:
    from resources import data_root, work_dir

    home = Path(os.environ.get("DAGSTER_HOME") or str(work_dir(data_root()) / ".dagster"))
    done = prepare_instance(home)
    create_storage(home)
    storage = "PostgreSQL ($" + PG_ENV + ")" if os.environ.get(PG_ENV) else "SQLite files"
    executor = "Celery workers ($" + BROKER_ENV + ")" if os.environ.get(BROKER_ENV) else "subprocesses"
    print(f"DAGSTER_HOME={home}: runs, event log and schedules in {storage}; steps run on {executor}")
    for name, what in done.items():
        print(f"  {home / name}: {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
